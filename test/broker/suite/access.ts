/**
 * The broker suite's who may call what: /healthz, 401s, HTTP Basic, the OpenAPI walk, closed-by-default routes, unknown routes.
 */
import { createHook } from "node:async_hooks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { newBrokerToken } from "../../../src/broker/tokens.js";
import { call } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * accessTests(brokerFixture("sqlite"));
 * ```
 */
export function accessTests(f: BrokerFixture): void {
  describe(`access (${f.kind})`, () => {
    test("GET /healthz answers without a token", async () => {
      const { base } = f;
      const r = await call(base, "GET", "/healthz");
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { status: "ok" });
    });

    test("GET /healthz leaves no timer behind once it has answered (its 5 s deadline is cleared, not left to fire)", async () => {
      const { broker } = f;
      // Timers made while the requests run, until cleared or fired: a probe every second would
      // otherwise keep five seconds of them, each firing later to reject a race long settled. Not
      // one per answer (the test's own HTTP client may hold a keep-alive timer meanwhile).
      const pending = new Set<number>();
      const hook = createHook({
        init: (id, type) => void (type === "Timeout" && pending.add(id)),
        destroy: (id) => void pending.delete(id),
      }).enable();
      try {
        for (let i = 0; i < 50; i++) assert.equal((await broker.app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        hook.disable();
      }
      assert.ok(pending.size < 5, `${pending.size} timers still pending after 50 answers`);
    });

    test("no token, a malformed one, an unknown one: 401 with one sentence, each audited", async () => {
      const { admin, base, assertError, auditOf, kind } = f;
      assertError(await call(base, "GET", "/v1/clusters"), 401, "unauthenticated", /no broker token/);
      assertError(await call(base, "GET", "/v1/clusters", { headers: { authorization: "Token abc" } }), 401, "unauthenticated", /scheme/);
      assertError(await call(base, "GET", "/v1/clusters", { token: "kbi_short" }), 401, "unauthenticated", /not a kbi_ token/);
      assertError(await call(base, "GET", "/v1/clusters", { token: newBrokerToken() }), 401, "unauthenticated", /not known/);
      const basic = Buffer.from(`nobody:${admin}`).toString("base64");
      assertError(await call(base, "GET", "/v1/clusters", { headers: { authorization: `Basic ${basic}` } }), 401, "unauthenticated", /user name does not match/);
      const rows = await auditOf("limit=20");
      const auth = rows.filter((e) => e.action === "auth");
      assert.ok(auth.length >= 5);
      assert.ok(auth.every((e) => e.outcome === "denied" && e.remote === "127.0.0.1" && e.instance === `test-${kind}`));
    });

    test("HTTP Basic admin:kbi_… is accepted like Bearer", async () => {
      const { admin, base } = f;
      const basic = Buffer.from(`admin:${admin}`).toString("base64");
      const r = await call(base, "GET", "/v1/credentials", { headers: { authorization: `Basic ${basic}` } });
      assert.equal(r.status, 200, r.text);
    });

    test("GET /openapi.json: every operation not marked public answers 401 to a stranger, every admin one 403 to a user, public ones neither", async () => {
      const { broker, base, addUser, auditOf } = f;
      const r = await call(base, "GET", "/openapi.json");
      assert.equal(r.status, 200, r.text);
      const doc = r.json;
      assert.match(doc.openapi, /^3\./);
      assert.deepEqual(doc.security, [{ brokerToken: [] }, { basic: [] }]);
      assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ["basic", "brokerToken"]);
      const olga = await addUser("olga");
      // Path parameters filled with real names, so a refusal is the hook's and not a 404.
      const sample: Record<string, string> = { name: "kr-main", user: "olga", cluster: "kr-main", Name: "kr-main" };
      const ops: { method: string; path: string; url: string; op: any }[] = [];
      for (const [path, item] of Object.entries<any>(doc.paths)) {
        for (const [method, op] of Object.entries<any>(item)) {
          ops.push({ method: method.toUpperCase(), path, url: path.replace(/\{(\w+)\}/g, (_m, p: string) => sample[p] ?? "x"), op });
        }
      }
      const documented = new Set(ops.map((o) => `${o.method} ${o.path}`));
      for (const must of ["GET /healthz", "GET /openapi.json", "GET /metrics", "POST /v1/users", "GET /v1/clusters/{name}/token", "GET /v1/audit", "GET /spider/cluster/{Name}/token"]) {
        assert.ok(documented.has(must), `${must} is documented`);
      }
      const publicOps = ops.filter((o) => Array.isArray(o.op.security) && o.op.security.length === 0);
      assert.deepEqual(publicOps.map((o) => o.op["x-kubeiam-access"]), publicOps.map(() => "public"), "security: [] on exactly the public operations");
      assert.ok(ops.every((o) => (o.op["x-kubeiam-access"] === "public") === publicOps.includes(o)));
      let n = 0;
      // From an address that is not loopback (Fastify inject), a new one per request so the
      // failed-authentication limit never answers in the hook's place.
      const send = (o: (typeof ops)[number], token?: string) =>
        broker.app.inject({
          method: o.method as "GET",
          url: o.url,
          remoteAddress: `198.51.100.${++n}`,
          headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(o.op.requestBody === undefined ? {} : { "content-type": "application/json" }) },
          ...(o.op.requestBody === undefined ? {} : { payload: "{}" }),
        });
      let closed = 0;
      let admins = 0;
      for (const o of ops) {
        const stranger = await send(o);
        if (publicOps.includes(o)) {
          assert.ok(stranger.statusCode !== 401 && stranger.statusCode !== 403, `${o.method} ${o.path} is public: ${stranger.statusCode} ${stranger.body}`);
          continue;
        }
        closed++;
        assert.equal(stranger.statusCode, 401, `${o.method} ${o.path} to a stranger: ${stranger.body}`);
        assert.ok(!stranger.body.includes("kubeiam_broker_"), "nothing but the refusal");
        if (o.op["x-kubeiam-access"] === "admin") {
          admins++;
          const user = await send(o, olga);
          assert.equal(user.statusCode, 403, `${o.method} ${o.path} to a user: ${user.body}`);
          assert.match(user.body, /is for admins/);
        }
      }
      assert.ok(closed >= 15 && admins >= 10, `${closed} closed operations, ${admins} for admins`);
      const denied = (await auditOf("user=olga&limit=1000")).filter((e) => e.outcome === "denied" && e.reason === "not_admin");
      assert.equal(denied.length, admins, "each 403 audited");
      assert.ok(denied.some((e) => e.action === "user.create"), "under the route's declared audit action");
    });

    test("a route that declares nothing is closed: 401 for a stranger, 403 for a user, 200 for an admin; a group may declare itself public", async () => {
      const { broker, admin, base, masterKey, addUser, kind } = f;
      const { createBrokerApp } = await import("../../../src/broker/server.js");
      const { declareGroupAccess } = await import("../../../src/broker/access.js");
      const built = await createBrokerApp({ store: broker.ctx.store, masterKey, publicUrl: () => base, logStream: false, instance: `test-${kind}-closed` });
      try {
        built.app.get("/v1/undeclared", async () => ({ ok: true }));
        await built.app.register(async (group) => {
          declareGroupAccess(group, { public: true });
          group.get("/open/one", async () => ({ open: true }));
        });
        await built.app.ready();
        const pat = await addUser("pat");
        const get = (url: string, token?: string) => built.app.inject({ method: "GET", url, remoteAddress: "203.0.113.7", ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }) });
        assert.equal((await get("/v1/undeclared")).statusCode, 401);
        assert.equal((await get("/v1/undeclared", pat)).statusCode, 403);
        assert.equal((await get("/v1/undeclared", admin)).statusCode, 200);
        assert.equal((await get("/open/one")).statusCode, 200);
        const doc = (await get("/openapi.json")).json();
        assert.equal(doc.paths["/v1/undeclared"].get["x-kubeiam-access"], "admin");
        assert.equal(doc.paths["/v1/undeclared"].get.security, undefined);
        assert.deepEqual(doc.paths["/open/one"].get.security, []);
      } finally {
        await built.app.close();
      }
    });

    test("unknown routes are 404 in the same error shape", async () => {
      const { admin, base, assertError } = f;
      assertError(await call(base, "GET", "/v2/anything", { token: admin }), 404, "not_found", /no route GET \/v2\/anything/);
    });
  });
}
