/**
 * The broker suite's limits: --rate-limit and failed authentications.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { newBrokerToken } from "../../../src/broker/tokens.js";
import { call, callFrom } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * limitTests(brokerFixture("sqlite"));
 * ```
 */
export function limitTests(f: BrokerFixture): void {
  describe(`limits (${f.kind})`, () => {
    test("--rate-limit: past N token requests a second, 429 with Retry-After", async () => {
      const { admin, base, secrets, addUser, assertError, auditOf } = f;
      const gus = await addUser("gus");
      await call(base, "PUT", "/v1/grants/gus/kr-main", { token: admin });
      f.frozen = Date.now();
      let answers: Awaited<ReturnType<typeof call>>[];
      try {
        answers = await Promise.all(Array.from({ length: 80 }, () => call(base, "GET", "/v1/clusters/kr-main/token", { token: gus })));
      } finally {
        f.frozen = undefined;
      }
      const limited = answers.filter((a) => a.status === 429);
      const ok = answers.filter((a) => a.status === 200);
      for (const a of ok) secrets.push(a.json.status.token);
      assert.equal(ok.length, 20, "within one second, exactly N pass");
      assert.equal(limited.length, 60);
      assertError(limited[0] as any, 429, "rate_limited", /more than 20 token requests a second/);
      assert.equal(limited[0]?.headers.get("retry-after"), "1");
      const rows = await auditOf("user=gus&limit=10000");
      assert.equal(rows.filter((e) => e.outcome === "issued").length, ok.length);
      assert.equal(rows.filter((e) => e.reason === "rate_limited").length, limited.length);
    });

    test("more than 20 failed authentications a minute from one address: 429 until the minute is over, one audit row for it", async () => {
      const { admin, base, auditOf } = f;
      const from = "127.0.0.2";
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push((await callFrom(from, base, "GET", "/v1/clusters", newBrokerToken())).status);
      assert.deepEqual(statuses, [...Array(20).fill(401), 429]);
      const blocked = await callFrom(from, base, "GET", "/v1/clusters", admin);
      assert.equal(blocked.status, 429, "even a good token waits out the minute");
      const retry = Number(blocked.headers["retry-after"]);
      assert.ok(retry >= 1 && retry <= 60);
      assert.equal(JSON.parse(blocked.text).error.code, "rate_limited");
      assert.equal((await callFrom("127.0.0.1", base, "GET", "/v1/clusters", admin)).status, 200, "other addresses are not affected");
      const rows = (await auditOf("limit=200")).filter((e) => e.remote === from);
      assert.equal(rows.filter((e) => e.outcome === "denied").length, 20);
      assert.equal(rows.filter((e) => e.outcome === "limited").length, 1);
    });
  });
}
