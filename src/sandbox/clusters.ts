/**
 * The sandbox's clusters as the NKS API describes them (docs/formats.md §3): Cluster, WorkerNode and
 * NodePool bodies, and the API's own kubeconfig (cluster and context, no usable user). Pure.
 */
import { randomInt, randomUUID } from "node:crypto";
import { yaml } from "../lib/yaml.js";
import { normalizeNcpRegion } from "../ncp/region.js";
import { checkClusterUuid } from "../ncp/token.js";
import { InvalidInputError } from "../lib/errors.js";

/** What a sandbox cluster is: name, region, status, and optionally a fixed UUID. */
export interface SandboxClusterSpec {
  name: string;
  /** NCP region code: KR, SGN, JPN, FKR, … */
  region: string;
  /** NKS status word; only `RUNNING` clusters get an endpoint. */
  status: "RUNNING" | "CREATING" | "DELETING" | "RETURNED";
  /** A fixed UUID; random when absent. */
  uuid?: string;
  /** Kubernetes version, `1.32.8-nks.1` by default. */
  k8sVersion?: string;
}

/**
 * The demo clusters: one running in KR and in SGN, one still being created in KR.
 *
 * @example
 * ```ts
 * await startSandbox({ clusters: [...DEFAULT_SANDBOX_CLUSTERS, { name: "demo-fkr", region: "FKR", status: "RUNNING" }] });
 * ```
 */
export const DEFAULT_SANDBOX_CLUSTERS: readonly SandboxClusterSpec[] = [
  { name: "demo-kr", region: "KR", status: "RUNNING" },
  { name: "demo-sgn", region: "SGN", status: "RUNNING" },
  { name: "demo-kr-next", region: "KR", status: "CREATING" },
];

/** A sandbox cluster with everything the API and the endpoint need. */
export interface SandboxCluster {
  uuid: string;
  name: string;
  region: string;
  status: string;
  k8sVersion: string;
  zoneCode: string;
  vpcNo: number;
  subnetNo: number;
  lbSubnetNo: number;
  acgNo: number;
  nodePoolNo: number;
  createdAt: string;
  /** `https://127.0.0.1:PORT` once its endpoint listens; empty while it has none. */
  endpoint: string;
  /** The namespaces the endpoint serves. */
  namespaces: string[];
}

const ZONES: Record<string, string> = { KR: "KR-2", SGN: "SGN-4", JPN: "JPN-4", FKR: "FKR-1" };

/**
 * Fills a spec in with realistic numbers (VPC, subnets, ACG, node pool) and a creation time.
 *
 * @example
 * ```ts
 * const c = makeSandboxCluster({ name: "demo-kr", region: "KR", status: "RUNNING" }, Date.now());
 * ```
 */
export function makeSandboxCluster(spec: SandboxClusterSpec, nowMs: number): SandboxCluster {
  const region = normalizeNcpRegion(spec.region);
  if (region === "") throw new InvalidInputError("region", `sandbox cluster ${spec.name} has an empty region: give KR, SGN, …`);
  if (!/^[a-z0-9][a-z0-9-]{1,18}[a-z0-9]$/.test(spec.name)) {
    throw new InvalidInputError("name", `sandbox cluster name ${JSON.stringify(spec.name)} is not 3-20 lower-case letters, digits and dashes`);
  }
  const uuid = spec.uuid === undefined ? randomUUID() : checkClusterUuid(spec.uuid);
  const base = randomInt(10000, 90000);
  const created = spec.status === "CREATING" ? nowMs - 4 * 60_000 : nowMs - 9 * 24 * 3600_000;
  return {
    uuid,
    name: spec.name,
    region,
    status: spec.status,
    k8sVersion: spec.k8sVersion ?? "1.32.8-nks.1",
    zoneCode: ZONES[region] ?? `${region}-1`,
    vpcNo: base,
    subnetNo: base * 10 + 1,
    lbSubnetNo: base * 10 + 2,
    acgNo: base * 10 + 3,
    nodePoolNo: base * 10 + 4,
    createdAt: new Date(Math.floor(created / 1000) * 1000).toISOString(),
    endpoint: "",
    namespaces: ["default", "kube-node-lease", "kube-public", "kube-system", `${spec.name}-apps`],
  };
}

function nodePoolBody(c: SandboxCluster): Record<string, unknown> {
  return {
    instanceNo: c.nodePoolNo,
    name: `${c.name}-pool`,
    k8sVersion: c.k8sVersion.replace(/-nks\.\d+$/, ""),
    nodeCount: 2,
    subnetNoList: [c.subnetNo],
    subnetNameList: [`${c.name}-subnet | ${c.zoneCode} | 10.0.1.0/24 | Private`],
    productCode: "SVR.VSVR.STAND.C002.M008.NET.SSD.B050.G002",
    status: c.status === "RUNNING" ? "RUN" : "CREATING",
    autoscale: { enabled: false, min: 0, max: 0 },
    labels: [],
    taints: [],
  };
}

/**
 * The NKS API's Cluster object for a sandbox cluster, with the fields of docs/formats.md §3 and the
 * other fields that NKS sends.
 *
 * @example
 * ```ts
 * res.end(JSON.stringify({ cluster: sandboxClusterBody(c) }));
 * ```
 */
export function sandboxClusterBody(c: SandboxCluster): Record<string, unknown> {
  return {
    uuid: c.uuid,
    acgName: `nks-${String(c.acgNo).slice(-4)}-${c.uuid.slice(0, 5)}`,
    acgNo: c.acgNo,
    name: c.name,
    capacity: "vCPU 4EA, Memory 16GB",
    clusterType: "SVR.VNKS.STAND.C002.M008.NET.SSD.B050.G002",
    hypervisorCode: "KVM",
    nodeCount: 2,
    nodeMaxCount: 10,
    cpuCount: 4,
    memorySize: 16,
    createdAt: c.createdAt,
    endpoint: c.endpoint,
    k8sVersion: c.k8sVersion,
    regionCode: c.region,
    status: c.status,
    kubeNetworkPlugin: "cilium",
    subnetLbName: `${c.name}-lb | ${c.zoneCode} | 10.0.2.0/24 | Private`,
    subnetLbNo: c.lbSubnetNo,
    lbPublicSubnetNo: null,
    subnetName: `${c.name}-subnet`,
    subnetNoList: [c.subnetNo],
    updatedAt: c.createdAt,
    vpcName: `${c.name}-vpc | 10.0.0.0/16`,
    vpcNo: c.vpcNo,
    zoneCode: c.zoneCode,
    zoneNo: 3,
    loginKeyName: "sandbox-login-key",
    log: { audit: false },
    authType: "CONFIG_MAP",
    nodePool: [nodePoolBody(c)],
  };
}

/**
 * The cluster's node pools, as `GET …/clusters/{uuid}/node-pool` answers them.
 *
 * @example
 * ```ts
 * res.end(JSON.stringify({ nodePool: sandboxNodePools(c) }));
 * ```
 */
export function sandboxNodePools(c: SandboxCluster): Record<string, unknown>[] {
  return [nodePoolBody(c)];
}

/**
 * The cluster's worker nodes, as `GET …/clusters/{uuid}/nodes` answers them.
 *
 * @example
 * ```ts
 * res.end(JSON.stringify({ nodes: sandboxNodes(c) }));
 * ```
 */
export function sandboxNodes(c: SandboxCluster): Record<string, unknown>[] {
  const running = c.status === "RUNNING";
  return [1, 2].map((n) => ({
    id: c.nodePoolNo * 10 + n,
    instanceNo: c.nodePoolNo * 10 + n,
    name: `${c.name}-pool-w-${c.uuid.slice(0, 3)}${n}`,
    serverSpec: "[Standard] vCPU 2EA, Memory 8GB",
    privateIp: `10.0.1.${10 + n}`,
    publicIp: "",
    nodeStatus: running ? "RUN" : "INIT",
    k8sStatus: running ? "Ready" : "NotReady",
    containerVersion: "containerd://1.7.27",
    kernelVersion: "5.15.0-140-generic",
    nodePoolId: c.nodePoolNo,
    nodePoolName: `${c.name}-pool`,
    statusCode: running ? "RUN" : "INIT",
    statusName: running ? "Running" : "Initializing",
  }));
}

/**
 * The NKS API's own kubeconfig for a cluster, built with the `yaml` serializer: cluster
 * `kubernetes` with the server and the CA (Base64 PEM), a context, and no usable user.
 *
 * @example
 * ```ts
 * const text = sandboxKubeconfigYaml(c, ca.certPem);
 * ```
 */
export function sandboxKubeconfigYaml(c: SandboxCluster, caCertPem: string): string {
  return yaml().stringify({
    apiVersion: "v1",
    clusters: [{ cluster: { "certificate-authority-data": Buffer.from(caCertPem).toString("base64"), server: c.endpoint }, name: "kubernetes" }],
    contexts: [{ context: { cluster: "kubernetes", user: "kubernetes-admin" }, name: "kubernetes-admin@kubernetes" }],
    "current-context": "kubernetes-admin@kubernetes",
    kind: "Config",
    preferences: {},
  });
}
