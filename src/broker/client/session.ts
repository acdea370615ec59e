/**
 * The CLI's side of signing in (BROKER.md "Signing in with an identity provider"): the RFC 8628
 * device flow against `POST /v1/login/device` and `POST /v1/login/token`, and the renewal of a kept
 * session, one at a time per credentials file (a file lock), so that parallel kubectl runs renew
 * once and share the result. On the exec plugin's light path: the broker client's HTTP edge only
 * (no openid-client, no SDK).
 */
import { randomBytes } from "node:crypto";
import { ApiError, CredentialsError } from "../../lib/errors.js";
import { brokerCredentialsFile, readBrokerCredentials, saveBrokerEntry, type BrokerSessionEntry } from "./credentials.js";
import { brokerGet, type BrokerHttpResponse } from "./http.js";

/** How to reach the broker. */
export interface SessionCallOptions {
  ca?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  now?: () => number;
}

/** The broker's answer to `POST /v1/login/device`. */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresIn: number;
  interval: number;
}

/** An access token renews this long before its end, so a kubectl call never carries one that is about to stop. */
const RENEW_BEFORE_MS = 3_000;

function printable(text: unknown): string {
  if (typeof text !== "string") return "";
  const t = text.replace(/[\p{Cc}]+/gu, " ").replace(/kb[isrd]_[A-Za-z0-9_-]{8,}/g, "[redacted]").trim();
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}

function parseJson(res: BrokerHttpResponse): Record<string, unknown> | undefined {
  if (res.contentType !== "application/json") return undefined;
  try {
    const v = JSON.parse(res.body) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function post(server: string, path: string, form: Record<string, string>, o: SessionCallOptions): Promise<{ res: BrokerHttpResponse; json: Record<string, unknown> | undefined }> {
  const res = await brokerGet(new URL(`${server}${path}`), {
    method: "POST",
    form,
    ...(o.ca === undefined ? {} : { ca: o.ca }),
    ...(o.env === undefined ? {} : { env: o.env }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  return { res, json: parseJson(res) };
}

function unexpected(server: string, res: BrokerHttpResponse, what: string): ApiError {
  const e = parseJson(res)?.error as { message?: unknown } | undefined;
  const said = printable(e?.message);
  return new ApiError(`broker ${server} answered ${what} with ${res.status}${said === "" ? "" : `: ${said}`}`, { status: res.status });
}

/** A token answer (`access_token`, `expires_in`, `refresh_token`) as a session entry. */
function entryOf(server: string, json: Record<string, unknown> | undefined, now: number, loginId: string): BrokerSessionEntry {
  const access = json?.access_token;
  const refresh = json?.refresh_token;
  const expiresIn = json?.expires_in;
  if (typeof access !== "string" || !/^kbs_[A-Za-z0-9_-]{43}$/.test(access) || typeof refresh !== "string" || !/^kbr_[A-Za-z0-9_-]{43}$/.test(refresh) || typeof expiresIn !== "number" || !(expiresIn > 0)) {
    throw new ApiError(`broker ${server} answered the sign-in with something that is not a session (access_token, refresh_token, expires_in): update the broker`, { status: 200 });
  }
  return { accessToken: access, refreshToken: refresh, accessExpiresAt: new Date(now + expiresIn * 1000).toISOString(), loginId };
}

/**
 * Starts a device sign-in. Throws {@link CredentialsError} when the broker offers none (no
 * identity provider configured).
 *
 * @example
 * ```ts
 * const auth = await startDeviceSignIn("https://broker.example:8750", {});
 * console.error(auth.verificationUriComplete);
 * ```
 */
export async function startDeviceSignIn(server: string, o: SessionCallOptions = {}): Promise<DeviceAuthorization> {
  const { res, json } = await post(server, "/v1/login/device", { client_id: "kubeiam-cli" }, o);
  if (res.status === 404) {
    throw new CredentialsError(`broker ${server} offers no sign-in through an identity provider: ask its admin for a broker token and run 'kubeiam broker login --server ${server}' with it on stdin`);
  }
  if (res.status !== 200 || json === undefined) throw unexpected(server, res, "the sign-in request");
  const { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval } = json;
  if (typeof device_code !== "string" || typeof user_code !== "string" || typeof verification_uri !== "string" || typeof expires_in !== "number") {
    throw new ApiError(`broker ${server} answered the sign-in request without a device code: update the broker`, { status: 200 });
  }
  return {
    deviceCode: device_code,
    userCode: printable(user_code),
    verificationUri: printable(verification_uri),
    verificationUriComplete: printable(typeof verification_uri_complete === "string" ? verification_uri_complete : verification_uri),
    expiresIn: expires_in,
    interval: typeof interval === "number" && interval > 0 ? Math.min(interval, 5) : 1,
  };
}

/**
 * Polls until the person has signed in (or refused, or the code expired), then keeps the session.
 *
 * @example
 * ```ts
 * const session = await waitForDeviceSignIn(server, auth, { signal });
 * ```
 */
export async function waitForDeviceSignIn(server: string, auth: DeviceAuthorization, o: SessionCallOptions = {}): Promise<BrokerSessionEntry> {
  const now = o.now ?? Date.now;
  const deadline = now() + auth.expiresIn * 1000;
  let interval = auth.interval * 1000;
  const loginId = randomBytes(12).toString("base64url");
  for (;;) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, interval);
      o.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new CredentialsError("stopped while waiting for the sign-in"));
      }, { once: true });
    });
    const { res, json } = await post(server, "/v1/login/token", { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: auth.deviceCode, client_id: "kubeiam-cli" }, o);
    if (res.status === 200) return entryOf(server, json, now(), loginId);
    const error = json?.error;
    const why = printable(json?.error_description);
    if (error === "authorization_pending") {
      if (now() > deadline) throw new CredentialsError(`the sign-in code expired before the sign-in finished: run 'kubeiam broker login --server ${server}' again`);
      continue;
    }
    if (error === "slow_down") {
      interval += 1000;
      continue;
    }
    if (error === "access_denied") throw new CredentialsError(`the sign-in was refused: ${why === "" ? "no reason given" : why}`);
    if (error === "expired_token") throw new CredentialsError(`the sign-in code expired before the sign-in finished: run 'kubeiam broker login --server ${server}' again`);
    throw unexpected(server, res, "the sign-in poll");
  }
}

/** The session has ended: the one line the CLI shows, naming the command that starts a new one. */
function ended(server: string, why: string): CredentialsError {
  return new CredentialsError(`your session with ${server} has ended${why === "" ? "" : ` (${why})`}: sign in again with 'kubeiam broker login --server ${server}'`);
}

/**
 * The access token of the session kept for `server` (normalized), renewed first when it runs out
 * within 3 s: under the credentials file's lock, so that of many runs at once one renews and the
 * others read what it wrote. Throws {@link CredentialsError} naming `kubeiam broker login` when the
 * session has ended.
 *
 * @example
 * ```ts
 * const { accessToken } = await sessionAccessToken("https://broker.example:8750", process.env);
 * ```
 */
export async function sessionAccessToken(server: string, env: Record<string, string | undefined>, o: SessionCallOptions = {}): Promise<BrokerSessionEntry & { renewed: boolean }> {
  const now = o.now ?? Date.now;
  const path = brokerCredentialsFile(env);
  const current = async (): Promise<BrokerSessionEntry | undefined> => (await readBrokerCredentials(path)).servers[server]?.session;
  const fresh = (s: BrokerSessionEntry): boolean => Date.parse(s.accessExpiresAt) - now() > RENEW_BEFORE_MS;
  const first = await current();
  if (first === undefined) throw ended(server, "no session is kept for it");
  if (fresh(first)) return { ...first, renewed: false };
  const { withFileLock } = await import("../../lib/file-lock.js");
  return withFileLock(
    path,
    async () => {
      const s = await current();
      if (s === undefined) throw ended(server, "no session is kept for it");
      if (fresh(s)) return { ...s, renewed: false };
      const { res, json } = await post(server, "/v1/login/token", { grant_type: "refresh_token", refresh_token: s.refreshToken, client_id: "kubeiam-cli" }, { ...o, env: o.env ?? env });
      if (res.status === 200) {
        const next = entryOf(server, json, now(), s.loginId);
        await saveBrokerEntry(path, server, { session: next });
        return { ...next, renewed: true };
      }
      if (json?.error === "invalid_grant") {
        // Forget it: the next run says the same without asking the broker again.
        await saveBrokerEntry(path, server, undefined);
        throw ended(server, printable(json.error_description).replace(/^the session has ended:?\s*/, "").replace(/;?\s*sign in again.*$/, ""));
      }
      throw unexpected(server, res, "the session's renewal");
    },
    { waitMs: 30_000, ...(o.signal === undefined ? {} : { signal: o.signal }) },
  );
}
