/**
 * The broker suite's /v1/users: tokens shown once, 403 for users, rotation and deletion.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { hashBrokerToken } from "../../../src/broker/tokens.js";
import { call } from "../helpers.js";
import { TOKEN_RE, type BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * userTests(brokerFixture("sqlite"));
 * ```
 */
export function userTests(f: BrokerFixture): void {
  describe(`users (${f.kind})`, () => {
    test("users: created with a kbi_ token shown once; a taken name is 409; non-admins get 403", async () => {
      const { admin, base, secrets, assertError } = f;
      const r = await call(base, "POST", "/v1/users", { token: admin, body: { name: "alice" } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.name, "alice");
      assert.equal(r.json.role, "user");
      assert.match(r.json.token, TOKEN_RE);
      secrets.push(r.json.token);
      const alice = r.json.token as string;
      f.userTokens.set("alice", alice);
      const list = await call(base, "GET", "/v1/users", { token: admin });
      assert.ok(!list.text.includes(alice) && !list.text.includes(hashBrokerToken(alice)));
      assertError(await call(base, "POST", "/v1/users", { token: admin, body: { name: "alice" } }), 409, "conflict");
      assertError(await call(base, "POST", "/v1/users", { token: admin, body: { name: "bob", role: "root" } }), 400, "bad_request", /role must be one of/);
      assertError(await call(base, "POST", "/v1/users", { token: alice, body: { name: "mallory" } }), 403, "forbidden", /for admins/);
      assertError(await call(base, "POST", "/v1/credentials", { token: alice, body: { name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b" } } }), 403, "forbidden");
      assertError(await call(base, "GET", "/v1/audit", { token: alice }), 403, "forbidden");
      assertError(await call(base, "DELETE", "/v1/users/admin", { token: admin }), 409, "in_use", /your own user/);
      assertError(await call(base, "DELETE", "/v1/users/ghost", { token: admin }), 404, "not_found");
    });

    test("rotating a token stops the old one at once; deleting a user stops theirs", async () => {
      const { admin, base, secrets, addUser, assertError } = f;
      const dave = await addUser("dave");
      assert.equal((await call(base, "GET", "/v1/clusters", { token: dave })).status, 200);
      const rot = await call(base, "POST", "/v1/users/dave/token", { token: admin });
      assert.equal(rot.status, 200, rot.text);
      assert.deepEqual(Object.keys(rot.json), ["token"]);
      assert.match(rot.json.token, TOKEN_RE);
      secrets.push(rot.json.token);
      assertError(await call(base, "GET", "/v1/clusters", { token: dave }), 401, "unauthenticated");
      assert.equal((await call(base, "GET", "/v1/clusters", { token: rot.json.token })).status, 200);
      assert.equal((await call(base, "DELETE", "/v1/users/dave", { token: admin })).status, 204);
      assertError(await call(base, "GET", "/v1/clusters", { token: rot.json.token }), 401, "unauthenticated");
      assertError(await call(base, "POST", "/v1/users/dave/token", { token: admin }), 404, "not_found");
    });
  });
}
