/**
 * One GKE cluster as the shared ClusterInfo, with a ready kubeconfig: the container API's
 * `clusters.get` / `clusters.list` (REST, endpoint overridable) checked and mapped, and the
 * kubeconfig entries as `gcloud container clusters get-credentials` names them, with
 * `kubeiam gke token` as the plugin.
 */
import type { AccessInfo, ClusterInfo, ClusterStatus, KubeconfigMode, NodeGroupInfo } from "../cluster-info.js";
import { ApiError, ClusterStateError, CredentialsError, InvalidInputError, KubeconfigError } from "../lib/errors.js";
import { sendHttpRequest, type HttpOptions } from "../lib/http.js";
import { isSecureOrLoopback } from "../lib/net.js";
import { DEFAULT_EXEC_API_VERSION, type ExecApiVersion } from "../kube/exec-credential.js";
import { clusterEntry, contextEntry, execUserEntry, kubeconfigOf, serializeKubeconfig, tokenUserEntry, type KubeconfigEntries } from "../kube/kubeconfig.js";
import { displayUrl } from "../lib/redact-url.js";

/** The container API's public endpoint. */
export const GKE_API_URL = "https://container.googleapis.com";

/** The command that kubeconfigs written by `kubeiam gke update-kubeconfig` run. */
export const GKE_EXEC_COMMAND = "kubeiam";

const PROJECT_RE = /^(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const LOCATION_RE = /^[a-z]+-[a-z]+[0-9]+(?:-[a-z])?$/;
const CLUSTER_RE = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;

/** What kubeiam reads from the container API's Cluster. */
export interface GkeCluster {
  name: string;
  location: string;
  project: string;
  /** `PROVISIONING`, `RUNNING`, `RECONCILING`, `STOPPING`, `ERROR`, `DEGRADED`. */
  status: string;
  /** The API server's address (an IP or host, no scheme), as the API gives it. */
  endpoint?: string;
  /** The CA bundle, Base64 of PEM (`masterAuth.clusterCaCertificate`). */
  clusterCaCertificate?: string;
  selfLink?: string;
  id?: string;
  currentMasterVersion?: string;
  network?: string;
  subnetwork?: string;
  createTime?: Date;
  nodePools: NodeGroupInfo[];
}

const STATUS: Record<string, ClusterStatus> = {
  PROVISIONING: "Creating",
  RUNNING: "Active",
  RECONCILING: "Updating",
  DEGRADED: "Active",
  STOPPING: "Deleting",
  ERROR: "Inactive",
};

/**
 * GKE's status word, normalised to the status shared by every cloud.
 *
 * @example
 * ```ts
 * normalizeGkeClusterStatus("RUNNING"); // "Active"
 * ```
 */
export function normalizeGkeClusterStatus(raw: string): ClusterStatus {
  return STATUS[raw.toUpperCase()] ?? "Unknown";
}

/**
 * Checks a project id, location and cluster name, since they become parts of the API path.
 *
 * @example
 * ```ts
 * checkGkeClusterRef({ project: "my-project", location: "europe-west1", cluster: "prod" });
 * ```
 */
export function checkGkeClusterRef(ref: { project: string; location: string; cluster?: string }): void {
  if (!PROJECT_RE.test(ref.project)) {
    throw new InvalidInputError("project", `GCP project ${JSON.stringify(ref.project.slice(0, 64))} is not a project id: give one like my-project-123`, { value: ref.project.slice(0, 64) });
  }
  if (ref.location !== "-" && !LOCATION_RE.test(ref.location)) {
    throw new InvalidInputError("location", `GKE location ${JSON.stringify(ref.location.slice(0, 40))} is not a region or zone: give one like europe-west1 or europe-west1-b`, { value: ref.location.slice(0, 40) });
  }
  if (ref.cluster !== undefined && !CLUSTER_RE.test(ref.cluster)) {
    throw new InvalidInputError("cluster", `GKE cluster name ${JSON.stringify(ref.cluster.slice(0, 64))} is not valid: use the cluster's name (lower-case letters, digits and -)`, { value: ref.cluster.slice(0, 64) });
  }
}

/** How to reach the container API. */
export interface GkeApiOptions extends Omit<HttpOptions, "service"> {
  /** An access token (see `mintGkeToken`). */
  accessToken: string;
  /** The API base URL; {@link GKE_API_URL} by default. */
  apiUrl?: string | undefined;
}

function baseUrl(apiUrl: string | undefined): string {
  const url = (apiUrl ?? GKE_API_URL).replace(/\/+$/, "");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError("endpointUrl", `container API URL ${displayUrl(url)} is not a URL`);
  }
  if (!isSecureOrLoopback(parsed)) {
    throw new InvalidInputError("endpointUrl", `container API URL ${displayUrl(parsed)} must be https (plain http only on loopback)`);
  }
  return url;
}

async function getJson(path: string, what: string, options: GkeApiOptions): Promise<Record<string, unknown>> {
  const { accessToken, apiUrl, ...http } = options;
  const res = await sendHttpRequest(
    { method: "GET", url: `${baseUrl(apiUrl)}${path}`, headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" } },
    { ...http, service: "GKE container API" },
  );
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = undefined;
  }
  const rec = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : undefined;
  if (res.status !== 200) {
    const err = (rec?.error ?? {}) as { status?: unknown; message?: unknown };
    const apiCode = typeof err.status === "string" ? err.status : undefined;
    const apiMessage = typeof err.message === "string" ? err.message.split("\n")[0]?.slice(0, 200) : undefined;
    const detail = `${res.status}${apiCode ? ` ${apiCode}` : ""}${apiMessage ? `: ${apiMessage}` : ""}`;
    if (res.status === 401 || res.status === 403) {
      throw new CredentialsError(`${what} was refused by the container API (${detail}): check the credentials and their container.clusters.get permission`);
    }
    if (res.status === 404) {
      throw new ApiError(`${what}: not found (${detail}): check the project, the location and the cluster name ('gcloud container clusters list')`, { status: 404, apiCode, apiMessage }, { field: "cluster" });
    }
    throw new ApiError(`${what} failed: the container API answered ${detail}`, { status: res.status, apiCode, apiMessage });
  }
  if (rec === undefined) throw new ApiError(`${what}: the container API answered 200 without a JSON object`, { status: 200 });
  return rec;
}

/**
 * Checks a container API Cluster object and keeps what kubeiam uses.
 *
 * @example
 * ```ts
 * const cluster = parseGkeCluster(json, "my-project", "europe-west1");
 * ```
 */
export function parseGkeCluster(raw: unknown, project: string, location: string): GkeCluster {
  const bad = (detail: string): ApiError => new ApiError(`the container API answered an unusable cluster: ${detail}`, { status: 200 });
  if (typeof raw !== "object" || raw === null) throw bad("not an object");
  const c = raw as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const name = str(c.name);
  const status = str(c.status);
  if (name === undefined) throw bad("name is missing");
  if (status === undefined) throw bad(`cluster ${name}: status is missing`);
  const out: GkeCluster = { name, project, location: str(c.location) ?? location, status, nodePools: [] };
  const endpoint = str(c.endpoint);
  if (endpoint !== undefined) out.endpoint = endpoint;
  const ca = str((c.masterAuth as { clusterCaCertificate?: unknown } | undefined)?.clusterCaCertificate);
  if (ca !== undefined) out.clusterCaCertificate = ca;
  for (const k of ["selfLink", "id", "currentMasterVersion", "network", "subnetwork"] as const) {
    const v = str(c[k]);
    if (v !== undefined) out[k] = v;
  }
  const created = str(c.createTime);
  if (created !== undefined && !Number.isNaN(Date.parse(created))) out.createTime = new Date(created);
  if (Array.isArray(c.nodePools)) {
    for (const p of c.nodePools) {
      if (typeof p !== "object" || p === null) continue;
      const pool = p as Record<string, unknown>;
      const poolName = str(pool.name);
      if (poolName === undefined) continue;
      const group: NodeGroupInfo = { name: poolName, nodes: [] };
      const poolStatus = str(pool.status);
      if (poolStatus !== undefined) group.status = poolStatus;
      if (typeof pool.initialNodeCount === "number") group.nodeCount = pool.initialNodeCount;
      const version = str(pool.version);
      if (version !== undefined) group.k8sVersion = version;
      const machine = str((pool.config as { machineType?: unknown } | undefined)?.machineType);
      if (machine !== undefined) group.instanceType = machine;
      out.nodePools.push(group);
    }
  }
  return out;
}

/**
 * `clusters.get`: one cluster, checked.
 *
 * @example
 * ```ts
 * const cluster = await getGkeClusterRaw({ project: "p", location: "europe-west1", cluster: "prod", accessToken });
 * ```
 */
export async function getGkeClusterRaw(options: GkeApiOptions & { project: string; location: string; cluster: string }): Promise<GkeCluster> {
  const { project, location, cluster, ...api } = options;
  checkGkeClusterRef({ project, location, cluster });
  const body = await getJson(`/v1/projects/${project}/locations/${location}/clusters/${cluster}`, `clusters.get ${project}/${location}/${cluster}`, api);
  return parseGkeCluster(body, project, location);
}

/**
 * `clusters.list`: the clusters of a project in a location (`-` for every location).
 *
 * @example
 * ```ts
 * const clusters = await listGkeClustersRaw({ project: "p", location: "-", accessToken });
 * ```
 */
export async function listGkeClustersRaw(options: GkeApiOptions & { project: string; location: string }): Promise<GkeCluster[]> {
  const { project, location, ...api } = options;
  checkGkeClusterRef({ project, location });
  const body = await getJson(`/v1/projects/${project}/locations/${location}/clusters`, `clusters.list ${project}/${location}`, api);
  const list = body.clusters;
  if (list !== undefined && !Array.isArray(list)) throw new ApiError("clusters.list answered a non-list clusters field", { status: 200 });
  return (list ?? []).map((c) => parseGkeCluster(c, project, location));
}

/**
 * The clusters of a project in a location (`-` for every location) as {@link ClusterInfo}s, without
 * kubeconfigs (ask {@link getGkeCluster} for one cluster's).
 *
 * @example
 * ```ts
 * for (const c of await listGkeClusters({ project: "p", location: "-", accessToken })) console.log(c.name, c.zone, c.status);
 * ```
 */
export async function listGkeClusters(options: GkeApiOptions & { project: string; location: string }): Promise<ClusterInfo[]> {
  const clusters = await listGkeClustersRaw(options);
  return clusters.map((c) => gkeClusterInfo(c, { endpoint: c.endpoint === undefined ? "" : gkeServerUrl(c.endpoint) }));
}

/**
 * Refuses a cluster without a reachable endpoint yet (being provisioned) or any more (stopping, error).
 *
 * @example
 * ```ts
 * assertGkeClusterReady(cluster);
 * ```
 */
export function assertGkeClusterReady(cluster: GkeCluster): void {
  if (!["RUNNING", "RECONCILING", "DEGRADED"].includes(cluster.status.toUpperCase())) {
    throw new ClusterStateError(`GKE cluster ${cluster.name} in ${cluster.project}/${cluster.location} has status ${cluster.status}: a kubeconfig needs it RUNNING; try again later`);
  }
  if (cluster.endpoint === undefined || cluster.clusterCaCertificate === undefined) {
    throw new ClusterStateError(`GKE cluster ${cluster.name} has no endpoint or CA certificate yet: try again when it is RUNNING`);
  }
}

/**
 * The server URL of a cluster: `https://` + its endpoint (which the API gives without a scheme).
 *
 * @example
 * ```ts
 * gkeServerUrl("34.1.2.3"); // "https://34.1.2.3"
 * ```
 */
export function gkeServerUrl(endpoint: string): string {
  return /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`;
}

/** How to build the kubeconfig of a GKE cluster. */
export interface GkeKubeconfigOptions {
  /** `exec` (default): the user runs `kubeiam gke token`; `embed`: the user holds a given token. */
  mode?: KubeconfigMode;
  /** The name of all three entries; `gke_{project}_{location}_{cluster}` by default, as gcloud names them. */
  name?: string | undefined;
  /** A credentials file for the plugin to use (`--credentials`); ADC when unset. */
  credentialsFile?: string | undefined;
  /** A service account the plugin impersonates (`--impersonate-service-account`), as gcloud's flag. */
  impersonateServiceAccount?: string | undefined;
  /** The exec plugin command: `kubeiam` by default; a name on PATH or an absolute path. */
  execCommand?: string | undefined;
  /** Arguments put before `gke token` (for example the script path when the command is `node`). */
  execCommandArgs?: string[] | undefined;
  /** The exec apiVersion: v1beta1 by default. */
  execApiVersion?: ExecApiVersion | undefined;
}

/**
 * The cluster, user and context entries for one GKE cluster. In embed mode, `token` is the user's.
 *
 * @deprecated Use `gkeAdapter.kubeconfigEntries` (src/gcp/adapter.ts): the same entries in the shape
 * every cloud shares (the `CloudAdapter` contract of src/contract.ts: async, `{ entries, tokenExpiresAt }`, and in
 * embed mode the token minted from the credentials rather than passed in). This function stays
 * exported, unchanged, for existing callers; the adapter is built on it.
 *
 * @example
 * ```ts
 * // Before:
 * const entries = gkeKubeconfigEntries({ cluster, options: { credentialsFile: "/secrets/sa.json" } });
 * // Now:
 * const described = await gkeAdapter.describeCluster({ credentials, cluster: { project: "my-project", location: "europe-west1", cluster: "prod" } });
 * const { entries: same } = await gkeAdapter.kubeconfigEntries({ credentials, cluster: described, kubeconfig: { credentialsFile: "/secrets/sa.json" } });
 * mergeKubeconfigEntries(doc, same, { overwrite: false });
 * ```
 */
export function gkeKubeconfigEntries(input: { cluster: GkeCluster; options?: GkeKubeconfigOptions; token?: string }): KubeconfigEntries {
  const { cluster } = input;
  const options = input.options ?? {};
  assertGkeClusterReady(cluster);
  const name = options.name?.trim() || `gke_${cluster.project}_${cluster.location}_${cluster.name}`;
  const kcCluster = clusterEntry(name, { server: gkeServerUrl(cluster.endpoint ?? ""), certificateAuthorityData: cluster.clusterCaCertificate ?? "" });
  const context = contextEntry(name, { cluster: name, user: name });
  if ((options.mode ?? "exec") === "embed") {
    if (input.token === undefined) throw new KubeconfigError("embed mode needs an access token");
    return { cluster: kcCluster, user: tokenUserEntry(name, input.token), context };
  }
  const args = [...(options.execCommandArgs ?? []), "gke", "token"];
  if (options.credentialsFile?.trim()) args.push("--credentials", options.credentialsFile);
  if (options.impersonateServiceAccount?.trim()) args.push("--impersonate-service-account", options.impersonateServiceAccount);
  const user = execUserEntry(name, {
    command: options.execCommand ?? GKE_EXEC_COMMAND,
    args,
    apiVersion: options.execApiVersion ?? DEFAULT_EXEC_API_VERSION,
  });
  return { cluster: kcCluster, user, context };
}

/**
 * Maps a container API cluster into the shared {@link ClusterInfo}.
 *
 * @example
 * ```ts
 * const info = gkeClusterInfo(cluster, { endpoint: gkeServerUrl(cluster.endpoint ?? "") });
 * ```
 */
export function gkeClusterInfo(cluster: GkeCluster, access: AccessInfo): ClusterInfo {
  const zoned = /-[a-z]$/.test(cluster.location);
  const info: ClusterInfo = {
    cloud: "gcp",
    name: cluster.name,
    id: cluster.selfLink ?? `projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`,
    region: zoned ? cluster.location.replace(/-[a-z]$/, "") : cluster.location,
    status: normalizeGkeClusterStatus(cluster.status),
    rawStatus: cluster.status,
    network: { subnetIds: cluster.subnetwork === undefined ? [] : [cluster.subnetwork], securityGroupIds: [] },
    nodeGroups: cluster.nodePools.map((g) => ({ ...g, nodes: [...g.nodes] })),
    access,
    ref: { cloud: "gcp", project: cluster.project, location: cluster.location, name: cluster.name },
  };
  if (zoned) info.zone = cluster.location;
  if (cluster.currentMasterVersion !== undefined) info.k8sVersion = cluster.currentMasterVersion;
  if (cluster.network !== undefined) info.network.vpcId = cluster.network;
  if (cluster.createTime !== undefined) info.createdAt = cluster.createTime;
  return info;
}

/**
 * One GKE cluster as a {@link ClusterInfo}, with a ready kubeconfig in `access.kubeconfig`.
 *
 * @example
 * ```ts
 * const { token } = await mintGkeToken();
 * const info = await getGkeCluster({ project: "p", location: "europe-west1", cluster: "prod", accessToken: token });
 * ```
 */
export async function getGkeCluster(
  options: GkeApiOptions & { project: string; location: string; cluster: string; kubeconfig?: GkeKubeconfigOptions | false; tokenExpiresAt?: Date; tokenRefreshAt?: Date },
): Promise<ClusterInfo> {
  const { kubeconfig, tokenExpiresAt, tokenRefreshAt, ...query } = options;
  const cluster = await getGkeClusterRaw(query);
  const access: AccessInfo = { endpoint: cluster.endpoint === undefined ? "" : gkeServerUrl(cluster.endpoint) };
  if (cluster.clusterCaCertificate !== undefined) access.certificateAuthorityData = Buffer.from(cluster.clusterCaCertificate, "base64").toString("utf8");
  if (kubeconfig !== false) {
    const opts = kubeconfig ?? {};
    const entries = gkeKubeconfigEntries({ cluster, options: opts, token: options.accessToken });
    access.kubeconfig = serializeKubeconfig(kubeconfigOf(entries));
    access.mode = opts.mode ?? "exec";
    if (access.mode === "embed" && tokenExpiresAt !== undefined) access.tokenExpiresAt = tokenExpiresAt;
    if (access.mode === "embed" && tokenRefreshAt !== undefined) access.tokenRefreshAt = tokenRefreshAt;
  }
  return gkeClusterInfo(cluster, access);
}
