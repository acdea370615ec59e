/**
 * Device-flow sign-ins in progress (RFC 8628), kept in the store so that the CLI's polls, the
 * browser's page and the identity provider's callback may each reach a different instance. Device
 * codes are stored as SHA-256 digests; the PKCE verifier and the identity provider's refresh token
 * are sealed under the master key, bound to the row. Each step is one conditional update, so a code
 * is approved once and turned into a session once, however many instances race.
 */
import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { openSealed, sealSecret } from "./sealing.js";
import type { BrokerDatabase } from "./store/schema.js";
import type { BrokerRole } from "./store/store.js";

/** How long a device code lives: 10 minutes. */
export const DEVICE_CODE_TTL_MS = 10 * 60_000;
/** How often the CLI may poll, in seconds (BROKER.md: 1 second or less). */
export const DEVICE_POLL_INTERVAL_S = 1;

/** The letters of a user code: no vowels (no words), no look-alikes (RFC 8628 6.1). */
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

/**
 * A user code as people type it, in its canonical `XXXX-XXXX` form, or undefined when it cannot be one.
 *
 * @example
 * ```ts
 * normalizeUserCode("wdjb mjht"); // "WDJB-MJHT"
 * ```
 */
export function normalizeUserCode(text: string): string | undefined {
  const letters = text.toUpperCase().replace(/[^A-Z]/g, "");
  if (letters.length !== 8 || [...letters].some((c) => !USER_CODE_ALPHABET.includes(c))) return undefined;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

function newUserCode(): string {
  let s = "";
  for (let i = 0; i < 8; i++) s += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

/** SHA-256 hex of a code or cookie value. */
export function digestOf(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A sign-in in progress, as the steps read it. */
export interface LoginRequest {
  id: string;
  userCode: string;
  status: "pending" | "started" | "approved" | "denied" | "done";
  reason: string | null;
  expiresAt: Date;
  polledAt: Date | null;
}

/** What an approved sign-in carries to the poll that turns it into a session. */
export interface ApprovedLogin {
  userId: string;
  role: BrokerRole;
  groups: string[];
  idpRefreshToken: string | undefined;
}

/**
 * The queries of the device flow.
 *
 * @example
 * ```ts
 * const requests = new LoginRequests(store.db, [masterKey, ...retiredKeys], () => Date.now());
 * const { deviceCode, userCode } = await requests.create();
 * ```
 */
export class LoginRequests {
  readonly #db: Kysely<BrokerDatabase>;
  /** Seals under the first key (the master key); opens under any (a keyring mid-rotation, see rekey.ts). */
  readonly #key: Buffer;
  readonly #openingKeys: readonly Buffer[];
  readonly #now: () => number;

  constructor(db: Kysely<BrokerDatabase>, keys: Buffer | readonly Buffer[], now: () => number) {
    const ring = Buffer.isBuffer(keys) ? [keys] : keys;
    const first = ring[0];
    if (first === undefined) throw new TypeError("LoginRequests needs at least one key");
    this.#db = db;
    this.#key = first;
    this.#openingKeys = ring;
    this.#now = now;
  }

  #iso(offsetMs = 0): string {
    return new Date(this.#now() + offsetMs).toISOString();
  }

  /**
   * Removes sign-ins that expired more than an hour ago (the hour lets a late poll still hear
   * `expired_token`); the number removed. Run by the broker's sweeper, off the request path.
   */
  async sweep(): Promise<number> {
    const r = await this.#db.deleteFrom("login_requests").where("expires_at", "<", this.#iso(-3600_000)).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Starts a sign-in: a device code (shown once) and a user code (old rows go by {@link LoginRequests.sweep}). */
  async create(): Promise<{ deviceCode: string; userCode: string; expiresAt: Date }> {
    const deviceCode = `kbd_${randomBytes(32).toString("base64url")}`;
    const expiresAt = new Date(this.#now() + DEVICE_CODE_TTL_MS);
    for (let attempt = 0; ; attempt++) {
      const userCode = newUserCode();
      try {
        await this.#db
          .insertInto("login_requests")
          .values({ id: randomUUID(), device_hash: digestOf(deviceCode), user_code: userCode, status: "pending", created_at: this.#iso(), expires_at: expiresAt.toISOString() })
          .execute();
        return { deviceCode, userCode, expiresAt };
      } catch (error) {
        // A user code taken by a live row (1 in 25 billion): draw again.
        if (attempt >= 3) throw error;
      }
    }
  }

  #row(r: { id: string; user_code: string; status: string; reason: string | null; expires_at: string; polled_at: string | null }): LoginRequest {
    return { id: r.id, userCode: r.user_code, status: r.status as LoginRequest["status"], reason: r.reason, expiresAt: new Date(r.expires_at), polledAt: r.polled_at === null ? null : new Date(r.polled_at) };
  }

  /** A sign-in by its user code (any status). */
  async byUserCode(userCode: string): Promise<LoginRequest | undefined> {
    const r = await this.#db.selectFrom("login_requests").select(["id", "user_code", "status", "reason", "expires_at", "polled_at"]).where("user_code", "=", userCode).executeTakeFirst();
    return r === undefined ? undefined : this.#row(r);
  }

  /** A sign-in by its device code (any status). */
  async byDeviceCode(deviceCode: string): Promise<LoginRequest | undefined> {
    const r = await this.#db
      .selectFrom("login_requests")
      .select(["id", "user_code", "status", "reason", "expires_at", "polled_at"])
      .where("device_hash", "=", digestOf(deviceCode))
      .executeTakeFirst();
    return r === undefined ? undefined : this.#row(r);
  }

  /** Notes a poll; the previous poll's time is in the row read before. */
  async polled(id: string): Promise<void> {
    await this.#db.updateTable("login_requests").set({ polled_at: this.#iso() }).where("id", "=", id).execute();
  }

  /**
   * The browser continues to the identity provider: keeps this attempt's state, nonce and sealed PKCE
   * verifier and the digest of the browser's cookie. A second click starts a new attempt (the old state stops).
   */
  async start(id: string, p: { state: string; nonce: string; verifier: string; binding: string }): Promise<boolean> {
    const r = await this.#db
      .updateTable("login_requests")
      .set({ status: "started", state: p.state, nonce: p.nonce, pkce_verifier: sealSecret(this.#key, p.verifier, `login:${id}`), binding: digestOf(p.binding) })
      .where("id", "=", id)
      .where("status", "in", ["pending", "started"])
      .where("expires_at", ">", this.#iso())
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /**
   * The callback takes the attempt named by `state`, once: its nonce and PKCE verifier, and whether the
   * browser is the one that started it. Undefined when no live attempt has that state (unknown, used, expired).
   */
  async takeAttempt(state: string): Promise<{ request: LoginRequest; nonce: string; verifier: string; bindingDigest: string | null } | undefined> {
    const r = await this.#db
      .selectFrom("login_requests")
      .select(["id", "user_code", "status", "reason", "expires_at", "polled_at", "nonce", "pkce_verifier", "binding"])
      .where("state", "=", state)
      .where("status", "=", "started")
      .executeTakeFirst();
    if (r === undefined || r.nonce === null || r.pkce_verifier === null) return undefined;
    // One use: whoever clears the state first owns the attempt.
    const took = await this.#db.updateTable("login_requests").set({ state: null }).where("id", "=", r.id).where("state", "=", state).executeTakeFirst();
    if (took.numUpdatedRows === 0n) return undefined;
    const request = this.#row(r);
    if (request.expiresAt.getTime() <= this.#now()) return undefined;
    return { request, nonce: r.nonce, verifier: openSealed(this.#openingKeys, r.pkce_verifier, `login:${r.id}`), bindingDigest: r.binding };
  }

  /** The identity provider vouched for the person: the poll may now make the session. */
  async approve(id: string, a: ApprovedLogin): Promise<boolean> {
    const r = await this.#db
      .updateTable("login_requests")
      .set({
        status: "approved",
        user_id: a.userId,
        role: a.role,
        groups: JSON.stringify(a.groups),
        idp_refresh: a.idpRefreshToken === undefined ? null : sealSecret(this.#key, a.idpRefreshToken, `login:${id}`),
        pkce_verifier: null,
        nonce: null,
      })
      .where("id", "=", id)
      .where("status", "=", "started")
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** The sign-in failed: the device code ends `access_denied`, with the reason. */
  async deny(id: string, reason: string): Promise<void> {
    await this.#db
      .updateTable("login_requests")
      .set({ status: "denied", reason: reason.slice(0, 500), state: null, pkce_verifier: null, nonce: null, idp_refresh: null })
      .where("id", "=", id)
      .where("status", "in", ["pending", "started"])
      .execute();
  }

  /** The poll takes an approved sign-in, once (the row keeps no secret afterwards). */
  async claim(id: string): Promise<ApprovedLogin | undefined> {
    const r = await this.#db.selectFrom("login_requests").select(["user_id", "role", "groups", "idp_refresh"]).where("id", "=", id).where("status", "=", "approved").executeTakeFirst();
    if (r === undefined || r.user_id === null || r.role === null) return undefined;
    const took = await this.#db.updateTable("login_requests").set({ status: "done", idp_refresh: null }).where("id", "=", id).where("status", "=", "approved").executeTakeFirst();
    if (took.numUpdatedRows === 0n) return undefined;
    let groups: string[] = [];
    try {
      const parsed = JSON.parse(r.groups ?? "[]") as unknown;
      if (Array.isArray(parsed)) groups = parsed.filter((g): g is string => typeof g === "string");
    } catch {
      groups = [];
    }
    return { userId: r.user_id, role: r.role as BrokerRole, groups, idpRefreshToken: r.idp_refresh === null ? undefined : openSealed(this.#openingKeys, r.idp_refresh, `login:${id}`) };
  }
}
