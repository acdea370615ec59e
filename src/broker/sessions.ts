/**
 * Sessions: a signed-in person's short-lived access token and the refresh token that renews it
 * (BROKER.md "Signing in with an identity provider"). Shared by every way of signing in: the device
 * flow through the identity provider (`source: "oidc"`) and the web console (`source: "token"` for a
 * broker-token sign-in, or `"oidc"`). Only SHA-256 digests of the two tokens are stored; the identity
 * provider's refresh token is sealed under the master key, bound to the session's row. Every lookup
 * reads the store, so a session ended on one instance (deleted user, sign-out, refused renewal) is
 * refused by every instance on its next request.
 *
 * API (one {@link SessionService} per broker, `ctx.sessions`):
 * - `create({ userId, source, role, groups, idpRefreshToken? })` → `{ id, accessToken, refreshToken,
 *   accessExpiresAt, endsAt }`: the tokens are shown only now.
 * - `callerByAccessHash(hashSessionToken(token))` → the caller (`StoredUser` with `groups` and
 *   `session`), or undefined when unknown, past its TTL or past its end.
 * - `byRefreshToken(token)` → the session (still live) a refresh token belongs to, with the IdP's
 *   refresh token opened; `renew(session, { groups?, role?, idpRefreshToken? })` → new tokens (the old
 *   pair stops), or undefined when another renewal won or the session ended meanwhile.
 * - `end(id)`, `endAllOf(userId)`: sign-out, and what deleting a user does.
 *
 * @example
 * ```ts
 * const s = await ctx.sessions.create({ userId: user.id, source: "token", role: user.role, groups: [] });
 * reply.setCookie("kubeiam_session", s.accessToken, { httpOnly: true, sameSite: "lax" });
 * const caller = await ctx.sessions.callerByAccessHash(hashSessionToken(cookie));
 * ```
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { openSealed, sealSecret } from "./sealing.js";
import { reusableQuery } from "./store/reusable-query.js";
import type { BrokerDatabase } from "./store/schema.js";
import type { BrokerRole, StoredUser } from "./store/store.js";

/** The prefix of a session's access token (accepted wherever a broker token is). */
export const SESSION_ACCESS_PREFIX = "kbs_";
/** The prefix of a session's refresh token (accepted only by `POST /v1/login/token`). */
export const SESSION_REFRESH_PREFIX = "kbr_";

const ACCESS_RE = /^kbs_[A-Za-z0-9_-]{43}$/;
const REFRESH_RE = /^kbr_[A-Za-z0-9_-]{43}$/;

/** The default lifetime of an access token: 10 minutes. */
export const DEFAULT_SESSION_TTL_MS = 10 * 60_000;
/** The default end of a session, whatever happens: 12 hours. */
export const DEFAULT_SESSION_MAX_MS = 12 * 3600_000;

/**
 * Whether a string has a session access token's shape.
 *
 * @example
 * ```ts
 * isSessionAccessTokenShape("kbs_" + "A".repeat(43)); // true
 * ```
 */
export function isSessionAccessTokenShape(text: string): boolean {
  return ACCESS_RE.test(text);
}

/**
 * Whether a string has a session refresh token's shape.
 *
 * @example
 * ```ts
 * isSessionRefreshTokenShape("kbr_" + "A".repeat(43)); // true
 * ```
 */
export function isSessionRefreshTokenShape(text: string): boolean {
  return REFRESH_RE.test(text);
}

/**
 * The digest the store keeps of a session token: SHA-256 of its text, hex (as broker tokens).
 *
 * @example
 * ```ts
 * const caller = await sessions.callerByAccessHash(hashSessionToken(token));
 * ```
 */
export function hashSessionToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function newToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** How a session began. */
export type SessionSource = "oidc" | "token";

/** A session's new tokens, shown once. */
export interface IssuedSession {
  id: string;
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: Date;
  endsAt: Date;
}

/** A live session found by its refresh token. */
export interface LiveSession {
  id: string;
  userId: string;
  userName: string;
  source: SessionSource;
  role: BrokerRole;
  groups: string[];
  refreshHash: string;
  /** The identity provider's refresh token (opened), when the session has one. */
  idpRefreshToken: string | undefined;
  endsAt: Date;
}

/** What {@link SessionService.create} needs. */
export interface NewSession {
  userId: string;
  source: SessionSource;
  role: BrokerRole;
  groups: readonly string[];
  /** The identity provider's refresh token; sealed at rest. */
  idpRefreshToken?: string | undefined;
}

/** Options of {@link SessionService}. */
export interface SessionServiceOptions {
  /** Lifetime of an access token in ms; {@link DEFAULT_SESSION_TTL_MS} by default. */
  ttlMs?: number;
  /** A session's hard end in ms after it began; {@link DEFAULT_SESSION_MAX_MS} by default. */
  maxMs?: number;
  /** The master key (seals the IdP's refresh token). */
  masterKey: Buffer;
  /** Keys that only open (a rotation's old keys; see sealing.ts). */
  retiredKeys?: readonly Buffer[];
  now: () => number;
}

function parseGroups(text: string | null): string[] {
  if (text === null) return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.filter((g): g is string => typeof g === "string") : [];
  } catch {
    return [];
  }
}

/**
 * The session store's service (see the top of this file).
 *
 * @example
 * ```ts
 * const sessions = new SessionService(store.db, { masterKey, now: Date.now });
 * ```
 */
export class SessionService {
  readonly db: Kysely<BrokerDatabase>;
  /** Lifetime of an access token, ms. */
  readonly ttlMs: number;
  /** A session's hard end after it began, ms. */
  readonly maxMs: number;
  readonly #masterKey: Buffer;
  readonly #openingKeys: readonly Buffer[];
  readonly #now: () => number;
  readonly #byAccessHash;

  constructor(db: Kysely<BrokerDatabase>, options: SessionServiceOptions) {
    this.db = db;
    this.ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.maxMs = options.maxMs ?? DEFAULT_SESSION_MAX_MS;
    this.#masterKey = options.masterKey;
    this.#openingKeys = [options.masterKey, ...(options.retiredKeys ?? [])];
    this.#now = options.now;
    this.#byAccessHash = reusableQuery((hash, now) =>
      db
        .selectFrom("sessions")
        .innerJoin("users", "users.id", "sessions.user_id")
        .select(["sessions.id as session_id", "sessions.role", "sessions.groups", "sessions.source", "users.id as user_id", "users.name as user_name"])
        .where("sessions.access_hash", "=", hash)
        .where("sessions.access_expires_at", ">", now)
        .where("sessions.ends_at", ">", now),
    );
  }

  #seal(id: string, token: string | undefined): string | null {
    return token === undefined || token === "" ? null : sealSecret(this.#masterKey, token, `session:${id}`);
  }

  /** Starts a session; its tokens are in the answer and nowhere else. */
  async create(s: NewSession): Promise<IssuedSession> {
    const id = randomUUID();
    const now = this.#now();
    const endsAt = new Date(now + this.maxMs);
    const accessExpiresAt = new Date(Math.min(now + this.ttlMs, endsAt.getTime()));
    const accessToken = newToken(SESSION_ACCESS_PREFIX);
    const refreshToken = newToken(SESSION_REFRESH_PREFIX);
    const time = new Date(now).toISOString();
    await this.db
      .insertInto("sessions")
      .values({
        id,
        user_id: s.userId,
        source: s.source,
        role: s.role,
        groups: JSON.stringify([...s.groups]),
        access_hash: hashSessionToken(accessToken),
        access_expires_at: accessExpiresAt.toISOString(),
        refresh_hash: hashSessionToken(refreshToken),
        idp_refresh: this.#seal(id, s.idpRefreshToken),
        created_at: time,
        renewed_at: time,
        ends_at: endsAt.toISOString(),
      })
      .execute();
    return { id, accessToken, refreshToken, accessExpiresAt, endsAt };
  }

  /** The caller holding a live access token, by its digest; read on every request, never cached. */
  async callerByAccessHash(hash: string): Promise<StoredUser | undefined> {
    const r = (await this.db.executeQuery(this.#byAccessHash(hash, new Date(this.#now()).toISOString()))).rows[0];
    if (r === undefined) return undefined;
    return { id: r.user_id, name: r.user_name, role: r.role as BrokerRole, groups: parseGroups(r.groups), session: r.session_id, source: r.source };
  }

  /** The live session a refresh token belongs to (not past its end), with the IdP's refresh token opened. */
  async byRefreshToken(refreshToken: string): Promise<LiveSession | undefined> {
    if (!isSessionRefreshTokenShape(refreshToken)) return undefined;
    const hash = hashSessionToken(refreshToken);
    const r = await this.db
      .selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .select(["sessions.id", "sessions.source", "sessions.role", "sessions.groups", "sessions.idp_refresh", "sessions.ends_at", "sessions.refresh_hash", "users.id as user_id", "users.name as user_name"])
      .where("sessions.refresh_hash", "=", hash)
      .where("sessions.ends_at", ">", new Date(this.#now()).toISOString())
      .executeTakeFirst();
    if (r === undefined) return undefined;
    return {
      id: r.id,
      userId: r.user_id,
      userName: r.user_name,
      source: r.source as SessionSource,
      role: r.role as BrokerRole,
      groups: parseGroups(r.groups),
      refreshHash: r.refresh_hash,
      idpRefreshToken: r.idp_refresh === null ? undefined : openSealed(this.#openingKeys, r.idp_refresh, `session:${r.id}`),
      endsAt: new Date(r.ends_at),
    };
  }

  /**
   * New tokens for a live session (the old pair stops at once), with what the identity provider
   * said this time. Compare-and-swap on the refresh token's digest: of two renewals with the same
   * refresh token, one wins and the other gets undefined.
   */
  async renew(session: LiveSession, update: { groups?: readonly string[]; role?: BrokerRole; idpRefreshToken?: string | undefined } = {}): Promise<IssuedSession | undefined> {
    const now = this.#now();
    if (now >= session.endsAt.getTime()) return undefined;
    const accessToken = newToken(SESSION_ACCESS_PREFIX);
    const refreshToken = newToken(SESSION_REFRESH_PREFIX);
    const accessExpiresAt = new Date(Math.min(now + this.ttlMs, session.endsAt.getTime()));
    const r = await this.db
      .updateTable("sessions")
      .set({
        access_hash: hashSessionToken(accessToken),
        access_expires_at: accessExpiresAt.toISOString(),
        refresh_hash: hashSessionToken(refreshToken),
        renewed_at: new Date(now).toISOString(),
        ...(update.groups === undefined ? {} : { groups: JSON.stringify([...update.groups]) }),
        ...(update.role === undefined ? {} : { role: update.role }),
        ...(update.idpRefreshToken === undefined ? {} : { idp_refresh: this.#seal(session.id, update.idpRefreshToken) }),
      })
      .where("id", "=", session.id)
      .where("refresh_hash", "=", session.refreshHash)
      .where("ends_at", ">", new Date(now).toISOString())
      .executeTakeFirst();
    if (r.numUpdatedRows === 0n) return undefined;
    return { id: session.id, accessToken, refreshToken, accessExpiresAt, endsAt: session.endsAt };
  }

  /** Ends one session (sign-out, refused renewal); true when it existed. */
  async end(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom("sessions").where("id", "=", id).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  /** Ends every session of a user; the number ended. */
  async endAllOf(userId: string): Promise<number> {
    const r = await this.db.deleteFrom("sessions").where("user_id", "=", userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Removes sessions past their end (lookups never see them anyway); the number removed. Run by the
   * broker's sweeper, off the request path.
   */
  async sweep(): Promise<number> {
    const r = await this.db.deleteFrom("sessions").where("ends_at", "<=", new Date(this.#now()).toISOString()).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
