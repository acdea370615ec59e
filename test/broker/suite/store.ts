/**
 * The broker suite's the store: migrations, sealing bound to rows, the embedded file.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { openCredential, sealCredential } from "../../../src/broker/credential-secrets.js";
import { keyCheckValue } from "../../../src/broker/sealing.js";
import { migrateStore, SCHEMA_VERSION } from "../../../src/broker/store/migrations.js";
import { openStore, parseStoreLocation } from "../../../src/broker/store/open.js";
import { BrokerStore } from "../../../src/broker/store/store.js";
import { hashBrokerToken, newBrokerToken } from "../../../src/broker/tokens.js";
import { CredentialsError } from "../../../src/lib/errors.js";
import { StoreError } from "../../../src/broker/errors.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * storeTests(brokerFixture("sqlite"));
 * ```
 */
export function storeTests(f: BrokerFixture): void {
  describe(`store (${f.kind})`, () => {
    test("migrations: an empty store gets the schema, the key check and one admin; a second start changes nothing", async () => {
      const { stores, masterKey } = f;
      const loc = parseStoreLocation(await stores.newDb("migrate"), { home: stores.dir, cwd: stores.dir });
      const s = await openStore(loc);
      try {
        const key = keyCheckValue(masterKey);
        const first = await migrateStore(s.db, { dialect: s.dialect, keyCheck: key, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() });
        assert.deepEqual(first, { applied: Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1), createdAdmin: true });
        const again = await migrateStore(s.db, { dialect: s.dialect, keyCheck: key, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() });
        assert.deepEqual(again, { applied: [], createdAdmin: false });
        const users = await new BrokerStore(s.db, s.dialect).listUsers();
        assert.deepEqual(users.map((u) => [u.name, u.role]), [["admin", "admin"]]);
      } finally {
        await s.close();
      }
    });

    // better-sqlite3 is synchronous: two connections racing in one thread would wait on each other
    // forever, so for SQLite this race runs as two `kubeiam serve` processes (test/broker/serve.test.ts).
    test("migrations: two starts at once on one empty store end with one schema and one admin", { skip: f.kind === "sqlite" ? "SQLite: raced by two processes in serve.test.ts" : false }, async () => {
      const { stores, masterKey } = f;
      const url = await stores.newDb("race");
      const loc = parseStoreLocation(url, { home: stores.dir, cwd: stores.dir });
      const [a, b] = [await openStore(loc), await openStore(loc)];
      try {
        const key = keyCheckValue(masterKey);
        const results = await Promise.all(
          [a, b].map((s) => migrateStore(s.db, { dialect: s.dialect, keyCheck: key, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() })),
        );
        assert.deepEqual(results.map((r) => r.createdAdmin).sort(), [false, true]);
        assert.equal((await new BrokerStore(a.db, a.dialect).listUsers()).length, 1);
        const meta = await a.db.selectFrom("kubeiam_meta").selectAll().orderBy("key").execute();
        assert.deepEqual(meta.map((m) => m.key), ["key_check", "schema_version"]);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test("migrations refuse a store sealed under another master key, and one from a newer kubeiam, changing nothing", async () => {
      const { stores, masterKey } = f;
      const loc = parseStoreLocation(await stores.newDb("refuse"), { home: stores.dir, cwd: stores.dir });
      const s = await openStore(loc);
      try {
        const input = { dialect: s.dialect, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() };
        await migrateStore(s.db, { ...input, keyCheck: keyCheckValue(masterKey) });
        await assert.rejects(migrateStore(s.db, { ...input, keyCheck: keyCheckValue(randomBytes(32)) }), (e) => e instanceof CredentialsError && /another master key/.test(e.message));
        await sql`UPDATE kubeiam_meta SET value = '99' WHERE key = 'schema_version'`.execute(s.db);
        await assert.rejects(
          migrateStore(s.db, { ...input, keyCheck: keyCheckValue(masterKey) }),
          (e) => e instanceof StoreError && e.message.includes(`schema version 99, newer than this kubeiam's ${SCHEMA_VERSION}`),
        );
        const v = await s.db.selectFrom("kubeiam_meta").select("value").where("key", "=", "schema_version").executeTakeFirstOrThrow();
        assert.equal(v.value, "99");
      } finally {
        await s.close();
      }
    });

    test("a sealed credential opens only in its own row: copied to another row, it does not open", async () => {
      const { broker, masterKey } = f;
      const store = broker.ctx.store;
      const secretsA = { provider: "ncp", secrets: { accessKey: "AKA", secretKey: "secret-a" } };
      const sealedA = sealCredential(masterKey, "id-a", secretsA);
      assert.ok(!sealedA.includes("secret-a"));
      assert.equal((await store.createCredential({ id: "id-a", name: "seal-a", provider: "ncp", sealed: sealedA }, new Date())), "ok");
      assert.equal((await store.createCredential({ id: "id-b", name: "seal-b", provider: "ncp", sealed: sealedA }, new Date())), "ok");
      const a = await store.credentialByName("seal-a");
      const b = await store.credentialByName("seal-b");
      assert.ok(a && b);
      assert.deepEqual(openCredential(masterKey, a), secretsA);
      assert.throws(() => openCredential(masterKey, b), (e) => e instanceof CredentialsError && !e.message.includes("secret-a"));
      assert.throws(() => openCredential(randomBytes(32), a), CredentialsError);
      assert.equal((await store.deleteCredential("seal-a")).result, "ok");
      assert.equal((await store.deleteCredential("seal-b")).result, "ok");
    });

    test("the embedded store's file is 0600 in a 0700 folder, in WAL mode", { skip: f.kind !== "sqlite" ? "SQLite only" : false }, async () => {
      const { stores, broker } = f;
      const { statSync } = await import("node:fs");
      const { dirname } = await import("node:path");
      const path = broker.db.slice("sqlite:".length);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const r = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(broker.ctx.store.db);
      assert.equal(r.rows[0]?.journal_mode, "wal");
      assert.ok((statSync(dirname(path)).mode & 0o077) === 0 || dirname(path) === stores.dir);
    });
  });
}
