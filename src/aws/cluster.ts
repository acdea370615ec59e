/**
 * One EKS cluster as the shared ClusterInfo, with a ready kubeconfig: DescribeCluster (through
 * `@aws-sdk/client-eks`, loaded on first use, endpoint overridable) checked and mapped, and the
 * kubeconfig entries as `aws eks update-kubeconfig` writes them, with `kubeiam eks token` as the plugin.
 */
import type { EKSClient } from "@aws-sdk/client-eks";
import type { AccessInfo, ClusterInfo, ClusterStatus, KubeconfigMode, NodeGroupInfo } from "../cluster-info.js";
import { ApiError, ClusterStateError, CredentialsError, KubeconfigError, NetworkError } from "../lib/errors.js";
import { loggableUrl, type HttpAttempt } from "../lib/http.js";
import { given } from "../lib/validate.js";
import { DEFAULT_EXEC_API_VERSION, type ExecApiVersion } from "../kube/exec-credential.js";
import {
  clusterEntry,
  contextEntry,
  execUserEntry,
  kubeconfigOf,
  serializeKubeconfig,
  tokenUserEntry,
  type KubeconfigEntries,
} from "../kube/kubeconfig.js";
import { checkAwsRegion, checkEksClusterName, mintEksToken, type AwsCredentials } from "./token.js";
import { redactUrls } from "../lib/redact-url.js";

/** The command that kubeconfigs written by `kubeiam eks update-kubeconfig` run. */
export const EKS_EXEC_COMMAND = "kubeiam";

/** What kubeiam reads from DescribeCluster. */
export interface EksCluster {
  name: string;
  arn: string;
  /** `CREATING`, `ACTIVE`, `DELETING`, `FAILED`, `UPDATING`, `PENDING`. */
  status: string;
  endpoint?: string;
  /** The CA bundle, Base64 of PEM, as DescribeCluster returns it. */
  certificateAuthorityData?: string;
  version?: string;
  createdAt?: Date;
  vpcId?: string;
  subnetIds: string[];
  securityGroupIds: string[];
  /** Set for local clusters on Outposts, whose tokens name the id instead of the name. */
  id?: string;
  outpost: boolean;
}

const STATUS: Record<string, ClusterStatus> = {
  CREATING: "Creating",
  PENDING: "Creating",
  ACTIVE: "Active",
  UPDATING: "Updating",
  DELETING: "Deleting",
  FAILED: "Inactive",
};

/**
 * EKS's status word, normalised to the status shared by every cloud.
 *
 * @example
 * ```ts
 * normalizeEksClusterStatus("ACTIVE"); // "Active"
 * ```
 */
export function normalizeEksClusterStatus(raw: string): ClusterStatus {
  return STATUS[raw.toUpperCase()] ?? "Unknown";
}

/** How to reach the EKS API. */
export interface EksApiOptions {
  region: string;
  /** Credentials (see `resolveAwsCredentials`). */
  credentials: AwsCredentials;
  /** The EKS API endpoint (tests, private endpoints); `AWS_ENDPOINT_URL_EKS` works as well. */
  endpoint?: string | undefined;
  /** An EKS client to use instead of making one (tests, shared clients). */
  client?: EKSClient;
  /** The environment whose HTTPS_PROXY, NO_PROXY and AWS_CA_BUNDLE the client follows; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** Called after each HTTP try of the SDK, for `--debug` (method, URL without query, status, time). */
  onAttempt?: ((info: HttpAttempt) => void) | undefined;
}

async function eksClient(options: EksApiOptions): Promise<EKSClient> {
  if (options.client !== undefined) return options.client;
  const [{ EKSClient: Client }, { awsRequestHandler }] = await Promise.all([import("@aws-sdk/client-eks"), import("./http-handler.js")]);
  const client = new Client({
    region: checkAwsRegion(options.region),
    credentials: options.credentials,
    maxAttempts: 3,
    requestHandler: await awsRequestHandler(options.env ?? process.env),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  });
  const onAttempt = options.onAttempt;
  if (onAttempt !== undefined) {
    // After signing and retries' own bookkeeping: one line a try, never a header or a body.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { method?: string; protocol?: string; hostname?: string; port?: number; path?: string };
        const url = loggableUrl(`${request.protocol ?? "https:"}//${request.hostname ?? "?"}${request.port ? `:${request.port}` : ""}${request.path ?? "/"}`);
        const started = performance.now();
        const report = (outcome: { status: number } | { error: string }): void =>
          onAttempt({ method: request.method ?? "?", url, attempt: 1, ...outcome, ms: Math.round(performance.now() - started) });
        try {
          const result = await next(args);
          report({ status: (result.response as { statusCode?: number }).statusCode ?? 0 });
          return result;
        } catch (error) {
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          report(status === undefined ? { error: (error as { name?: string }).name ?? "error" } : { status });
          throw error;
        }
      },
      { step: "finalizeRequest", name: "kubeiamDebugLog", priority: "low" },
    );
  }
  return client;
}

/** Turns an SDK failure into a kubeiam error that names the call and what to do. */
function sdkError(what: string, region: string, error: unknown): Error {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === "string" ? e.name : "Error";
  const message = redactUrls(typeof e.message === "string" ? e.message.split("\n")[0] ?? "" : String(error)).slice(0, 200);
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) {
    return new NetworkError(`cannot reach the EKS API in ${region} for ${what} (${name}: ${message}): check the network, the region and the EKS API endpoint`, { cause: error, field: "endpoint" });
  }
  if (name === "ResourceNotFoundException" || status === 404) {
    return new ApiError(`${what}: not found in region ${region} (${message}): check the name and the region ('aws eks list-clusters')`, { status, apiCode: name, apiMessage: message }, { cause: error, field: "name" });
  }
  if (status === 401 || status === 403 || /UnrecognizedClient|InvalidSignature|ExpiredToken|AccessDenied/.test(name)) {
    return new CredentialsError(`${what} was refused by the EKS API (${status} ${name}: ${message}): check your AWS credentials and their eks:DescribeCluster permission`, { cause: error });
  }
  return new ApiError(`${what} failed: the EKS API answered ${status} ${name}: ${message}`, { status, apiCode: name, apiMessage: message }, { cause: error });
}

/**
 * Checks DescribeCluster's answer and keeps what kubeiam uses; an unusable answer is an {@link ApiError}.
 *
 * @example
 * ```ts
 * const cluster = parseEksCluster(answer.cluster, "prod-eks");
 * ```
 */
export function parseEksCluster(raw: unknown, name: string): EksCluster {
  const bad = (detail: string): ApiError => new ApiError(`DescribeCluster for ${name} answered an unusable cluster: ${detail}`, { status: 200 });
  if (typeof raw !== "object" || raw === null) throw bad("no cluster object");
  const c = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof c[k] === "string" && c[k] !== "" ? (c[k] as string) : undefined);
  const clusterName = str("name");
  const arn = str("arn");
  const status = str("status");
  if (clusterName === undefined) throw bad("cluster.name is missing");
  if (arn === undefined) throw bad("cluster.arn is missing");
  if (status === undefined) throw bad("cluster.status is missing");
  const vpc = (typeof c.resourcesVpcConfig === "object" && c.resourcesVpcConfig !== null ? c.resourcesVpcConfig : {}) as Record<string, unknown>;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  const ca = (c.certificateAuthority as { data?: unknown } | undefined)?.data;
  const out: EksCluster = {
    name: clusterName,
    arn,
    status,
    subnetIds: strings(vpc.subnetIds),
    securityGroupIds: [...strings(vpc.securityGroupIds), ...(typeof vpc.clusterSecurityGroupId === "string" ? [vpc.clusterSecurityGroupId] : [])],
    outpost: typeof c.outpostConfig === "object" && c.outpostConfig !== null,
  };
  const endpoint = str("endpoint");
  if (endpoint !== undefined) out.endpoint = endpoint;
  if (typeof ca === "string" && ca !== "") out.certificateAuthorityData = ca;
  const version = str("version");
  if (version !== undefined) out.version = version;
  const id = str("id");
  if (id !== undefined) out.id = id;
  if (c.createdAt instanceof Date) out.createdAt = c.createdAt;
  if (typeof vpc.vpcId === "string") out.vpcId = vpc.vpcId;
  return out;
}

/**
 * DescribeCluster for one cluster, checked.
 *
 * @example
 * ```ts
 * const cluster = await describeEksCluster({ name: "prod-eks", region: "us-east-1", credentials });
 * console.log(cluster.endpoint, cluster.status);
 * ```
 */
export async function describeEksCluster(options: EksApiOptions & { name: string }): Promise<EksCluster> {
  checkEksClusterName(options.name);
  const client = await eksClient(options);
  const { DescribeClusterCommand } = await import("@aws-sdk/client-eks");
  let answer;
  try {
    answer = await client.send(new DescribeClusterCommand({ name: options.name }));
  } catch (error) {
    throw sdkError(`DescribeCluster ${options.name}`, options.region, error);
  }
  return parseEksCluster(answer.cluster, options.name);
}

/**
 * The names of the clusters in one region (all pages of ListClusters).
 *
 * @example
 * ```ts
 * const names = await listEksClusterNames({ region: "us-east-1", credentials });
 * ```
 */
export async function listEksClusterNames(options: EksApiOptions): Promise<string[]> {
  const client = await eksClient(options);
  const { ListClustersCommand } = await import("@aws-sdk/client-eks");
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListClustersCommand({ ...(nextToken === undefined ? {} : { nextToken }) }));
    } catch (error) {
      throw sdkError("ListClusters", options.region, error);
    }
    for (const n of page.clusters ?? []) if (typeof n === "string") names.push(n);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  return names;
}

/**
 * The managed node groups of a cluster (ListNodegroups, then DescribeNodegroup each). EKS does not
 * list nodes, so `nodes` stays empty.
 *
 * @example
 * ```ts
 * const groups = await listEksNodeGroups({ name: "prod-eks", region: "us-east-1", credentials });
 * ```
 */
export async function listEksNodeGroups(options: EksApiOptions & { name: string }): Promise<NodeGroupInfo[]> {
  const client = await eksClient(options);
  const { ListNodegroupsCommand, DescribeNodegroupCommand } = await import("@aws-sdk/client-eks");
  const names: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await client.send(new ListNodegroupsCommand({ clusterName: options.name, ...(nextToken === undefined ? {} : { nextToken }) }));
      for (const n of page.nodegroups ?? []) if (typeof n === "string") names.push(n);
      nextToken = page.nextToken ?? undefined;
    } while (nextToken !== undefined);
  } catch (error) {
    throw sdkError(`ListNodegroups ${options.name}`, options.region, error);
  }
  return Promise.all(
    names.map(async (nodegroupName): Promise<NodeGroupInfo> => {
      let answer;
      try {
        answer = await client.send(new DescribeNodegroupCommand({ clusterName: options.name, nodegroupName }));
      } catch (error) {
        throw sdkError(`DescribeNodegroup ${nodegroupName}`, options.region, error);
      }
      const ng = answer.nodegroup;
      const group: NodeGroupInfo = { name: nodegroupName, nodes: [] };
      if (ng?.nodegroupArn) group.id = ng.nodegroupArn;
      if (ng?.status) group.status = ng.status;
      if (typeof ng?.scalingConfig?.desiredSize === "number") group.nodeCount = ng.scalingConfig.desiredSize;
      if (ng?.version) group.k8sVersion = ng.version;
      if (ng?.instanceTypes?.[0]) group.instanceType = ng.instanceTypes.join(",");
      return group;
    }),
  );
}

/**
 * Refuses a cluster that cannot be reached yet or any more, as `aws eks update-kubeconfig` does:
 * only `ACTIVE` and `UPDATING` clusters get a kubeconfig.
 *
 * @example
 * ```ts
 * assertEksClusterReady(await describeEksCluster({ name, region, credentials }), region);
 * ```
 */
export function assertEksClusterReady(cluster: EksCluster, region: string): void {
  if (!["ACTIVE", "UPDATING"].includes(cluster.status.toUpperCase())) {
    throw new ClusterStateError(`EKS cluster ${cluster.name} in ${region} has status ${cluster.status}: a kubeconfig needs it ACTIVE or UPDATING; try again later`);
  }
  if (cluster.endpoint === undefined || cluster.certificateAuthorityData === undefined) {
    throw new ClusterStateError(`EKS cluster ${cluster.name} in ${region} has no endpoint or CA yet: try again when it is ACTIVE`);
  }
}

/** How to build the kubeconfig of an EKS cluster. */
export interface EksKubeconfigOptions {
  /** `exec` (default): the user runs `kubeiam eks token`; `embed`: the user holds a fresh token. */
  mode?: KubeconfigMode;
  /** The context name (`--alias`); the cluster ARN by default, as the AWS CLI names it. */
  alias?: string | undefined;
  /** The user name (`--user-alias`); the cluster ARN by default. */
  userAlias?: string | undefined;
  /** A profile for the plugin, passed in its `env` as `AWS_PROFILE`. */
  profile?: string | undefined;
  /** A role for the plugin to assume (`--role-arn`). */
  roleArn?: string | undefined;
  /** The exec plugin command: `kubeiam` by default; a name on PATH or an absolute path. */
  execCommand?: string | undefined;
  /** Arguments put before `eks token` (for example the script path when the command is `node`). */
  execCommandArgs?: string[] | undefined;
  /** The exec apiVersion: v1beta1 by default, as the AWS CLI writes. */
  execApiVersion?: ExecApiVersion | undefined;
}

/**
 * The cluster, user and context entries for one EKS cluster, as `aws eks update-kubeconfig` writes
 * them (names default to the cluster ARN), with `kubeiam eks token --cluster-name N --region R` as the
 * plugin and the profile in its `env`. In embed mode the user holds a token minted now (`credentials` needed).
 *
 * @deprecated Use `eksAdapter.kubeconfigEntries` (src/aws/adapter.ts): the same entries in the shape
 * every cloud shares (the `CloudAdapter` contract of src/contract.ts: one input object, a cluster from
 * `eksAdapter.describeCluster`). This function stays exported, unchanged, for existing callers; the
 * adapter is built on it.
 *
 * @example
 * ```ts
 * // Before:
 * const { entries } = await eksKubeconfigEntries({ cluster, region: "us-east-1", options: { profile: "prod" } });
 * // Now:
 * const described = await eksAdapter.describeCluster({ credentials, cluster: { region: "us-east-1", name: "prod-eks" } });
 * const { entries: same } = await eksAdapter.kubeconfigEntries({ credentials, cluster: described, kubeconfig: { profile: "prod" } });
 * mergeKubeconfigEntries(doc, same, { overwrite: false });
 * ```
 */
export async function eksKubeconfigEntries(input: {
  cluster: EksCluster;
  region: string;
  options?: EksKubeconfigOptions;
  credentials?: AwsCredentials;
  now?: number;
}): Promise<{ entries: KubeconfigEntries; tokenExpiresAt?: Date; tokenRefreshAt?: Date }> {
  const { cluster } = input;
  const region = checkAwsRegion(input.region);
  const options = input.options ?? {};
  assertEksClusterReady(cluster, region);
  const clusterName = cluster.arn;
  const userName = given(options.userAlias) ?? cluster.arn;
  const contextName = given(options.alias) ?? cluster.arn;
  const kcCluster = clusterEntry(clusterName, {
    server: cluster.endpoint ?? "",
    certificateAuthorityData: cluster.certificateAuthorityData ?? "",
  });
  const context = contextEntry(contextName, { cluster: clusterName, user: userName });
  // Local clusters on Outposts are named in tokens by their id, as the AWS CLI does.
  const tokenId = cluster.outpost && cluster.id !== undefined ? cluster.id : cluster.name;
  if ((options.mode ?? "exec") === "embed") {
    if (input.credentials === undefined) throw new KubeconfigError("embed mode needs AWS credentials to mint the token");
    const { token, expiresAt, refreshAt } = await mintEksToken({
      credentials: input.credentials,
      clusterName: tokenId,
      region,
      ...(input.now === undefined ? {} : { now: input.now }),
    });
    return { entries: { cluster: kcCluster, user: tokenUserEntry(userName, token), context }, tokenExpiresAt: expiresAt, tokenRefreshAt: refreshAt };
  }
  const args = [...(options.execCommandArgs ?? []), "eks", "token", "--cluster-name", tokenId, "--region", region];
  if (given(options.roleArn) !== undefined) args.push("--role-arn", options.roleArn as string);
  const profile = given(options.profile);
  const user = execUserEntry(userName, {
    command: options.execCommand ?? EKS_EXEC_COMMAND,
    args,
    apiVersion: options.execApiVersion ?? DEFAULT_EXEC_API_VERSION,
    ...(profile === undefined ? {} : { env: [{ name: "AWS_PROFILE", value: profile }] }),
  });
  return { entries: { cluster: kcCluster, user, context } };
}

/** Options of {@link getEksCluster}. */
export interface GetEksClusterOptions extends EksApiOptions {
  name: string;
  /** How to build `access.kubeconfig`; `false` to skip it. */
  kubeconfig?: EksKubeconfigOptions | false;
  /** Whether to list the managed node groups (two more calls per group); true by default. */
  nodeGroups?: boolean;
  /** The time to sign an embedded token at. */
  now?: number;
}

/**
 * One EKS cluster as a {@link ClusterInfo}, with a ready kubeconfig in `access.kubeconfig`.
 *
 * @example
 * ```ts
 * const info = await getEksCluster({ name: "prod-eks", region: "us-east-1", credentials });
 * console.log(info.access.kubeconfig);
 * ```
 */
export async function getEksCluster(options: GetEksClusterOptions): Promise<ClusterInfo> {
  const client = await eksClient(options);
  const api = { ...options, client };
  const [cluster, groups] = await Promise.all([
    describeEksCluster(api),
    options.nodeGroups === false ? Promise.resolve([]) : listEksNodeGroups(api),
  ]);
  const access: AccessInfo = { endpoint: cluster.endpoint ?? "" };
  if (cluster.certificateAuthorityData !== undefined) {
    access.certificateAuthorityData = Buffer.from(cluster.certificateAuthorityData, "base64").toString("utf8");
  }
  if (options.kubeconfig !== false) {
    const opts = options.kubeconfig ?? {};
    const built = await eksKubeconfigEntries({
      cluster,
      region: options.region,
      options: opts,
      credentials: options.credentials,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    access.kubeconfig = serializeKubeconfig(kubeconfigOf(built.entries));
    access.mode = opts.mode ?? "exec";
    if (built.tokenExpiresAt !== undefined) access.tokenExpiresAt = built.tokenExpiresAt;
    if (built.tokenRefreshAt !== undefined) access.tokenRefreshAt = built.tokenRefreshAt;
  }
  return eksClusterInfo(cluster, options.region, groups, access);
}

/**
 * Maps a described cluster into the shared {@link ClusterInfo}.
 *
 * @example
 * ```ts
 * const info = eksClusterInfo(cluster, "us-east-1", [], { endpoint: cluster.endpoint ?? "" });
 * ```
 */
export function eksClusterInfo(cluster: EksCluster, region: string, groups: NodeGroupInfo[], access: AccessInfo): ClusterInfo {
  const info: ClusterInfo = {
    cloud: "aws",
    name: cluster.name,
    id: cluster.arn,
    region,
    status: normalizeEksClusterStatus(cluster.status),
    rawStatus: cluster.status,
    network: { subnetIds: [...cluster.subnetIds], securityGroupIds: [...cluster.securityGroupIds] },
    nodeGroups: groups,
    access,
    // Local clusters on Outposts are named in tokens by their id, as the AWS CLI does.
    ref: { cloud: "aws", region, name: cluster.outpost && cluster.id !== undefined ? cluster.id : cluster.name },
  };
  if (cluster.version !== undefined) info.k8sVersion = cluster.version;
  if (cluster.vpcId !== undefined) info.network.vpcId = cluster.vpcId;
  if (cluster.createdAt !== undefined) info.createdAt = cluster.createdAt;
  return info;
}

/**
 * The clusters of one region as {@link ClusterInfo}s (DescribeCluster each; no node groups, no kubeconfig).
 *
 * @example
 * ```ts
 * for (const c of await listEksClusters({ region: "us-east-1", credentials })) console.log(c.name, c.status);
 * ```
 */
export async function listEksClusters(options: EksApiOptions): Promise<ClusterInfo[]> {
  const client = await eksClient(options);
  const names = await listEksClusterNames({ ...options, client });
  const clusters = await Promise.all(names.map((name) => describeEksCluster({ ...options, client, name })));
  return clusters.map((c) => eksClusterInfo(c, options.region, [], { endpoint: c.endpoint ?? "" }));
}
