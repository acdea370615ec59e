/**
 * The session store (src/broker/sessions.ts) through two broker instances on one store, per dialect
 * (sessions.test.ts, sessions-postgres.test.ts): a session access token is accepted wherever a broker
 * token is and carries the session's groups and role; it stops after its TTL, after renewal and at the
 * session's end; a refresh token renews once; deleting a user ends their sessions on the other
 * instance; no session token reaches the log.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { hashSessionToken } from "../../src/broker/sessions.js";
import { hashBrokerToken } from "../../src/broker/tokens.js";
import { call, captureLines, testStores, type StoreKind, type TestStores } from "./helpers.js";

/** Defines the suite for one store kind. */
export function defineSessionSuite(kind: StoreKind): void {
  describe(`sessions (${kind})`, () => {
    let stores: TestStores;
    let a: RunningBroker;
    let b: RunningBroker;
    let admin: string;
    let clock = Date.now();
    const log = captureLines();
    const secrets: string[] = [];

    before(async () => {
      stores = await testStores(kind);
      const db = await stores.newDb("sessions");
      const masterKey = randomBytes(32).toString("base64");
      const common = { db, listen: "127.0.0.1:0", masterKey, home: stores.dir, cwd: stores.dir, logStream: log.stream, now: () => clock, sessionTtlMs: 60_000, sessionMaxMs: 3600_000 };
      a = await startBroker({ ...common, instance: "a" });
      b = await startBroker({ ...common, instance: "b" });
      admin = a.adminToken ?? "";
      assert.match(admin, /^kbi_/);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await stores?.close();
    });

    const newSession = async (name: string, role: "admin" | "user", groups: string[]) => {
      const user = await a.ctx.store.signedInUser(name, new Date(clock));
      const s = await a.ctx.sessions.create({ userId: user.id, source: "oidc", role, groups, idpRefreshToken: `idp-refresh-${randomBytes(8).toString("hex")}` });
      secrets.push(s.accessToken, s.refreshToken);
      return s;
    };

    test("a session's access token is accepted by every instance, with the session's role and groups", async () => {
      const s = await newSession("carol@example.com", "user", ["platform", "dev"]);
      assert.match(s.accessToken, /^kbs_[A-Za-z0-9_-]{43}$/);
      assert.match(s.refreshToken, /^kbr_[A-Za-z0-9_-]{43}$/);
      for (const broker of [a, b]) {
        assert.equal((await call(broker.url, "GET", "/v1/clusters", { token: s.accessToken })).status, 200);
        // A user, not an admin: the audit is closed to her.
        assert.equal((await call(broker.url, "GET", "/v1/audit", { token: s.accessToken })).status, 403);
      }
      // HTTP Basic with the token's own user name, as for broker tokens.
      const basic = Buffer.from(`carol@example.com:${s.accessToken}`).toString("base64");
      assert.equal((await call(b.url, "GET", "/v1/clusters", { headers: { authorization: `Basic ${basic}` } })).status, 200);
      // The caller's identity carries the groups (what the grants check takes).
      const req = { headers: { authorization: `Bearer ${s.accessToken}` }, ip: "127.0.0.1" } as unknown as FastifyRequest;
      const caller = await b.ctx.authenticate(req);
      assert.equal(caller.name, "carol@example.com");
      assert.deepEqual(caller.groups, ["platform", "dev"]);
      assert.equal(caller.session, s.id);
      // The token path: no such cluster is a 404 for her, not a 401.
      assert.equal((await call(a.url, "GET", "/v1/clusters/nothing-here/token", { token: s.accessToken })).status, 404);
    });

    test("an admin-role session reads the audit", async () => {
      const s = await newSession("erin@example.com", "admin", ["kubeiam-admins"]);
      assert.equal((await call(b.url, "GET", "/v1/audit", { token: s.accessToken })).status, 200);
    });

    test("users who signed in are listed with their source; they hold no static token", async () => {
      const r = await call(a.url, "GET", "/v1/users", { token: admin });
      assert.equal(r.status, 200);
      const carol = (r.json.users as { name: string; source: string }[]).find((u) => u.name === "carol@example.com");
      assert.equal(carol?.source, "oidc");
      const first = (r.json.users as { name: string; source: string }[]).find((u) => u.name === "admin");
      assert.equal(first?.source, "token");
    });

    test("the access token stops after its TTL; renewal gives a new pair once and the old pair stops", async () => {
      const s = await newSession("dave@example.com", "user", []);
      clock += 61_000;
      const expired = await call(a.url, "GET", "/v1/clusters", { token: s.accessToken });
      assert.equal(expired.status, 401);
      assert.match(expired.json.error.message, /session has ended or its access token ran out/);
      const live = await a.ctx.sessions.byRefreshToken(s.refreshToken);
      assert.ok(live);
      assert.match(live.idpRefreshToken ?? "", /^idp-refresh-/);
      const [one, two] = await Promise.all([a.ctx.sessions.renew(live), b.ctx.sessions.renew(live, { groups: ["late"] })]);
      const won = [one, two].filter((x) => x !== undefined);
      assert.equal(won.length, 1, "of two renewals with the same refresh token, one wins");
      const renewed = won[0];
      assert.ok(renewed);
      secrets.push(renewed.accessToken, renewed.refreshToken);
      assert.equal((await call(b.url, "GET", "/v1/clusters", { token: renewed.accessToken })).status, 200);
      assert.equal(await a.ctx.sessions.byRefreshToken(s.refreshToken), undefined, "the old refresh token stops");
      assert.ok(await a.ctx.sessions.byRefreshToken(renewed.refreshToken));
    });

    test("deleting a user ends their sessions on the other instance at once", async () => {
      const s = await newSession("gone@example.com", "user", []);
      assert.equal((await call(b.url, "GET", "/v1/clusters", { token: s.accessToken })).status, 200);
      assert.equal((await call(a.url, "DELETE", "/v1/users/gone@example.com", { token: admin })).status, 204);
      assert.equal((await call(b.url, "GET", "/v1/clusters", { token: s.accessToken })).status, 401);
      assert.equal(await b.ctx.sessions.byRefreshToken(s.refreshToken), undefined);
    });

    test("rotating a user's token ends their sessions (the console's, begun with that token, and others) on the other instance at once", async () => {
      const tom = await call(a.url, "POST", "/v1/users", { token: admin, body: { name: "tom" } });
      assert.equal(tom.status, 201, tom.text);
      secrets.push(tom.json.token);
      const user = await a.ctx.store.userByTokenHash(hashBrokerToken(tom.json.token));
      assert.ok(user);
      const consoleSession = await a.ctx.sessions.create({ userId: user.id, source: "token", role: "user", groups: [] });
      const other = await a.ctx.sessions.create({ userId: user.id, source: "oidc", role: "user", groups: [], idpRefreshToken: `idp-refresh-${randomBytes(8).toString("hex")}` });
      const bystander = await newSession("uma@example.com", "user", []);
      secrets.push(consoleSession.accessToken, consoleSession.refreshToken, other.accessToken, other.refreshToken);
      for (const s of [consoleSession, other, bystander]) assert.equal((await call(b.url, "GET", "/v1/clusters", { token: s.accessToken })).status, 200);
      const rotated = await call(a.url, "POST", "/v1/users/tom/token", { token: admin });
      assert.equal(rotated.status, 200);
      secrets.push(rotated.json.token);
      for (const s of [consoleSession, other]) {
        assert.equal((await call(b.url, "GET", "/v1/clusters", { token: s.accessToken })).status, 401);
        assert.equal(await b.ctx.sessions.byRefreshToken(s.refreshToken), undefined, "nothing renews either");
      }
      assert.equal((await call(b.url, "GET", "/v1/clusters", { token: bystander.accessToken })).status, 200, "another user's session stays");
      assert.equal((await call(b.url, "GET", "/v1/clusters", { token: rotated.json.token })).status, 200);
    });

    test("ending a session, and the session's hard end, stop both tokens", async () => {
      const s = await newSession("frank@example.com", "user", []);
      assert.equal(await b.ctx.sessions.end(s.id), true);
      assert.equal((await call(a.url, "GET", "/v1/clusters", { token: s.accessToken })).status, 401);
      const t = await newSession("frank@example.com", "user", []);
      const u = await newSession("frank@example.com", "user", []);
      clock += 3600_000;
      assert.equal((await call(a.url, "GET", "/v1/clusters", { token: t.accessToken })).status, 401);
      assert.equal(await a.ctx.sessions.byRefreshToken(t.refreshToken), undefined, "past --session-max nothing renews");
      assert.ok((await a.ctx.sessions.endAllOf((await a.ctx.store.signedInUser("frank@example.com", new Date(clock))).id)) >= 1);
      assert.equal(await a.ctx.sessions.byRefreshToken(u.refreshToken), undefined);
      assert.equal(hashSessionToken(u.accessToken).length, 64);
    });

    test("no session token, refresh token or IdP refresh token in the log", () => {
      const text = log.lines.join("\n");
      assert.ok(log.lines.length > 5);
      for (const secret of secrets) assert.ok(!text.includes(secret), "a session token reached the log");
      assert.ok(!text.includes("idp-refresh-"));
    });
  });
}
