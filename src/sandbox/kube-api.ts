/**
 * A sandbox cluster's Kubernetes API endpoint: authenticates `k8s-ncp-v1` bearer tokens with
 * verifyNcpToken (SPEC section 1: key ring signature, 15 minutes old at most, 1 minute ahead at
 * most, this cluster's UUID and its region's stage), maps the key to a user through `ncp-auth`,
 * and answers the part of the API that kubectl needs: version, discovery, namespaces, whoami.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KubeiamError } from "../lib/errors.js";
import { verifyNcpToken } from "../ncp/token.js";
import type { SandboxCluster } from "./clusters.js";
import type { SandboxKeyFull } from "./keys.js";
import { resolveSandboxIdentity, type SandboxIdentity, type SandboxMapping } from "./mapping.js";

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

async function route(req: IncomingMessage, path: string, state: ClusterEndpointState, who: SandboxIdentity): Promise<Answer> {
  const c = state.cluster;
  const method = req.method ?? "GET";
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
      return { status: 200, body: { kind: "APIResourceList", groupVersion: "v1", resources: [NAMESPACE_RESOURCE] } };
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
      const m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
      if (m === null) return notFound("");
      let name: string;
      try {
        name = decodeURIComponent(m[1] as string);
      } catch {
        return { status: 400, body: kubeStatus(400, "BadRequest", "the request path holds a malformed percent-escape") };
      }
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
  const send = (res: ServerResponse, answer: Answer): void => {
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-cache, private" });
    res.end(text);
  };
  const internal = (res: ServerResponse, tag: string, error: unknown): void => {
    state.log(`${tag} -> 500 (${error instanceof Error ? error.message : String(error)})`);
    if (!res.headersSent) send(res, { status: 500, body: kubeStatus(500, "InternalError", "an error on the server has prevented the request from succeeding") });
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
    route(req, path, state, auth.identity).then(
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
