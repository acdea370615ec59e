/**
 * The broker suite's token answers: grants, ExecCredentials, locators, another instance, kubeconfigs.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { sql } from "kysely";
import { parse as parseYaml } from "yaml";
import { verifyNcpToken } from "../../../src/ncp/token.js";
import { type SandboxClusterSummary } from "../../../src/sandbox/index.js";
import { startBroker } from "../../../src/broker/serve.js";
import { askUntil, call, type Answer } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * tokenTests(brokerFixture("sqlite"));
 * ```
 */
export function tokenTests(f: BrokerFixture): void {
  describe(`tokens (${f.kind})`, () => {
    test("tokens: no grant 403, grant gives an ExecCredential that the cluster accepts, unknown cluster 404; each answer audited", async () => {
      const { sandbox, admin, base, secrets, running, assertError, auditOf, userToken } = f;
      const alice = userToken("alice");
      assertError(await call(base, "GET", "/v1/clusters/kr-main/token", { token: alice }), 403, "no_grant", /no grant for cluster kr-main/);
      assert.equal((await call(base, "GET", "/v1/clusters", { token: alice })).json.clusters.length, 0);
      assertError(await call(base, "PUT", "/v1/grants/ghost/kr-main", { token: admin }), 404, "not_found", /user ghost/);
      assertError(await call(base, "PUT", "/v1/grants/alice/nope", { token: admin }), 404, "not_found", /cluster nope/);
      assert.equal((await call(base, "PUT", "/v1/grants/alice/kr-main", { token: admin })).status, 204);
      const before = Date.now();
      const r = await call(base, "GET", "/v1/clusters/kr-main/token", { token: alice });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json), ["kind", "apiVersion", "spec", "status"]);
      assert.equal(r.json.apiVersion, "client.authentication.k8s.io/v1");
      const token = r.json.status.token as string;
      secrets.push(token);
      const who = verifyNcpToken(token, { secretKeyFor: (ak) => (ak === sandbox.accessKey ? sandbox.secretKey : undefined), clusterUuid: running.uuid, region: running.region });
      assert.equal(who.accessKey, sandbox.accessKey);
      // A minute before the token's real end, at whole seconds.
      const exp = Date.parse(r.json.status.expirationTimestamp);
      assert.equal(exp, Math.floor((who.expiresAt.getTime() - 60_000) / 1000) * 1000);
      // Announced for at most 240 s after the token's timestamp: NCP's gateway honours it for 5 minutes.
      assert.ok(exp - who.issuedAt.getTime() <= 240_000, `announced ${exp - who.issuedAt.getTime()} ms after the timestamp`);
      assert.ok(exp >= before + 3 * 60_000 && exp <= Date.now() + 4 * 60_000);
      const beta = await call(base, "GET", "/v1/clusters/kr-main/token?apiVersion=v1beta1", { token: alice });
      assert.equal(beta.json.apiVersion, "client.authentication.k8s.io/v1beta1");
      secrets.push(beta.json.status.token);
      assertError(await call(base, "GET", "/v1/clusters/kr-main/token?apiVersion=v2", { token: alice }), 400, "bad_request", /apiVersion must be one of/);
      assertError(await call(base, "GET", "/v1/clusters/second/token", { token: alice }), 403, "no_grant");
      assertError(await call(base, "GET", "/v1/clusters/nope/token", { token: alice }), 404, "not_found", /not known/);
      const rows = await auditOf("user=alice&limit=10");
      assert.deepEqual(
        rows.slice(0, 6).map((e) => [e.action, e.cluster, e.outcome]),
        [
          ["token.issue", "nope", "denied"],
          ["token.issue", "second", "denied"],
          // A bad query is an answer too: audited, no token.
          ["token.issue", "kr-main", "denied"],
          ["token.issue", "kr-main", "issued"],
          ["token.issue", "kr-main", "issued"],
          ["token.issue", "kr-main", "denied"],
        ],
      );
      assert.equal((await call(base, "GET", "/v1/clusters", { token: alice })).json.clusters.length, 1);
    });

    test("a cluster row keeps what locates it (its engine's locator); a row without a usable one is refused with a 500 naming the fix, audited, nothing minted", async () => {
      const { broker, base, secrets, running, userToken, auditOf } = f;
      const db = broker.ctx.store.db;
      const row = await db.selectFrom("clusters").select(["locator", "provider"]).where("name", "=", "kr-main").executeTakeFirstOrThrow();
      assert.equal(row.provider, "ncp");
      const locator = { cloud: "ncp", region: running.region, clusterUuid: running.uuid };
      assert.deepEqual(JSON.parse(row.locator ?? "null"), locator);
      const alice = userToken("alice");
      for (const broken of [null, JSON.stringify({ cloud: "aws", region: "KR", name: "x" }), "{not json"]) {
        await sql`UPDATE clusters SET locator = ${broken} WHERE name = 'kr-main'`.execute(db);
        // What the store's announcement of the change does, a moment later (access-cache-postgres.test.ts).
        broker.ctx.accessCache?.changed();
        try {
          const r = await call(base, "GET", "/v1/clusters/kr-main/token", { token: alice });
          assert.equal(r.status, 500, r.text);
          assert.deepEqual(r.json, { error: { code: "internal", message: "cluster kr-main has no usable record of where it is in its cloud: an admin deletes it and registers it again (POST /v1/clusters)" } });
          assert.deepEqual((await auditOf("user=alice&limit=1")).map((e) => [e.action, e.cluster, e.outcome]), [["token.issue", "kr-main", "error"]]);
        } finally {
          await sql`UPDATE clusters SET locator = ${JSON.stringify(locator)} WHERE name = 'kr-main'`.execute(db);
          broker.ctx.accessCache?.changed();
        }
      }
      const ok = await call(base, "GET", "/v1/clusters/kr-main/token", { token: alice });
      assert.equal(ok.status, 200, ok.text);
      secrets.push(ok.json.status.token);
    });

    test("grant * reaches every cluster; deleting it takes effect on the next request", async () => {
      const { admin, base, secrets, addUser, assertError } = f;
      const carol = await addUser("carol");
      assert.equal((await call(base, "PUT", "/v1/grants/carol/*", { token: admin })).status, 204);
      assert.equal((await call(base, "PUT", "/v1/grants/carol/*", { token: admin })).status, 204, "granting twice is fine");
      for (const c of ["kr-main", "second"]) {
        const r = await call(base, "GET", `/v1/clusters/${c}/token`, { token: carol });
        assert.equal(r.status, 200, r.text);
        secrets.push(r.json.status.token);
      }
      const listed = (await call(base, "GET", "/v1/grants/carol", { token: carol })).json;
      assert.deepEqual({ ...listed, grants: listed.grants.map((g: any) => ({ ...g, createdAt: typeof g.createdAt })) }, {
        user: "carol",
        grants: [{ cluster: "*", as: null, expiresAt: null, ended: false, createdAt: "string" }],
      });
      assert.equal((await call(base, "DELETE", "/v1/grants/carol/*", { token: admin })).status, 204);
      assertError(await call(base, "GET", "/v1/clusters/second/token", { token: carol }), 403, "no_grant");
      assertError(await call(base, "DELETE", "/v1/grants/carol/*", { token: admin }), 404, "not_found");
    });

    test("a second instance on the same store: a cluster, credential, grant or user changed there shows here within a second (BROKER.md)", async () => {
      const { stores, sandbox, admin, base, log, masterKey, secrets, running, other, mainDb, secondKey, assertError, kind } = f;
      // The token path keeps unsealed providers and parsed cluster info in memory; both are checked
      // against the rows read for each request, so nothing another instance changes is missed.
      const b = await startBroker({ db: mainDb, listen: "127.0.0.1:0", masterKey: masterKey.toString("base64"), home: stores.dir, cwd: stores.dir, logStream: log.stream, instance: `test-${kind}-b` });
      try {
        const viaB = (method: string, path: string, body?: unknown) => call(b.url, method, path, { token: admin, ...(body === undefined ? {} : { body }) });
        const ncpKey = (k: { accessKey: string; secretKey: string }) => ({ provider: "ncp", ncp: { accessKey: k.accessKey, secretKey: k.secretKey, apiUrl: sandbox.apiUrl } });
        const register = async (c: SandboxClusterSummary) => assert.equal((await viaB("POST", "/v1/clusters", { name: "swap", credential: "swap-key", region: c.region, ncp: { clusterUuid: c.uuid } })).status, 201);
        assert.equal((await viaB("POST", "/v1/credentials", { name: "swap-key", ...ncpKey(sandbox) })).status, 201);
        await register(running);
        const sam = (await viaB("POST", "/v1/users", { name: "sam", role: "user" })).json.token as string;
        secrets.push(sam);
        assert.equal((await viaB("PUT", "/v1/grants/sam/swap")).status, 204);
        const keys = new Map([[sandbox.accessKey, sandbox.secretKey], [secondKey.accessKey, secondKey.secretKey]]);
        // PostgreSQL: this instance may keep a granted answer until the store's announcement of the
        // change arrives (access-cache.ts), never longer than a second; the embedded store keeps none.
        const askHere = (what: string, ok: (r: Answer) => boolean) => askUntil(what, () => call(base, "GET", "/v1/clusters/swap/token", { token: sam }), ok, 3_000);
        const tokenHere = async (c: SandboxClusterSummary) => {
          const r = await askHere(`a token for cluster ${c.uuid}`, (a) => a.status === 200 && a.json.spec !== undefined && verifies(a.json.status.token, c));
          secrets.push(r.json.status.token);
          return verifyNcpToken(r.json.status.token, { secretKeyFor: (ak) => keys.get(ak), clusterUuid: c.uuid, region: c.region }).accessKey;
        };
        const verifies = (token: string, c: SandboxClusterSummary) => {
          try {
            verifyNcpToken(token, { secretKeyFor: (ak) => keys.get(ak), clusterUuid: c.uuid, region: c.region });
            return true;
          } catch {
            return false;
          }
        };
        assert.equal(await tokenHere(running), sandbox.accessKey);
        // Re-registered on B for another cluster, with the credential replaced by one holding another key.
        assert.equal((await viaB("DELETE", "/v1/clusters/swap")).status, 204);
        assert.equal((await viaB("DELETE", "/v1/credentials/swap-key")).status, 204);
        assert.equal((await viaB("POST", "/v1/credentials", { name: "swap-key", ...ncpKey(secondKey) })).status, 201);
        await register(other);
        assert.equal((await viaB("PUT", "/v1/grants/sam/swap")).status, 204);
        assert.equal(await tokenHere(other), secondKey.accessKey, "the new cluster, signed with the new key, on the very next request");
        // The grant taken back, then the user deleted, on B: refused here at once.
        assert.equal((await viaB("DELETE", "/v1/grants/sam/swap")).status, 204);
        assertError(await askHere("the revoked grant refused here", (a) => a.status !== 200), 403, "no_grant");
        assert.equal((await viaB("PUT", "/v1/grants/sam/swap")).status, 204);
        assert.equal(await tokenHere(other), secondKey.accessKey);
        assert.equal((await viaB("DELETE", "/v1/users/sam")).status, 204);
        assertError(await askHere("the deleted user refused here", (a) => a.status !== 200), 401, "unauthenticated");
        assert.equal((await viaB("DELETE", "/v1/clusters/swap")).status, 204);
        assert.equal((await viaB("DELETE", "/v1/credentials/swap-key")).status, 204);
      } finally {
        await b.close();
      }
    });

    test("GET …/kubeconfig: exec runs 'kubeiam broker token', embed carries a token that the cluster accepts", async () => {
      const { sandbox, admin, base, secrets, running, addUser, assertError, auditOf } = f;
      const erin = await addUser("erin");
      assertError(await call(base, "GET", "/v1/clusters/kr-main/kubeconfig", { token: erin }), 403, "no_grant");
      await call(base, "PUT", "/v1/grants/erin/kr-main", { token: admin });
      const exec = await call(base, "GET", "/v1/clusters/kr-main/kubeconfig", { token: erin });
      assert.equal(exec.status, 200, exec.text);
      assert.match(exec.headers.get("content-type") ?? "", /yaml/);
      const doc = parseYaml(exec.text);
      assert.equal(doc["current-context"], "kr-main");
      assert.equal(doc.clusters[0].cluster.server, running.endpoint);
      assert.equal(Buffer.from(doc.clusters[0].cluster["certificate-authority-data"], "base64").toString(), sandbox.caCertPem);
      assert.deepEqual(doc.users[0].user.exec.args, ["broker", "token", "--server", base, "--cluster", "kr-main"]);
      assert.equal(doc.users[0].user.exec.command, "kubeiam");
      const embed = await call(base, "GET", "/v1/clusters/kr-main/kubeconfig?mode=embed", { token: erin });
      assert.equal(embed.status, 200, embed.text);
      const token = parseYaml(embed.text).users[0].user.token as string;
      secrets.push(token);
      verifyNcpToken(token, { secretKeyFor: (ak) => (ak === sandbox.accessKey ? sandbox.secretKey : undefined), clusterUuid: running.uuid });
      assertError(await call(base, "GET", "/v1/clusters/kr-main/kubeconfig?mode=file", { token: erin }), 400, "bad_request", /mode must be one of/);
      const rows = await auditOf("user=erin&limit=5");
      assert.deepEqual(rows.slice(0, 2).map((e) => [e.action, e.outcome]), [["token.issue.kubeconfig", "denied"], ["token.issue.kubeconfig", "issued"]], "the bad mode audited too");
    });
  });
}
