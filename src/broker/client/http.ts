/**
 * The broker client's HTTP edge: one GET over node:http/node:https, on the light path (no undici,
 * no framework), so the exec plugin starts fast. Redirects are never followed (a bearer token stays
 * with the server the user named), answers are read whole within a deadline, and every failure
 * becomes one typed error naming the reason (refused, unreachable, TLS name or CA, cut short).
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY route it as they route every other call of kubeiam: the rules
 * (lib/proxy-env.ts) are asked first, and the CONNECT tunnel (lib/proxy-agent.ts) loads only when a
 * proxy applies, so the plugin's direct path stays free of packages.
 */
import type { Agent as HttpAgent, IncomingMessage } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { NetworkError } from "../../lib/errors.js";
import { brokerProxyUrlFor } from "../../lib/proxy-env.js";
import { displayUrl } from "../../lib/redact-url.js";

/** A complete answer from the broker. */
export interface BrokerHttpResponse {
  status: number;
  /** The lower-cased `content-type`, without parameters; `""` when absent. */
  contentType: string;
  /** The `location` header of a redirect. */
  location?: string;
  /** The `retry-after` header of a 429 or 503. */
  retryAfter?: string;
  body: string;
}

/** Options of {@link brokerGet}. */
export interface BrokerGetOptions {
  /** Extra headers (the caller's `authorization`). */
  headers?: Record<string, string>;
  /** PEM of CAs to trust beyond Node's own (which already hold `NODE_EXTRA_CA_CERTS`). */
  ca?: string;
  /** Milliseconds for the whole exchange; 15 000 by default. */
  timeoutMs?: number;
  /** A keep-alive agent for programs that ask often (it then does its own routing); the global agent when absent. */
  agent?: HttpAgent | HttpsAgent;
  /**
   * The environment whose HTTPS_PROXY, HTTP_PROXY and NO_PROXY route the request (without `agent`);
   * direct when absent.
   */
  env?: Record<string, string | undefined>;
  /** Stops the request. */
  signal?: AbortSignal;
  /** `GET` by default; `POST` with a form `body` for the sign-in endpoints. */
  method?: "GET" | "POST";
  /** A form body (`application/x-www-form-urlencoded`), sent with POST. */
  form?: Record<string, string>;
}

/** Answers larger than this are refused: an ExecCredential or a cluster list is a few KiB. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

/** TLS failures by Node's code, said in words a user can act on. */
const TLS_REASONS: Record<string, string> = {
  ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another name",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed and not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "its TLS certificate chains to a CA that is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its TLS certificate is signed by a CA that is not trusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "its TLS certificate is signed by a CA that is not trusted",
  CERT_HAS_EXPIRED: "its TLS certificate has expired",
  CERT_NOT_YET_VALID: "its TLS certificate is not valid yet",
  EPROTO: "the TLS handshake failed (is it serving plain HTTP?)",
  ERR_SSL_WRONG_VERSION_NUMBER: "the TLS handshake failed (is it serving plain HTTP?)",
};

const UNTRUSTED = new Set(["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"]);

function errorCode(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code !== "") return code;
    e = e.cause;
  }
  return "";
}

/** One phrase for a failed connection, and the fix that goes with it; `proxy` when it went through one. */
function describeFailure(origin: string, error: unknown, timedOut: boolean, proxy: string | undefined): NetworkError {
  const via = proxy === undefined ? "" : ` through the proxy ${displayUrl(proxy)}`;
  const proxyFix = proxy === undefined ? "" : ", and HTTPS_PROXY and NO_PROXY";
  if (timedOut) return new NetworkError(`broker ${origin} did not answer in time${via}: check that it runs and that --server is right${proxyFix}`, { cause: error });
  const code = errorCode(error);
  const tls = TLS_REASONS[code];
  if (tls !== undefined) {
    const fix =
      code === "ERR_TLS_CERT_ALTNAME_INVALID"
        ? "check that --server names the broker's host as its certificate does"
        : UNTRUSTED.has(code)
          ? "pass its CA with --ca-file PEM (or set NODE_EXTRA_CA_CERTS)"
          : "check --server and the broker's TLS set-up";
    return new NetworkError(`broker ${origin} refused by TLS: ${tls} (${code}): ${fix}`, { cause: error });
  }
  if (code === "ECONNRESET" || code === "ERR_BROKER_CUT") {
    return new NetworkError(`broker ${origin} closed the connection before the answer was complete: try again, or check the broker's logs`, { cause: error });
  }
  const what = code === "" ? (error instanceof Error ? error.message.split("\n")[0] : String(error)) : code;
  return new NetworkError(`broker ${origin} is unreachable${via} (${what}): check that it runs and that --server is right${proxyFix}`, { cause: error });
}

function cut(): Error {
  return Object.assign(new Error("answer cut short"), { code: "ERR_BROKER_CUT" });
}

/**
 * Sends one GET and resolves with the whole answer, whatever its status (the caller judges it).
 * Throws {@link NetworkError} when no complete answer came: refused connection, unknown host, TLS
 * failure (named: another host's certificate, an untrusted CA), a body cut short, or the deadline.
 *
 * @example
 * ```ts
 * const res = await brokerGet("https://broker.example:8750/healthz", { ca: pem });
 * if (res.status !== 200) throw new Error(`status ${res.status}`);
 * ```
 */
export async function brokerGet(url: URL, options: BrokerGetOptions = {}): Promise<BrokerHttpResponse> {
  // A plain-HTTP address for a broker that moved to HTTPS: cut off, or a bare 400 from its TLS port.
  // Said as such (one handshake tells), rather than as a broker that closed the connection. The probe
  // loads only on such an answer: the exec plugin's path (once per kubectl call) stays lean.
  const plain = url.protocol === "http:" && options.agent === undefined && (options.env === undefined || brokerProxyUrlFor(url, options.env) === undefined);
  let res: BrokerHttpResponse;
  try {
    res = await brokerGetOnce(url, options);
  } catch (error) {
    if (plain) {
      const probe = await import("./https-probe.js");
      if (probe.isCutOff(error) && (await probe.speaksTls(url))) throw probe.httpsOnlyError(url, error);
    }
    throw error;
  }
  if (plain && res.status === 400 && res.contentType !== "application/json") {
    const probe = await import("./https-probe.js");
    if (await probe.speaksTls(url)) throw probe.httpsOnlyError(url);
  }
  return res;
}

async function brokerGetOnce(url: URL, options: BrokerGetOptions): Promise<BrokerHttpResponse> {
  const origin = url.origin;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // node:https (and TLS with it) loads only for https URLs: a loopback broker's plugin skips it.
  // node:http too loads here rather than on import, so that import("kubeiam") does not pay for it.
  const send = url.protocol === "https:" ? (await import("node:https")).request : (await import("node:http")).request;
  const proxy = options.agent === undefined && options.env !== undefined ? brokerProxyUrlFor(url, options.env) : undefined;
  let tunnel: HttpAgent | undefined;
  if (proxy !== undefined && options.env !== undefined) {
    const { createEnvProxyAgent } = await import("../../lib/proxy-agent.js");
    tunnel = createEnvProxyAgent(options.env);
  }
  const agent = options.agent ?? tunnel;
  return new Promise<BrokerHttpResponse>((resolve, reject) => {
    let timedOut = false;
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      tunnel?.destroy();
      reject(error instanceof NetworkError ? error : describeFailure(origin, error, timedOut, proxy));
    };
    const body = options.form === undefined ? undefined : new URLSearchParams(options.form).toString();
    const req = send(
      url,
      {
        method: options.method ?? "GET",
        headers: {
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(body)) }),
          ...options.headers,
        },
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(agent === undefined ? {} : { agent }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy();
            fail(new NetworkError(`broker ${origin} sent an answer over ${MAX_BODY_BYTES / 1024 / 1024} MiB: check that --server names a kubeiam broker`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("aborted", () => fail(cut()));
        res.on("error", (e) => fail(res.readableAborted ? cut() : e));
        res.on("end", () => {
          if (settled) return;
          // Node ends a response whose declared length was not delivered with `complete` false.
          if (!res.complete) return fail(cut());
          settled = true;
          clearTimeout(timer);
          // One exchange per plugin run: the tunnel is not kept open for a next request.
          tunnel?.destroy();
          const type = (res.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
          resolve({
            status: res.statusCode ?? 0,
            contentType: type,
            ...(typeof res.headers.location === "string" ? { location: res.headers.location } : {}),
            ...(typeof res.headers["retry-after"] === "string" ? { retryAfter: res.headers["retry-after"] } : {}),
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy();
      fail(new Error("timeout"));
    }, timeoutMs);
    req.on("error", fail);
    req.end(body);
  });
}
