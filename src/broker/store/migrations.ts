/**
 * The schema's versioned migrations, applied on start in one transaction under a lock (SQLite:
 * BEGIN IMMEDIATE; PostgreSQL: an advisory transaction lock), together with the master key check and
 * the bootstrap admin, so that instances starting at once on one empty database end with one schema
 * and one admin.
 */
import { randomUUID } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import { CredentialsError } from "../../lib/errors.js";
import { sealedKeyId } from "../sealing.js";
import { StoreError } from "../errors.js";
import type { StoreDialect } from "./open.js";
import type { BrokerDatabase } from "./schema.js";
import { ACCESS_CHANNEL } from "./access-feed.js";
import { chainUnchainedAudit } from "./audit-store.js";
import type { ClusterInfo } from "../../cluster-info.js";
import { engineFor } from "../engines.js";

/** One step of the schema, as SQL statements per dialect, and work done in code before or after them. */
interface Migration {
  version: number;
  /** Runs before the statements, in the same transaction (for example to read a column they drop). */
  before?(conn: Kysely<BrokerDatabase>, dialect: StoreDialect): Promise<void>;
  statements(dialect: StoreDialect): string[];
  /** Runs after the statements, in the same transaction (for example to fill a new column). */
  run?(conn: Kysely<BrokerDatabase>, dialect: StoreDialect): Promise<void>;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    statements: (dialect) => [
      `CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        token_created_at TEXT NOT NULL)`,
      `CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        provider TEXT NOT NULL CHECK (provider IN ('ncp', 'aws', 'gcp')),
        sealed TEXT NOT NULL,
        created_at TEXT NOT NULL)`,
      `CREATE TABLE clusters (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        provider TEXT NOT NULL CHECK (provider IN ('ncp', 'aws', 'gcp')),
        credential_id TEXT NOT NULL REFERENCES credentials (id),
        region TEXT NOT NULL,
        connection TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        ca_data TEXT,
        status TEXT NOT NULL,
        info TEXT NOT NULL,
        created_at TEXT NOT NULL)`,
      `CREATE INDEX clusters_credential ON clusters (credential_id)`,
      `CREATE TABLE grants (
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        cluster TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, cluster))`,
      `CREATE INDEX grants_cluster ON grants (cluster)`,
      `CREATE TABLE audit (
        id ${dialect === "postgres" ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"},
        time TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        cluster TEXT,
        outcome TEXT NOT NULL,
        remote TEXT,
        instance TEXT NOT NULL,
        reason TEXT)`,
      `CREATE INDEX audit_actor ON audit (actor, id)`,
      `CREATE INDEX audit_cluster ON audit (cluster, id)`,
    ],
  },
  {
    // Sign-in (BROKER.md "Signing in with an identity provider"): where a user came from, their
    // sessions (digests only; the IdP's refresh token sealed), and device-flow sign-ins in progress,
    // kept in the store so that any instance answers the poll, the browser and the IdP's callback.
    version: 2,
    statements: () => [
      `ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'token'`,
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        groups TEXT NOT NULL,
        access_hash TEXT NOT NULL UNIQUE,
        access_expires_at TEXT NOT NULL,
        refresh_hash TEXT NOT NULL UNIQUE,
        idp_refresh TEXT,
        created_at TEXT NOT NULL,
        renewed_at TEXT NOT NULL,
        ends_at TEXT NOT NULL)`,
      `CREATE INDEX sessions_user ON sessions (user_id)`,
      `CREATE TABLE login_requests (
        id TEXT PRIMARY KEY,
        device_hash TEXT NOT NULL UNIQUE,
        user_code TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('pending', 'started', 'approved', 'denied', 'done')),
        state TEXT UNIQUE,
        binding TEXT,
        nonce TEXT,
        pkce_verifier TEXT,
        reason TEXT,
        user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
        role TEXT,
        groups TEXT,
        idp_refresh TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        polled_at TEXT)`,
      `CREATE INDEX login_requests_expires ON login_requests (expires_at)`,
    ],
  },
  {
    // Grants name a user or a group (`group:NAME`), the cluster by its row (NULL: `*`), optionally the
    // credential they act as and when they end. Rows are tied to their user and cluster by foreign
    // keys with ON DELETE CASCADE, so a grant racing its cluster's or user's deletion either lands
    // before it (and is taken along) or fails: it can no longer outlive them, nor pass to a cluster
    // registered later under the same name. Grants of clusters already gone are dropped.
    version: 3,
    statements: () => [
      `CREATE TABLE grants_v2 (
        id TEXT PRIMARY KEY,
        user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
        group_name TEXT,
        cluster_id TEXT REFERENCES clusters (id) ON DELETE CASCADE,
        as_credential_id TEXT REFERENCES credentials (id),
        expires_at TEXT,
        created_at TEXT NOT NULL,
        CHECK ((user_id IS NULL) <> (group_name IS NULL)))`,
      `INSERT INTO grants_v2 (id, user_id, group_name, cluster_id, as_credential_id, expires_at, created_at)
        SELECT g.user_id || '/' || COALESCE(c.id, '*'), g.user_id, NULL, c.id, NULL, NULL, g.created_at
        FROM grants g LEFT JOIN clusters c ON c.name = g.cluster
        WHERE g.cluster = '*' OR c.id IS NOT NULL`,
      `DROP TABLE grants`,
      `ALTER TABLE grants_v2 RENAME TO grants`,
      // One grant per subject and cluster (NULLs folded, so that both stores see them as equal).
      `CREATE UNIQUE INDEX grants_subject_cluster ON grants (COALESCE(user_id, ''), COALESCE(group_name, ''), COALESCE(cluster_id, '*'))`,
      `CREATE INDEX grants_user ON grants (user_id)`,
      `CREATE INDEX grants_group ON grants (group_name)`,
      `CREATE INDEX grants_cluster ON grants (cluster_id)`,
      `CREATE INDEX grants_as ON grants (as_credential_id)`,
      // Which credential minted each token (NULL on other rows).
      `ALTER TABLE audit ADD COLUMN credential TEXT`,
    ],
  },
  {
    // What locates each cluster in its cloud (its engine's locator, JSON), which tokens are minted
    // from; rows from before it have none and are located from their stored info on read.
    version: 4,
    statements: () => [`ALTER TABLE clusters ADD COLUMN locator TEXT`],
  },
  {
    // The audit hash chain (audit-chain.ts). Ids are drawn under the chain's lock and hashed, so
    // PostgreSQL's identity takes explicit values from now on (still from its sequence).
    version: 5,
    statements: (dialect) => [
      `ALTER TABLE audit ADD COLUMN prev_hash TEXT`,
      `ALTER TABLE audit ADD COLUMN hash TEXT`,
      ...(dialect === "postgres" ? [`ALTER TABLE audit ALTER COLUMN id SET GENERATED BY DEFAULT`] : []),
    ],
    run: (conn) => chainUnchainedAudit(conn),
  },
  {
    // Clusters keep what locates them, not a copy of the whole ClusterInfo looked up at registration:
    // cb-spider's shapes ask the cloud now, as cb-spider does. Rows from before schema 4 are located
    // from that copy first, once, as they were on every read until now.
    version: 6,
    before: (conn) => locateFromStoredInfo(conn),
    statements: () => [`ALTER TABLE clusters DROP COLUMN info`],
  },
  {
    // Tokens that stopped working (rotated away, or their user deleted), kept as a digest of their
    // digest (tokens.ts retiredTokenDigest) with the former owner's name, so that a failed
    // authentication with one names whose it was, and nothing kept can authenticate.
    version: 7,
    statements: () => [
      `CREATE TABLE retired_tokens (
        digest TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        why TEXT NOT NULL CHECK (why IN ('rotated', 'deleted', 'replaced')),
        retired_at TEXT NOT NULL)`,
      `CREATE INDEX retired_tokens_time ON retired_tokens (retired_at)`,
    ],
  },
  {
    // Every committed change of what decides a token request's access announces itself to every
    // instance (LISTEN kubeiam_access), whoever made it: another instance, 'serve rekey', a manual
    // UPDATE. Instances keep granted access for at most a second only while they listen
    // (../access-cache.ts). One notification per statement, naming the table; PostgreSQL folds a
    // transaction's alike ones into one.
    // The embedded store has no channel to announce on, and keeps nothing.
    version: 8,
    statements: (dialect) =>
      dialect !== "postgres"
        ? []
        : [
            `CREATE OR REPLACE FUNCTION kubeiam_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN PERFORM pg_notify('${ACCESS_CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$`,
            // Dropped first: a database rewound by hand to an older schema may still have them (and
            // CREATE OR REPLACE TRIGGER needs PostgreSQL 14).
            ...ACCESS_TABLES.flatMap((table) => [
              `DROP TRIGGER IF EXISTS ${table}_access_changed ON ${table}`,
              `CREATE TRIGGER ${table}_access_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION kubeiam_access_changed()`,
            ]),
          ],
  },
];

/** The tables the token request's access query reads: a change to any of them is announced. */
const ACCESS_TABLES = ["users", "grants", "clusters", "credentials"] as const;

/** The schema version this kubeiam writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** A number the broker's PostgreSQL advisory lock is taken on ("kubeiam" in ASCII, as an int8). */
const PG_LOCK_KEY = "30230046052198765";

/** What {@link migrateStore} needs besides the database. */
export interface MigrateInput {
  dialect: StoreDialect;
  /** The (sealing) master key's check value; stored on the first start, compared on every later one. */
  keyCheck: string;
  /**
   * Every key of the keyring's check values (the sealing key's first), when the master key is a
   * keyring: the stored check may be any of them, and each credential's key id must be among them.
   */
  keyChecks?: string[];
  /** Every key of the keyring's ids ({@link masterKeyId}): when given, a credential sealed under another key refuses the start. */
  keyIds?: string[];
  /** The digest of a token for the bootstrap admin, used only when the store has no user yet. */
  bootstrapTokenHash: string;
  /** The bootstrap admin's name. */
  bootstrapAdminName?: string;
  now: Date;
  /** Stops at this schema version instead of {@link SCHEMA_VERSION} (for tests of one migration, from the store before it). */
  upTo?: number;
}

/** What happened on start. */
export interface MigrateResult {
  /** Schema versions applied by this start (empty when it was up to date). */
  applied: number[];
  /** Whether this start created the bootstrap admin (so its token is to be shown once). */
  createdAdmin: boolean;
}

/**
 * Brings the store to {@link SCHEMA_VERSION} under a lock, checks the master key, and creates the
 * bootstrap admin in an empty store. Refuses a store from a newer kubeiam ({@link StoreError}) and
 * one sealed under another master key ({@link CredentialsError}), changing nothing.
 *
 * @example
 * ```ts
 * const { createdAdmin } = await migrateStore(store.db, { dialect: "sqlite", keyCheck, bootstrapTokenHash, now: new Date() });
 * ```
 */
export async function migrateStore(db: Kysely<BrokerDatabase>, input: MigrateInput): Promise<MigrateResult> {
  return db.connection().execute(async (conn) => {
    await sql.raw(input.dialect === "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN").execute(conn);
    try {
      if (input.dialect === "postgres") await sql`SELECT pg_advisory_xact_lock(${sql.raw(PG_LOCK_KEY)})`.execute(conn);
      await sql`CREATE TABLE IF NOT EXISTS kubeiam_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`.execute(conn);
      const meta = new Map((await conn.selectFrom("kubeiam_meta").select(["key", "value"]).execute()).map((r) => [r.key, r.value]));
      const current = Number(meta.get("schema_version") ?? "0");
      if (!Number.isInteger(current) || current > SCHEMA_VERSION) {
        throw new StoreError(
          `the database holds schema version ${meta.get("schema_version") ?? "?"}, newer than this kubeiam's ${SCHEMA_VERSION}: run a kubeiam at least as new as the one that wrote it`,
        );
      }
      const stored = meta.get("key_check");
      const checks = input.keyChecks ?? [input.keyCheck];
      if (stored !== undefined && stored !== input.keyCheck && !checks.includes(stored)) {
        throw new CredentialsError("the database's keys were sealed under another master key: start with the master key it was created with (KUBEIAM_MASTER_KEY or --master-key-file), or, after 'kubeiam serve rekey', the key it re-sealed under");
      }
      if (input.keyIds !== undefined && current > 0) {
        // A keyring that lost a key still in use (a value sealed under it since): refused before serving.
        for (const c of await conn.selectFrom("credentials").select(["name", "sealed"]).orderBy("name").execute()) {
          const kid = sealedKeyId(c.sealed);
          if (kid !== undefined && !input.keyIds.includes(kid)) {
            throw new CredentialsError(`credential ${c.name} was sealed under master key id ${kid}, which the master keyring lacks: put that key back in it (KUBEIAM_MASTER_KEY="NEW,OLD") until 'kubeiam serve rekey' has re-sealed everything`);
          }
        }
      }
      const applied: number[] = [];
      const target = input.upTo ?? SCHEMA_VERSION;
      for (const m of MIGRATIONS.filter((x) => x.version > current && x.version <= target)) {
        await m.before?.(conn, input.dialect);
        for (const statement of m.statements(input.dialect)) await sql.raw(statement).execute(conn);
        await m.run?.(conn, input.dialect);
        applied.push(m.version);
      }
      await upsertMeta(conn, "schema_version", String(Math.max(current, target)), meta.has("schema_version"));
      if (stored === undefined) await upsertMeta(conn, "key_check", input.keyCheck, false);
      let createdAdmin = false;
      const anyUser = await conn.selectFrom("users").select("id").limit(1).executeTakeFirst();
      if (anyUser === undefined) {
        const time = input.now.toISOString();
        await conn
          .insertInto("users")
          .values({ id: randomUUID(), name: input.bootstrapAdminName ?? "admin", role: "admin", token_hash: input.bootstrapTokenHash, created_at: time, token_created_at: time })
          .execute();
        createdAdmin = true;
      }
      await sql.raw("COMMIT").execute(conn);
      return { applied, createdAdmin };
    } catch (error) {
      await sql.raw("ROLLBACK").execute(conn).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Gives every cluster row without a locator (registered before schema 4) the one its engine reads
 * from the ClusterInfo stored with it. A row whose copy does not say where the cluster is keeps none:
 * the broker still starts, and its tokens are refused with a message naming the fix (register it again).
 */
async function locateFromStoredInfo(conn: Kysely<BrokerDatabase>): Promise<void> {
  const rows = await sql<{ id: string; provider: string; info: string }>`SELECT id, provider, info FROM clusters WHERE locator IS NULL`.execute(conn);
  for (const row of rows.rows) {
    const engine = engineFor(row.provider);
    if (engine === undefined) continue;
    let locator: string;
    try {
      const found = engine.locatorFromInfo(JSON.parse(row.info) as ClusterInfo);
      locator = JSON.stringify(found);
      engine.parseLocator(JSON.parse(locator));
    } catch {
      continue;
    }
    await conn.updateTable("clusters").set({ locator }).where("id", "=", row.id).execute();
  }
}

async function upsertMeta(conn: Kysely<BrokerDatabase> | Transaction<BrokerDatabase>, key: string, value: string, exists: boolean): Promise<void> {
  if (exists) await conn.updateTable("kubeiam_meta").set({ value }).where("key", "=", key).execute();
  else await conn.insertInto("kubeiam_meta").values({ key, value }).execute();
}
