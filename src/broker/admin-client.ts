/**
 * The admin side of the broker's REST API as the CLI calls it: one JSON request with the caller's
 * broker token, and the answer checked. A refusal comes back as {@link BrokerRefusal} carrying the
 * broker's status, reason code and sentence; no token ever appears in a message.
 */
import { ApiError, NetworkError } from "../lib/errors.js";
import { brokerProxyUrlFor } from "../lib/proxy-env.js";
import { displayUrl } from "../lib/redact-url.js";
import { httpsOnlyError, isCutOff, speaksTls } from "./client/https-probe.js";
import { BrokerRefusal } from "./errors.js";

/** Where and how to reach a broker as an admin. */
export interface AdminConnection {
  /** The broker's URL, already checked (`normalizeBrokerServer`). */
  server: string;
  token: string;
  /** PEM of a private CA that signed the broker's certificate. */
  ca?: string;
  timeoutMs?: number;
  /** The environment whose HTTPS_PROXY, HTTP_PROXY and NO_PROXY route the request; direct when absent. */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/** Answers larger than this are refused, as the exec plugin refuses them: a broker's answer is a few KiB. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** The answer's text, or a NetworkError once it passes {@link MAX_ANSWER_BYTES} (declared or sent). */
async function readCapped(res: { headers: { get(name: string): string | null }; body: ReadableStream<Uint8Array> | null }, server: string): Promise<string> {
  const tooBig = () => new NetworkError(`broker ${server} sent an answer over ${MAX_ANSWER_BYTES / 1024 / 1024} MiB: check that --server names a kubeiam broker`);
  if (Number(res.headers.get("content-length") ?? 0) > MAX_ANSWER_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw tooBig();
  }
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooBig();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Sends one request to the broker and returns its JSON answer (`undefined` for 204).
 *
 * @example
 * ```ts
 * const { token } = await brokerAdminRequest(conn, "POST", "/v1/users", { name: "alice" }) as { token: string };
 * ```
 */
export async function brokerAdminRequest(conn: AdminConnection, method: string, path: string, body?: unknown): Promise<unknown> {
  const { fetch, Agent, ProxyAgent } = await import("undici");
  // The same routing rules as every other call (lib/proxy-env.ts); undici's CONNECT tunnel when a proxy applies.
  const proxy = conn.env === undefined ? undefined : brokerProxyUrlFor(new URL(conn.server), conn.env);
  const tls = conn.ca === undefined ? undefined : { ca: conn.ca };
  const dispatcher =
    proxy !== undefined
      ? new ProxyAgent({ uri: proxy, ...(tls === undefined ? {} : { requestTls: tls }) })
      : tls === undefined
        ? undefined
        : new Agent({ connect: tls });
  const plain = conn.server.startsWith("http:") && proxy === undefined;
  const signals = [AbortSignal.timeout(conn.timeoutMs ?? 30_000), ...(conn.signal === undefined ? [] : [conn.signal])];
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    res = await fetch(`${conn.server}${path}`, {
      method,
      redirect: "manual",
      headers: { authorization: `Bearer ${conn.token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(dispatcher === undefined ? {} : { dispatcher }),
      signal: AbortSignal.any(signals),
    });
  } catch (cause) {
    if (plain && isCutOff(cause) && (await speaksTls(new URL(conn.server)))) throw httpsOnlyError(new URL(conn.server), cause);
    // undici's TypeError("fetch failed") carries the reason in its cause: a code (ECONNREFUSED), or
    // only a message ("bad port": a port fetch never dials, such as 9 or 6000).
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    const code = inner?.code ?? inner?.message?.slice(0, 60) ?? (cause as Error).name;
    const via = proxy === undefined ? "" : ` through the proxy ${displayUrl(proxy)}`;
    throw new NetworkError(`broker ${conn.server} is unreachable${via} (${code}): check that it runs and that --server is right${proxy === undefined ? "" : ", and HTTPS_PROXY and NO_PROXY"}`, { cause });
  } finally {
    void dispatcher?.close();
  }
  const text = await readCapped(res, conn.server);
  if (res.status === 204) return undefined;
  if (plain && res.status === 400 && !(res.headers.get("content-type") ?? "").includes("json") && (await speaksTls(new URL(conn.server)))) throw httpsOnlyError(new URL(conn.server));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(`${conn.server} does not answer as a kubeiam broker (${res.status} with something that is not JSON): check that --server names a kubeiam broker`, { status: res.status });
  }
  if (res.status >= 200 && res.status < 300) return json;
  const error = (json as { error?: { code?: unknown; message?: unknown } }).error;
  if (typeof error?.code === "string" && typeof error.message === "string") {
    const retry = res.headers.get("retry-after");
    throw new BrokerRefusal(res.status, error.code, `the broker refused (${res.status} ${error.code}): ${error.message}`, retry === null ? {} : { retryAfter: Number(retry) });
  }
  throw new ApiError(`${conn.server} does not answer as a kubeiam broker (${res.status} without the broker's error shape): check that --server names a kubeiam broker`, { status: res.status });
}
