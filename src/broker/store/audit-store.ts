/**
 * The audit trail in the store, chained (see ../audit-chain.ts for the rule and the encoding):
 * appending under the chain's lock, chaining rows of earlier versions, walking the chain in one
 * consistent snapshot, and pruning old rows (retention) while keeping the cut verifiable.
 */
import { CompiledQuery, sql, type Kysely } from "kysely";
import { auditRowHash, GENESIS_HASH, verifyAuditChain, type AuditVerification, type ChainedRow } from "../audit-chain.js";
import type { StoreDialect } from "./open.js";
import type { BrokerDatabase } from "./schema.js";
import type { AuditRecord } from "./store.js";

/**
 * The PostgreSQL advisory lock every append holds to its commit ("kubeiam" "a"): one head at a time,
 * so ids, chain order and commit order agree across instances.
 */
const CHAIN_LOCK_KEY = "30230046052198766";
/** The lock pruning batches hold, so two instances never cut at once (appends do not wait for it). */
const PRUNE_LOCK_KEY = "30230046052198767";

/** `kubeiam_meta` key: the predecessor hash the oldest kept row carries (absent: the genesis hash). */
export const AUDIT_ANCHOR_KEY = "audit_anchor";

/** The audit table's columns in the order the inserts below name them. */
const AUDIT_COLUMNS = ["id", "time", "actor", "action", "cluster", "outcome", "remote", "instance", "reason", "credential", "prev_hash", "hash"] as const;

/**
 * A batch of rows in one statement whose text is the same for every batch size: one array per column,
 * unnested. open.ts prepares it once per connection, where a multi-row VALUES list would be built,
 * compiled and planned again for each batch (300 parameters for 25 rows).
 */
export const AUDIT_INSERT_POSTGRES = `INSERT INTO audit (${AUDIT_COLUMNS.join(", ")}) SELECT * FROM unnest(${AUDIT_COLUMNS.map(
  (c, i) => `$${i + 1}::${c === "id" ? "bigint" : "text"}[]`,
).join(", ")})`;

/** One row; the embedded store runs it once per row of a batch (better-sqlite3 runs a prepared statement in microseconds). */
const AUDIT_INSERT_SQLITE = `INSERT INTO audit (${AUDIT_COLUMNS.join(", ")}) VALUES (${AUDIT_COLUMNS.map(() => "?").join(", ")})`;

/**
 * The embedded store's head, id counter and anchor in one statement of constant text (prepared once
 * by the worker's connection): the head row's id and hash, AUTOINCREMENT's counter, the anchor.
 */
const AUDIT_HEAD_SQLITE = `SELECT
  (SELECT id FROM audit ORDER BY id DESC LIMIT 1) AS head_id,
  (SELECT hash FROM audit ORDER BY id DESC LIMIT 1) AS head_hash,
  (SELECT seq FROM sqlite_sequence WHERE name = 'audit') AS seq,
  (SELECT value FROM kubeiam_meta WHERE key = '${AUDIT_ANCHOR_KEY}') AS anchor`;

/** Rows read per page when chaining or verifying. */
const PAGE = 5000;

/** The predecessor hash of the oldest kept row: the genesis hash until pruning recorded another. */
async function anchorOf(db: Kysely<BrokerDatabase>): Promise<string> {
  const r = await db.selectFrom("kubeiam_meta").select("value").where("key", "=", AUDIT_ANCHOR_KEY).executeTakeFirst();
  return r?.value ?? GENESIS_HASH;
}

/** The hash new rows follow: the newest row's, else the anchor (an empty table). */
async function headOf(db: Kysely<BrokerDatabase>): Promise<{ id: number; hash: string | null } | undefined> {
  const r = await db.selectFrom("audit").select(["id", "hash"]).orderBy("id", "desc").limit(1).executeTakeFirst();
  return r === undefined ? undefined : { id: Number(r.id), hash: r.hash };
}

/**
 * Appends rows to the chain in one transaction: takes the head (SQLite: BEGIN IMMEDIATE; PostgreSQL:
 * the chain's advisory lock, held to the commit), draws the ids, hashes each row over the one before,
 * inserts them (PostgreSQL: in one prepared statement; SQLite: one prepared row at a time), commits.
 *
 * @example
 * ```ts
 * await appendAudit(db, "postgres", rows);
 * ```
 */
export async function appendAudit(db: Kysely<BrokerDatabase>, dialect: StoreDialect, rows: AuditRecord[]): Promise<void> {
  if (rows.length === 0) return;
  await db.connection().execute(async (conn) => {
    try {
      let ids: number[];
      let prev: string;
      if (dialect === "postgres") {
        // One round trip for BEGIN, the lock and the head: a simple query may hold several statements,
        // and the pool answers with the last one's rows (open.ts). READ COMMITTED whatever the server's
        // default: each statement reads its own snapshot, so the head and the ids are read after the lock
        // is granted, never from a snapshot taken before another instance committed. The row count and
        // the key are the broker's own integer and constant, written into the text.
        const r = await sql.raw<{ head: string | null; anchor: string | null; ids: (string | number)[] }>(
          `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY}); SELECT
            (SELECT hash FROM audit ORDER BY id DESC LIMIT 1) AS head,
            (SELECT value FROM kubeiam_meta WHERE key = '${AUDIT_ANCHOR_KEY}') AS anchor,
            ARRAY(SELECT nextval(pg_get_serial_sequence('audit', 'id')) FROM generate_series(1, ${Math.trunc(rows.length)})) AS ids`,
        ).execute(conn);
        const row = r.rows[0];
        if (row === undefined) throw new Error("the store did not answer the audit head's query");
        ids = (row.ids ?? []).map(Number);
        prev = row.head ?? row.anchor ?? GENESIS_HASH;
      } else {
        await conn.executeQuery(CompiledQuery.raw("BEGIN IMMEDIATE"));
        const r = await conn.executeQuery<{ head_id: number | null; head_hash: string | null; seq: number | null; anchor: string | null }>(CompiledQuery.raw(AUDIT_HEAD_SQLITE));
        const row = r.rows[0];
        if (row === undefined) throw new Error("the store did not answer the audit head's query");
        // AUTOINCREMENT never reuses an id, even of a row deleted since: start past its counter.
        const base = Math.max(Number(row.seq ?? 0), Number(row.head_id ?? 0));
        ids = rows.map((_, i) => base + 1 + i);
        prev = row.head_id !== null ? (row.head_hash ?? GENESIS_HASH) : (row.anchor ?? GENESIS_HASH);
      }
      if (ids.length !== rows.length) throw new Error("the store gave fewer audit ids than rows");
      const values = rows.map((r, i) => {
        const content = {
          id: ids[i] as number,
          time: r.time,
          actor: r.actor,
          action: r.action,
          cluster: r.cluster ?? null,
          outcome: r.outcome,
          remote: r.remote ?? null,
          instance: r.instance,
          reason: r.reason ?? null,
          credential: r.credential ?? null,
        };
        const hash = auditRowHash(prev, content);
        const value = { ...content, prev_hash: prev, hash };
        prev = hash;
        return value;
      });
      if (dialect === "postgres") {
        await conn.executeQuery(CompiledQuery.raw(AUDIT_INSERT_POSTGRES, AUDIT_COLUMNS.map((c) => values.map((v) => v[c]))));
      } else {
        for (const v of values) await conn.executeQuery(CompiledQuery.raw(AUDIT_INSERT_SQLITE, AUDIT_COLUMNS.map((c) => v[c])));
      }
      await sql.raw("COMMIT").execute(conn);
    } catch (error) {
      await sql.raw("ROLLBACK").execute(conn).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Chains rows that carry no hash yet (written by a kubeiam before the chain), in id order, following
 * the row before them; run by the schema migration inside its transaction.
 */
export async function chainUnchainedAudit(conn: Kysely<BrokerDatabase>): Promise<void> {
  let prev = GENESIS_HASH;
  let after = 0;
  for (;;) {
    const page = await conn.selectFrom("audit").selectAll().where("id", ">", after).orderBy("id").limit(PAGE).execute();
    if (page.length === 0) return;
    const updates: [number, string, string][] = [];
    for (const r of page) {
      const id = Number(r.id);
      if (r.hash === null) {
        const hash = auditRowHash(prev, { ...r, id });
        updates.push([id, prev, hash]);
        prev = hash;
      } else {
        prev = r.hash;
      }
      after = id;
    }
    for (let i = 0; i < updates.length; i += 1000) {
      const chunk = updates.slice(i, i + 1000);
      const tuples = sql.join(chunk.map(([id, p, h]) => sql`(CAST(${id} AS BIGINT), CAST(${p} AS TEXT), CAST(${h} AS TEXT))`));
      // column1..3: the names both SQLite and PostgreSQL give a VALUES list's columns.
      await sql`UPDATE audit SET prev_hash = v.column2, hash = v.column3 FROM (VALUES ${tuples}) AS v WHERE audit.id = v.column1`.execute(conn);
    }
  }
}

/** How to read the chain in one snapshot: a separate read connection (SQLite), or a transaction on one of the pool's (PostgreSQL). */
export type SnapshotReader = <T>(read: (db: Kysely<BrokerDatabase>) => Promise<T>) => Promise<T>;

/**
 * Walks the whole chain from the recorded anchor in one consistent snapshot, in pages, yielding to
 * other work between pages.
 *
 * @example
 * ```ts
 * const result = await verifyAudit(snapshot); // { ok: true, entries: 20 }
 * ```
 */
export async function verifyAudit(snapshot: SnapshotReader): Promise<AuditVerification> {
  return snapshot(async (db) => {
    const anchor = await anchorOf(db);
    async function* pages(): AsyncGenerator<ChainedRow[]> {
      let after = 0;
      for (;;) {
        const page = await db.selectFrom("audit").selectAll().where("id", ">", after).orderBy("id").limit(PAGE).execute();
        if (page.length === 0) return;
        after = Number(page[page.length - 1]?.id);
        yield page.map((r) => ({ ...r, id: Number(r.id), prevHash: r.prev_hash }));
        // better-sqlite3 reads synchronously: let requests in between pages.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return verifyAuditChain(pages(), anchor);
  });
}

/**
 * Removes up to `limit` of the oldest rows written before `before` (ISO time), as a prefix of the
 * chain (it stops at the first younger row) and never the newest row (the head new rows follow);
 * records the last removed row's hash as the anchor the oldest kept row is checked against, in the
 * same transaction. Returns how many rows went.
 *
 * @example
 * ```ts
 * while ((await pruneAudit(db, "sqlite", cutoff, 500)) === 500);
 * ```
 */
export async function pruneAudit(db: Kysely<BrokerDatabase>, dialect: StoreDialect, before: string, limit: number): Promise<number> {
  return db.connection().execute(async (conn) => {
    await sql.raw(dialect === "sqlite" ? "BEGIN IMMEDIATE" : `BEGIN; SELECT pg_advisory_xact_lock(${PRUNE_LOCK_KEY})`).execute(conn);
    try {
      const oldest = await conn.selectFrom("audit").select(["id", "time", "hash"]).orderBy("id").limit(limit + 1).execute();
      const head = await headOf(conn);
      let last: { id: number; hash: string | null } | undefined;
      let count = 0;
      for (const r of oldest.slice(0, limit)) {
        if (r.time >= before || Number(r.id) === head?.id) break;
        last = { id: Number(r.id), hash: r.hash };
        count += 1;
      }
      if (last !== undefined && last.hash !== null) {
        await conn.deleteFrom("audit").where("id", "<=", last.id).execute();
        const exists = await conn.selectFrom("kubeiam_meta").select("key").where("key", "=", AUDIT_ANCHOR_KEY).executeTakeFirst();
        if (exists === undefined) await conn.insertInto("kubeiam_meta").values({ key: AUDIT_ANCHOR_KEY, value: last.hash }).execute();
        else await conn.updateTable("kubeiam_meta").set({ value: last.hash }).where("key", "=", AUDIT_ANCHOR_KEY).execute();
      } else {
        count = 0;
      }
      await sql.raw("COMMIT").execute(conn);
      return count;
    } catch (error) {
      await sql.raw("ROLLBACK").execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
