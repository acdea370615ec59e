/**
 * The sandbox's NCP API gateway: checks each request as NCP's gateway does (docs/formats.md §3:
 * signature-v2 over `METHOD uri\ntimestamp\naccessKey`, the 5-minute window, a known access key,
 * `x-ncp-region_code`), then serves the NKS calls of the region that the path prefix names.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { UUID_RE } from "../lib/validate.js";
import { ncpApiPrefix, ncpRegionForApiPrefix } from "../ncp/region.js";
import { signNcpRequest } from "../ncp/sign.js";
import { sandboxClusterBody, sandboxKubeconfigYaml, sandboxNodePools, sandboxNodes, type SandboxCluster } from "./clusters.js";
import type { SandboxKeyFull } from "./keys.js";

/**
 * The gateway's window for `x-ncp-apigw-timestamp`, both ways: 5 minutes.
 *
 * @example
 * ```ts
 * const stale = Math.abs(Number(timestamp) - Date.now()) > GATEWAY_WINDOW_MS;
 * ```
 */
export const GATEWAY_WINDOW_MS = 5 * 60 * 1000;

/** What the gateway serves and checks against. */
export interface GatewayState {
  clusters: SandboxCluster[];
  keyFor(accessKey: string): SandboxKeyFull | undefined;
  caCertPem: string;
  now(): number;
  log(line: string): void;
}

/** An answer: status and JSON body. */
interface Answer {
  status: number;
  body: unknown;
  /** Why, for the log line (never a secret). */
  note?: string;
}

/**
 * NCP's error body, as its gateway sends it: `{"error":{"errorCode","message","details"}}`.
 *
 * @example
 * ```ts
 * ncpErrorBody("200", "Authentication Failed", "Signature mismatch.");
 * ```
 */
export function ncpErrorBody(errorCode: string, message: string, details: string): { error: { errorCode: string; message: string; details: string } } {
  return { error: { errorCode, message, details } };
}

const authFailed = (details: string): Answer => ({ status: 401, body: ncpErrorBody("200", "Authentication Failed", details), note: details });

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === "string" ? v : undefined;
}

/** Checks the gateway headers; `undefined` when the request may pass. */
function authenticate(req: IncomingMessage, uri: string, state: GatewayState): { failure: Answer } | { key: SandboxKeyFull } {
  const timestamp = header(req, "x-ncp-apigw-timestamp");
  const accessKey = header(req, "x-ncp-iam-access-key");
  const signature = header(req, "x-ncp-apigw-signature-v2") ?? header(req, "x-ncp-apigw-signature-v1");
  if (timestamp === undefined || accessKey === undefined || signature === undefined) {
    const missing = [
      timestamp === undefined ? "x-ncp-apigw-timestamp" : "",
      accessKey === undefined ? "x-ncp-iam-access-key" : "",
      signature === undefined ? "x-ncp-apigw-signature-v2" : "",
    ].filter((h) => h !== "");
    return { failure: authFailed(`Required headers missing: ${missing.join(", ")}.`) };
  }
  if (!/^\d{1,16}$/.test(timestamp)) return { failure: authFailed("x-ncp-apigw-timestamp is not milliseconds since the epoch.") };
  const skew = Number(timestamp) - state.now();
  if (Math.abs(skew) > GATEWAY_WINDOW_MS) {
    return { failure: authFailed(`Timestamp is ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? "old" : "in the future"}, outside the 5-minute window.`) };
  }
  const key = state.keyFor(accessKey);
  if (key === undefined) return { failure: authFailed(`Access key ${accessKey.slice(0, 40)} is not a known key.`) };
  const expected = Buffer.from(signNcpRequest({ method: req.method ?? "GET", uri, timestamp, accessKey, secretKey: key.secretKey }));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { failure: authFailed("Signature mismatch: the request was not signed with this access key's secret key.") };
  }
  return { key };
}

function route(req: IncomingMessage, uri: string, state: GatewayState): Answer {
  const path = uri.split("?")[0] ?? "/";
  const match = /^(\/vnks\/[a-z0-9]+-v2|\/vnks\/v2|\/nks\/v2)(\/.*)?$/.exec(path);
  if (match === null) return { status: 404, body: ncpErrorBody("300", "Not Found Exception", `No API at ${path.slice(0, 100)}.`), note: "no such API" };
  const prefix = match[1] as string;
  const rest = match[2] ?? "";
  const regionHeader = header(req, "x-ncp-region_code");
  let region: string | undefined;
  if (regionHeader !== undefined) {
    let ok = false;
    try {
      ok = ncpApiPrefix(regionHeader) === prefix;
    } catch {
      ok = false;
    }
    if (!ok) {
      const details = `x-ncp-region_code ${JSON.stringify(regionHeader.slice(0, 20))} does not match the path prefix ${prefix}.`;
      return { status: 400, body: ncpErrorBody("100", "Bad Request Exception", details), note: details };
    }
    region = regionHeader.toUpperCase();
  } else {
    region = ncpRegionForApiPrefix(prefix);
    // A prefix that no region has (/vnks/fkr-v2: FKR lives under /nks/v2) is not an API.
    if (region === undefined) return { status: 404, body: ncpErrorBody("300", "Not Found Exception", `No API at ${path.slice(0, 100)}.`), note: "no such API" };
  }
  if (req.method !== "GET") {
    return { status: 405, body: ncpErrorBody("100", "Bad Request Exception", "The sandbox's NKS API is read-only: use GET."), note: "not GET" };
  }
  const inRegion = state.clusters.filter((c) => c.region === region);
  if (rest === "/clusters") return { status: 200, body: { clusters: inRegion.map(sandboxClusterBody) } };
  const m = /^\/clusters\/([^/]+)(\/kubeconfig|\/nodes|\/node-pool)?$/.exec(rest);
  if (m === null) return { status: 404, body: ncpErrorBody("300", "Not Found Exception", `No API at ${path.slice(0, 100)}.`), note: "no such API" };
  const uuid = decodeURIComponent(m[1] as string);
  const cluster = UUID_RE.test(uuid) ? inRegion.find((c) => c.uuid.toLowerCase() === uuid.toLowerCase()) : undefined;
  if (cluster === undefined) {
    const details = `Cluster ${uuid.slice(0, 40)} was not found in region ${region}.`;
    return { status: 404, body: ncpErrorBody("404", "Not Found", details), note: details };
  }
  switch (m[2]) {
    case undefined:
      return { status: 200, body: { cluster: sandboxClusterBody(cluster) } };
    case "/kubeconfig":
      if (cluster.status !== "RUNNING") {
        const details = `Cluster ${cluster.name} is ${cluster.status}: its kubeconfig is not ready.`;
        return { status: 409, body: ncpErrorBody("409", "Conflict", details), note: details };
      }
      return { status: 200, body: { kubeconfig: sandboxKubeconfigYaml(cluster, state.caCertPem) } };
    case "/nodes":
      return { status: 200, body: { nodes: sandboxNodes(cluster) } };
    default:
      return { status: 200, body: { nodePool: sandboxNodePools(cluster) } };
  }
}

/**
 * The gateway's request handler, for `http.createServer`. Logs one line a request: method, path,
 * access key, status and, on failure, why; never a signature or a secret. Answers every request:
 * a malformed one gets 400, and an unexpected failure 500, never a dead server.
 *
 * @example
 * ```ts
 * const server = http.createServer(createGatewayHandler(state));
 * ```
 */
export function createGatewayHandler(state: GatewayState): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const uri = req.url ?? "/";
    let answer: Answer;
    // Every request gets an answer: a throw here would otherwise take the whole sandbox down.
    try {
      const auth = authenticate(req, uri, state);
      answer = "failure" in auth ? auth.failure : route(req, uri, state);
    } catch (error) {
      // A malformed percent-escape (decodeURIComponent's URIError, wherever the router decodes) is
      // the client's 400; anything else is ours, 500.
      if (error instanceof URIError) {
        const details = "The path holds a malformed percent-escape.";
        answer = { status: 400, body: ncpErrorBody("100", "Bad Request Exception", details), note: details };
      } else {
        const why = error instanceof Error ? error.message : String(error);
        answer = { status: 500, body: ncpErrorBody("900", "Internal Server Error", "The sandbox failed on this request."), note: `internal: ${why}` };
      }
    }
    const who = header(req, "x-ncp-iam-access-key")?.slice(0, 40) ?? "-";
    state.log(`api ${req.method ?? "?"} ${uri.split("?")[0]?.slice(0, 200)} key=${who} -> ${answer.status}${answer.note ? ` (${answer.note})` : ""}`);
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { "content-type": "application/json;charset=UTF-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
    req.resume();
  };
}
