/**
 * The broker's queries, written once over Kysely for SQLite and PostgreSQL: users and their token
 * digests, grants, sealed credentials, clusters, and the audit trail. Every change that touches more
 * than one row runs in one transaction; "name taken" comes back as a typed answer, never a driver error.
 */
import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { StoreError } from "../errors.js";
import type { StoreDialect } from "./open.js";
import type { BrokerDatabase, ClustersTable } from "./schema.js";
import { reusableQuery } from "./reusable-query.js";

/** A user's role. */
export type BrokerRole = "admin" | "user";

/** The clouds a credential or cluster can be for. */
export type BrokerProvider = "ncp" | "aws" | "gcp";

/** An authenticated caller. */
export interface StoredUser {
  id: string;
  name: string;
  role: BrokerRole;
  /** The caller's groups, when they came through a session (the identity provider's groups claim). */
  groups?: readonly string[];
  /** The session id, when the caller presented a session access token. */
  session?: string;
  /** How the session began (`oidc`, `token`), when there is one. */
  source?: string;
}

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
  status: string;
  /** The cloud's ClusterInfo as JSON text. */
  info: string;
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
}

/** One audit row as read back. */
export interface AuditEntry extends AuditRecord {
  id: number;
}

/** What a token request needs, read in one query: the cluster, its sealed credential, the grant. */
export interface ClusterAccess {
  cluster: StoredCluster;
  credential: StoredCredential;
  granted: boolean;
}

/**
 * What a token request needs, read in one query: the caller holding a token digest and, for them, the
 * cluster asked for with its sealed credential and the grant (`access` undefined: no such cluster).
 */
export interface TokenAccess {
  user: StoredUser;
  access: ClusterAccess | undefined;
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
    info: r.info,
    createdAt: r.created_at,
  };
}

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
  /** Commits audit rows elsewhere (the embedded store's worker thread) when given. */
  readonly #auditSink: ((rows: AuditRecord[]) => Promise<void>) | undefined;

  constructor(db: Kysely<BrokerDatabase>, dialect: StoreDialect, options: { auditSink?: (rows: AuditRecord[]) => Promise<void> } = {}) {
    this.db = db;
    this.dialect = dialect;
    this.#auditSink = options.auditSink;
    this.#userByTokenHash = reusableQuery((tokenHash) => db.selectFrom("users").select(["id", "name", "role"]).where("token_hash", "=", tokenHash));
    this.#clusterAccess = reusableQuery((userId, name) =>
      db
        .selectFrom("clusters")
        .innerJoin("credentials", "credentials.id", "clusters.credential_id")
        .selectAll("clusters")
        .select([
          "credentials.name as cred_name",
          "credentials.provider as cred_provider",
          "credentials.sealed as cred_sealed",
          (eb) =>
            eb
              .exists(
                eb
                  .selectFrom("grants")
                  .select("grants.user_id")
                  .where("grants.user_id", "=", userId)
                  .where((g) => g.or([g("grants.cluster", "=", name), g("grants.cluster", "=", "*")])),
              )
              .as("granted"),
        ])
        .where("clusters.name", "=", name),
    );
    // The caller by digest, left-joined to the one cluster of that name (names are unique) and its
    // credential: one round trip answers "who", "which cluster with which key" and "may they".
    this.#tokenAccess = reusableQuery((tokenHash, name) =>
      db
        .selectFrom("users")
        .leftJoin("clusters", (join) => join.on("clusters.name", "=", name))
        .leftJoin("credentials", "credentials.id", "clusters.credential_id")
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
          "clusters.info as c_info",
          "clusters.created_at as c_created_at",
          "credentials.name as cred_name",
          "credentials.provider as cred_provider",
          "credentials.sealed as cred_sealed",
          (eb) =>
            eb
              .exists(
                eb
                  .selectFrom("grants")
                  .select("grants.user_id")
                  .whereRef("grants.user_id", "=", "users.id")
                  .where((g) => g.or([g("grants.cluster", "=", name), g("grants.cluster", "=", "*")])),
              )
              .as("granted"),
        ])
        .where("users.token_hash", "=", tokenHash),
    );
  }

  // The queries of every request, compiled once (see reusable-query.ts).
  readonly #userByTokenHash;
  readonly #clusterAccess;
  readonly #tokenAccess;

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

  /** Removes a user and their grants. */
  async deleteUser(name: string): Promise<"ok" | "not-found"> {
    return this.db.transaction().execute(async (tx) => {
      const user = await tx.selectFrom("users").select("id").where("name", "=", name).executeTakeFirst();
      if (user === undefined) return "not-found";
      await tx.deleteFrom("grants").where("user_id", "=", user.id).execute();
      // Their sessions end on every instance: each request reads the sessions table.
      await tx.deleteFrom("sessions").where("user_id", "=", user.id).execute();
      await tx.deleteFrom("login_requests").where("user_id", "=", user.id).execute();
      await tx.deleteFrom("users").where("id", "=", user.id).execute();
      return "ok";
    });
  }

  /** Replaces a user's token digest: the old token stops at once. */
  async rotateUserToken(name: string, tokenHash: string, now: Date): Promise<"ok" | "not-found"> {
    const r = await this.db
      .updateTable("users")
      .set({ token_hash: tokenHash, token_created_at: now.toISOString() })
      .where("name", "=", name)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n ? "ok" : "not-found";
  }

  /** Grants a user a cluster, or every cluster with `*`. Granting twice is not an error. */
  async putGrant(userName: string, cluster: string, now: Date): Promise<"ok" | "no-user" | "no-cluster"> {
    return this.db.transaction().execute(async (tx) => {
      const user = await tx.selectFrom("users").select("id").where("name", "=", userName).executeTakeFirst();
      if (user === undefined) return "no-user";
      if (cluster !== "*") {
        const c = await tx.selectFrom("clusters").select("id").where("name", "=", cluster).executeTakeFirst();
        if (c === undefined) return "no-cluster";
      }
      await tx
        .insertInto("grants")
        .values({ user_id: user.id, cluster, created_at: now.toISOString() })
        .onConflict((oc) => oc.columns(["user_id", "cluster"]).doNothing())
        .execute();
      return "ok";
    });
  }

  /** Takes a grant back; `not-found` when the user or the grant does not exist. */
  async deleteGrant(userName: string, cluster: string): Promise<"ok" | "no-user" | "not-found"> {
    return this.db.transaction().execute(async (tx) => {
      const user = await tx.selectFrom("users").select("id").where("name", "=", userName).executeTakeFirst();
      if (user === undefined) return "no-user";
      const r = await tx.deleteFrom("grants").where("user_id", "=", user.id).where("cluster", "=", cluster).executeTakeFirst();
      return r.numDeletedRows > 0n ? "ok" : "not-found";
    });
  }

  /** The grants of a user (cluster names and `*`). */
  async grantsOf(userName: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("grants")
      .innerJoin("users", "users.id", "grants.user_id")
      .select("grants.cluster")
      .where("users.name", "=", userName)
      .orderBy("grants.cluster")
      .execute();
    return rows.map((r) => r.cluster);
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

  /** Every credential's name and provider (never the sealed value). */
  async listCredentials(): Promise<{ name: string; provider: BrokerProvider; createdAt: string }[]> {
    const rows = await this.db.selectFrom("credentials").select(["name", "provider", "created_at"]).orderBy("name").execute();
    return rows.map((r) => ({ name: r.name, provider: r.provider as BrokerProvider, createdAt: r.created_at }));
  }

  /** One credential row by name. */
  async credentialByName(name: string): Promise<StoredCredential | undefined> {
    const r = await this.db.selectFrom("credentials").select(["id", "name", "provider", "sealed"]).where("name", "=", name).executeTakeFirst();
    return r === undefined ? undefined : { ...r, provider: r.provider as BrokerProvider };
  }

  /** Removes a credential unless a cluster uses it (`in-use`, with that cluster's name). */
  async deleteCredential(name: string): Promise<{ result: "ok" | "not-found" | "in-use"; usedBy?: string }> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const cred = await tx.selectFrom("credentials").select("id").where("name", "=", name).executeTakeFirst();
        if (cred === undefined) return { result: "not-found" as const };
        const user = await tx.selectFrom("clusters").select("name").where("credential_id", "=", cred.id).orderBy("name").executeTakeFirst();
        if (user !== undefined) return { result: "in-use" as const, usedBy: user.name };
        await tx.deleteFrom("credentials").where("id", "=", cred.id).execute();
        return { result: "ok" as const };
      });
    } catch (error) {
      // A cluster added by another instance between the check and the delete: the foreign key says no.
      const code = (error as { code?: unknown }).code;
      if (code === "23503" || code === "SQLITE_CONSTRAINT_FOREIGNKEY") return { result: "in-use" };
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
          info: c.info,
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

  /** Removes a cluster and the grants that name it. */
  async deleteCluster(name: string): Promise<"ok" | "not-found"> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx.deleteFrom("clusters").where("name", "=", name).executeTakeFirst();
      if (r.numDeletedRows === 0n) return "not-found";
      await tx.deleteFrom("grants").where("cluster", "=", name).execute();
      return "ok";
    });
  }

  /** The clusters a user may reach: all for an admin, else those granted (or all, with `*`). */
  async clustersFor(user: StoredUser): Promise<StoredCluster[]> {
    let q = this.db.selectFrom("clusters").selectAll("clusters");
    if (user.role !== "admin") {
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom("grants")
            .select("grants.user_id")
            .where("grants.user_id", "=", user.id)
            .where((g) => g.or([g("grants.cluster", "=", g.ref("clusters.name")), g("grants.cluster", "=", "*")])),
        ),
      );
    }
    return (await q.orderBy("clusters.name").execute()).map(toCluster);
  }

  /**
   * A cluster, its credential and whether `user` may reach it, in one query. Admins may reach every
   * cluster. `undefined` when no cluster has that name.
   */
  async clusterAccess(user: StoredUser, name: string): Promise<ClusterAccess | undefined> {
    const r = (await this.db.executeQuery(this.#clusterAccess(user.id, name))).rows[0];
    if (r === undefined) return undefined;
    const granted = user.role === "admin" || r.granted === true || Number(r.granted) === 1;
    return {
      cluster: toCluster(r),
      credential: { id: r.credential_id, name: r.cred_name, provider: r.cred_provider as BrokerProvider, sealed: r.cred_sealed },
      granted,
    };
  }

  /**
   * The caller holding a token digest and, for them, a cluster with its credential and grant, in one
   * query (a token request's only read). `undefined` when no user holds the digest. Never cached: a
   * deleted user, a rotated token, a revoked grant or a replaced credential shows on the next request.
   */
  async tokenAccess(tokenHash: string, clusterName: string): Promise<TokenAccess | undefined> {
    const r = (await this.db.executeQuery(this.#tokenAccess(tokenHash, clusterName))).rows[0];
    if (r === undefined) return undefined;
    const user: StoredUser = { id: r.user_id, name: r.user_name, role: r.user_role as BrokerRole };
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
      info: joined(r.c_info),
      created_at: joined(r.c_created_at),
    });
    return {
      user,
      access: {
        cluster,
        credential: { id: cluster.credentialId, name: joined(r.cred_name), provider: joined(r.cred_provider) as BrokerProvider, sealed: joined(r.cred_sealed) },
        granted: user.role === "admin" || r.granted === true || Number(r.granted) === 1,
      },
    };
  }

  /** Writes audit rows in one statement (one transaction), as the audit writer batches them. */
  async insertAudit(rows: AuditRecord[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.#auditSink !== undefined) return this.#auditSink(rows);
    await this.db
      .insertInto("audit")
      .values(
        rows.map((r) => ({
          time: r.time,
          actor: r.actor,
          action: r.action,
          cluster: r.cluster ?? null,
          outcome: r.outcome,
          remote: r.remote ?? null,
          instance: r.instance,
          reason: r.reason ?? null,
        })),
      )
      .execute();
  }

  /** Audit rows, newest first, optionally for one actor or cluster, before an id. */
  async listAudit(filter: { user?: string; cluster?: string; before?: number; limit: number }): Promise<AuditEntry[]> {
    let q = this.db.selectFrom("audit").selectAll();
    if (filter.user !== undefined) q = q.where("actor", "=", filter.user);
    if (filter.cluster !== undefined) q = q.where("cluster", "=", filter.cluster);
    if (filter.before !== undefined) q = q.where("id", "<", filter.before);
    const rows = await q.orderBy("id", "desc").limit(filter.limit).execute();
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }
}
