/**
 * The broker suite's operations, last: /metrics, the store going away, the log lines.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * opsTests(brokerFixture("sqlite"));
 * ```
 */
export function opsTests(f: BrokerFixture): void {
  describe(`ops (${f.kind})`, () => {
    test("GET /metrics from loopback: requests, tokens by provider and outcome, store latency", async () => {
      const { base } = f;
      const r = await call(base, "GET", "/metrics");
      assert.equal(r.status, 200);
      assert.match(r.text, /^kubeiam_broker_tokens_total\{provider="ncp",outcome="issued"\} \d+$/m);
      assert.match(r.text, /^kubeiam_broker_tokens_total\{provider="ncp",outcome="denied"\} \d+$/m);
      assert.match(r.text, /^kubeiam_broker_http_requests_total\{method="GET",route="\/v1\/clusters\/:name\/token",status="200"\} \d+$/m);
      assert.match(r.text, /^kubeiam_broker_store_seconds_count\{op="audit_commit"\} \d+$/m);
    });

    test("GET /metrics from another address: 401 without a token, 403 for a user, 200 for an admin", async () => {
      const { broker, admin, base, secrets } = f;
      // Tests listen on loopback only; Fastify's inject gives the request another peer address, and
      // the route sees it as req.ip exactly as it would a remote client's.
      const made = await call(base, "POST", "/v1/users", { token: admin, body: { name: "metrics-reader" } });
      assert.equal(made.status, 201, made.text);
      secrets.push(made.json.token);
      const from = (token?: string) =>
        broker.app.inject({ method: "GET", url: "/metrics", remoteAddress: "192.0.2.10", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      const anonymous = await from();
      assert.equal(anonymous.statusCode, 401, anonymous.body);
      assert.ok(!anonymous.body.includes("kubeiam_broker_"), "no metrics without a token");
      const user = await from(made.json.token as string);
      assert.equal(user.statusCode, 403, user.body);
      assert.equal(JSON.parse(user.body).error.code, "forbidden");
      const ok = await from(admin);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.match(ok.body, /^# TYPE kubeiam_broker_tokens_total counter$/m);
    });

    test("PostgreSQL gone: /healthz is 503, a token request is 503 in the same error shape, no token", { skip: f.kind !== "postgres" ? "a server to stop: PostgreSQL only" : false }, async () => {
      const { stores, base, assertError, userToken } = f;
      await stores.stopServer();
      const health = await call(base, "GET", "/healthz");
      assert.equal(health.status, 503);
      assert.equal(health.json.status, "unavailable");
      const alice = userToken("alice");
      assertError(await call(base, "GET", "/v1/clusters/kr-main/token", { token: alice }), 503, "store_unavailable", /store does not answer/);
    });

    test("log lines: JSON with a request id, method, route, status and user, and never a secret or token", async () => {
      const { log, secrets } = f;
      await new Promise((r) => setTimeout(r, 50));
      const requests = log.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
      assert.ok(requests.length > 50);
      const one = requests.find((l) => l.route === "/v1/clusters/:name/token" && l.status === 200);
      assert.ok(one, "a token request was logged");
      assert.match(one.reqId, /^[0-9a-f-]{36}$/);
      assert.equal(one.method, "GET");
      assert.equal(typeof one.durationMs, "number");
      assert.ok(typeof one.user === "string");
      const all = log.lines.join("\n");
      for (const s of secrets) assert.ok(!all.includes(s), "no secret or token in the log");
    });
  });
}
