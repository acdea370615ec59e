/**
 * Who is calling: the broker token from `Authorization: Bearer kbi_…` or HTTP Basic `user:kbi_…`
 * (cb-spider's clients), looked up by digest on every request; the failed-authentication limiter
 * (more than 20 failures a minute from one address: its failures get 429 until the minute is over,
 * while valid tokens from it still pass) and the optional per-user token rate limit.
 */
import { BrokerReason, BrokerRefusal } from "./errors.js";
import { hashSessionToken, isSessionAccessTokenShape } from "./sessions.js";
import { hashBrokerToken, isBrokerTokenShape } from "./tokens.js";

/** What the Authorization header carried. */
export type PresentedCredentials =
  | { kind: "none" }
  | { kind: "malformed"; why: string }
  | { kind: "bearer"; token: string }
  | { kind: "basic"; user: string; token: string };

/**
 * Reads an Authorization header. Never echoes what it read.
 *
 * @example
 * ```ts
 * parseAuthorization("Bearer kbi_…"); // { kind: "bearer", token: "kbi_…" }
 * ```
 */
export function parseAuthorization(header: string | undefined): PresentedCredentials {
  if (header === undefined || header.trim() === "") return { kind: "none" };
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header);
  if (match === null) return { kind: "malformed", why: "the Authorization header is not '<scheme> <credentials>'" };
  const scheme = (match[1] ?? "").toLowerCase();
  const value = match[2] ?? "";
  if (scheme === "bearer") return { kind: "bearer", token: value };
  if (scheme === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return { kind: "malformed", why: "the Basic credentials are not user:token" };
    return { kind: "basic", user: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
  }
  return { kind: "malformed", why: `the Authorization scheme is not Bearer or Basic` };
}

/**
 * The digest to look up, or why there is none (a refusal's message). `scheme` is what the route's
 * clients send: Bearer on `/v1`, HTTP Basic on cb-spider's `/spider` routes.
 *
 * @example
 * ```ts
 * const d = tokenDigestOf(parseAuthorization(req.headers.authorization));
 * if ("hash" in d) user = d.session ? await sessions.callerByAccessHash(d.hash) : await store.userByTokenHash(d.hash);
 * ```
 */
export function tokenDigestOf(presented: PresentedCredentials, scheme: "bearer" | "basic" = "bearer"): { hash: string; session: boolean } | { why: string } {
  const send = scheme === "basic" ? "send HTTP Basic credentials USER:kbi_… as cb-spider's clients do, for example curl -u \"$SPIDER_USERNAME:$SPIDER_PASSWORD\"" : "send 'Authorization: Bearer kbi_…'";
  switch (presented.kind) {
    case "none":
      return { why: `no broker token: ${send}; an admin creates one with 'kubeiam broker user add'` };
    case "malformed":
      return { why: `${presented.why}: ${send}` };
    default:
      // A session's access token (kbs_…) is accepted wherever a broker token is (BROKER.md "Signing in").
      if (isSessionAccessTokenShape(presented.token)) return { hash: hashSessionToken(presented.token), session: true };
      if (!isBrokerTokenShape(presented.token)) return { why: "the broker token is not a kbi_ token: check what you pasted, or ask an admin for a new one" };
      return { hash: hashBrokerToken(presented.token), session: false };
  }
}

/**
 * Counts failed authentications per address in fixed one-minute windows. Once an address has more
 * than `limit` failures in its window, its failures are answered 429 until the window ends; a
 * request that authenticates is never refused because of others' failures (BROKER.md "Behind a
 * proxy": one client behind a NAT or proxy must not lock everyone out). While an address is blocked,
 * a guess it already made (the same digest and claimed name) is refused without asking the store
 * again, so repeating a guess costs nothing.
 *
 * @example
 * ```ts
 * const limiter = new FailedAuthLimiter(20, 60_000);
 * const blocked = limiter.blocked(ip, Date.now()); // the 429 to answer a failure with, while blocked
 * ```
 */
export class FailedAuthLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, { start: number; failures: number }>();
  /** Guesses that failed (digest and claimed name), with when they stop being remembered. */
  readonly #badGuesses = new Map<string, number>();

  constructor(limit = 20, windowMs = 60_000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Throws a 429 refusal while `address` is blocked (for callers that refuse everything then). */
  check(address: string, now: number): void {
    const refusal = this.blocked(address, now);
    if (refusal !== undefined) throw refusal;
  }

  /** The 429 refusal while `address` is blocked, else undefined. */
  blocked(address: string, now: number): BrokerRefusal | undefined {
    const w = this.#windows.get(address);
    if (w === undefined) return undefined;
    if (now - w.start >= this.#windowMs) {
      this.#windows.delete(address);
      return undefined;
    }
    return w.failures > this.#limit ? this.#refusal(w.start, now) : undefined;
  }

  /** Whether `guess` (a digest and the claimed name) failed within the last window. */
  knownBad(guess: string, now: number): boolean {
    const until = this.#badGuesses.get(guess);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#badGuesses.delete(guess);
    return false;
  }

  /**
   * Counts a failure (remembering `guess`, when there is one): `counted`, `limited` when this failure
   * crossed the limit (the caller answers 429 and writes one audit row for it), `blocked` for the
   * failures after it (429, no row, so they cannot flood the table).
   */
  fail(address: string, now: number, guess?: string): "counted" | "limited" | "blocked" {
    let w = this.#windows.get(address);
    if (w === undefined || now - w.start >= this.#windowMs) {
      w = { start: now, failures: 0 };
      this.#windows.set(address, w);
      if (this.#windows.size > 100_000) this.#sweep(now);
    }
    if (guess !== undefined) {
      if (this.#badGuesses.size >= 100_000) this.#badGuesses.clear();
      this.#badGuesses.set(guess, now + this.#windowMs);
    }
    w.failures++;
    if (w.failures <= this.#limit) return "counted";
    return w.failures === this.#limit + 1 ? "limited" : "blocked";
  }

  /** The refusal for a blocked address. */
  refusal(address: string, now: number): BrokerRefusal {
    const w = this.#windows.get(address);
    return this.#refusal(w?.start ?? now, now);
  }

  #refusal(start: number, now: number): BrokerRefusal {
    const retryAfter = Math.max(1, Math.ceil((start + this.#windowMs - now) / 1000));
    return new BrokerRefusal(429, BrokerReason.RATE_LIMITED, `too many failed authentications from this address: wait ${retryAfter} s and check the broker token`, { retryAfter });
  }

  #sweep(now: number): void {
    for (const [k, w] of this.#windows) if (now - w.start >= this.#windowMs) this.#windows.delete(k);
  }
}

/**
 * Token requests per user per second, in fixed one-second windows (`serve --rate-limit N`).
 *
 * @example
 * ```ts
 * const limiter = new TokenRateLimiter(10);
 * limiter.take(user.id, Date.now()); // throws BrokerRefusal(429) with retryAfter past the limit
 * ```
 */
export class TokenRateLimiter {
  readonly #perSecond: number;
  readonly #windows = new Map<string, { second: number; count: number }>();

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  /** Counts one request for `userId`, or throws a 429 refusal. */
  take(userId: string, now: number): void {
    const second = Math.floor(now / 1000);
    let w = this.#windows.get(userId);
    if (w === undefined || w.second !== second) {
      if (this.#windows.size > 100_000) this.#windows.clear();
      w = { second, count: 0 };
      this.#windows.set(userId, w);
    }
    if (w.count >= this.#perSecond) {
      throw new BrokerRefusal(429, BrokerReason.RATE_LIMITED, `more than ${this.#perSecond} token requests a second for this user: wait a second and try again`, { retryAfter: 1 });
    }
    w.count++;
  }
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * Whether an address is this machine's loopback.
 *
 * @example
 * ```ts
 * isLoopbackAddress("127.0.0.1"); // true
 * ```
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && (LOOPBACK.has(address) || /^127\.\d+\.\d+\.\d+$/.test(address) || /^::ffff:127\./.test(address));
}
