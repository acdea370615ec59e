/**
 * A local NCP API stand-in for tests: checks the gateway signature (recomputed here with
 * node:crypto, independently of src/ncp/sign.ts), the 5-minute timestamp window and the region
 * header, and serves clusters, kubeconfigs, nodes and node pools over loopback HTTP.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInCluster {
  uuid: string;
  name: string;
  status: string;
  endpoint: string;
  /** Base64 of the cluster CA's PEM. */
  caData: string;
  k8sVersion?: string;
  nodes?: unknown[];
  nodePool?: unknown[];
}

export interface StandInOptions {
  accessKey: string;
  secretKey: string;
  /** The region the stand-in serves, upper case (KR, SGN, …). */
  region: string;
  clusters: StandInCluster[];
  /** The stand-in's clock; Date.now by default. */
  now?: () => number;
}

export interface StandIn {
  /** The gateway URL to put in NCLOUD_API_GW. */
  url: string;
  /** Every request seen: method, URI and headers. */
  requests: { method: string; uri: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

function prefixFor(region: string): string {
  if (region.startsWith("F")) return "/nks/v2";
  if (region === "KR" || region.includes("CS")) return "/vnks/v2";
  return `/vnks/${region.toLowerCase()}-v2`;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const gatewayError = (code: string, message: string, details: string) => ({ error: { errorCode: code, message, details } });

export function baseKubeconfigYaml(c: StandInCluster): string {
  // The NKS API's kubeconfig as NKS writes it (cluster "kubernetes", no usable user), typed by hand.
  return [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${c.caData}`,
    `    server: ${c.endpoint}`,
    "  name: kubernetes",
    "contexts:",
    "- context:",
    "    cluster: kubernetes",
    "    user: kubernetes-admin",
    "  name: kubernetes-admin@kubernetes",
    "current-context: kubernetes-admin@kubernetes",
    "kind: Config",
    "preferences: {}",
    "users: []",
    "",
  ].join("\n");
}

function clusterBody(c: StandInCluster, region: string): Record<string, unknown> {
  return {
    uuid: c.uuid,
    name: c.name,
    status: c.status,
    endpoint: c.endpoint,
    k8sVersion: c.k8sVersion ?? "1.32.8-nks.1",
    regionCode: region,
    zoneCode: `${region}-1`,
    vpcNo: 1001,
    vpcName: "test-vpc",
    subnetNoList: [2001, 2002],
    acgNo: 3001,
    acgName: "nks-acg",
    createdAt: "2026-01-01T00:00:00.000Z",
    authType: "API",
    nodePool: c.nodePool ?? [],
  };
}

export async function startNcpApiStandIn(options: StandInOptions): Promise<StandIn> {
  const now = options.now ?? Date.now;
  const prefix = prefixFor(options.region);
  const requests: StandIn["requests"] = [];
  const server = createServer((req, res) => {
    const uri = req.url ?? "/";
    const method = req.method ?? "GET";
    requests.push({ method, uri, headers: req.headers });
    const ts = req.headers["x-ncp-apigw-timestamp"];
    const ak = req.headers["x-ncp-iam-access-key"];
    const sig = req.headers["x-ncp-apigw-signature-v2"];
    if (typeof ts !== "string" || typeof ak !== "string" || typeof sig !== "string") {
      return send(res, 401, gatewayError("200", "Authentication Failed", "Required headers missing."));
    }
    if (ak !== options.accessKey) return send(res, 401, gatewayError("200", "Authentication Failed", "Invalid authentication information."));
    if (!/^\d+$/.test(ts) || Math.abs(now() - Number(ts)) > 5 * 60 * 1000) {
      return send(res, 401, gatewayError("200", "Authentication Failed", "Timestamp is out of the 5-minute window."));
    }
    const expected = createHmac("sha256", options.secretKey).update(`${method} ${uri}\n${ts}\n${ak}`).digest("base64");
    if (expected.length !== sig.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(sig))) {
      return send(res, 401, gatewayError("200", "Authentication Failed", "Signature mismatch."));
    }
    if (req.headers["x-ncp-apigw-signature-v1"] !== sig) {
      return send(res, 401, gatewayError("200", "Authentication Failed", "signature-v1 differs from signature-v2."));
    }
    if (req.headers["x-ncp-region_code"] !== options.region) {
      return send(res, 400, gatewayError("100", "Bad Request Exception", `x-ncp-region_code must be ${options.region}.`));
    }
    if (method !== "GET" || !uri.startsWith(`${prefix}/`)) return send(res, 404, gatewayError("300", "Not Found Exception", "No such API."));
    const parts = uri.slice(prefix.length + 1).split("?")[0]!.split("/");
    if (parts.length === 1 && parts[0] === "clusters") {
      return send(res, 200, { clusters: options.clusters.map((c) => clusterBody(c, options.region)) });
    }
    const cluster = options.clusters.find((c) => c.uuid === parts[1]);
    if (parts[0] !== "clusters" || cluster === undefined) {
      return send(res, 404, { code: 404, message: "Not found cluster" });
    }
    if (parts.length === 2) return send(res, 200, { cluster: clusterBody(cluster, options.region) });
    if (parts[2] === "kubeconfig" && parts.length === 3) {
      if (cluster.status === "CREATING") return send(res, 409, { code: 409, message: "Cluster is being created" });
      return send(res, 200, { kubeconfig: baseKubeconfigYaml(cluster) });
    }
    if (parts[2] === "nodes" && parts.length === 3) return send(res, 200, { nodes: cluster.nodes ?? [] });
    if (parts[2] === "node-pool" && parts.length === 3) return send(res, 200, { nodePool: cluster.nodePool ?? [] });
    return send(res, 404, gatewayError("300", "Not Found Exception", "No such API."));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A scripted loopback server for failure cases: each request takes the next answer; "hang" never answers. */
export type ScriptedAnswer = { status: number; body?: unknown; headers?: Record<string, string> } | "hang";

export async function startScriptedServer(answers: ScriptedAnswer[]): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    const answer = answers[Math.min(hits, answers.length - 1)];
    hits++;
    if (answer === undefined || answer === "hang") return; // never answers
    res.writeHead(answer.status, { "content-type": "application/json", ...(answer.headers ?? {}) });
    res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
