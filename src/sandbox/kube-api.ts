/**
 * A sandbox cluster's Kubernetes API endpoint: authenticates `k8s-ncp-v1` bearer tokens with
 * verifyNcpToken (docs/formats.md §1: key ring signature, 5 minutes old at most, as NCP's gateway, 1 minute ahead at
 * most, this cluster's UUID and its region's stage), maps the key to a user through `ncp-auth`,
 * and answers the part of the API that kubectl needs: version, discovery, namespaces, nodes (one
 * per worker node of its node pool, as the NKS API lists them), pods (a few system pods in
 * kube-system, none elsewhere), whoami, and deleting a pod. Each request is authorized by the
 * mapping's small RBAC (mapping.ts: `view` reads, `cluster-admin` also deletes), answering 403 as
 * Kubernetes does; discovery and whoami are open to everyone authenticated. Other writes are 405.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KubeiamError } from "../lib/errors.js";
import { verifyNcpToken } from "../ncp/token.js";
import { sandboxNodes, type SandboxCluster } from "./clusters.js";
import type { SandboxKeyFull } from "./keys.js";
import { resolveSandboxIdentity, sandboxAllows, type SandboxIdentity, type SandboxMapping } from "./mapping.js";

/** What a cluster endpoint checks against. */
export interface ClusterEndpointState {
  cluster: SandboxCluster;
  keyFor(accessKey: string): SandboxKeyFull | undefined;
  creator: SandboxKeyFull;
  mapping: SandboxMapping;
  now(): number;
  log(line: string): void;
}

interface Answer {
  status: number;
  body: unknown;
  note?: string;
}

/**
 * A Kubernetes `Status` failure body.
 *
 * @example
 * ```ts
 * kubeStatus(401, "Unauthorized", "Unauthorized");
 * ```
 */
export function kubeStatus(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code };
}

/** Why a request is refused, for the log; or who it is. */
function authenticate(req: IncomingMessage, state: ClusterEndpointState): { identity: SandboxIdentity; accessKey: string } | { reason: string } {
  const auth = req.headers.authorization;
  if (auth === undefined || auth === "") return { reason: "no Authorization header (anonymous requests are refused)" };
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  if (m === null) return { reason: "the Authorization header is not a bearer token" };
  const token = m[1] as string;
  let verified;
  try {
    verified = verifyNcpToken(token, {
      secretKeyFor: (ak) => state.keyFor(ak)?.secretKey,
      clusterUuid: state.cluster.uuid,
      region: state.cluster.region,
      now: state.now(),
    });
  } catch (e) {
    if (e instanceof KubeiamError) return { reason: `${e.code}: ${e.message}` };
    throw e;
  }
  const key = state.keyFor(verified.accessKey) as SandboxKeyFull;
  const identity = resolveSandboxIdentity(key, state.mapping, state.creator);
  if (identity === undefined) {
    return { reason: `access key ${key.accessKey} (sub account ${key.subAccountIdNo}) is not in mapSubAccounts of ncp-auth: map it with --mapping` };
  }
  return { identity, accessKey: verified.accessKey };
}

function gitVersion(k8sVersion: string): string {
  return `v${k8sVersion.replace(/-nks\.\d+$/, "")}`;
}

function versionBody(c: SandboxCluster): Record<string, unknown> {
  const v = gitVersion(c.k8sVersion);
  const [major, minor] = v.slice(1).split(".");
  return {
    major: major ?? "1",
    minor: minor ?? "0",
    gitVersion: v,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: c.createdAt.replace(/\.\d+Z$/, "Z"),
    goVersion: "go1.23.6",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

const NAMESPACE_RESOURCE = {
  name: "namespaces",
  singularName: "namespace",
  namespaced: false,
  kind: "Namespace",
  verbs: ["get", "list"],
  shortNames: ["ns"],
};

const NODE_RESOURCE = { name: "nodes", singularName: "node", namespaced: false, kind: "Node", verbs: ["get", "list"], shortNames: ["no"] };
const POD_RESOURCE = { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["delete", "get", "list"], shortNames: ["po"], categories: ["all"] };

const stamp = (iso: string): string => iso.replace(/\.\d+Z$/, "Z");
const uidOf = (c: SandboxCluster, kind: string, name: string): string => {
  const hex = Buffer.from(`${kind}/${name}`).toString("hex").padEnd(12, "0");
  return `${c.uuid.slice(0, 24)}${hex.slice(-12)}`;
};

/** A worker node of the cluster's node pool as a Kubernetes Node. */
interface SandboxNode {
  name: string;
  ip: string;
  ready: boolean;
  pool: string;
  kernel: string;
  runtime: string;
}

function clusterNodes(c: SandboxCluster): SandboxNode[] {
  return sandboxNodes(c).map((n) => ({
    name: String(n.name),
    ip: String(n.privateIp),
    ready: n.k8sStatus === "Ready",
    pool: String(n.nodePoolName),
    kernel: String(n.kernelVersion),
    runtime: String(n.containerVersion),
  }));
}

function nodeObject(c: SandboxCluster, n: SandboxNode): Record<string, unknown> {
  const created = stamp(c.createdAt);
  return {
    kind: "Node",
    apiVersion: "v1",
    metadata: {
      name: n.name,
      uid: uidOf(c, "node", n.name),
      resourceVersion: "42",
      creationTimestamp: created,
      labels: {
        "kubernetes.io/hostname": n.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "ncloud.com/nks-nodepool": n.pool,
        "topology.kubernetes.io/region": c.region,
        "topology.kubernetes.io/zone": c.zoneCode,
      },
    },
    spec: { providerID: `navercloudplatform://${n.name}` },
    status: {
      addresses: [
        { type: "InternalIP", address: n.ip },
        { type: "Hostname", address: n.name },
      ],
      conditions: [
        {
          type: "Ready",
          status: n.ready ? "True" : "False",
          reason: n.ready ? "KubeletReady" : "KubeletNotReady",
          message: n.ready ? "kubelet is posting ready status" : "container runtime is starting",
          lastHeartbeatTime: created,
          lastTransitionTime: created,
        },
      ],
      nodeInfo: {
        kubeletVersion: gitVersion(c.k8sVersion),
        kubeProxyVersion: gitVersion(c.k8sVersion),
        containerRuntimeVersion: n.runtime,
        kernelVersion: n.kernel,
        osImage: "Ubuntu 22.04.5 LTS",
        operatingSystem: "linux",
        architecture: "amd64",
        machineID: uidOf(c, "machine", n.name).replace(/-/g, ""),
        systemUUID: uidOf(c, "system", n.name),
        bootID: uidOf(c, "boot", n.name),
      },
    },
  };
}

/** A pod the sandbox shows: name, namespace, node and phase. */
interface SandboxPod {
  name: string;
  namespace: string;
  node: SandboxNode;
  app: string;
  image: string;
  ip: string;
}

/** The system pods of an NKS cluster (Cilium per node, CoreDNS twice, the Cilium operator), in kube-system. */
function clusterPods(c: SandboxCluster): SandboxPod[] {
  const nodes = clusterNodes(c);
  if (nodes.length === 0) return [];
  const suffix = (i: number): string => `${c.uuid.replace(/-/g, "").slice(i * 5, i * 5 + 5)}`;
  const pods: SandboxPod[] = nodes.map((node, i) => ({ name: `cilium-${suffix(i)}`, namespace: "kube-system", node, app: "cilium", image: "quay.io/cilium/cilium:v1.16.6", ip: node.ip }));
  const first = nodes[0] as SandboxNode;
  const last = nodes[nodes.length - 1] as SandboxNode;
  pods.push(
    { name: `cilium-operator-6d8f7c9b5-${suffix(3)}`, namespace: "kube-system", node: first, app: "cilium-operator", image: "quay.io/cilium/operator-generic:v1.16.6", ip: first.ip },
    { name: `coredns-7c65d6cfc9-${suffix(4)}`, namespace: "kube-system", node: first, app: "coredns", image: "registry.k8s.io/coredns/coredns:v1.11.3", ip: "198.18.0.11" },
    { name: `coredns-7c65d6cfc9-${suffix(5)}`, namespace: "kube-system", node: last, app: "coredns", image: "registry.k8s.io/coredns/coredns:v1.11.3", ip: "198.18.1.12" },
  );
  return pods;
}

function podObject(c: SandboxCluster, p: SandboxPod): Record<string, unknown> {
  const created = stamp(c.createdAt);
  const ready = p.node.ready;
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: { name: p.name, namespace: p.namespace, uid: uidOf(c, "pod", p.name), resourceVersion: "42", creationTimestamp: created, labels: { "k8s-app": p.app } },
    spec: { nodeName: p.node.name, containers: [{ name: p.app, image: p.image }], restartPolicy: "Always", priorityClassName: "system-node-critical" },
    status: {
      phase: ready ? "Running" : "Pending",
      hostIP: p.node.ip,
      podIP: p.ip,
      startTime: created,
      conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: created }],
      containerStatuses: [{ name: p.app, image: p.image, imageID: "", ready, restartCount: 0, started: ready, state: ready ? { running: { startedAt: created } } : { waiting: { reason: "ContainerCreating" } } }],
    },
  };
}

type Column = [name: string, type: string, format: string, priority: number, description: string];

/** A `meta.k8s.io/v1` Table, as `kubectl get` asks for it. */
function table(columns: Column[], rows: { cells: unknown[]; metadata: unknown }[]): Record<string, unknown> {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion: "42" },
    columnDefinitions: columns.map(([name, type, format, priority, description]) => ({ name, type, format, description, priority })),
    rows: rows.map((r) => ({ cells: r.cells, object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: r.metadata } })),
  };
}

const NODE_COLUMNS: Column[] = [
  ["Name", "string", "name", 0, "Name must be unique within a namespace."],
  ["Status", "string", "", 0, "The status of the node"],
  ["Roles", "string", "", 0, "The roles of the node"],
  ["Age", "string", "", 0, "CreationTimestamp of the object."],
  ["Version", "string", "", 0, "Kubelet Version reported by the node."],
  ["Internal-IP", "string", "", 1, "List of internal IPs."],
  ["External-IP", "string", "", 1, "List of external IPs."],
  ["OS-Image", "string", "", 1, "OS image reported by the node."],
  ["Kernel-Version", "string", "", 1, "Kernel version reported by the node."],
  ["Container-Runtime", "string", "", 1, "Container runtime reported by the node."],
];

const POD_COLUMNS: Column[] = [
  ["Name", "string", "name", 0, "Name must be unique within a namespace."],
  ["Ready", "string", "", 0, "The aggregate readiness state of this pod for accepting traffic."],
  ["Status", "string", "", 0, "The aggregate status of the containers in this pod."],
  ["Restarts", "string", "", 0, "The number of times the containers in this pod have been restarted."],
  ["Age", "string", "", 0, "CreationTimestamp of the object."],
  ["IP", "string", "", 1, "The IP address assigned to the pod."],
  ["Node", "string", "", 1, "The name of the node the pod is assigned to."],
];

function nodeTable(c: SandboxCluster, nodes: SandboxNode[], nowMs: number): Record<string, unknown> {
  return table(
    NODE_COLUMNS,
    nodes.map((n) => {
      const o = nodeObject(c, n);
      return {
        cells: [n.name, n.ready ? "Ready" : "NotReady", "<none>", age(c.createdAt, nowMs), gitVersion(c.k8sVersion), n.ip, "<none>", "Ubuntu 22.04.5 LTS", n.kernel, n.runtime],
        metadata: o.metadata,
      };
    }),
  );
}

function podTable(c: SandboxCluster, pods: SandboxPod[], nowMs: number): Record<string, unknown> {
  return table(
    POD_COLUMNS,
    pods.map((p) => {
      const o = podObject(c, p);
      return { cells: [p.name, p.node.ready ? "1/1" : "0/1", p.node.ready ? "Running" : "ContainerCreating", 0, age(c.createdAt, nowMs), p.ip, p.node.name], metadata: o.metadata };
    }),
  );
}

function list(kind: string, items: Record<string, unknown>[]): Record<string, unknown> {
  return { kind, apiVersion: "v1", metadata: { resourceVersion: "42" }, items };
}

function namespaceObject(c: SandboxCluster, name: string): Record<string, unknown> {
  return {
    kind: "Namespace",
    apiVersion: "v1",
    metadata: {
      name,
      uid: `${c.uuid.slice(0, 24)}${Buffer.from(name).toString("hex").padEnd(12, "0").slice(0, 12)}`,
      resourceVersion: "42",
      creationTimestamp: c.createdAt.replace(/\.\d+Z$/, "Z"),
      labels: { "kubernetes.io/metadata.name": name },
    },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };
}

function age(fromIso: string, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - Date.parse(fromIso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** A `meta.k8s.io/v1` Table of namespaces, as `kubectl get` asks for it. */
function namespaceTable(c: SandboxCluster, names: string[], nowMs: number): Record<string, unknown> {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion: "42" },
    columnDefinitions: [
      { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
      { name: "Status", type: "string", format: "", description: "The status of the namespace", priority: 0 },
      { name: "Age", type: "string", format: "", description: "CreationTimestamp of the object.", priority: 0 },
    ],
    rows: names.map((name) => {
      const obj = namespaceObject(c, name);
      return {
        cells: [name, "Active", age(c.createdAt, nowMs)],
        object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata },
      };
    }),
  };
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? "");
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Paths every authenticated identity may read (system:discovery), and whoami (system:basic-user). */
const OPEN_PATHS = new Set(["/version", "/api", "/api/v1", "/apis", "/apis/authentication.k8s.io", "/apis/authentication.k8s.io/v1", "/apis/authentication.k8s.io/v1/selfsubjectreviews"]);

const VERBS: Record<string, string> = { GET: "get", HEAD: "get", DELETE: "delete", POST: "create", PUT: "update", PATCH: "patch" };

/** The 403 Kubernetes answers when RBAC says no, in its words. */
function forbidden(who: SandboxIdentity, verb: string, path: string): Answer {
  const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(path);
  const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
  const resource = pod !== null ? "pods" : ns !== null || path === "/api/v1/namespaces" ? "namespaces" : path.startsWith("/api/v1/nodes") ? "nodes" : path.startsWith("/api/v1/pods") ? "pods" : undefined;
  const name = pod?.[2] ?? ns?.[1] ?? /^\/api\/v1\/nodes\/([^/]+)$/.exec(path)?.[1];
  const decoded = name === undefined ? undefined : safeDecode(name).slice(0, 63);
  const where = pod !== null ? ` in the namespace "${safeDecode(pod[1] as string).slice(0, 63)}"` : "";
  const user = who.username.slice(0, 128);
  const message =
    resource === undefined
      ? `forbidden: User "${user}" cannot ${verb} path "${path.slice(0, 200)}"`
      : `${resource}${decoded === undefined ? "" : ` "${decoded}"`} is forbidden: User "${user}" cannot ${verb === "get" && decoded === undefined ? "list" : verb} resource "${resource}" in API group ""${where}`;
  return { status: 403, body: kubeStatus(403, "Forbidden", message, { ...(decoded === undefined ? {} : { name: decoded }), ...(resource === undefined ? {} : { kind: resource }) }), note: "forbidden" };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Only the objects `fieldSelector=metadata.name=NAME` asks for (what `kubectl delete` polls with), or all. */
function byFieldSelector<T extends { name: string }>(req: IncomingMessage, items: T[]): T[] {
  const selector = new URL(req.url ?? "/", "https://sandbox").searchParams.get("fieldSelector");
  const m = selector === null ? null : /^metadata\.name(?:=|==)(.+)$/.exec(selector);
  return m === null ? items : items.filter((i) => i.name === m[1]);
}

async function route(req: IncomingMessage, path: string, state: ClusterEndpointState, who: SandboxIdentity, deleted: Set<string>): Promise<Answer> {
  const c = state.cluster;
  const method = req.method ?? "GET";
  const verb = VERBS[method] ?? method.toLowerCase();
  if (!OPEN_PATHS.has(path) && !sandboxAllows(who, verb, state.mapping)) return forbidden(who, verb, path);
  const livePods = (): SandboxPod[] => clusterPods(c).filter((p) => !deleted.has(`${p.namespace}/${p.name}`));
  const notFound = (what: string): Answer => ({ status: 404, body: kubeStatus(404, "NotFound", `the server could not find the requested resource${what}`) });
  const notAllowed = (): Answer => ({ status: 405, body: kubeStatus(405, "MethodNotAllowed", "the server does not allow this method on the requested resource") });
  if (path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
    if (method !== "POST") return notAllowed();
    try {
      await readBody(req, 64 * 1024);
    } catch {
      return { status: 413, body: kubeStatus(413, "RequestEntityTooLarge", "the request body is too large") };
    }
    return {
      status: 201,
      body: {
        kind: "SelfSubjectReview",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { creationTimestamp: new Date(state.now()).toISOString().replace(/\.\d+Z$/, "Z") },
        status: { userInfo: { username: who.username, uid: who.uid, groups: who.groups } },
      },
    };
  }
  const podPath = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
  if (method === "DELETE" && podPath !== null) {
    try {
      await readBody(req, 64 * 1024);
    } catch {
      return { status: 413, body: kubeStatus(413, "RequestEntityTooLarge", "the request body is too large") };
    }
    const ns = decodeURIComponent(podPath[1] as string);
    const name = decodeURIComponent(podPath[2] as string);
    const found = livePods().find((p) => p.namespace === ns && p.name === name);
    if (found === undefined) return { status: 404, body: kubeStatus(404, "NotFound", `pods "${name.slice(0, 63)}" not found`, { name: name.slice(0, 63), kind: "pods" }) };
    deleted.add(`${ns}/${name}`);
    return { status: 200, body: podObject(c, found), note: `deleted by ${who.username}` };
  }
  if (method !== "GET") return notAllowed();
  switch (path) {
    case "/version":
      return { status: 200, body: versionBody(c) };
    case "/api":
      return {
        status: 200,
        body: { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: c.endpoint.replace(/^https:\/\//, "") }] },
      };
    case "/api/v1":
      return { status: 200, body: { kind: "APIResourceList", groupVersion: "v1", resources: [NAMESPACE_RESOURCE, NODE_RESOURCE, POD_RESOURCE] } };
    case "/api/v1/nodes": {
      const nodes = clusterNodes(c);
      return { status: 200, body: wantsTable(req) ? nodeTable(c, nodes, state.now()) : list("NodeList", nodes.map((n) => nodeObject(c, n))) };
    }
    case "/api/v1/pods": {
      const pods = byFieldSelector(req, livePods());
      return { status: 200, body: wantsTable(req) ? podTable(c, pods, state.now()) : list("PodList", pods.map((p) => podObject(c, p))) };
    }
    case "/apis":
      return {
        status: 200,
        body: {
          kind: "APIGroupList",
          apiVersion: "v1",
          groups: [
            {
              name: "authentication.k8s.io",
              versions: [{ groupVersion: "authentication.k8s.io/v1", version: "v1" }],
              preferredVersion: { groupVersion: "authentication.k8s.io/v1", version: "v1" },
            },
          ],
        },
      };
    case "/apis/authentication.k8s.io":
      return {
        status: 200,
        body: {
          kind: "APIGroup",
          apiVersion: "v1",
          name: "authentication.k8s.io",
          versions: [{ groupVersion: "authentication.k8s.io/v1", version: "v1" }],
          preferredVersion: { groupVersion: "authentication.k8s.io/v1", version: "v1" },
        },
      };
    case "/apis/authentication.k8s.io/v1":
      return {
        status: 200,
        body: {
          kind: "APIResourceList",
          apiVersion: "v1",
          groupVersion: "authentication.k8s.io/v1",
          resources: [{ name: "selfsubjectreviews", singularName: "selfsubjectreview", namespaced: false, kind: "SelfSubjectReview", verbs: ["create"] }],
        },
      };
    case "/api/v1/namespaces":
      return wantsTable(req)
        ? { status: 200, body: namespaceTable(c, c.namespaces, state.now()) }
        : {
            status: 200,
            body: { kind: "NamespaceList", apiVersion: "v1", metadata: { resourceVersion: "42" }, items: c.namespaces.map((n) => namespaceObject(c, n)) },
          };
    default: {
      const node = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path);
      if (node !== null) {
        const name = decodeURIComponent(node[1] as string);
        const found = clusterNodes(c).find((n) => n.name === name);
        if (found === undefined) return { status: 404, body: kubeStatus(404, "NotFound", `nodes "${name.slice(0, 63)}" not found`, { name: name.slice(0, 63), kind: "nodes" }) };
        return { status: 200, body: wantsTable(req) ? nodeTable(c, [found], state.now()) : nodeObject(c, found) };
      }
      const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(path);
      if (pods !== null) {
        const ns = decodeURIComponent(pods[1] as string);
        if (!c.namespaces.includes(ns)) return { status: 404, body: kubeStatus(404, "NotFound", `namespaces "${ns.slice(0, 63)}" not found`, { name: ns.slice(0, 63), kind: "namespaces" }) };
        const inNs = livePods().filter((p) => p.namespace === ns);
        if (pods[2] === undefined) {
          return { status: 200, body: wantsTable(req) ? podTable(c, inNs, state.now()) : list("PodList", inNs.map((p) => podObject(c, p))) };
        }
        const name = decodeURIComponent(pods[2]);
        const found = inNs.find((p) => p.name === name);
        if (found === undefined) return { status: 404, body: kubeStatus(404, "NotFound", `pods "${name.slice(0, 63)}" not found`, { name: name.slice(0, 63), kind: "pods" }) };
        return { status: 200, body: wantsTable(req) ? podTable(c, [found], state.now()) : podObject(c, found) };
      }
      const m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
      if (m === null) return notFound("");
      const name = decodeURIComponent(m[1] as string);
      if (!c.namespaces.includes(name)) {
        return {
          status: 404,
          body: kubeStatus(404, "NotFound", `namespaces "${name.slice(0, 63)}" not found`, { name: name.slice(0, 63), kind: "namespaces" }),
        };
      }
      return { status: 200, body: wantsTable(req) ? namespaceTable(c, [name], state.now()) : namespaceObject(c, name) };
    }
  }
}

/**
 * The endpoint's request handler, for `https.createServer`. Every request must carry a valid token;
 * a refusal is 401 with a Kubernetes `Status` body, and its precise reason goes to the log only.
 *
 * @example
 * ```ts
 * const server = https.createServer({ cert, key }, createClusterHandler(state));
 * ```
 */
export function createClusterHandler(state: ClusterEndpointState): (req: IncomingMessage, res: ServerResponse) => void {
  /** The pods deleted so far (`namespace/name`), gone from every list until the sandbox stops. */
  const deleted = new Set<string>();
  const send = (res: ServerResponse, answer: Answer): void => {
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-cache, private" });
    res.end(text);
  };
  // What the router threw: a malformed percent-escape (decodeURIComponent's URIError, wherever a
  // path segment is decoded) is the client's 400; anything else is ours, 500.
  const internal = (res: ServerResponse, tag: string, error: unknown): void => {
    const answer: Answer =
      error instanceof URIError
        ? { status: 400, body: kubeStatus(400, "BadRequest", "the request path holds a malformed percent-escape") }
        : { status: 500, body: kubeStatus(500, "InternalError", "an error on the server has prevented the request from succeeding") };
    state.log(`${tag} -> ${answer.status} (${error instanceof Error ? error.message : String(error)})`);
    if (!res.headersSent) send(res, answer);
  };
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const tag = `cluster ${state.cluster.name} ${req.method ?? "?"} ${path.slice(0, 200)}`;
    // Every request gets an answer: a throw here would otherwise take the whole sandbox down.
    let auth: ReturnType<typeof authenticate>;
    try {
      auth = authenticate(req, state);
    } catch (error) {
      internal(res, tag, error);
      req.resume();
      return;
    }
    if ("reason" in auth) {
      state.log(`${tag} -> 401 (${auth.reason})`);
      send(res, { status: 401, body: kubeStatus(401, "Unauthorized", "Unauthorized") });
      req.resume();
      return;
    }
    route(req, path, state, auth.identity, deleted).then(
      (answer) => {
        state.log(`${tag} user=${auth.identity.username} -> ${answer.status}`);
        send(res, answer);
        req.resume();
      },
      (error: unknown) => {
        internal(res, tag, error);
        req.resume();
      },
    );
  };
}
