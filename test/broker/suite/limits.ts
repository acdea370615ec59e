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

    test("more than 20 failed authentications a minute from one address: its failures get 429 until the minute is over, one audit row for it; a valid token from it still passes", async () => {
      const { admin, base, auditOf, addUser } = f;
      const from = "127.0.0.2";
      // Not gus: the --rate-limit test above may have spent his token requests for this very second.
      const hal = await addUser("hal");
      const grant = await call(base, "PUT", "/v1/grants/hal/kr-main", { token: admin });
      assert.ok(grant.status < 300, grant.text);
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push((await callFrom(from, base, "GET", "/v1/clusters", newBrokerToken())).status);
      assert.deepEqual(statuses, [...Array(20).fill(401), 429]);
      const guess = newBrokerToken();
      const blocked = await callFrom(from, base, "GET", "/v1/clusters", guess);
      assert.equal(blocked.status, 429, "a new guess is throttled");
      const retry = Number(blocked.headers["retry-after"]);
      assert.ok(retry >= 1 && retry <= 60);
      assert.equal(JSON.parse(blocked.text).error.code, "rate_limited");
      assert.equal((await callFrom(from, base, "GET", "/v1/clusters", guess)).status, 429, "the same guess again too");
      assert.equal((await callFrom(from, base, "GET", "/v1/clusters")).status, 429, "and no token at all");
      // One client behind a NAT or proxy must not lock out the others behind it.
      const ok = await callFrom(from, base, "GET", "/v1/clusters", admin);
      assert.equal(ok.status, 200, `a valid token is never refused for others' failures: ${ok.text}`);
      assert.equal((await callFrom(from, base, "GET", "/v1/clusters/kr-main/token", hal)).status, 200, "the token route too");
      assert.equal((await callFrom(from, base, "GET", "/v1/clusters", newBrokerToken())).status, 429, "and failures after it still wait");
      assert.equal((await callFrom("127.0.0.1", base, "GET", "/v1/clusters", admin)).status, 200, "other addresses are not affected");
      const rows = (await auditOf("limit=200")).filter((e) => e.remote === from);
      assert.equal(rows.filter((e) => e.outcome === "denied" && e.action === "auth").length, 20);
      assert.equal(rows.filter((e) => e.outcome === "limited").length, 1, "the refusals after the limit write no row");
    });

    test("--trust-proxy: the client is the rightmost X-Forwarded-For hop that is not a trusted proxy, for the limit, the audit rows and /metrics; untrusted peers' X-Forwarded-For is ignored", async () => {
      const { broker, admin, masterKey, kind, auditOf, secrets } = f;
      const { createBrokerApp } = await import("../../../src/broker/server.js");
      const built = await createBrokerApp({ store: broker.ctx.store, masterKey, publicUrl: () => f.base, logStream: false, instance: `test-${kind}-proxied`, trustProxy: ["127.0.0.0/8", "10.0.0.0/8"] });
      const via = (peer: string, xff: string | undefined, url: string, token?: string) =>
        built.app.inject({
          method: "GET",
          url,
          remoteAddress: peer,
          headers: { ...(xff === undefined ? {} : { "x-forwarded-for": xff }), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        });
      try {
        // A same-host proxy forwards one guesser and one honest client.
        const statuses: number[] = [];
        for (let i = 0; i < 21; i++) statuses.push((await via("127.0.0.1", "203.0.113.9", "/v1/clusters", newBrokerToken())).statusCode);
        assert.deepEqual(statuses, [...Array(20).fill(401), 429]);
        assert.equal((await via("127.0.0.1", "203.0.113.10", "/v1/clusters", newBrokerToken())).statusCode, 401, "another client behind the same proxy is not limited");
        assert.equal((await via("127.0.0.1", "203.0.113.9", "/v1/clusters", admin)).statusCode, 200, "the guesser's address with a valid token passes");
        // A spoofed hop left of the proxy's own is not the client; a chain of trusted proxies is walked.
        assert.equal((await via("127.0.0.1", "198.51.100.77, 203.0.113.9", "/v1/clusters", newBrokerToken())).statusCode, 429, "the rightmost untrusted hop is the guesser");
        assert.equal((await via("10.1.2.3", "203.0.113.9, 10.9.9.9", "/v1/clusters", newBrokerToken())).statusCode, 429, "through two trusted proxies");
        // A peer that is not a trusted proxy is the client, whatever it says.
        assert.equal((await via("192.0.2.50", "203.0.113.10", "/v1/clusters", newBrokerToken())).statusCode, 401);
        const rows = await auditOf("limit=500");
        assert.equal(rows.filter((e) => e.remote === "203.0.113.9" && e.action === "auth").length, 21, "20 denied and 1 limited, under the forwarded address");
        assert.ok(rows.some((e) => e.remote === "192.0.2.50"), "an untrusted peer is audited as itself");
        assert.ok(!rows.some((e) => e.remote === "198.51.100.77"), "a spoofed hop is never the client");

        // /metrics: a proxied request is judged by the address it was forwarded for.
        assert.equal((await via("127.0.0.1", "203.0.113.20", "/metrics")).statusCode, 401, "a stranger through the same-host proxy is not loopback");
        assert.equal((await via("127.0.0.1", "127.0.0.1", "/metrics")).statusCode, 200, "a local scraper through the proxy is");
        assert.equal((await via("127.0.0.1", undefined, "/metrics")).statusCode, 200, "and straight to the broker");
      } finally {
        await built.app.close();
      }
      // Without --trust-proxy (the suite's broker), X-Forwarded-For changes nobody's address, and a
      // request that says it was forwarded from loopback is not taken for a local one.
      const direct = (xff: string, url: string, token?: string) =>
        broker.app.inject({ method: "GET", url, remoteAddress: "127.0.0.9", headers: { "x-forwarded-for": xff, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } });
      assert.equal((await direct("203.0.113.30", "/metrics")).statusCode, 401, "a same-host proxy the broker does not trust does not open /metrics");
      assert.equal((await direct("203.0.113.30", "/metrics", admin)).statusCode, 200);
      assert.equal((await direct("203.0.113.31", "/v1/clusters", newBrokerToken())).statusCode, 401);
      const rows = await auditOf("limit=50");
      assert.ok(rows.some((e) => e.remote === "127.0.0.9"), "audited as the connection's address");
      assert.ok(!rows.some((e) => e.remote === "203.0.113.31"));
      for (const s of secrets) assert.ok(!JSON.stringify(rows).includes(s));
    });
  });
}
