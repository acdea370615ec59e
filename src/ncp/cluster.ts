/**
 * One NKS cluster as the shared ClusterInfo, with a ready kubeconfig: the NKS API's answers mapped
 * and checked, default names as the official ncp-iam-authenticator picks them (docs/formats.md §5), and
 * the user in exec mode (a plugin that mints tokens) or embed mode (a fresh token, good for 5 minutes, to be replaced after 4).
 */
import type { AccessInfo, ClusterInfo, ClusterStatus, KubeconfigMode, NodeGroupInfo, NodeInfo } from "../cluster-info.js";
import { ApiError, ClusterStateError, KubeconfigError } from "../lib/errors.js";
import type { HttpOptions } from "../lib/http.js";
import { given } from "../lib/validate.js";
import { DEFAULT_EXEC_API_VERSION, type ExecApiVersion } from "../kube/exec-credential.js";
import {
  clusterEntry,
  contextEntry,
  execUserEntry,
  kubeconfigOf,
  parseKubeconfig,
  serializeKubeconfig,
  tokenUserEntry,
  type KubeconfigCluster,
  type KubeconfigEntries,
} from "../kube/kubeconfig.js";
import { createNcpApiClient, type NcpApiClient, type NcpCluster, type NcpNodePool, type NcpWorkerNode } from "./api.js";
import { resolveNcpCredentials, type NcpCredentials } from "./credentials.js";
import { ncpRegionOf, type NcpRegion } from "./region.js";
import { createNcpSigner } from "./sign.js";
import { checkClusterUuid, mintNcpToken, parseNcpTokenTarget } from "./token.js";

/** The command that the official kubeconfig runs as its exec plugin. */
export const NCP_EXEC_COMMAND = "ncp-iam-authenticator";

/** The cluster name in the NKS API's own kubeconfig, which the official tool renames. */
const NKS_BASE_CLUSTER_NAME = "kubernetes";

const STATUS: Record<string, ClusterStatus> = {
  CREATING: "Creating",
  RUNNING: "Active",
  NO_NODE: "Active",
  WORKING: "Updating",
  UPDATING: "Updating",
  UPGRADING: "Updating",
  DELETING: "Deleting",
  RETURNED: "Inactive",
  STOPPED: "Inactive",
  ERROR: "Inactive",
};

/**
 * NKS's status word, normalised to the status shared by every cloud.
 *
 * @example
 * ```ts
 * normalizeNcpClusterStatus("RUNNING"); // "Active"
 * ```
 */
export function normalizeNcpClusterStatus(raw: string): ClusterStatus {
  return STATUS[raw.toUpperCase()] ?? "Unknown";
}

/** Cluster, user and context names for a kubeconfig. */
export interface NcpKubeconfigNames {
  cluster: string;
  user: string;
  context: string;
}

/**
 * The names the official tool gives (docs/formats.md §5): `nks_{region}_{clusterName}_{uuid}` for cluster
 * and user; the context takes that name too, or `user@cluster` when either was named, unless it is
 * named itself (`contextName`, the CLI's `--alias`, as `aws eks update-kubeconfig --alias` names it).
 *
 * @example
 * ```ts
 * ncpKubeconfigNames({ region: "KR", clusterName: "demo", clusterUuid: uuid });
 * // { cluster: "nks_kr_demo_<uuid>", user: "nks_kr_demo_<uuid>", context: "nks_kr_demo_<uuid>" }
 * ```
 */
export function ncpKubeconfigNames(input: {
  region: string | NcpRegion;
  clusterName: string;
  clusterUuid: string;
  kubeconfigClusterName?: string | undefined;
  userName?: string | undefined;
  contextName?: string | undefined;
}): NcpKubeconfigNames {
  const fallback = `nks_${ncpRegionOf(input.region).code.toLowerCase()}_${input.clusterName}_${input.clusterUuid}`;
  const cluster = given(input.kubeconfigClusterName) ?? fallback;
  const user = given(input.userName) ?? fallback;
  const named = given(input.kubeconfigClusterName) !== undefined || given(input.userName) !== undefined;
  return { cluster, user, context: given(input.contextName) ?? (named ? `${user}@${cluster}` : cluster) };
}

/** How to build the kubeconfig of a cluster. */
export interface NcpKubeconfigOptions {
  /** `exec` (default): the user runs the token command; `embed`: the user holds a fresh token. */
  mode?: KubeconfigMode;
  /** Name of the kubeconfig's cluster entry (default per {@link ncpKubeconfigNames}). */
  clusterName?: string;
  /** Name of the kubeconfig's user entry (default per {@link ncpKubeconfigNames}). */
  userName?: string;
  /** Name of the kubeconfig's context entry (default per {@link ncpKubeconfigNames}). */
  contextName?: string;
  /** The exec plugin command: `ncp-iam-authenticator` by default; a name on PATH or an absolute path. */
  execCommand?: string;
  /** Arguments put before `token` (for example the script path when the command is `node`). */
  execCommandArgs?: string[];
  /** The exec apiVersion: v1beta1 by default, as the official tool writes. */
  execApiVersion?: ExecApiVersion;
  /** A configure file to name with `--credentialConfig` (leave unset for the default one). */
  credentialConfig?: string;
  /** A profile to name with `--profile`. */
  profile?: string;
}

/** What {@link ncpKubeconfigEntries} needs. */
export interface NcpKubeconfigInput {
  cluster: NcpCluster;
  /** The YAML text of the NKS API's own kubeconfig for the cluster. */
  baseKubeconfig: string;
  /** A region code, or one parsed already ({@link parseNcpRegion}). */
  region: string | NcpRegion;
  options?: NcpKubeconfigOptions;
  /** Needed in `embed` mode only. */
  credentials?: NcpCredentials;
  /** The time to sign an embedded token at. */
  now?: number;
}

/**
 * Reads the NKS API's kubeconfig and returns the cluster's server and CA data, checked.
 *
 * @example
 * ```ts
 * const { server, certificateAuthorityData } = ncpBaseCluster(await api.getKubeconfig(uuid), uuid);
 * ```
 */
export function ncpBaseCluster(baseKubeconfig: string, clusterUuid: string): KubeconfigCluster {
  const bad = (detail: string, cause?: unknown): ApiError =>
    new ApiError(`the NKS API's kubeconfig for cluster ${clusterUuid} is not usable: ${detail}`, { status: 200 }, cause === undefined ? undefined : { cause });
  let clusters;
  try {
    clusters = parseKubeconfig(baseKubeconfig).clusters;
  } catch (cause) {
    if (cause instanceof KubeconfigError) throw bad(cause.message, cause);
    throw cause;
  }
  const index = clusters.findIndex((c) => c.name === NKS_BASE_CLUSTER_NAME);
  const at = index >= 0 ? index : clusters.length === 1 ? 0 : -1;
  const entry = clusters[at];
  if (entry === undefined) {
    throw bad(clusters.length === 0 ? "clusters is empty" : `none of its ${clusters.length} clusters is named "${NKS_BASE_CLUSTER_NAME}"`);
  }
  const ca = entry.cluster.certificateAuthorityData;
  if (ca === undefined || ca === "") throw bad(`clusters[${at}].cluster.certificate-authority-data is missing`);
  if (!pemOf(ca).includes("-----BEGIN CERTIFICATE-----")) throw bad(`clusters[${at}].cluster.certificate-authority-data is not a Base64 PEM certificate`);
  if (!/^https:\/\//.test(entry.cluster.server)) throw bad(`clusters[${at}].cluster.server ${JSON.stringify(entry.cluster.server)} is not an https URL`);
  return { server: entry.cluster.server, certificateAuthorityData: ca };
}

function pemOf(base64: string): string {
  return Buffer.from(base64, "base64").toString("utf8");
}

/**
 * The cluster, user and context entries that give access to one NKS cluster, per docs/formats.md §5.
 * Exec mode: `ncp-iam-authenticator token --clusterUuid U --region R [--credentialConfig F] [--profile P]`.
 * Embed mode: `user.token` holds a token minted now; `tokenExpiresAt` says when it stops working.
 *
 * @deprecated Use `ncpAdapter.kubeconfigEntries` (src/ncp/adapter.ts): the same entries in the shape
 * every cloud shares (the `CloudAdapter` contract of src/contract.ts: async, one input object, a cluster from
 * `ncpAdapter.describeCluster`, which also refuses a cluster that is not ready). This function stays
 * exported, unchanged, for existing callers; the adapter is built on it.
 *
 * @example
 * ```ts
 * // Before:
 * const { entries } = ncpKubeconfigEntries({ cluster, baseKubeconfig, region: "KR" });
 * // Now:
 * const described = await ncpAdapter.describeCluster({ credentials, cluster: { region: "KR", clusterUuid } });
 * const { entries: same } = await ncpAdapter.kubeconfigEntries({ credentials, cluster: described });
 * mergeKubeconfigEntries(doc, same, { overwrite: false });
 * ```
 */
export function ncpKubeconfigEntries(input: NcpKubeconfigInput): { entries: KubeconfigEntries; tokenExpiresAt?: Date; tokenRefreshAt?: Date } {
  const parsed = ncpRegionOf(input.region);
  const region = parsed.code;
  const options = input.options ?? {};
  const uuid = checkClusterUuid(input.cluster.uuid);
  const names = ncpKubeconfigNames({
    region: parsed,
    clusterName: input.cluster.name,
    clusterUuid: uuid,
    kubeconfigClusterName: options.clusterName,
    userName: options.userName,
    contextName: options.contextName,
  });
  const cluster = clusterEntry(names.cluster, ncpBaseCluster(input.baseKubeconfig, uuid));
  const context = contextEntry(names.context, { cluster: names.cluster, user: names.user });
  if ((options.mode ?? "exec") === "embed") {
    if (input.credentials === undefined) throw new KubeconfigError("embed mode needs credentials to mint the token");
    const minted = mintNcpToken({ signer: createNcpSigner(input.credentials), cluster: parseNcpTokenTarget({ clusterUuid: uuid, region: parsed }), now: input.now ?? Date.now() });
    return { entries: { cluster, user: tokenUserEntry(names.user, minted.token), context }, tokenExpiresAt: minted.expiresAt, tokenRefreshAt: minted.refreshAt };
  }
  const args = [...(options.execCommandArgs ?? []), "token", "--clusterUuid", uuid, "--region", region];
  if (options.credentialConfig !== undefined && options.credentialConfig.trim() !== "") args.push("--credentialConfig", options.credentialConfig);
  if (options.profile !== undefined && options.profile.trim() !== "") args.push("--profile", options.profile);
  const user = execUserEntry(names.user, {
    command: options.execCommand ?? NCP_EXEC_COMMAND,
    args,
    apiVersion: options.execApiVersion ?? DEFAULT_EXEC_API_VERSION,
  });
  return { entries: { cluster, user, context } };
}

// ---------------------------------------------------------------------------------------------

/** Options shared by {@link getNcpCluster} and {@link listNcpClusters}. */
export interface NcpClusterQuery extends Omit<HttpOptions, "service"> {
  /** A region code, or one parsed already ({@link parseNcpRegion}). */
  region: string | NcpRegion;
  /** API key and gateway; found per docs/formats.md §4 when absent. */
  credentials?: NcpCredentials;
  /** The clock used to sign requests and tokens; `Date.now` by default. */
  now?: () => number;
}

/** Options of {@link getNcpCluster}. */
export interface GetNcpClusterOptions extends NcpClusterQuery {
  clusterUuid: string;
  /** How to build `access.kubeconfig`; `false` to skip it (then a cluster being created is no error). */
  kubeconfig?: NcpKubeconfigOptions | false;
}

async function apiFor(query: NcpClusterQuery): Promise<{ api: NcpApiClient; credentials: NcpCredentials; now: () => number }> {
  const credentials = query.credentials ?? (await resolveNcpCredentials());
  const now = query.now ?? Date.now;
  const { region: _region, credentials: _c, now: _n, ...http } = query;
  return { api: createNcpApiClient({ ...http, credentials, region: query.region, now }), credentials, now };
}

function groupsOf(pools: NcpNodePool[], nodes: NcpWorkerNode[]): NodeGroupInfo[] {
  const groups = pools.map((p): NodeGroupInfo => {
    const g: NodeGroupInfo = { name: p.name, nodes: [] };
    if (p.instanceNo !== undefined) g.id = p.instanceNo;
    if (p.status !== undefined) g.status = p.status;
    if (p.nodeCount !== undefined) g.nodeCount = p.nodeCount;
    if (p.k8sVersion !== undefined) g.k8sVersion = p.k8sVersion;
    if (p.productCode !== undefined) g.instanceType = p.productCode;
    return g;
  });
  for (const n of nodes) {
    const node: NodeInfo = { name: n.name };
    if (n.id !== undefined) node.id = n.id;
    if (n.status !== undefined) node.status = n.status;
    if (n.privateIp !== undefined) node.privateIp = n.privateIp;
    if (n.publicIp !== undefined) node.publicIp = n.publicIp;
    let group = groups.find((g) => (n.nodePoolId !== undefined && g.id === n.nodePoolId) || (n.nodePoolName !== undefined && g.name === n.nodePoolName));
    if (group === undefined) {
      const name = n.nodePoolName ?? "(no node pool)";
      group = groups.find((g) => g.name === name);
      if (group === undefined) {
        group = { name, nodes: [] };
        groups.push(group);
      }
    }
    group.nodes.push(node);
  }
  return groups;
}

function infoOf(c: NcpCluster, region: string, groups: NodeGroupInfo[], access: AccessInfo): ClusterInfo {
  const info: ClusterInfo = {
    cloud: "ncp",
    name: c.name,
    id: c.uuid,
    region: c.regionCode ?? region,
    status: normalizeNcpClusterStatus(c.status),
    rawStatus: c.status,
    network: {
      subnetIds: [...c.subnetNoList],
      securityGroupIds: c.acgNo === undefined ? [] : [c.acgNo],
    },
    nodeGroups: groups,
    access,
    ref: { cloud: "ncp", region: c.regionCode ?? region, clusterUuid: c.uuid },
  };
  if (c.zoneCode !== undefined) info.zone = c.zoneCode;
  if (c.k8sVersion !== undefined) info.k8sVersion = c.k8sVersion;
  if (c.vpcNo !== undefined) info.network.vpcId = c.vpcNo;
  if (c.vpcName !== undefined) info.network.vpcName = c.vpcName;
  if (c.createdAt !== undefined) {
    const t = new Date(c.createdAt);
    if (!Number.isNaN(t.getTime())) info.createdAt = t;
  }
  return info;
}

/**
 * Refuses a cluster that is still being created: it has no kubeconfig yet.
 *
 * @example
 * ```ts
 * assertNcpClusterReady(await api.getCluster(uuid), "KR");
 * ```
 */
export function assertNcpClusterReady(cluster: NcpCluster, region: string | NcpRegion): void {
  if (cluster.status.toUpperCase() === "CREATING") {
    throw new ClusterStateError(
      `cluster ${cluster.name} (${cluster.uuid}) in region ${ncpRegionOf(region).code || "KR"} is still being created (status CREATING): try again when its status is RUNNING`,
    );
  }
}

/** One NKS cluster as the NKS API describes it, with the API's own kubeconfig once it has one. */
export interface NcpClusterDescription {
  region: string;
  cluster: NcpCluster;
  /** The YAML text of the NKS API's kubeconfig; absent while the cluster is being created. */
  baseKubeconfig?: string;
}

/**
 * The cluster and, unless it is still being created, the NKS API's kubeconfig for it: what
 * {@link ncpKubeconfigEntries} builds from.
 *
 * @example
 * ```ts
 * const described = await describeNcpCluster({ clusterUuid, region: "KR", credentials });
 * const { entries } = ncpKubeconfigEntries({ ...described, baseKubeconfig: described.baseKubeconfig ?? "" });
 * ```
 */
export async function describeNcpCluster(options: NcpClusterQuery & { clusterUuid: string }): Promise<NcpClusterDescription> {
  const uuid = checkClusterUuid(options.clusterUuid);
  const parsed = ncpRegionOf(options.region);
  const region = parsed.code;
  const { clusterUuid: _u, ...query } = options;
  const { api } = await apiFor({ ...query, region: parsed });
  const cluster = await api.getCluster(uuid);
  if (cluster.status.toUpperCase() === "CREATING") return { region, cluster };
  return { region, cluster, baseKubeconfig: await api.getKubeconfig(uuid) };
}

/**
 * One NKS cluster as a {@link ClusterInfo}: status, network, node pools with their nodes, and a
 * ready kubeconfig in `access.kubeconfig` (exec mode by default, or embed).
 *
 * @example
 * ```ts
 * const info = await getNcpCluster({ clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", region: "KR" });
 * await writeFile("kubeconfig.yaml", info.access.kubeconfig ?? "", { mode: 0o600 });
 * ```
 */
export async function getNcpCluster(options: GetNcpClusterOptions): Promise<ClusterInfo> {
  const uuid = checkClusterUuid(options.clusterUuid);
  const parsed = ncpRegionOf(options.region);
  const region = parsed.code;
  const { kubeconfig: kubeconfigOptions, clusterUuid: _u, ...query } = options;
  const { api, credentials, now } = await apiFor({ ...query, region: parsed });
  const cluster = await api.getCluster(uuid);
  const wantKubeconfig = kubeconfigOptions !== false;
  if (wantKubeconfig) assertNcpClusterReady(cluster, parsed);
  const [base, nodes, pools] = await Promise.all([
    wantKubeconfig ? api.getKubeconfig(uuid) : Promise.resolve(undefined),
    api.listNodes(uuid),
    api.listNodePools(uuid),
  ]);
  const access: AccessInfo = { endpoint: cluster.endpoint ?? "" };
  if (base !== undefined) {
    const opts = kubeconfigOptions === false ? {} : (kubeconfigOptions ?? {});
    const built = ncpKubeconfigEntries({ cluster, baseKubeconfig: base, region: parsed, options: opts, credentials, now: now() });
    access.endpoint = built.entries.cluster.cluster.server;
    const ca = built.entries.cluster.cluster.certificateAuthorityData;
    if (ca !== undefined) access.certificateAuthorityData = pemOf(ca);
    access.kubeconfig = serializeKubeconfig(kubeconfigOf(built.entries));
    access.mode = opts.mode ?? "exec";
    if (built.tokenExpiresAt !== undefined) access.tokenExpiresAt = built.tokenExpiresAt;
    if (built.tokenRefreshAt !== undefined) access.tokenRefreshAt = built.tokenRefreshAt;
  }
  return infoOf(cluster, region, groupsOf(pools.length > 0 ? pools : cluster.nodePool, nodes), access);
}

/**
 * The clusters of one NKS region as {@link ClusterInfo}s: node pools from the listing, no nodes and
 * no kubeconfig (ask {@link getNcpCluster} for one cluster's).
 *
 * @example
 * ```ts
 * for (const c of await listNcpClusters({ region: "KR" })) console.log(c.name, c.status, c.rawStatus);
 * ```
 */
export async function listNcpClusters(options: NcpClusterQuery): Promise<ClusterInfo[]> {
  const parsed = ncpRegionOf(options.region);
  const region = parsed.code;
  const { api } = await apiFor({ ...options, region: parsed });
  const clusters = await api.listClusters();
  return clusters.map((c) => infoOf(c, region, groupsOf(c.nodePool, []), { endpoint: c.endpoint ?? "" }));
}
