/**
 * The broker suite's credentials in place: `PUT /v1/credentials/{name}` replaces a held key (tokens
 * minted afterwards are signed with the new one, the cloud's API answers to it), refusals change
 * nothing, and `GET /v1/credentials` says where each NCP key points.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_NCP_API_URL } from "../../../src/ncp/credentials.js";
import { verifyNcpToken } from "../../../src/ncp/token.js";
import { call } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * credentialUpdateTests(brokerFixture("sqlite"));
 * ```
 */
export function credentialUpdateTests(f: BrokerFixture): void {
  describe(`credentials updated in place (${f.kind})`, () => {
    test("PUT /v1/credentials/{name}: tokens minted afterwards use the new key, the cloud's API answers to it; audited", async () => {
      const { sandbox, broker, admin, base, secrets, running, secondKey, addCluster, addUser, auditOf } = f;
      const ncp = (k: { accessKey: string; secretKey: string }) => ({ provider: "ncp", ncp: { accessKey: k.accessKey, secretKey: k.secretKey, apiUrl: sandbox.apiUrl } });
      assert.equal((await call(base, "POST", "/v1/credentials", { token: admin, body: { name: "rolling", ...ncp(sandbox) } })).status, 201);
      assert.equal((await addCluster("rolling-c", "rolling", running)).status, 201);
      const rita = await addUser("rita");
      assert.equal((await call(base, "PUT", "/v1/grants/rita/rolling-c", { token: admin })).status, 204);
      const keys = new Map([[sandbox.accessKey, sandbox.secretKey], [secondKey.accessKey, secondKey.secretKey]]);
      const signedBy = async () => {
        const r = await call(base, "GET", "/v1/clusters/rolling-c/token", { token: rita });
        assert.equal(r.status, 200, r.text);
        secrets.push(r.json.status.token);
        return verifyNcpToken(r.json.status.token, { secretKeyFor: (ak) => keys.get(ak), clusterUuid: running.uuid, region: running.region }).accessKey;
      };
      assert.equal(await signedBy(), sandbox.accessKey);
      const id = (await broker.ctx.store.credentialByName("rolling"))?.id;

      // A key the sandbox does not know: the cloud's API refuses a lookup with it.
      const bogus = { accessKey: "ncp_iam_BOGUSKEY00000000", secretKey: "ncp_iam_bogus_secret_never_valid_0000" };
      secrets.push(bogus.secretKey);
      const put = (body: unknown) => call(base, "PUT", "/v1/credentials/rolling", { token: admin, body });
      const toBogus = await put({ name: "rolling", ...ncp(bogus) });
      assert.equal(toBogus.status, 200, toBogus.text);
      assert.deepEqual(toBogus.json, { name: "rolling", provider: "ncp" });
      const refused = await addCluster("rolling-d", "rolling", running);
      assert.ok(refused.status >= 400 && refused.status < 600 && refused.status !== 404, refused.text);

      // The new key: the body without a name (the path names it) is the same as with it.
      assert.equal((await put(ncp(secondKey))).status, 200);
      assert.equal(await signedBy(), secondKey.accessKey, "the very next token is signed with the new key");
      assert.equal((await addCluster("rolling-d", "rolling", running)).status, 201, "the cloud's API answers to the new key");
      const row = await broker.ctx.store.credentialByName("rolling");
      assert.equal(row?.id, id, "updated in place: the same row, so its clusters and grants stay");
      assert.ok(row !== undefined && !row.sealed.includes(secondKey.secretKey));

      const rows = await auditOf("user=admin&limit=20");
      const updates = rows.filter((e) => e.action === "credential.update");
      assert.equal(updates.length, 2);
      assert.ok(updates.every((e) => e.outcome === "ok" && e.reason === "rolling (ncp)"));
      for (const c of ["rolling-c", "rolling-d"]) assert.equal((await call(base, "DELETE", `/v1/clusters/${c}`, { token: admin })).status, 204);
    });

    test("PUT /v1/credentials/{name} refusals change nothing: unknown 404, another cloud 400, bad body 400, a rename 400, a user 403", async () => {
      const { sandbox, broker, admin, base, assertError, userToken } = f;
      const before = await broker.ctx.store.credentialByName("rolling");
      assert.ok(before);
      const put = (name: string, body: unknown, token = admin) => call(base, "PUT", `/v1/credentials/${name}`, { token, body });
      const key = { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey };
      assertError(await put("ghost", { provider: "ncp", ncp: key }), 404, "not_found", /credential ghost does not exist/);
      assertError(await put("rolling", { provider: "aws", aws: { accessKeyId: "AKIDX", secretAccessKey: "s" } }), 400, "bad_request", /credential rolling is for ncp, not aws/);
      assertError(await put("rolling", { provider: "ncp", ncp: { accessKey: "a" } }), 400, "bad_request", /ncp\.secretKey is missing/);
      assertError(await put("rolling", { provider: "ncp", ncp: { ...key, apiUrl: "http://example.com" } }), 400, "bad_request", /https/);
      assertError(await put("rolling", { provider: "ncp" }), 400, "bad_request", /field ncp is missing/);
      assertError(await put("rolling", { name: "other", provider: "ncp", ncp: key }), 400, "bad_request", /cannot be renamed/);
      assertError(await put("bad name!", { provider: "ncp", ncp: key }), 400, "bad_request");
      assertError(await put("rolling", { provider: "ncp", ncp: key }, userToken("alice")), 403, "forbidden", /updating credentials is for admins/);
      assert.deepEqual(await broker.ctx.store.credentialByName("rolling"), before, "nothing changed");
    });

    test("GET /v1/credentials says where each NCP key points: the apiUrl it was given, else the default gateway", async () => {
      const { sandbox, admin, base } = f;
      assert.equal((await call(base, "POST", "/v1/credentials", { token: admin, body: { name: "plain-gw", provider: "ncp", ncp: { accessKey: "AK", secretKey: "SK-plain" } } })).status, 201);
      const list = await call(base, "GET", "/v1/credentials", { token: admin });
      assert.equal(list.status, 200, list.text);
      const byName = new Map((list.json.credentials as any[]).map((c) => [c.name, c]));
      assert.equal(byName.get("rolling")?.apiUrl, sandbox.apiUrl);
      assert.equal(byName.get("plain-gw")?.apiUrl, DEFAULT_NCP_API_URL);
      assert.deepEqual(Object.keys(byName.get("plain-gw")).sort(), ["apiUrl", "createdAt", "name", "provider"]);
      assert.ok(!list.text.includes("SK-plain") && !list.text.includes(sandbox.secretKey));
      for (const c of ["plain-gw", "rolling"]) assert.equal((await call(base, "DELETE", `/v1/credentials/${c}`, { token: admin })).status, 204);
    });

    test("/openapi.json describes PUT /v1/credentials/{name} (admin) and the listing's apiUrl", async () => {
      const doc = (await call(f.base, "GET", "/openapi.json")).json;
      const op = doc.paths["/v1/credentials/{name}"]?.put;
      assert.ok(op, "PUT /v1/credentials/{name} is in the document");
      assert.equal(op["x-kubeiam-access"], "admin");
      assert.ok(op.requestBody?.content?.["application/json"]?.schema?.properties?.ncp);
      const list = doc.paths["/v1/credentials"].get.responses["200"].content["application/json"].schema;
      assert.ok(list.properties.credentials.items.properties.apiUrl);
    });
  });
}
