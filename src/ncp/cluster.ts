/**
 * One NKS cluster as the shared ClusterInfo, with a ready kubeconfig: the NKS API's answers mapped
 * and checked. The kubeconfig itself is built by src/ncp/kubeconfig.ts, loaded when one is asked for
 * (it brings the kubeconfig parser and writer, which importing kubeiam/ncp does not need).
 */
import type { AccessInfo, ClusterInfo, ClusterStatus, NodeGroupInfo, NodeInfo } from "../cluster-info.js";
import { ClusterStateError } from "../lib/errors.js";
import type { HttpOptions } from "../lib/http.js";
import { createNcpApiClient, type NcpApiClient, type NcpCluster, type NcpNodePool, type NcpWorkerNode } from "./api.js";
import { resolveNcpCredentials, type NcpCredentials } from "./credentials.js";
import type { NcpKubeconfigOptions } from "./kubeconfig.js";
import { ncpRegionOf, type NcpRegion } from "./region.js";
import { checkClusterUuid } from "./token.js";

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
 * ncpKubeconfigEntries (src/ncp/kubeconfig.ts) builds from.
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
  let access: AccessInfo = { endpoint: cluster.endpoint ?? "" };
  if (base !== undefined) {
    const { ncpKubeconfigAccess } = await import("./kubeconfig.js");
    const opts = kubeconfigOptions === false ? {} : (kubeconfigOptions ?? {});
    access = ncpKubeconfigAccess({ cluster, baseKubeconfig: base, region: parsed, options: opts, credentials, now: now() });
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
