/**
 * The chained audit trail, run once per store (audit-trail-sqlite.test.ts, audit-trail-postgres.test.ts): rows of an earlier version chained by the migration; two
 * stores (as two instances) appending at once on one PostgreSQL leave one chain; a reader paging
 * forward with `after` while they append sees every row once, in order; pruning keeps the rest
 * verifiable, never takes the newest row, and a row removed by hand is still named.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { keyCheckValue } from "../../src/broker/sealing.js";
import { migrateStore } from "../../src/broker/store/migrations.js";
import { openStore, parseStoreLocation, type OpenStore } from "../../src/broker/store/open.js";
import { BrokerStore, type AuditRecord } from "../../src/broker/store/store.js";
import { hashBrokerToken, newBrokerToken } from "../../src/broker/tokens.js";
import { testStores, type StoreKind, type TestStores } from "./helpers.js";
import { startPgRelay } from "../helpers/pg-relay.js";

const keyCheck = keyCheckValue(randomBytes(32));

async function open(stores: TestStores, name: string, url?: string): Promise<{ s: OpenStore; store: BrokerStore; url: string }> {
  url ??= await stores.newDb(name);
  const s = await openStore(parseStoreLocation(url, { home: stores.dir, cwd: stores.dir }));
  await migrateStore(s.db, { dialect: s.dialect, keyCheck, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() });
  const store = new BrokerStore(s.db, s.dialect, { snapshot: s.snapshot, ...(s.auditSink === undefined ? {} : { auditSink: s.auditSink }) });
  return { s, store, url };
}

const row = (i: number, instance = "t", time = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()): AuditRecord => ({
  time,
  actor: `u${i}`,
  action: "token.issue",
  cluster: i % 2 === 0 ? "prod" : null,
  outcome: "issued",
  remote: "127.0.0.1",
  instance,
});

/** Defines the audit trail's tests for one store kind. */
export function defineAuditTrailSuite(kind: StoreKind): void {
  describe(`audit trail (${kind})`, () => {
    let stores: TestStores;
    before(async () => {
      stores = await testStores(kind);
    });
    after(async () => {
      await stores?.close();
    });

    test("rows written before the chain existed are chained by the migration, and new ones follow them", async () => {
      const { s } = await open(stores, "legacy");
      try {
        // Back to schema 4 as an older kubeiam left it: no chain columns, ids from the identity.
        await sql`ALTER TABLE audit DROP COLUMN prev_hash`.execute(s.db);
        await sql`ALTER TABLE audit DROP COLUMN hash`.execute(s.db);
        if (kind === "postgres") await sql`ALTER TABLE audit ALTER COLUMN id SET GENERATED ALWAYS`.execute(s.db);
        await sql`ALTER TABLE clusters ADD COLUMN info TEXT NOT NULL DEFAULT '{}'`.execute(s.db);
        await sql`DROP TABLE retired_tokens`.execute(s.db);
        await sql`UPDATE kubeiam_meta SET value = '4' WHERE key = 'schema_version'`.execute(s.db);
        for (let i = 0; i < 30; i++) {
          await sql`INSERT INTO audit (time, actor, action, cluster, outcome, remote, instance, reason) VALUES (${`2026-01-01T00:00:${String(i).padStart(2, "0")}.000Z`}, ${`old${i}`}, 'token.issue', NULL, 'issued', NULL, 'old', NULL)`.execute(s.db);
        }
        const m = await migrateStore(s.db, { dialect: s.dialect, keyCheck, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() });
        assert.deepEqual(m.applied.slice(0, 1), [5]);
        const store = new BrokerStore(s.db, s.dialect, { snapshot: s.snapshot, ...(s.auditSink === undefined ? {} : { auditSink: s.auditSink }) });
        assert.deepEqual(await store.verifyAudit(), { ok: true, entries: 30 });
        await store.insertAudit([row(1), row(2)]);
        assert.deepEqual(await store.verifyAudit(), { ok: true, entries: 32 });
        const newest = await store.listAudit({ limit: 2 });
        assert.deepEqual(newest.map((e) => e.actor), ["u2", "u1"]);
        assert.ok(!("hash" in (newest[0] as object)), "the chain's columns are not listed");
      } finally {
        await s.close();
      }
    });

    test("appends from two stores at once leave one chain; a reader paging with after sees every row once, in order", async () => {
      const a = await open(stores, "concurrent");
      const b = kind === "postgres" ? await open(stores, "concurrent", a.url) : a;
      try {
        const seen: number[] = [];
        let cursor = 0;
        let done = false;
        const shipper = (async () => {
          for (;;) {
            const finished = done;
            const page = await a.store.listAudit({ after: cursor, limit: 37 });
            for (const e of page) seen.push(e.id);
            if (page.length > 0) cursor = page[page.length - 1]?.id ?? cursor;
            if (finished && page.length === 0) return;
            await new Promise((r) => setTimeout(r, 1));
          }
        })();
        // 400 rows in batches of 1 to 7, half through each store, all at once.
        const writes: Promise<void>[] = [];
        let n = 0;
        for (let i = 0; n < 400; i++) {
          const size = Math.min(1 + (i % 7), 400 - n);
          const batch = Array.from({ length: size }, (_, k) => row(n + k, i % 2 === 0 ? "A" : "B"));
          n += size;
          writes.push((i % 2 === 0 ? a : b).store.insertAudit(batch));
        }
        await Promise.all(writes);
        done = true;
        await shipper;
        assert.deepEqual(await a.store.verifyAudit(), { ok: true, entries: 400 });
        assert.deepEqual(await b.store.verifyAudit(), { ok: true, entries: 400 });
        assert.equal(seen.length, 400, "every row once");
        assert.equal(new Set(seen).size, 400);
        assert.deepEqual(seen, [...seen].sort((x, y) => x - y), "in id order");
      } finally {
        if (b !== a) await b.s.close();
        await a.s.close();
      }
    });

    test("an append is three round trips to PostgreSQL (BEGIN with the lock and the head, the insert, the commit) whatever its size, its insert prepared once per connection, and the chain still verifies", { skip: kind === "postgres" ? false : "PostgreSQL only" }, async () => {
      const direct = new URL(await stores.newDb("round_trips"));
      // A relay that counts the client's round trips (each ends with a simple query 'Q' or a Sync 'S') and parses ('P').
      let trips = 0;
      let parses = 0;
      const relay = await startPgRelay(direct, {
        client: (type) => {
          if (type === 0x51 || type === 0x53) trips++;
          if (type === 0x50) parses++;
        },
      });
      const a = await open(stores, "round_trips", relay.url);
      try {
        await a.store.insertAudit([row(0)]); // the pool's connection opened and its statements prepared
        for (const size of [1, 5, 64]) {
          trips = 0;
          parses = 0;
          await a.store.insertAudit(Array.from({ length: size }, (_, i) => row(i + 1)));
          assert.equal(trips, 3, `an append of ${size} rows`);
          // The insert's text is the same for every batch size: parsed once per connection, not per batch.
          assert.equal(parses, 0, `statements parsed for an append of ${size} rows`);
        }
        assert.deepEqual(await a.store.verifyAudit(), { ok: true, entries: 71 });
      } finally {
        await a.s.close();
        relay.close();
      }
    });

    test("rows with quotes, backslashes, braces, commas, the text NULL, empty and non-ASCII text, and absent columns are written as given, and verify", async () => {
      const { s, store } = await open(stores, "awkward");
      try {
        const odd = ['a"b', "back\\slash\\", "{x,y}", "NULL", "", "é 한글 🙂", "'; DROP TABLE audit; --", " padded "];
        const rows = odd.map((text, i): AuditRecord => ({ ...row(i), actor: text, reason: i % 2 === 0 ? text : null, credential: i % 3 === 0 ? `${text}!` : null, remote: null }));
        await store.insertAudit(rows);
        await store.insertAudit(rows.slice(0, 1));
        const back = await store.listAudit({ after: 0, limit: 100 });
        assert.deepEqual(
          back.map((e) => [e.actor, e.reason ?? null, e.credential ?? null, e.remote ?? null, e.cluster ?? null]),
          [...rows, rows[0] as AuditRecord].map((r) => [r.actor, r.reason ?? null, r.credential ?? null, null, r.cluster ?? null]),
        );
        assert.deepEqual(await store.verifyAudit(), { ok: true, entries: rows.length + 1 });
      } finally {
        await s.close();
      }
    });

    test("pruning takes the oldest rows in small batches, keeps the newest, and the rest still verifies; a kept row removed by hand is named", async () => {
      const { s, store } = await open(stores, "prune");
      try {
        const rows = Array.from({ length: 50 }, (_, i) => row(i));
        await store.insertAudit(rows.slice(0, 25));
        await store.insertAudit(rows.slice(25));
        const cutoff = new Date(Date.UTC(2026, 0, 1, 0, 0, 30)).toISOString();
        const counts: number[] = [];
        for (;;) {
          const c = await store.pruneAudit(cutoff, 7);
          counts.push(c);
          if (c < 7) break;
        }
        assert.deepEqual(counts, [7, 7, 7, 7, 2]);
        const kept = await store.listAudit({ after: 0, limit: 100 });
        assert.equal(kept.length, 20);
        assert.equal(kept[0]?.actor, "u30");
        assert.deepEqual(await store.verifyAudit(), { ok: true, entries: 20 });
        // Everything older than the future: all but the newest row go.
        assert.equal(await store.pruneAudit("9999-01-01T00:00:00.000Z", 1000), 19);
        assert.deepEqual(await store.verifyAudit(), { ok: true, entries: 1 });
        await store.insertAudit([row(60), row(61), row(62)]);
        assert.deepEqual(await store.verifyAudit(), { ok: true, entries: 4 });
        const ids = (await store.listAudit({ after: 0, limit: 10 })).map((e) => e.id);
        await sql`DELETE FROM audit WHERE id = ${ids[0]}`.execute(s.db);
        const r = await store.verifyAudit();
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.firstBad, ids[1]);
      } finally {
        await s.close();
      }
    });
  });
}
