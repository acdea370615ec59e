/**
 * The broker suite's /v1/audit: order, filters, paging.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call } from "../helpers.js";
import { AUDIT_ENTRY_FIELDS } from "../../../src/broker/audit-entry.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * auditTests(brokerFixture("sqlite"));
 * ```
 */
export function auditTests(f: BrokerFixture): void {
  describe(`audit (${f.kind})`, () => {
    test("GET /v1/audit answers each entry in the one declared shape (broker/audit-entry.ts), which the console and the CLI read", async () => {
      const { admin, base } = f;
      const r = await call(base, "GET", "/v1/audit?limit=50", { token: admin });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.entries.length > 0);
      for (const e of r.json.entries) assert.deepEqual(Object.keys(e), [...AUDIT_ENTRY_FIELDS]);
      assert.ok(r.json.entries.some((e: any) => e.credential !== null), "token rows carry their credential");
    });

    test("GET /v1/audit: newest first, filters, limit, paging with before, bad limits refused", async () => {
      const { admin, base, secrets, assertError, auditOf } = f;
      const all = await auditOf("limit=10000");
      assert.ok(all.length > 20);
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].id > all[i].id, "newest first");
      assert.deepEqual(Object.keys(all[0]).slice(0, 7), ["id", "time", "actor", "action", "cluster", "outcome", "remote"]);
      const page1 = await auditOf("limit=3");
      const page2 = await auditOf(`limit=3&before=${page1[2].id}`);
      assert.deepEqual([...page1, ...page2].map((e) => e.id), all.slice(0, 6).map((e) => e.id));
      const kr = await auditOf("cluster=kr-main&limit=10000");
      assert.ok(kr.length > 0 && kr.every((e) => e.cluster === "kr-main"));
      assert.equal((await call(base, "GET", "/v1/audit", { token: admin })).json.entries.length, Math.min(100, all.length));
      assertError(await call(base, "GET", "/v1/audit?limit=0", { token: admin }), 400, "bad_request", /limit must be 1 to 10000/);
      assertError(await call(base, "GET", "/v1/audit?limit=10001", { token: admin }), 400, "bad_request");
      assertError(await call(base, "GET", "/v1/audit?limit=ten", { token: admin }), 400, "bad_request", /limit/);
      assertError(await call(base, "GET", "/v1/audit?since=1", { token: admin }), 400, "bad_request", /since is not known/);
      const text = JSON.stringify(all);
      for (const s of secrets) assert.ok(!text.includes(s), "no secret in the audit trail");
    });
  });
}
