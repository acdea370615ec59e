/**
 * The HTTP edge shared by every cloud API client: one request with a per-try timeout, retries with
 * jittered backoff on 429, 5xx and network errors (never on other 4xx), and `HTTPS_PROXY` /
 * `NO_PROXY` honoured: a request no proxy applies to goes over node:http(s) (./node-fetch.js), and
 * undici's `EnvHttpProxyAgent` loads only for one that a proxy applies to. `fetch` is injectable so
 * tests pass their own.
 */
import { NetworkError } from "./errors.js";
import { proxyUrlFor } from "./proxy-env.js";
import { displayUrl, redactUrls } from "./redact-url.js";
import { sleep as abortableSleep } from "./time.js";

/** The part of a fetch `Response` that kubeiam reads. Both the global `fetch` and undici's satisfy it. */
export interface FetchResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The part of `RequestInit` that kubeiam sends. */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/** A `fetch`-compatible function: the global `fetch` fits, and so does a test's own. */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>;

/** What one request sends. */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A complete answer: the status, the headers and the whole body, read within the timeout. */
export interface HttpResponse {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
  /** How many tries it took (1 when the first answer was kept). */
  attempts: number;
}

/** Options of {@link sendHttpRequest}. */
export interface HttpOptions {
  /**
   * The fetch to use; by default node:http(s) when no proxy applies to the URL, else undici's
   * `fetch` through an `EnvHttpProxyAgent`.
   */
  fetch?: FetchLike;
  /** Milliseconds each try may take, body included; 10 000 by default. */
  timeoutMs?: number;
  /** Tries in all; 3 by default. */
  attempts?: number;
  /** Stops waiting and retrying when aborted (Ctrl-C). */
  signal?: AbortSignal;
  /** What the messages call the far side (`NCP API`); defaults to the URL's host. */
  service?: string;
  /** The first backoff in milliseconds (doubled each retry, with full jitter); 250 by default. */
  backoffMs?: number;
  /** Sleeps between tries; injectable so tests need not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1) for the jitter; `Math.random` by default. */
  random?: () => number;
  /**
   * Called before each retry with the try that failed and why: a status or an error. For progress
   * lines on stderr; never given a header or a body.
   */
  onRetry?: (info: { attempt: number; delayMs: number; status?: number; error?: string }) => void;
  /**
   * Called after each try, for `--debug`: the method, the URL without its query (which may carry a
   * signature), the status or the error, and how long the try took. Never a header or a body.
   */
  onAttempt?: (info: HttpAttempt) => void;
}

/** One try of a request, as {@link HttpOptions.onAttempt} reports it. */
export interface HttpAttempt {
  method: string;
  /** Origin and path only. */
  url: string;
  attempt: number;
  status?: number;
  error?: string;
  ms: number;
}

/**
 * A request's URL as logs may show it: origin and path, no query, no fragment, no user info.
 *
 * @example
 * ```ts
 * loggableUrl("https://u:p@sts.amazonaws.com/?X-Amz-Signature=abc"); // "https://sts.amazonaws.com/"
 * ```
 */
export function loggableUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(not a URL)";
  }
}

/**
 * An answer's body as a JSON object, or `{}` when it is not one (not JSON, an array, null): for
 * reading the fields of an API's answer, or of its error, without a parse error of its own.
 *
 * @example
 * ```ts
 * const rec = jsonObjectOf(res.text);
 * const token = typeof rec.access_token === "string" ? rec.access_token : undefined;
 * ```
 */
export function jsonObjectOf(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

/** The default timeout of one try: 10 seconds. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
/** The default number of tries: 3. */
export const DEFAULT_HTTP_ATTEMPTS = 3;
/** The longest wait that a `Retry-After` header can ask of us. */
const MAX_RETRY_AFTER_MS = 10_000;

/**
 * True for the statuses worth another try: 429 and every 5xx.
 *
 * @example
 * ```ts
 * isRetryableStatus(503); // true
 * isRetryableStatus(404); // false
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

let proxyFetchPromise: Promise<FetchLike> | undefined;

/**
 * The fetch for one URL under the process's `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (Node 20's
 * global `fetch` ignores them): node:http(s) when no proxy applies (the rules of ./proxy-env.js, the
 * same as undici's), else undici's `fetch` with an `EnvHttpProxyAgent`, created on first use and shared.
 */
async function defaultFetch(url: string): Promise<FetchLike> {
  let direct = true;
  try {
    direct = proxyUrlFor(new URL(url), process.env) === undefined;
  } catch {
    // Not a URL: the fetch below words the failure.
  }
  if (direct) return (await import("./node-fetch.js")).nodeFetch;
  proxyFetchPromise ??= import("undici").then(({ fetch, EnvHttpProxyAgent }) => {
    const dispatcher = new EnvHttpProxyAgent();
    return (url, init) => fetch(url, { ...init, dispatcher });
  });
  return proxyFetchPromise;
}

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  return undefined;
}

/**
 * The cause of a failed fetch as Node words it, in one short line and never a body: undici's
 * "fetch failed" is only a wrapper, so its causes are followed (an `AggregateError`'s first error too,
 * for the addresses tried one after another) down to the socket's own error:
 * `connect ECONNREFUSED 127.0.0.1:8443`, `getaddrinfo ENOTFOUND host`, or a TLS failure by name
 * (`TLS: certificate has expired (CERT_HAS_EXPIRED)`). URLs in it are shown without secrets.
 *
 * @example
 * ```ts
 * describeNetworkError(new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }) }));
 * // "connect ECONNREFUSED 127.0.0.1:9"
 * ```
 */
export function describeNetworkError(error: unknown): string {
  const chain: Error[] = [];
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    chain.push(e);
    e = e instanceof AggregateError && e.errors[0] instanceof Error ? e.errors[0] : e.cause;
  }
  const codeOf = (x: Error): string => {
    const code = (x as NodeJS.ErrnoException).code;
    return typeof code === "string" ? code : "";
  };
  const coded = [...chain].reverse().find((x) => codeOf(x) !== "");
  let phrase: string;
  if (coded !== undefined) {
    const code = codeOf(coded);
    const message = coded.message.split("\n")[0] ?? "";
    if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) phrase = `TLS: ${message} (${code})`;
    else phrase = message.includes(code) ? message : `${code}: ${message}`;
  } else {
    const deepest = chain[chain.length - 1];
    phrase = deepest === undefined ? String(error) : (deepest.message.split("\n")[0] ?? "");
  }
  phrase = redactUrls(phrase);
  return phrase.length > 200 ? `${phrase.slice(0, 200)}…` : phrase;
}

/**
 * Sends one request, with a timeout on every try and retries on 429, 5xx and network errors.
 * Resolves with the last answer, whatever its status (the caller checks it): an error status is a
 * value here, not an exception. Throws {@link NetworkError} when no answer came after every try.
 *
 * @example
 * ```ts
 * const res = await sendHttpRequest(
 *   { method: "GET", url: "https://nks.apigw.ntruss.com/vnks/v2/clusters", headers },
 *   { service: "NCP API", timeoutMs: 5_000 },
 * );
 * if (res.status !== 200) throw new Error(`status ${res.status}`);
 * ```
 */
export async function sendHttpRequest(request: HttpRequest, options: HttpOptions = {}): Promise<HttpResponse> {
  const fetchFn = options.fetch ?? (await defaultFetch(request.url));
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const attempts = Math.max(1, Math.floor(options.attempts ?? DEFAULT_HTTP_ATTEMPTS));
  const backoffMs = options.backoffMs ?? 250;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const service = options.service ?? new URL(request.url).host;
  let lastError = "";
  let timedOut = false;

  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) {
      throw new NetworkError(`${service} request was cancelled`, { cause: options.signal.reason });
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? anySignal(options.signal, timeout) : timeout;
    let response: HttpResponse | undefined;
    const started = performance.now();
    const report = (outcome: { status: number } | { error: string }): void =>
      options.onAttempt?.({ method: request.method, url: loggableUrl(request.url), attempt, ...outcome, ms: Math.round(performance.now() - started) });
    try {
      const res = await fetchFn(request.url, {
        method: request.method,
        headers: request.headers,
        signal,
        ...(request.body === undefined ? {} : { body: request.body }),
      });
      const text = await res.text();
      response = { status: res.status, headers: res.headers, text, attempts: attempt };
      report({ status: res.status });
    } catch (error) {
      report({ error: options.signal?.aborted ? "cancelled" : timeout.aborted ? "timeout" : describeNetworkError(error) });
      if (options.signal?.aborted) {
        throw new NetworkError(`${service} request was cancelled`, { cause: error });
      }
      timedOut = timeout.aborted;
      lastError = timedOut ? `no answer within ${formatSeconds(timeoutMs)}` : describeNetworkError(error);
      if (attempt >= attempts) {
        const what = timedOut
          ? `${service} at ${displayUrl(request.url)} did not answer within ${formatSeconds(timeoutMs)}`
          : `cannot reach ${service} at ${displayUrl(request.url)} (${lastError})`;
        throw new NetworkError(
          `${what}${attempts > 1 ? ` after ${attempts} tries` : ""}: check the network, the API URL, and HTTPS_PROXY/NO_PROXY`,
          { cause: error },
        );
      }
    }
    if (response !== undefined && (!isRetryableStatus(response.status) || attempt >= attempts)) return response;

    // Full jitter (AWS architecture blog): a random wait in [0, base * 2^(n-1)].
    const ceiling = backoffMs * 2 ** (attempt - 1);
    let delayMs = Math.floor(random() * ceiling);
    const asked = response === undefined ? undefined : retryAfterMs(response.headers.get("retry-after"));
    if (asked !== undefined) delayMs = Math.max(delayMs, asked);
    options.onRetry?.({
      attempt,
      delayMs,
      ...(response === undefined ? { error: lastError } : { status: response.status }),
    });
    try {
      await sleep(delayMs, options.signal);
    } catch (cause) {
      throw new NetworkError(`${service} request was cancelled`, { cause });
    }
  }
}

/** `AbortSignal.any` (Node 20.3+), with a fallback for earlier Node 20 releases. */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === "function") return AbortSignal.any([a, b]);
  const controller = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
