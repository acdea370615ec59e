/**
 * The broker's REST API as a client sees it (BROKER.md "REST API", the parts every user may call):
 * a cluster token as an ExecCredential, the caller's clusters, one cluster's kubeconfig. Each call
 * builds the request, sends it through the light HTTP edge, and checks the answer strictly: anything
 * that is not the documented shape (HTML, an empty or truncated body, a redirect, an error status)
 * becomes one typed error naming the reason, never a value and never a token in a message.
 */
import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { ApiError, type KubeiamError } from "../../lib/errors.js";
import { BrokerRefusal } from "../errors.js";
import { EXEC_API_VERSIONS, type ExecApiVersion } from "../../kube/exec-credential.js";
import { brokerGet, type BrokerHttpResponse } from "./http.js";
import { normalizeBrokerServer } from "./credentials.js";

/** Where and how to reach a broker. */
export interface BrokerConnection {
  /** The broker's URL (`https://broker.example:8750`). */
  server: string;
  /** The caller's broker token (`kbi_…`). */
  token: string;
  /** PEM of a private CA that signed the broker's certificate. */
  ca?: string;
  /** Milliseconds for each call; 15 000 by default. */
  timeoutMs?: number;
  /** A keep-alive agent, for programs that call often (it does its own proxy routing). */
  agent?: HttpAgent | HttpsAgent;
  /** The environment whose HTTPS_PROXY, HTTP_PROXY and NO_PROXY route each call (without `agent`); direct when absent. */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/** A cluster token as the broker hands it out. */
export interface BrokerToken {
  apiVersion: ExecApiVersion;
  token: string;
  /** When to stop using the token (the broker says a minute before its real end). */
  expirationTimestamp: string;
  expiresAt: Date;
}

/** One of the caller's clusters, as `GET /v1/clusters` lists it. */
export interface BrokerCluster {
  name: string;
  provider: string;
  region: string;
  endpoint: string;
  /** The cluster's status, when the broker says. */
  status?: string;
}

const NAME_RE = /^[^\p{Cc}/]+$/u;

function checkClusterName(name: string): string {
  if (name.trim() === "" || !NAME_RE.test(name)) {
    throw new ApiError(`cluster name ${JSON.stringify(name)} is empty or holds '/' or control characters: pass the name the broker lists`, { status: 0 });
  }
  return name;
}

/** A broker's text, made safe to print on one line: no control characters, no token, bounded. */
function tame(text: string, secret?: string): string {
  let t = text.replace(/[\p{Cc}]+/gu, " ").trim();
  if (secret !== undefined && secret !== "") t = t.split(secret).join("[redacted]");
  t = t.replace(/kbi_[A-Za-z0-9_-]{8,}/g, "kbi_[redacted]").replace(/k8s-(?:ncp|aws)-v1\.[A-Za-z0-9+/=_-]+/g, "[token redacted]");
  return t.length > 240 ? `${t.slice(0, 240)}…` : t;
}

/** The broker's own error body: `{"error":{"code","message"}}`. */
function brokerErrorOf(res: BrokerHttpResponse): { code: string; message: string } | undefined {
  if (res.contentType !== "application/json") return undefined;
  try {
    const parsed = JSON.parse(res.body) as unknown;
    const e = (parsed as { error?: unknown } | null)?.error as { code?: unknown; message?: unknown } | undefined;
    if (typeof e?.message === "string") return { code: typeof e.code === "string" ? e.code : "", message: e.message };
  } catch {
    // Not the broker's error shape: judged by status below.
  }
  return undefined;
}

function describeBody(res: BrokerHttpResponse): string {
  if (res.body.trim() === "") return "an empty body";
  if (res.contentType === "text/html" || /^\s*</.test(res.body)) return "an HTML page";
  return res.contentType === "" ? "a body of no declared type" : `a ${res.contentType} body`;
}

/**
 * Turns an answer that is not the success the caller wanted into one typed error: a
 * {@link BrokerRefusal} (CLI exit 8, as the admin commands) when the broker said no in its own error
 * shape, an {@link ApiError} (exit 5) for anything else. `what` names the object asked for
 * (`cluster "prod"`), for the 403 and 404 messages.
 */
function refusal(server: string, res: BrokerHttpResponse, conn: BrokerConnection, what: string | undefined): KubeiamError {
  const retryAfter = res.retryAfter === undefined || !/^\d+$/.test(res.retryAfter) ? undefined : Number(res.retryAfter);
  const details = (e?: { code: string; message: string }) => ({ status: res.status, ...(e === undefined ? {} : { apiCode: e.code, apiMessage: tame(e.message, conn.token) }) });
  const refused = (message: string, e: { code: string; message: string } | undefined): KubeiamError =>
    e === undefined ? new ApiError(message, details(e)) : new BrokerRefusal(res.status, e.code, message, retryAfter === undefined ? {} : { retryAfter });
  if (res.status >= 300 && res.status < 400) {
    let where = "nowhere";
    try {
      const target = new URL(res.location ?? "", `${server}/`);
      where = target.origin === new URL(server).origin ? `${target.origin} (the same host, another path)` : `another host, ${target.origin}`;
    } catch {
      // A Location that is not a URL.
    }
    return new ApiError(
      `broker ${server} answered with a redirect (${res.status}) to ${where}; kubeiam does not follow redirects, so the broker token goes only to --server: pass the broker's real address`,
      { status: res.status },
    );
  }
  const e = brokerErrorOf(res);
  const said = e === undefined ? "" : `: ${tame(e.message, conn.token)}`;
  switch (res.status) {
    case 401:
    case 403:
      // Only a kubeiam broker answers in its own error shape: anything else here is another server
      // (or a proxy in front), whose refusal says nothing about the broker token or grants.
      if (e === undefined) return refused(`${server} does not answer as a kubeiam broker (${res.status} with ${describeBody(res)}): check that --server names a kubeiam broker, not another service or a proxy in front of it`, e);
      if (res.status === 401) return refused(`broker ${server} refused the broker token (401${said}): run 'kubeiam broker login --server ${server}' with a valid token, or fix KUBEIAM_BROKER_TOKEN`, e);
      // The broker's sentence already says what to do (who grants it): said once.
      return refused(`broker ${server} refused ${what ?? "the request"} (403${said})`, e);
    case 404:
      if (e === undefined) return refused(`broker ${server} answered 404 with ${describeBody(res)}: check that --server names a kubeiam broker`, e);
      return refused(`broker ${server} has no ${what ?? "such object"} (404${said}): 'kubeiam broker clusters --server ${server}' lists yours`, e);
    case 429:
      return refused(`broker ${server} is limiting requests (429${said}): try again${res.retryAfter === undefined ? " shortly" : ` in ${tame(res.retryAfter)} s`}`, e);
    default:
      if (res.status >= 500) {
        return refused(`broker ${server} failed (${res.status}${said === "" ? ` with ${describeBody(res)}` : said}): try again, or tell the broker's admin`, e);
      }
      return refused(`broker ${server} answered ${res.status}${said === "" ? ` with ${describeBody(res)}` : said}`, e);
  }
}

function notShape(server: string, res: BrokerHttpResponse, shape: string, why: string): ApiError {
  return new ApiError(`broker ${server} answered 200 with ${why}, not ${shape}: check that --server names a kubeiam broker`, { status: res.status });
}

/** Parses a 200 JSON body, or explains why it is not one. */
function jsonBody(server: string, res: BrokerHttpResponse, shape: string): unknown {
  if (res.body.trim() === "") throw notShape(server, res, shape, "an empty body");
  if (res.contentType !== "application/json") throw notShape(server, res, shape, describeBody(res));
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw notShape(server, res, shape, "JSON that does not parse (cut short?)");
  }
}

async function get(conn: BrokerConnection, path: string): Promise<{ server: string; res: BrokerHttpResponse }> {
  const server = normalizeBrokerServer(conn.server);
  const res = await brokerGet(new URL(`${server}${path}`), {
    headers: { authorization: `Bearer ${conn.token}` },
    ...(conn.ca === undefined ? {} : { ca: conn.ca }),
    ...(conn.timeoutMs === undefined ? {} : { timeoutMs: conn.timeoutMs }),
    ...(conn.agent === undefined ? {} : { agent: conn.agent }),
    ...(conn.env === undefined ? {} : { env: conn.env }),
    ...(conn.signal === undefined ? {} : { signal: conn.signal }),
  });
  return { server, res };
}

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks that a parsed body is an ExecCredential with a token and an expiry, and returns them.
 * Exported for the tests and for the cb-spider route's own check of what it sends.
 *
 * @example
 * ```ts
 * const t = parseBrokerExecCredential(JSON.parse(body), "https://broker.example:8750");
 * ```
 */
export function parseBrokerExecCredential(value: unknown, server: string): BrokerToken {
  const bad = (why: string): never => {
    throw new ApiError(`broker ${server} answered 200 with an ExecCredential that ${why}: check that --server names a kubeiam broker`, { status: 200 });
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return bad("is not a JSON object");
  const v = value as { kind?: unknown; apiVersion?: unknown; status?: unknown };
  if (v.kind !== "ExecCredential") return bad("has kind other than ExecCredential");
  const apiVersion = EXEC_API_VERSIONS.find((a) => a === v.apiVersion);
  if (apiVersion === undefined) return bad(`has an apiVersion kubectl does not know`);
  const status = v.status as { token?: unknown; expirationTimestamp?: unknown } | undefined;
  if (typeof status !== "object" || status === null) return bad("has no status");
  if (typeof status.token !== "string" || status.token === "" || /[\s\p{Cc}]/u.test(status.token)) return bad("has no usable status.token");
  if (typeof status.expirationTimestamp !== "string" || !RFC3339_RE.test(status.expirationTimestamp)) return bad("has no RFC 3339 status.expirationTimestamp");
  const expiresAt = new Date(status.expirationTimestamp);
  if (Number.isNaN(expiresAt.getTime())) return bad("has no RFC 3339 status.expirationTimestamp");
  return { apiVersion, token: status.token, expirationTimestamp: status.expirationTimestamp, expiresAt };
}

/**
 * `GET /v1/clusters/{name}/token`: a fresh token for one cluster, as an ExecCredential of the
 * apiVersion asked for (v1 by default). Throws {@link BrokerRefusal} when the broker says no in its
 * own error shape (`status` 401 bad token, 403 no grant, 404 unknown cluster, 429, …; `reason` its
 * code), {@link ApiError} for an answer that is not the broker's (HTML, empty, truncated, a redirect,
 * a bare 5xx), and {@link NetworkError} when the broker cannot be reached or trusted.
 *
 * @example
 * ```ts
 * const t = await fetchBrokerToken({ server, token }, "prod-kr");
 * console.log(t.expiresAt);
 * ```
 */
export async function fetchBrokerToken(conn: BrokerConnection, cluster: string, apiVersion?: ExecApiVersion): Promise<BrokerToken> {
  const name = checkClusterName(cluster);
  const query = apiVersion === "client.authentication.k8s.io/v1beta1" ? "?apiVersion=v1beta1" : "";
  const { server, res } = await get(conn, `/v1/clusters/${encodeURIComponent(name)}/token${query}`);
  if (res.status !== 200) throw refusal(server, res, conn, `cluster ${JSON.stringify(name)}`);
  const credential = parseBrokerExecCredential(jsonBody(server, res, "an ExecCredential"), server);
  if (apiVersion !== undefined && credential.apiVersion !== apiVersion) {
    throw new ApiError(`broker ${server} answered an ExecCredential of ${credential.apiVersion} where ${apiVersion} was asked: update the broker`, { status: 200 });
  }
  return credential;
}

/**
 * `GET /v1/clusters`: the clusters the caller may reach.
 *
 * @example
 * ```ts
 * for (const c of await listBrokerClusters({ server, token })) console.log(c.name, c.provider);
 * ```
 */
export async function listBrokerClusters(conn: BrokerConnection): Promise<BrokerCluster[]> {
  const { server, res } = await get(conn, "/v1/clusters");
  if (res.status !== 200) throw refusal(server, res, conn, undefined);
  const body = jsonBody(server, res, "a cluster list") as { clusters?: unknown };
  if (typeof body !== "object" || body === null || !Array.isArray(body.clusters)) {
    throw notShape(server, res, "a cluster list", "JSON without a clusters list");
  }
  return body.clusters.map((c: unknown, i): BrokerCluster => {
    const r = c as Record<string, unknown> | null;
    const field = (k: string): string => {
      const v = r?.[k];
      if (typeof v !== "string") throw notShape(server, res, "a cluster list", `clusters[${i}].${k} missing`);
      return v;
    };
    const out: BrokerCluster = { name: field("name"), provider: field("provider"), region: field("region"), endpoint: typeof r?.endpoint === "string" ? r.endpoint : "" };
    if (typeof r?.status === "string") out.status = r.status;
    return out;
  });
}

/**
 * `GET /v1/clusters/{name}/kubeconfig`: that one cluster's kubeconfig as YAML text.
 *
 * @example
 * ```ts
 * const yamlText = await fetchBrokerKubeconfig({ server, token }, "prod-kr", "exec");
 * ```
 */
export async function fetchBrokerKubeconfig(conn: BrokerConnection, cluster: string, mode: "exec" | "embed" = "exec"): Promise<string> {
  const name = checkClusterName(cluster);
  const { server, res } = await get(conn, `/v1/clusters/${encodeURIComponent(name)}/kubeconfig?mode=${mode}`);
  if (res.status !== 200) throw refusal(server, res, conn, `cluster ${JSON.stringify(name)}`);
  if (res.body.trim() === "") throw notShape(server, res, "a kubeconfig", "an empty body");
  if (res.contentType === "text/html" || res.contentType === "application/json") throw notShape(server, res, "a kubeconfig", describeBody(res));
  return res.body;
}
