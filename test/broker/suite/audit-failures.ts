/**
 * The broker suite's audit of what did not happen: an admin action refused or failed (409, 404, a
 * bad body, the cloud's 404 or 502) writes its row like a done one, and a failed authentication with
 * a rotated-away or deleted user's token names that user, from a digest that authenticates nothing.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { hashBrokerToken } from "../../../src/broker/tokens.js";
import { call, callFrom } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";
import { closedPort } from "../../helpers/closed-port.js";


/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * auditFailureTests(brokerFixture("sqlite"));
 * ```
 */
export function auditFailureTests(f: BrokerFixture): void {
  describe(`audit of refusals (${f.kind})`, () => {
    test("refused and failed admin actions are audited: 409, 404, a bad body, the cloud's 404 and 502", async () => {
      const { sandbox, admin, base, running, secrets, addCluster, auditOf } = f;
      const newest = async () => (await auditOf("user=admin&limit=1"))[0];
      assert.equal((await call(base, "POST", "/v1/users", { token: admin, body: { name: "alice" } })).status, 409);
      assert.deepEqual(
        (({ actor, action, outcome }) => ({ actor, action, outcome }))(await newest()),
        { actor: "admin", action: "user.create", outcome: "denied" },
      );
      assert.match((await newest()).reason, /^409 conflict: user alice already exists/);
      assert.equal((await call(base, "DELETE", "/v1/credentials/ghost", { token: admin })).status, 404);
      assert.deepEqual([(await newest()).action, (await newest()).outcome], ["credential.delete", "denied"]);
      assert.match((await newest()).reason, /^404 not_found: credential ghost does not exist/);
      assert.equal((await call(base, "POST", "/v1/users", { token: admin, body: { name: "x", role: "root" } })).status, 400);
      assert.match((await newest()).reason, /^400 bad_request: body field role must be one of/);
      assert.equal((await call(base, "PUT", "/v1/grants/ghost/kr-main", { token: admin })).status, 404);
      assert.deepEqual([(await newest()).action, (await newest()).outcome], ["grant.put", "denied"]);
      // The cloud: a cluster it does not have (404), and a gateway that does not answer (502).
      assert.equal((await addCluster("nowhere", "sandbox", { ...running, uuid: "00000000-0000-4000-8000-000000000000" })).status, 404);
      assert.deepEqual([(await newest()).action, (await newest()).outcome], ["cluster.create", "denied"]);
      const dead = `http://127.0.0.1:${await closedPort()}`;
      const cred = { name: "dead-gw", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: dead } };
      assert.equal((await call(base, "POST", "/v1/credentials", { token: admin, body: cred })).status, 201);
      const unreachable = await addCluster("unreachable", "dead-gw", running);
      assert.equal(unreachable.status, 502, unreachable.text);
      const row = await newest();
      assert.deepEqual([row.action, row.outcome], ["cluster.create", "error"]);
      assert.match(row.reason, /^502 cloud_unreachable: /);
      assert.equal((await call(base, "DELETE", "/v1/credentials/dead-gw", { token: admin })).status, 204);
      // One row per refusal: the 403 the access hook writes is not written twice.
      const before = (await auditOf("limit=1"))[0].id as number;
      assert.equal((await call(base, "DELETE", "/v1/users/admin", { token: f.userToken("alice") })).status, 403);
      const after = await auditOf(`after=${before}&limit=10`);
      assert.deepEqual(after.map((e) => [e.actor, e.action, e.outcome, e.reason]), [["alice", "user.delete", "denied", "not_admin"]]);
      const text = JSON.stringify(await auditOf("limit=50"));
      for (const s of secrets) assert.ok(!text.includes(s), "no secret in the audit trail");
    });

    test("a rotated-away or deleted user's token names that user in the failed authentication's row; what is kept authenticates nothing", async () => {
      const { broker, admin, base, addUser, assertError, auditOf, secrets } = f;
      // From an address of its own, so these failures count against no other test's.
      const from = "127.0.0.5";
      const refused = async (token: string | { authorization: string }, message: RegExp) => {
        const r = await callFrom(from, base, "GET", "/v1/clusters", token);
        assertError({ ...r, json: JSON.parse(r.text) }, 401, "unauthenticated", message);
        const row = (await auditOf("limit=1"))[0];
        assert.deepEqual([row.action, row.outcome, row.remote], ["auth", "denied", from]);
        return row;
      };
      const first = await addUser("tess");
      const rotated = await call(base, "POST", "/v1/users/tess/token", { token: admin });
      assert.equal(rotated.status, 200);
      const second = rotated.json.token as string;
      secrets.push(second);
      let row = await refused(first, /this broker token of tess stopped working at .* \(an admin rotated it\)/);
      assert.equal(row.actor, "tess");
      assert.match(row.reason, /^retired_token: rotated at \d{4}-/);
      // Over HTTP Basic too, whatever name is claimed.
      row = await refused({ authorization: `Basic ${Buffer.from(`mallory:${first}`).toString("base64")}` }, /tess/);
      assert.equal(row.actor, "tess");
      assert.equal((await call(base, "DELETE", "/v1/users/tess", { token: admin })).status, 204);
      row = await refused(second, /tess .*the user was deleted/);
      assert.deepEqual([row.actor, row.reason.split(" at ")[0]], ["tess", "retired_token: deleted"]);
      // An unknown token is still nobody's.
      row = await refused(`kbi_${"Q".repeat(43)}`, /not known/);
      assert.equal(row.actor, "?");
      // Kept: neither a token nor its digest (which the users table would accept).
      const kept = await broker.ctx.store.db.selectFrom("retired_tokens").selectAll().execute();
      const text = JSON.stringify(kept);
      for (const t of [first, second]) {
        assert.ok(!text.includes(t) && !text.includes(hashBrokerToken(t)));
        assert.equal(await broker.ctx.store.userByTokenHash(hashBrokerToken(t)), undefined);
      }
      for (const k of kept) assert.equal(await broker.ctx.store.userByTokenHash(k.digest), undefined);
      // Retention's cut forgets them: from then on the token is nobody's, as an unknown one.
      const retiredAt = kept.map((k) => k.retired_at).sort();
      const last = retiredAt[retiredAt.length - 1] ?? "";
      assert.equal(await broker.ctx.store.pruneRetiredTokens(retiredAt[0] ?? ""), 0, "a cut at the oldest keeps it");
      assert.equal(await broker.ctx.store.pruneRetiredTokens(new Date(Date.parse(last) + 1).toISOString()), kept.length);
      row = await refused(first, /not known/);
      assert.equal(row.actor, "?");
    });
  });
}
