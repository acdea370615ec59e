/**
 * The broker's queries, written once over Kysely for SQLite and PostgreSQL: users and their token
 * digests, grants, sealed credentials, clusters, and the audit trail. Every change that touches more
 * than one row runs in one transaction; "name taken" comes back as a typed answer, never a driver error.
 */
import { randomUUID } from "node:crypto";
import { sql, type CompiledQuery, type Kysely, type RawBuilder } from "kysely";
import { StoreError } from "../errors.js";
import type { StoreDialect } from "./open.js";
import type { BrokerDatabase, ClustersTable } from "./schema.js";
import { reusableQuery } from "./reusable-query.js";
import type { AccessChangeFeed } from "../access-cache.js";
import type { AuditVerification } from "../audit-chain.js";
import { appendAudit, pruneAudit, verifyAudit, type SnapshotReader } from "./audit-store.js";
import { retiredTokenDigest } from "../tokens.js";

/** A user's role. */
export type BrokerRole = "admin" | "user";

/** The cloud a credential or cluster is for: the id of one of the engines of `../engines.ts` (`ncp`, …). */
export type BrokerProvider = string;

/** An authenticated caller. */
export interface StoredUser {
  id: string;
  name: string;
  role: BrokerRole;
  /**
   * The caller's groups, when they came through a session (the identity provider's groups claim):
   * grants to `group:NAME` apply to them. None for static tokens.
   */
  groups?: readonly string[];
  /** The session id, when the caller presented a session access token. */
  session?: string;
  /** How the session began (`oidc`, `token`), when there is one. */
  source?: string;
}

/** Whom a grant is for: a user by name, or every member of a group (`group:NAME`). */
export type GrantSubject = { kind: "user"; name: string } | { kind: "group"; name: string };

/** A grant as listed. */
export interface StoredGrant {
  /** The cluster's name, or `*`. */
  cluster: string;
  /** The credential tokens are minted with; `null`: the cluster's own. */
  as: string | null;
  /** When the grant ends (ISO 8601, UTC); `null`: never. */
  expiresAt: string | null;
  createdAt: string;
}

/** What a grant carries besides its subject and cluster. */
export interface GrantTerms {
  /** A credential's name to mint with instead of the cluster's own. */
  as?: string;
  /** When the grant ends. */
  expiresAt?: Date;
}

/** How {@link BrokerStore.putGrant} can end. */
export type PutGrantResult =
  | { result: "ok" }
  | { result: "no-user" | "no-cluster" | "no-credential" }
  | { result: "wrong-cloud"; credentialProvider: BrokerProvider; clusterProvider: BrokerProvider };

/** A credential row (the secrets still sealed). */
export interface StoredCredential {
  id: string;
  name: string;
  provider: BrokerProvider;
  sealed: string;
}

/** A cluster row. */
export interface StoredCluster {
  id: string;
  name: string;
  provider: BrokerProvider;
  credentialId: string;
  region: string;
  connection: string;
  endpoint: string;
  caData: string | null;
  /** The cluster's status when it was registered. */
  status: string;
  /** What locates the cluster in its cloud (the engine's locator) as JSON text; null only on an unlocatable row from before schema 4. */
  locator: string | null;
  createdAt: string;
}

/** One audit row to write. */
export interface AuditRecord {
  time: string;
  actor: string;
  action: string;
  cluster?: string | null;
  outcome: string;
  remote?: string | null;
  instance: string;
  reason?: string | null;
  /** The credential a token was minted with (token rows only). */
  credential?: string | null;
}

/** One audit row as read back. */
export interface AuditEntry extends AuditRecord {
  id: number;
}

/** What a token request needs, read in one query: the cluster, the credential to mint with, the grant (and, for a refusal, a second read: when a grant ended). */
export interface ClusterAccess {
  cluster: StoredCluster;
  /**
   * The sealed credential tokens for this caller are minted with: the one their grant acts as
   * (`as`), else the cluster's own.
   */
  credential: StoredCredential;
  /** Whether a grant in force (or the admin role) lets the caller reach the cluster. */
  granted: boolean;
  /** When not granted: the latest end of a grant that would have (ISO 8601), so "ended" can be said. */
  endedAt?: string;
  /** When the grant in force (the one chosen: its `as` credential) ends, if it does (ISO 8601). */
  grantEndsAt?: string;
}

/**
 * What a token request needs, read in one query: the caller holding a token digest and, for them, the
 * cluster asked for with its sealed credential and the grant (`access` undefined: no such cluster).
 */
export interface TokenAccess {
  user: StoredUser;
  access: ClusterAccess | undefined;
}

/** One row of the access query (see `BrokerStore.#accessQuery`). */
interface AccessRow {
  user_id: string;
  user_name: string;
  user_role: string;
  c_id: string | null;
  c_name: string | null;
  c_provider: string | null;
  c_credential_id: string | null;
  c_region: string | null;
  c_connection: string | null;
  c_endpoint: string | null;
  c_ca_data: string | null;
  c_status: string | null;
  c_locator: string | null;
  c_created_at: string | null;
  cred_name: string | null;
  cred_provider: string | null;
  cred_sealed: string | null;
  grant_id: string | null;
  grant_expires_at: string | null;
  as_id: string | null;
  as_name: string | null;
  as_provider: string | null;
  as_sealed: string | null;
}

/**
 * The access query's columns in the order they are packed (every column of {@link AccessRow}): the
 * row comes back as one JSON array, because node-postgres describes and decodes each column of each
 * answer anew (a field object, a parser and a property per column, per request), which for 22
 * columns cost more of a token request than the query's round trip; better-sqlite3 too builds a row
 * of 22 properties in about twice the time of one string and its JSON.parse.
 */
const ACCESS_FIELDS = [
  "user_id",
  "user_name",
  "user_role",
  "c_id",
  "c_name",
  "c_provider",
  "c_credential_id",
  "c_region",
  "c_connection",
  "c_endpoint",
  "c_ca_data",
  "c_status",
  "c_locator",
  "c_created_at",
  "cred_name",
  "cred_provider",
  "cred_sealed",
  "grant_id",
  "grant_expires_at",
  "as_id",
  "as_name",
  "as_provider",
  "as_sealed",
] as const satisfies readonly (keyof AccessRow)[];

/**
 * The access row as the store sends it: {@link ACCESS_FIELDS}' values in one JSON array (PostgreSQL's
 * json, parsed by the driver; SQLite's text, parsed here).
 */
interface PackedAccessRow {
  access: unknown;
}

/** An {@link AccessRow} from its packed JSON array (the store's own output, checked for shape). */
function unpackAccessRow(values: unknown): AccessRow {
  if (!Array.isArray(values) || values.length !== ACCESS_FIELDS.length || !values.every((v) => v === null || typeof v === "string")) {
    throw new StoreError("the store answered the access query with an unexpected row: check the database's integrity");
  }
  const row: Partial<Record<keyof AccessRow, string | null>> = {};
  ACCESS_FIELDS.forEach((field, i) => (row[field] = values[i] as string | null));
  // Complete: one value per field, each a string or null, as the columns are.
  return row as AccessRow;
}

/** What {@link BrokerStore} may be given besides the database (open.ts gives both). */
export interface BrokerStoreOptions {
  /** Commits audit rows elsewhere (the embedded store's worker thread); `prune` removes old ones there. */
  auditSink?: ((rows: AuditRecord[]) => Promise<void>) & { prune?: (before: string, limit: number) => Promise<number> };
  /** Reads in one consistent snapshot (verifying the chain while rows are appended and pruned). */
  snapshot?: SnapshotReader;
  /** Announces changes of access (PostgreSQL: access-feed.ts), so that granted access may be kept briefly. */
  accessFeed?: AccessChangeFeed;
}

/** How a change that names things can end. */
export type ChangeResult = "ok" | "taken" | "not-found" | "in-use" | "no-user" | "no-cluster";

function toCluster(r: ClustersTable): StoredCluster {
  return {
    id: r.id,
    name: r.name,
    provider: r.provider as BrokerProvider,
    credentialId: r.credential_id,
    region: r.region,
    connection: r.connection,
    endpoint: r.endpoint,
    caData: r.ca_data,
    status: r.status,
    locator: r.locator,
    createdAt: r.created_at,
  };
}

/** Whether a driver error is a foreign-key violation (a row referred to was deleted meanwhile). */
function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23503" || code === "SQLITE_CONSTRAINT_FOREIGNKEY";
}

/**
 * The condition "grant `g` covers the caller and the cluster": the caller's own grant or one of one of
 * their groups, for this cluster or for `*`. `user` and `cluster` are the outer query's columns or values.
 */
function grantCovers(user: RawBuilder<unknown>, cluster: RawBuilder<unknown>, groups: readonly string[]) {
  const byGroup = groups.length === 0 ? sql`` : sql` OR g.group_name IN (${sql.join(groups.map((x) => sql`${x}`))})`;
  return sql`(g.user_id = ${user}${byGroup}) AND (g.cluster_id = ${cluster} OR g.cluster_id IS NULL)`;
}

/**
 * The grant in force that decides how a caller reaches a cluster: their own before a group's, a
 * grant of this cluster before `*`, then by group name (so the choice never varies between requests).
 */
function chosenGrantId(userRef: string, clusterRef: string, groups: readonly string[], now: string) {
  return sql<string | null>`(SELECT g.id FROM grants g WHERE ${grantCovers(sql.ref(userRef), sql.ref(clusterRef), groups)} AND (g.expires_at IS NULL OR g.expires_at > ${now})
    ORDER BY (g.user_id IS NULL), (g.cluster_id IS NULL), g.group_name LIMIT 1)`;
}

/** The latest end of a grant that covered the caller and the cluster and has ended (read only for a refusal). */
function endedAt(userId: string, clusterId: string, groups: readonly string[], now: string) {
  return sql<{ ended_at: string | null }>`SELECT MAX(g.expires_at) AS ended_at FROM grants g WHERE ${grantCovers(sql`${userId}`, sql`${clusterId}`, groups)} AND g.expires_at <= ${now}`;
}

/**
 * Remembers a token digest that stopped working as retired, by a digest of it (tokens.ts), with its
 * former owner. A digest seen before (a name reused, then deleted again) keeps its first row.
 */
async function retireToken(tx: Kysely<BrokerDatabase>, tokenHash: string, userName: string, why: string, now: Date): Promise<void> {
  await tx
    .insertInto("retired_tokens")
    .values({ digest: retiredTokenDigest(tokenHash), user_name: userName, why, retired_at: now.toISOString() })
    .onConflict((oc) => oc.column("digest").doNothing())
    .execute();
}

/** How many group stand-ins a compiled access query is kept for; callers with more groups build theirs each time. */
const MAX_COMPILED_GROUPS = 64;

/** A NOT NULL column of a left-joined row that matched; null there means the store is broken. */
function joined<T>(value: T | null): T {
  if (value === null) throw new StoreError("the store returned a cluster without one of its columns: check the database's integrity");
  return value;
}

/**
 * Whether a driver error is a unique-constraint violation (SQLite's SQLITE_CONSTRAINT_UNIQUE or
 * PRIMARYKEY, PostgreSQL's 23505): a name taken by another request at the same moment.
 */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/**
 * The broker's store: one instance per process, over an open Kysely database.
 *
 * @example
 * ```ts
 * const store = new BrokerStore(db, "sqlite");
 * const user = await store.userByTokenHash(hashBrokerToken(token));
 * ```
 */
export class BrokerStore {
  readonly db: Kysely<BrokerDatabase>;
  readonly dialect: StoreDialect;
  /** Announces changes of access, when the store can (PostgreSQL); see ../access-cache.ts. */
  readonly accessFeed: AccessChangeFeed | undefined;
  /** Commits audit rows elsewhere (the embedded store's worker thread) when given. */
  readonly #auditSink: ((rows: AuditRecord[]) => Promise<void>) | undefined;
  /** Prunes audit rows there too, so one connection writes the audit table. */
  readonly #auditPrune: ((before: string, limit: number) => Promise<number>) | undefined;
  readonly #snapshot: SnapshotReader;

  constructor(db: Kysely<BrokerDatabase>, dialect: StoreDialect, options: BrokerStoreOptions = {}) {
    this.db = db;
    this.dialect = dialect;
    this.#auditSink = options.auditSink;
    this.#auditPrune = options.auditSink?.prune;
    // Without a snapshot reader (a store built by hand), pages are read as they are.
    this.#snapshot = options.snapshot ?? ((read) => read(db));
    this.accessFeed = options.accessFeed;
    this.#userByTokenHash = reusableQuery((tokenHash) => db.selectFrom("users").select(["id", "name", "role"]).where("token_hash", "=", tokenHash));
  }

  /**
   * The access query: the caller (by token digest or by id) left-joined to the one cluster of that
   * name (names are unique), its credential, the grant in force that decides (with the credential it
   * acts as). One round trip answers "who", "which cluster with which key" and "may they"; when
   * they may not, a second read says whether a grant has ended. Compiled once per way of finding the caller and number of groups.
   */
  #accessQuery(by: "token_hash" | "id", groupCount: number): (...values: unknown[]) => CompiledQuery<PackedAccessRow> {
    const key = `${by}:${groupCount}`;
    let q = this.#accessQueries.get(key);
    if (q === undefined) {
      const db = this.db;
      const columns = (userKey: string, name: string, now: string, ...groups: string[]) =>
        db
          .selectFrom("users")
          .leftJoin("clusters", (join) => join.on("clusters.name", "=", name))
          .leftJoin("credentials", "credentials.id", "clusters.credential_id")
          .leftJoin("grants as chosen", (join) => join.on(sql<boolean>`chosen.id = ${chosenGrantId("users.id", "clusters.id", groups, now)}`))
          .leftJoin("credentials as as_cred", "as_cred.id", "chosen.as_credential_id")
          .select([
            "users.id as user_id",
            "users.name as user_name",
            "users.role as user_role",
            "clusters.id as c_id",
            "clusters.name as c_name",
            "clusters.provider as c_provider",
            "clusters.credential_id as c_credential_id",
            "clusters.region as c_region",
            "clusters.connection as c_connection",
            "clusters.endpoint as c_endpoint",
            "clusters.ca_data as c_ca_data",
            "clusters.status as c_status",
            "clusters.locator as c_locator",
            "clusters.created_at as c_created_at",
            "credentials.name as cred_name",
            "credentials.provider as cred_provider",
            "credentials.sealed as cred_sealed",
            "chosen.id as grant_id",
            "chosen.expires_at as grant_expires_at",
            "as_cred.id as as_id",
            "as_cred.name as as_name",
            "as_cred.provider as as_provider",
            "as_cred.sealed as as_sealed",
          ])
          .where(`users.${by}`, "=", userKey);
      const pack = sql.raw(this.dialect === "postgres" ? "json_build_array" : "json_array");
      q = reusableQuery(
        (userKey: string, name: string, now: string, ...groups: string[]) =>
          db.selectFrom(columns(userKey, name, now, ...groups).as("a")).select(sql<unknown>`${pack}(${sql.join(ACCESS_FIELDS.map((f) => sql.ref(`a.${f}`)))})`.as("access")),
        3 + groupCount,
      );
      if (groupCount <= MAX_COMPILED_GROUPS) this.#accessQueries.set(key, q);
    }
    return q;
  }

  /** Reads the access row for a caller and a cluster; `undefined` when no user matches. */
  async #readAccess(by: "token_hash" | "id", userKey: string, clusterName: string, groups: readonly string[], now: Date): Promise<TokenAccess | undefined> {
    const got = (await this.db.executeQuery(this.#accessQuery(by, groups.length)(userKey, clusterName, now.toISOString(), ...groups))).rows[0];
    if (got === undefined) return undefined;
    const r = unpackAccessRow(typeof got.access === "string" ? JSON.parse(got.access) : got.access);
    const user: StoredUser = { id: r.user_id, name: r.user_name, role: r.user_role as BrokerRole, ...(groups.length === 0 ? {} : { groups }) };
    if (r.c_id === null) return { user, access: undefined };
    // Left-joined columns are typed nullable; a joined row has them all (NOT NULL columns, and the foreign key).
    const cluster = toCluster({
      id: r.c_id,
      name: joined(r.c_name),
      provider: joined(r.c_provider),
      credential_id: joined(r.c_credential_id),
      region: joined(r.c_region),
      connection: joined(r.c_connection),
      endpoint: joined(r.c_endpoint),
      ca_data: r.c_ca_data,
      status: joined(r.c_status),
      locator: r.c_locator,
      created_at: joined(r.c_created_at),
    });
    const credential: StoredCredential =
      r.as_id === null
        ? { id: cluster.credentialId, name: joined(r.cred_name), provider: joined(r.cred_provider) as BrokerProvider, sealed: joined(r.cred_sealed) }
        : { id: r.as_id, name: joined(r.as_name), provider: joined(r.as_provider) as BrokerProvider, sealed: joined(r.as_sealed) };
    const granted = user.role === "admin" || r.grant_id !== null;
    if (granted) return { user, access: { cluster, credential, granted, ...(r.grant_expires_at === null ? {} : { grantEndsAt: r.grant_expires_at }) } };
    // A refusal only: whether a grant has ended, so the 403 can say when (the read every granted
    // request would otherwise pay for in the query above).
    const ended = (await endedAt(user.id, cluster.id, groups, now.toISOString()).execute(this.db)).rows[0]?.ended_at ?? null;
    return { user, access: { cluster, credential, granted, ...(ended === null ? {} : { endedAt: ended }) } };
  }

  // The queries of every request, compiled once (see reusable-query.ts).
  readonly #userByTokenHash;
  readonly #accessQueries = new Map<string, (...values: unknown[]) => CompiledQuery<PackedAccessRow>>();

  /**
   * Runs `work` in a transaction that writes. On SQLite it starts with BEGIN IMMEDIATE: a deferred
   * transaction that reads first cannot take the write lock once the audit writer's connection has
   * committed meanwhile (SQLITE_BUSY at once, whatever the busy timeout), while an immediate one
   * waits for the lock like any single write.
   */
  async #writeTransaction<T>(work: (tx: Kysely<BrokerDatabase>) => Promise<T>): Promise<T> {
    if (this.dialect !== "sqlite") return this.db.transaction().execute(work);
    return this.db.connection().execute(async (conn) => {
      await sql.raw("BEGIN IMMEDIATE").execute(conn);
      try {
        const result = await work(conn);
        await sql.raw("COMMIT").execute(conn);
        return result;
      } catch (error) {
        await sql.raw("ROLLBACK").execute(conn).catch(() => undefined);
        throw error;
      }
    });
  }

  /** Answers when the database does (for /healthz). */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  /** The user holding a token, by its digest; read on every request, never cached. */
  async userByTokenHash(tokenHash: string): Promise<StoredUser | undefined> {
    const r = (await this.db.executeQuery(this.#userByTokenHash(tokenHash))).rows[0];
    return r === undefined ? undefined : { id: r.id, name: r.name, role: r.role as BrokerRole };
  }

  /** Every user, by name. */
  async listUsers(): Promise<{ name: string; role: BrokerRole; source: string; createdAt: string }[]> {
    const rows = await this.db.selectFrom("users").select(["name", "role", "source", "created_at"]).orderBy("name").execute();
    return rows.map((r) => ({ name: r.name, role: r.role as BrokerRole, source: r.source, createdAt: r.created_at }));
  }

  /**
   * The user a person signed in as (the identity provider's username claim), created on their first
   * sign-in with source `oidc`, the role `user` and no static token (the stored digest is no SHA-256
   * of anything). An existing user of that name is the same person.
   */
  async signedInUser(name: string, now: Date): Promise<{ id: string; name: string; created: boolean }> {
    const find = () => this.db.selectFrom("users").select(["id", "name"]).where("name", "=", name).executeTakeFirst();
    const existing = await find();
    if (existing !== undefined) return { ...existing, created: false };
    const time = now.toISOString();
    const id = randomUUID();
    try {
      await this.db
        .insertInto("users")
        .values({ id, name, role: "user", source: "oidc", token_hash: `none:${randomUUID()}`, created_at: time, token_created_at: time })
        .execute();
      return { id, name, created: true };
    } catch (error) {
      // Another instance created them at the same moment.
      if (!isUniqueViolation(error)) throw error;
      const again = await find();
      if (again === undefined) throw error;
      return { ...again, created: false };
    }
  }

  /** Adds a user with a token digest; `taken` when the name (or, astronomically unlikely, the digest) exists. */
  async createUser(name: string, role: BrokerRole, tokenHash: string, now: Date): Promise<"ok" | "taken"> {
    const time = now.toISOString();
    try {
      await this.db.insertInto("users").values({ id: randomUUID(), name, role, token_hash: tokenHash, created_at: time, token_created_at: time }).execute();
      return "ok";
    } catch (error) {
      if (isUniqueViolation(error)) return "taken";
      throw error;
    }
  }

  /** Removes a user, their grants and their sessions; their token is remembered as retired. */
  async deleteUser(name: string, now: Date): Promise<"ok" | "not-found"> {
    return this.#writeTransaction(async (tx) => {
      const user = await tx.selectFrom("users").select(["id", "token_hash", "source"]).where("name", "=", name).executeTakeFirst();
      if (user === undefined) return "not-found";
      await tx.deleteFrom("grants").where("user_id", "=", user.id).execute();
      // Their sessions end on every instance: each request reads the sessions table.
      await tx.deleteFrom("sessions").where("user_id", "=", user.id).execute();
      await tx.deleteFrom("login_requests").where("user_id", "=", user.id).execute();
      await tx.deleteFrom("users").where("id", "=", user.id).execute();
      if (user.source === "token") await retireToken(tx, user.token_hash, name, "deleted", now);
      return "ok";
    });
  }

  /**
   * Replaces a user's token digest: the old token stops at once, and is remembered as retired (a
   * digest of its digest) so that presenting it again names the user; the user's sessions (console,
   * sign-in) and approved sign-ins not yet collected end in the same transaction.
   */
  async rotateUserToken(name: string, tokenHash: string, now: Date, why: "rotated" | "replaced" = "rotated"): Promise<"ok" | "not-found"> {
    return this.#writeTransaction(async (tx) => {
      const user = await tx.selectFrom("users").select(["id", "token_hash", "source"]).where("name", "=", name).executeTakeFirst();
      if (user === undefined) return "not-found";
      await tx.updateTable("users").set({ token_hash: tokenHash, token_created_at: now.toISOString() }).where("id", "=", user.id).execute();
      if (user.source === "token") await retireToken(tx, user.token_hash, name, why, now);
      // A rotation answers a token that may be out of hand: the sessions begun with it (the console's)
      // and every other of theirs end with it, on every instance (each request reads the sessions table).
      await tx.deleteFrom("sessions").where("user_id", "=", user.id).execute();
      await tx.deleteFrom("login_requests").where("user_id", "=", user.id).execute();
      return "ok";
    });
  }

  /**
   * Forgets tokens retired before `before` (ISO time): audit retention's cut, so that the names a
   * failed authentication gives are kept as long as the audit rows they explain, and no longer.
   */
  async pruneRetiredTokens(before: string): Promise<number> {
    const r = await this.db.deleteFrom("retired_tokens").where("retired_at", "<", before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Whose a retired token was, by its {@link retiredTokenDigest}: a failed authentication names them. */
  async retiredTokenOwner(digest: string): Promise<{ name: string; why: string; retiredAt: string } | undefined> {
    const r = await this.db.selectFrom("retired_tokens").select(["user_name", "why", "retired_at"]).where("digest", "=", digest).executeTakeFirst();
    return r === undefined ? undefined : { name: r.user_name, why: r.why, retiredAt: r.retired_at };
  }

  /**
   * Grants a user or a group a cluster (or every cluster, `*`), replacing what an earlier grant of the
   * same subject and cluster said (`as`, end). The grant is tied to the user and cluster rows: when
   * either is deleted meanwhile, the foreign key refuses it and the answer says which is gone.
   */
  async putGrant(subject: GrantSubject, cluster: string, terms: GrantTerms, now: Date): Promise<PutGrantResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#writeTransaction(async (tx): Promise<PutGrantResult> => {
          let userId: string | null = null;
          if (subject.kind === "user") {
            const user = await tx.selectFrom("users").select("id").where("name", "=", subject.name).executeTakeFirst();
            if (user === undefined) return { result: "no-user" };
            userId = user.id;
          }
          let clusterId: string | null = null;
          let clusterProvider: BrokerProvider | undefined;
          if (cluster !== "*") {
            const c = await tx.selectFrom("clusters").select(["id", "provider"]).where("name", "=", cluster).executeTakeFirst();
            if (c === undefined) return { result: "no-cluster" };
            clusterId = c.id;
            clusterProvider = c.provider as BrokerProvider;
          }
          let asId: string | null = null;
          if (terms.as !== undefined) {
            const cred = await tx.selectFrom("credentials").select(["id", "provider"]).where("name", "=", terms.as).executeTakeFirst();
            if (cred === undefined) return { result: "no-credential" };
            if (clusterProvider !== undefined && cred.provider !== clusterProvider) {
              return { result: "wrong-cloud", credentialProvider: cred.provider as BrokerProvider, clusterProvider };
            }
            asId = cred.id;
          }
          const values = { as_credential_id: asId, expires_at: terms.expiresAt?.toISOString() ?? null, created_at: now.toISOString() };
          const updated = await tx
            .updateTable("grants")
            .set(values)
            .where((eb) => (userId === null ? eb("group_name", "=", subject.name) : eb("user_id", "=", userId)))
            .where((eb) => (clusterId === null ? eb("cluster_id", "is", null) : eb("cluster_id", "=", clusterId)))
            .executeTakeFirst();
          if (updated.numUpdatedRows === 0n) {
            await tx
              .insertInto("grants")
              .values({ id: randomUUID(), user_id: userId, group_name: userId === null ? subject.name : null, cluster_id: clusterId, ...values })
              .execute();
          }
          return { result: "ok" };
        });
      } catch (error) {
        // The same grant put by another request at the same moment: try again, as an update.
        if (isUniqueViolation(error) && attempt < 2) continue;
        if (!isForeignKeyViolation(error)) throw error;
        // The user, the cluster or the credential was deleted between the look-up and the insert.
        if (subject.kind === "user" && (await this.db.selectFrom("users").select("id").where("name", "=", subject.name).executeTakeFirst()) === undefined) {
          return { result: "no-user" };
        }
        if (terms.as !== undefined && (await this.credentialByName(terms.as)) === undefined) return { result: "no-credential" };
        return { result: "no-cluster" };
      }
    }
  }

  /** Takes a grant back; `no-user` when the user does not exist, `not-found` when the grant does not. */
  async deleteGrant(subject: GrantSubject, cluster: string): Promise<"ok" | "no-user" | "not-found"> {
    let userId: string | null = null;
    if (subject.kind === "user") {
      const user = await this.db.selectFrom("users").select("id").where("name", "=", subject.name).executeTakeFirst();
      if (user === undefined) return "no-user";
      userId = user.id;
    }
    let q = this.db.deleteFrom("grants").where((eb) => (userId === null ? eb("group_name", "=", subject.name) : eb("user_id", "=", userId)));
    q = cluster === "*" ? q.where("cluster_id", "is", null) : q.where("cluster_id", "in", (eb) => eb.selectFrom("clusters").select("id").where("name", "=", cluster));
    const r = await q.executeTakeFirst();
    return r.numDeletedRows > 0n ? "ok" : "not-found";
  }

  /**
   * The grants of a user or a group (cluster names and `*`, ended ones too), or `undefined` when the
   * user does not exist.
   */
  async grantsOf(subject: GrantSubject): Promise<StoredGrant[] | undefined> {
    let q = this.db
      .selectFrom("grants")
      .leftJoin("clusters", "clusters.id", "grants.cluster_id")
      .leftJoin("credentials", "credentials.id", "grants.as_credential_id")
      .select(["clusters.name as cluster", "credentials.name as as", "grants.expires_at", "grants.created_at"]);
    if (subject.kind === "user") {
      const user = await this.db.selectFrom("users").select("id").where("name", "=", subject.name).executeTakeFirst();
      if (user === undefined) return undefined;
      q = q.where("grants.user_id", "=", user.id);
    } else {
      q = q.where("grants.group_name", "=", subject.name);
    }
    const rows = await q.execute();
    return rows
      .map((r) => ({ cluster: r.cluster ?? "*", as: r.as, expiresAt: r.expires_at, createdAt: r.created_at }))
      .sort((a, b) => (a.cluster === b.cluster ? 0 : a.cluster === "*" ? -1 : b.cluster === "*" ? 1 : a.cluster < b.cluster ? -1 : 1));
  }

  /** Adds a sealed credential under an id chosen by the caller (it is in the sealing's AAD). */
  async createCredential(row: { id: string; name: string; provider: BrokerProvider; sealed: string }, now: Date): Promise<"ok" | "taken"> {
    try {
      await this.db.insertInto("credentials").values({ ...row, created_at: now.toISOString() }).execute();
      return "ok";
    } catch (error) {
      if (isUniqueViolation(error)) return "taken";
      throw error;
    }
  }

  /**
   * Every credential row, by name. The sealed value comes along for what a listing may show of it
   * (an NCP key's API URL, opened by its engine); routes never answer with it.
   */
  async listCredentials(): Promise<(StoredCredential & { createdAt: string })[]> {
    const rows = await this.db.selectFrom("credentials").select(["id", "name", "provider", "sealed", "created_at"]).orderBy("name").execute();
    return rows.map((r) => ({ id: r.id, name: r.name, provider: r.provider as BrokerProvider, sealed: r.sealed, createdAt: r.created_at }));
  }

  /**
   * Replaces a credential's sealed secrets in place (its id, name, clusters and grants stay), in one
   * transaction: `seal` is given the row's id, which the sealing is bound to. `wrong-cloud` when the
   * row is for another provider than `provider` (nothing changed), `not-found` when there is no row.
   */
  async replaceCredential(name: string, provider: BrokerProvider, seal: (id: string) => string): Promise<{ result: "ok" | "not-found" } | { result: "wrong-cloud"; provider: BrokerProvider }> {
    return this.#writeTransaction(async (tx) => {
      let q = tx.selectFrom("credentials").select(["id", "provider"]).where("name", "=", name);
      if (this.dialect === "postgres") q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (row === undefined) return { result: "not-found" as const };
      if (row.provider !== provider) return { result: "wrong-cloud" as const, provider: row.provider as BrokerProvider };
      await tx.updateTable("credentials").set({ sealed: seal(row.id) }).where("id", "=", row.id).execute();
      return { result: "ok" as const };
    });
  }

  /** One credential row by name. */
  async credentialByName(name: string): Promise<StoredCredential | undefined> {
    const r = await this.db.selectFrom("credentials").select(["id", "name", "provider", "sealed"]).where("name", "=", name).executeTakeFirst();
    return r === undefined ? undefined : { ...r, provider: r.provider as BrokerProvider };
  }

  /** Credential rows by id (the clusters' own, to look them up with), in one query; ids with no row are left out. */
  async credentialsById(ids: readonly string[]): Promise<Map<string, StoredCredential>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows = await this.db.selectFrom("credentials").select(["id", "name", "provider", "sealed"]).where("id", "in", unique).execute();
    return new Map(rows.map((r) => [r.id, { ...r, provider: r.provider as BrokerProvider }]));
  }

  /**
   * Removes a credential unless a cluster uses it or a grant acts as it (`in-use`, naming which:
   * `cluster X` or `the grant of SUBJECT for CLUSTER`).
   */
  async deleteCredential(name: string): Promise<{ result: "ok" | "not-found" | "in-use"; usedBy?: string }> {
    try {
      return await this.#writeTransaction(async (tx) => {
        const cred = await tx.selectFrom("credentials").select("id").where("name", "=", name).executeTakeFirst();
        if (cred === undefined) return { result: "not-found" as const };
        const user = await tx.selectFrom("clusters").select("name").where("credential_id", "=", cred.id).orderBy("name").executeTakeFirst();
        if (user !== undefined) return { result: "in-use" as const, usedBy: `cluster ${user.name}` };
        const grant = await tx
          .selectFrom("grants")
          .leftJoin("users", "users.id", "grants.user_id")
          .leftJoin("clusters", "clusters.id", "grants.cluster_id")
          .select(["users.name as user", "grants.group_name", "clusters.name as cluster"])
          .where("grants.as_credential_id", "=", cred.id)
          .executeTakeFirst();
        if (grant !== undefined) {
          return { result: "in-use" as const, usedBy: `the grant of ${grant.user ?? `group:${grant.group_name ?? "?"}`} for ${grant.cluster ?? "*"}` };
        }
        await tx.deleteFrom("credentials").where("id", "=", cred.id).execute();
        return { result: "ok" as const };
      });
    } catch (error) {
      // A cluster or grant added by another instance between the check and the delete: the foreign key says no.
      if (isForeignKeyViolation(error)) return { result: "in-use" };
      throw error;
    }
  }

  /** Adds a cluster; `taken` when the name exists, `not-found` when the credential went away meanwhile. */
  async createCluster(c: Omit<StoredCluster, "id" | "createdAt">, now: Date): Promise<"ok" | "taken" | "not-found"> {
    try {
      await this.db
        .insertInto("clusters")
        .values({
          id: randomUUID(),
          name: c.name,
          provider: c.provider,
          credential_id: c.credentialId,
          region: c.region,
          connection: c.connection,
          endpoint: c.endpoint,
          ca_data: c.caData,
          status: c.status,
          locator: c.locator,
          created_at: now.toISOString(),
        })
        .execute();
      return "ok";
    } catch (error) {
      if (isUniqueViolation(error)) return "taken";
      const code = (error as { code?: unknown }).code;
      if (code === "23503" || code === "SQLITE_CONSTRAINT_FOREIGNKEY") return "not-found";
      throw error;
    }
  }

  /** Whether a cluster name exists. */
  async clusterExists(name: string): Promise<boolean> {
    return (await this.db.selectFrom("clusters").select("id").where("name", "=", name).executeTakeFirst()) !== undefined;
  }

  /** Removes a cluster; the grants that name it go with it (the foreign key's cascade). */
  async deleteCluster(name: string): Promise<"ok" | "not-found"> {
    const r = await this.db.deleteFrom("clusters").where("name", "=", name).executeTakeFirst();
    return r.numDeletedRows === 0n ? "not-found" : "ok";
  }

  /**
   * The clusters a user may reach: all for an admin, else those granted to them or their groups (or
   * all, with `*`) by a grant in force at `now`.
   */
  async clustersFor(user: StoredUser, now: Date): Promise<StoredCluster[]> {
    let q = this.db.selectFrom("clusters").selectAll("clusters");
    if (user.role !== "admin") {
      const groups = user.groups ?? [];
      q = q.where(sql<boolean>`EXISTS (SELECT 1 FROM grants g WHERE (g.user_id = ${user.id}${groups.length === 0 ? sql`` : sql` OR g.group_name IN (${sql.join(groups.map((x) => sql`${x}`))})`})
        AND (g.cluster_id = clusters.id OR g.cluster_id IS NULL) AND (g.expires_at IS NULL OR g.expires_at > ${now.toISOString()}))`);
    }
    return (await q.orderBy("clusters.name").execute()).map(toCluster);
  }

  /**
   * A cluster, the credential to mint with and whether `user` (with their groups) may reach it at
   * `now`, in one query (a refusal reads once more). Admins may reach every cluster. `undefined` when no cluster has that name.
   */
  async clusterAccess(user: StoredUser, name: string, now: Date): Promise<ClusterAccess | undefined> {
    return (await this.#readAccess("id", user.id, name, user.groups ?? [], now))?.access;
  }

  /**
   * The caller holding a token digest and, for them (and `groups`, what their sign-in carries), a
   * cluster with the credential to mint with and the grant in force at `now`, in one query (a granted
   * token request's only read; a refusal reads once more, for the end of a grant that has ended).
   * `undefined` when no user holds the digest. Always read: a deleted user, a rotated token, a revoked
   * or ended grant or a replaced credential shows in the next answer (the broker may keep a granted
   * answer for up to a second while the store announces changes: ../access-cache.ts).
   */
  async tokenAccess(tokenHash: string, clusterName: string, now: Date, groups: readonly string[] = []): Promise<TokenAccess | undefined> {
    return this.#readAccess("token_hash", tokenHash, clusterName, groups, now);
  }

  /**
   * Appends audit rows to the hash chain in one transaction (see audit-store.ts), as the audit writer
   * batches them; through the embedded store's worker thread when there is one.
   */
  async insertAudit(rows: AuditRecord[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.#auditSink !== undefined) return this.#auditSink(rows);
    await appendAudit(this.db, this.dialect, rows);
  }

  /** Walks the audit chain in one snapshot: ok with the count, or the first bad row and why. */
  async verifyAudit(): Promise<AuditVerification> {
    return verifyAudit(this.#snapshot);
  }

  /**
   * Removes up to `limit` of the oldest audit rows written before `before` (ISO time), keeping the
   * trail verifiable across the cut (audit-store.ts); through the worker thread when there is one.
   */
  async pruneAudit(before: string, limit: number): Promise<number> {
    if (this.#auditPrune !== undefined) return this.#auditPrune(before, limit);
    return pruneAudit(this.db, this.dialect, before, limit);
  }

  /**
   * Audit rows, optionally for one actor or cluster: newest first (before an id), or with `after`
   * oldest first from past an id. Appends commit in id order (the chain's lock), so a reader that
   * pages forward with the last id it saw never misses a row that commits later with a lower id.
   */
  async listAudit(filter: { user?: string; cluster?: string; before?: number; after?: number; limit: number }): Promise<AuditEntry[]> {
    let q = this.db.selectFrom("audit").selectAll();
    if (filter.user !== undefined) q = q.where("actor", "=", filter.user);
    if (filter.cluster !== undefined) q = q.where("cluster", "=", filter.cluster);
    if (filter.before !== undefined) q = q.where("id", "<", filter.before);
    if (filter.after !== undefined) q = q.where("id", ">", filter.after);
    const rows = await q.orderBy("id", filter.after === undefined ? "desc" : "asc").limit(filter.limit).execute();
    // The chain's columns stay inside: GET /v1/audit/verify speaks for them.
    return rows.map(({ prev_hash, hash, ...r }) => ({ ...r, id: Number(r.id) }));
  }
}
