/**
 * Grants, run once per store (grants-sqlite.test.ts, grants-postgres.test.ts): users and groups as
 * subjects, the credential a grant acts as (`as`), grants that end, the audit naming the credential,
 * the migration of v1 grants, and grants tied to their cluster and user rows (the races of issue 18).
 * The broker runs in-process with a clock the tests move, and the sandbox as the cloud.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { verifyNcpToken } from "../../src/ncp/token.js";
import { startSandbox, type Sandbox, type SandboxClusterSummary } from "../../src/sandbox/index.js";
import { generateSandboxKey } from "../../src/sandbox/keys.js";
import { keyCheckValue } from "../../src/broker/sealing.js";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { migrateStore, SCHEMA_VERSION } from "../../src/broker/store/migrations.js";
import { openStore, parseStoreLocation } from "../../src/broker/store/open.js";
import { BrokerStore } from "../../src/broker/store/store.js";
import { hashBrokerToken, newBrokerToken } from "../../src/broker/tokens.js";
import { call, captureLines, testStores, type StoreKind, type TestStores } from "./helpers.js";
import { startPgRelay } from "../helpers/pg-relay.js";

/** Defines the grants suite for one store kind. */
export function defineGrantsSuite(kind: StoreKind): void {
  let stores: TestStores;
  let sandbox: Sandbox;
  let broker: RunningBroker;
  let brokerDb: string;
  let admin: string;
  let base: string;
  let kr: SandboxClusterSummary;
  let other: SandboxClusterSummary;
  const log = captureLines();
  const masterKey = randomBytes(32);
  const creator = generateSandboxKey("sandbox-admin");
  const viewer = generateSandboxKey("viewer");
  /** When set, the broker's clock stands still there. */
  let frozen: number | undefined;
  const now = (): number => frozen ?? Date.now();
  const secrets: string[] = [creator.secretKey, viewer.secretKey];

  before(async () => {
    stores = await testStores(kind);
    sandbox = await startSandbox({ keys: [creator, viewer] });
    const [a, b] = sandbox.clusters.filter((c) => c.status === "RUNNING");
    assert.ok(a && b, "the sandbox runs two clusters");
    kr = a;
    other = b;
    broker = await startBroker({
      db: (brokerDb = await stores.newDb("grants")),
      listen: "127.0.0.1:0",
      masterKey: masterKey.toString("base64"),
      home: stores.dir,
      cwd: stores.dir,
      logStream: log.stream,
      instance: `grants-${kind}`,
      now,
    });
    assert.ok(broker.adminToken);
    admin = broker.adminToken;
    secrets.push(admin);
    base = broker.url;
    const ncp = (key: { accessKey: string; secretKey: string }) => ({ accessKey: key.accessKey, secretKey: key.secretKey, apiUrl: sandbox.apiUrl });
    for (const [name, key] of [["ncp-main", creator], ["ncp-viewer", viewer]] as const) {
      const r = await call(base, "POST", "/v1/credentials", { token: admin, body: { name, provider: "ncp", ncp: ncp(key) } });
      assert.equal(r.status, 201, r.text);
    }
    const aws = await call(base, "POST", "/v1/credentials", {
      token: admin,
      body: { name: "aws-main", provider: "aws", aws: { accessKeyId: "AKIDGRANTSSUITE00001", secretAccessKey: randomBytes(20).toString("hex") } },
    });
    assert.equal(aws.status, 201, aws.text);
    for (const [name, c] of [["bars-kr", kr], ["bars-sgn", other]] as const) {
      const r = await call(base, "POST", "/v1/clusters", { token: admin, body: { name, credential: "ncp-main", region: c.region, ncp: { clusterUuid: c.uuid } } });
      assert.equal(r.status, 201, r.text);
    }
  });
  after(async () => {
    await broker?.close();
    await sandbox?.close();
    await stores?.close();
  });

  const addUser = async (name: string): Promise<string> => {
    const r = await call(base, "POST", "/v1/users", { token: admin, body: { name, role: "user" } });
    assert.equal(r.status, 201, r.text);
    secrets.push(r.json.token);
    return r.json.token as string;
  };
  const assertError = (r: { status: number; json: any; text: string }, status: number, code: string, message?: RegExp) => {
    assert.equal(r.status, status, r.text);
    assert.deepEqual(Object.keys(r.json), ["error"]);
    assert.equal(r.json.error.code, code);
    if (message) assert.match(r.json.error.message, message);
    for (const s of secrets) assert.ok(!r.text.includes(s), "no secret in an error");
  };
  /** The access key that signed an NKS token for `c`, checked against the sandbox's ring at the broker's clock. */
  const signer = (token: string, c: SandboxClusterSummary): string =>
    verifyNcpToken(token, { secretKeyFor: (ak) => sandbox.keys.find((k) => k.accessKey === ak)?.secretKey, clusterUuid: c.uuid, region: c.region, now: now() }).accessKey;
  const tokenFor = async (user: string, cluster: string) => {
    const r = await call(base, "GET", `/v1/clusters/${cluster}/token`, { token: user });
    if (r.status === 200) secrets.push(r.json.status.token);
    return r;
  };
  const grants = async (subject: string) => (await call(base, "GET", `/v1/grants/${subject}`, { token: admin })).json;
  const audit = async (query: string) => (await call(base, "GET", `/v1/audit?${query}`, { token: admin })).json.entries as any[];

  describe(`grants (${kind})`, () => {
    test("as: bob's tokens are signed by the credential his grant acts as, alice's by the cluster's own; each token row names its credential", async () => {
      const alice = await addUser("alice");
      const bob = await addUser("bob");
      assert.equal((await call(base, "PUT", "/v1/grants/alice/bars-kr", { token: admin })).status, 204);
      const put = await call(base, "PUT", "/v1/grants/bob/bars-kr", { token: admin, body: { as: "ncp-viewer" } });
      assert.equal(put.status, 204, put.text);
      const a = await tokenFor(alice, "bars-kr");
      const b = await tokenFor(bob, "bars-kr");
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      assert.equal(signer(a.json.status.token, kr), creator.accessKey);
      assert.equal(signer(b.json.status.token, kr), viewer.accessKey);
      const rows = await audit("cluster=bars-kr&limit=10");
      const issued = rows.filter((e) => e.action === "token.issue" && e.outcome === "issued").map((e) => [e.actor, e.credential]);
      assert.deepEqual(issued, [
        ["bob", "ncp-viewer"],
        ["alice", "ncp-main"],
      ]);
      // Rows that are not token rows name no credential.
      assert.ok(rows.filter((e) => e.action === "grant.put").every((e) => e.credential === null));
      assert.deepEqual((await grants("bob")).grants.map((g: any) => [g.cluster, g.as, g.expiresAt, g.ended]), [["bars-kr", "ncp-viewer", null, false]]);
      // Granting again replaces the terms: without a body, bob is back to the cluster's own credential.
      assert.equal((await call(base, "PUT", "/v1/grants/bob/bars-kr", { token: admin })).status, 204);
      assert.equal(signer((await tokenFor(bob, "bars-kr")).json.status.token, kr), creator.accessKey);
      assert.equal((await call(base, "PUT", "/v1/grants/bob/bars-kr", { token: admin, body: { as: "ncp-viewer" } })).status, 204);
      assert.equal(signer((await tokenFor(bob, "bars-kr")).json.status.token, kr), viewer.accessKey);
    });

    test("as: an unknown credential, one of another cloud, or as on * is refused with nothing stored; bad ends too", async () => {
      await addUser("cleo");
      assertError(await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { as: "nope" } }), 404, "not_found", /credential nope .*does not exist/);
      assertError(await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { as: "aws-main" } }), 400, "bad_request", /aws-main .*is for aws, but cluster bars-kr is on ncp/);
      assertError(await call(base, "PUT", "/v1/grants/cleo/*", { token: admin, body: { as: "ncp-viewer" } }), 400, "bad_request", /one cluster, not \*/);
      assertError(await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { expiresAt: "tomorrow" } }), 400, "bad_request", /expiresAt is not an RFC 3339 time/);
      assertError(await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { expiresAt: "2026-02-30T10:00:00" } }), 400, "bad_request", /RFC 3339/);
      assertError(
        await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { expiresAt: new Date(now() - 1000).toISOString() } }),
        400,
        "bad_request",
        /not in the future/,
      );
      assertError(await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { as: "ncp-viewer", extra: 1 } }), 400, "bad_request");
      assertError(await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { as: "x y" } }), 400, "bad_request");
      assert.deepEqual((await grants("cleo")).grants, []);
      assertError(await call(base, "GET", "/v1/clusters/bars-kr/token", { token: secrets.at(-1) }), 403, "no_grant");
      // An existing grant is left as it was by a refused change.
      assert.equal((await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { as: "ncp-viewer" } })).status, 204);
      assertError(await call(base, "PUT", "/v1/grants/cleo/bars-kr", { token: admin, body: { as: "aws-main" } }), 400, "bad_request");
      assert.deepEqual((await grants("cleo")).grants.map((g: any) => g.as), ["ncp-viewer"]);
      // A credential a grant acts as cannot be deleted from under it.
      assertError(await call(base, "DELETE", "/v1/credentials/ncp-viewer", { token: admin }), 409, "in_use", /still used by the grant of (bob|cleo) for bars-kr/);
    });

    test("a grant that ends: works until expiresAt, then 403 grant_ended (audited) and its cluster leaves the list; listed with its end", async () => {
      const dan = await addUser("dan");
      const ends = new Date(Date.now() + 3_600_000);
      const put = await call(base, "PUT", "/v1/grants/dan/bars-sgn", { token: admin, body: { as: "ncp-viewer", expiresAt: ends.toISOString().replace("Z", "+00:00") } });
      assert.equal(put.status, 204, put.text);
      frozen = ends.getTime() - 1;
      try {
        const ok = await tokenFor(dan, "bars-sgn");
        assert.equal(ok.status, 200, ok.text);
        assert.equal(signer(ok.json.status.token, other), viewer.accessKey);
        assert.deepEqual((await call(base, "GET", "/v1/clusters", { token: dan })).json.clusters.map((c: any) => c.name), ["bars-sgn"]);
        frozen = ends.getTime();
        assertError(await tokenFor(dan, "bars-sgn"), 403, "grant_ended", new RegExp(`dan's grant for cluster bars-sgn ended at ${ends.toISOString()}`));
        assertError(await call(base, "GET", "/v1/clusters/bars-sgn/kubeconfig", { token: dan }), 403, "grant_ended");
        assert.deepEqual((await call(base, "GET", "/v1/clusters", { token: dan })).json.clusters, []);
        const [kubeconfig, row] = await audit("user=dan&limit=2");
        assert.deepEqual([row.action, row.cluster, row.outcome, row.reason, row.credential], ["token.issue", "bars-sgn", "denied", "grant_ended", null]);
        // The kubeconfig's refusal is an answer too: audited.
        assert.deepEqual([kubeconfig.action, kubeconfig.cluster, kubeconfig.outcome], ["token.issue.kubeconfig", "bars-sgn", "denied"]);
        assert.match(kubeconfig.reason, /^403 grant_ended: /);
        assert.deepEqual((await call(base, "GET", "/v1/grants/dan", { token: dan })).json.grants.map((g: any) => [g.cluster, g.as, g.expiresAt, g.ended]), [
          ["bars-sgn", "ncp-viewer", ends.toISOString(), true],
        ]);
        // Granted again without an end: back in.
        assert.equal((await call(base, "PUT", "/v1/grants/dan/bars-sgn", { token: admin })).status, 204);
        assert.equal((await tokenFor(dan, "bars-sgn")).status, 200);
      } finally {
        frozen = undefined;
      }
    });

    test("group grants: members reach the cluster (with the group's as), others do not; a user's own grant wins over the group's", async () => {
      const erin = await addUser("erin");
      assertError(await call(base, "PUT", "/v1/grants/group:bad%20name/bars-kr", { token: admin }), 400, "bad_request");
      assert.equal((await call(base, "PUT", "/v1/grants/group:platform/bars-kr", { token: admin, body: { as: "ncp-viewer" } })).status, 204);
      assert.equal((await call(base, "PUT", "/v1/grants/group:platform/*", { token: admin })).status, 204);
      const listed = await grants("group:platform");
      assert.equal(listed.group, "platform");
      assert.deepEqual(listed.grants.map((g: any) => [g.cluster, g.as]), [
        ["*", null],
        ["bars-kr", "ncp-viewer"],
      ]);
      const store = broker.ctx.store;
      const hash = hashBrokerToken(erin);
      const at = new Date(now());
      // A static token carries no groups: the group's grants do not apply.
      assert.equal((await store.tokenAccess(hash, "bars-kr", at))?.access?.granted, false);
      const member = await store.tokenAccess(hash, "bars-kr", at, ["dev", "platform"]);
      assert.equal(member?.access?.granted, true);
      assert.equal(member?.access?.credential.name, "ncp-viewer", "the grant of this cluster decides over *");
      const viaStar = await store.tokenAccess(hash, "bars-sgn", at, ["platform"]);
      assert.equal(viaStar?.access?.credential.name, "ncp-main");
      assert.equal((await store.tokenAccess(hash, "bars-kr", at, ["platformx", "plat"]))?.access?.granted, false);
      const user = { id: (await store.tokenAccess(hash, "x", at))!.user.id, name: "erin", role: "user" as const };
      assert.deepEqual((await store.clustersFor({ ...user, groups: ["platform"] }, at)).map((c) => c.name), ["bars-kr", "bars-sgn"]);
      assert.deepEqual((await store.clustersFor(user, at)).map((c) => c.name), []);
      // Erin's own grant of bars-kr (no as) wins over her group's.
      assert.equal((await call(base, "PUT", "/v1/grants/erin/bars-kr", { token: admin })).status, 204);
      assert.equal((await store.tokenAccess(hash, "bars-kr", at, ["platform"]))?.access?.credential.name, "ncp-main");
      // Revoking the group's bars-kr grant leaves its *; revoking one that is not there names the *.
      assert.equal((await call(base, "DELETE", "/v1/grants/group:platform/bars-kr", { token: admin })).status, 204);
      assertError(await call(base, "DELETE", "/v1/grants/group:platform/bars-kr", { token: admin }), 404, "not_found", /group:platform reaches every cluster through a \* grant/);
      assert.equal((await call(base, "DELETE", "/v1/grants/group:platform/*", { token: admin })).status, 204);
      assert.deepEqual((await grants("group:platform")).grants, []);
      // The 404 is audited too, between the two revocations.
      const rows = (await audit("limit=4")).slice(1);
      assert.deepEqual(rows.map((e) => [e.action, e.outcome]), [["grant.delete", "denied"], ["grant.delete", "ok"], ["grant.put", "ok"]]);
      assert.match(rows[0].reason, /^404 not_found: group:platform has no grant for bars-kr/);
      assert.deepEqual(rows.slice(1).map((e) => [e.action, e.reason]), [
        ["grant.delete", "group:platform"],
        ["grant.put", "erin"],
      ]);
    });

    test("PostgreSQL answers a token request's read in one column (the row packed as JSON), read back as the columns are; a granted request reads once, a refusal twice", { skip: kind === "postgres" ? false : "PostgreSQL only" }, async () => {
      const gil = await addUser("gil");
      assert.equal((await call(base, "PUT", "/v1/grants/gil/bars-kr", { token: admin, body: { as: "ncp-viewer" } })).status, 204);
      assert.equal((await call(base, "PUT", "/v1/grants/group:ops/bars-sgn", { token: admin, body: { expiresAt: new Date(now() + 60_000).toISOString() } })).status, 204);
      // A relay that records the column count of every row description ('T') the server sends.
      const columns: number[] = [];
      const relay = await startPgRelay(new URL(brokerDb), { server: (type, message) => void (type === 0x54 && columns.push(message.readInt16BE(5))) });
      const s = await openStore(parseStoreLocation(relay.url, { home: stores.dir, cwd: stores.dir }));
      try {
        const store = new BrokerStore(s.db, s.dialect);
        // Two minutes on: the group's grant has ended by then.
        const at = new Date(now() + 120_000);
        // [token digest, cluster, groups, reads]: a refusal reads once more, for when a grant ended.
        const asks: [string, string, string[], number][] = [
          [hashBrokerToken(gil), "bars-kr", [], 1],
          [hashBrokerToken(gil), "bars-sgn", ["ops"], 2],
          [hashBrokerToken(gil), "bars-sgn", [], 2],
          [hashBrokerToken(gil), "no-such-cluster", [], 1],
          [hashBrokerToken(admin), "bars-sgn", [], 1],
          [hashBrokerToken(newBrokerToken()), "bars-kr", [], 1],
        ];
        for (const [hash, cluster, groups, reads] of asks) {
          columns.length = 0;
          const got = await store.tokenAccess(hash, cluster, at, groups);
          assert.deepEqual(got, await broker.ctx.store.tokenAccess(hash, cluster, at, groups), `${cluster} ${groups.join(",")}`);
          assert.deepEqual(columns, Array.from({ length: reads }, () => 1), `${cluster} ${groups.join(",")}: row descriptions, of one column each`);
        }
        const granted = await store.tokenAccess(hashBrokerToken(gil), "bars-kr", at);
        assert.equal(granted?.access?.credential.name, "ncp-viewer");
        assert.equal(granted?.access?.granted, true);
        const ended = await store.tokenAccess(hashBrokerToken(gil), "bars-sgn", at, ["ops"]);
        assert.equal(ended?.access?.granted, false);
        assert.equal(typeof ended?.access?.endedAt, "string");
        const never = await store.tokenAccess(hashBrokerToken(gil), "bars-sgn", at);
        assert.equal(never?.access?.granted, false);
        assert.equal(never?.access?.endedAt, undefined, "no grant of gil's own ever covered bars-sgn");
      } finally {
        await s.close();
        relay.close();
      }
    });

    test("deleting a cluster or a user takes their grants; a cluster registered again under the name is not granted", async () => {
      const fay = await addUser("fay");
      const c = await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "temp", credential: "ncp-main", region: kr.region, ncp: { clusterUuid: kr.uuid } } });
      assert.equal(c.status, 201, c.text);
      assert.equal((await call(base, "PUT", "/v1/grants/fay/temp", { token: admin })).status, 204);
      assert.equal((await call(base, "DELETE", "/v1/clusters/temp", { token: admin })).status, 204);
      assert.deepEqual((await grants("fay")).grants, []);
      const again = await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "temp", credential: "ncp-main", region: kr.region, ncp: { clusterUuid: kr.uuid } } });
      assert.equal(again.status, 201, again.text);
      assertError(await tokenFor(fay, "temp"), 403, "no_grant");
      assert.equal((await call(base, "PUT", "/v1/grants/fay/temp", { token: admin })).status, 204);
      assert.equal((await call(base, "DELETE", "/v1/users/fay", { token: admin })).status, 204);
      const rows = await broker.ctx.store.db.selectFrom("grants").select("id").where("user_id", "not in", (eb) => eb.selectFrom("users").select("id")).execute();
      assert.deepEqual(rows, []);
      assertError(await call(base, "GET", "/v1/grants/fay", { token: admin }), 404, "not_found", /user fay does not exist/);
      assert.equal((await call(base, "DELETE", "/v1/clusters/temp", { token: admin })).status, 204);
    });

    test("a grant racing its cluster's deletion never outlives it; one racing its user's deletion is 204 or 404, never 500", async () => {
      const runs = kind === "postgres" ? 12 : 4;
      for (let i = 0; i < runs; i++) {
        const name = `race-${i}`;
        await addUser(`racer-${i}`);
        const c = await call(base, "POST", "/v1/clusters", { token: admin, body: { name, credential: "ncp-main", region: kr.region, ncp: { clusterUuid: kr.uuid } } });
        assert.equal(c.status, 201, c.text);
        const [put, del, putUser, delUser] = await Promise.all([
          call(base, "PUT", `/v1/grants/carol-${i}/${name}`.replace(`carol-${i}`, `racer-${i}`), { token: admin }),
          call(base, "DELETE", `/v1/clusters/${name}`, { token: admin }),
          call(base, "PUT", `/v1/grants/racer-${i}/bars-kr`, { token: admin }),
          call(base, "DELETE", `/v1/users/racer-${i}`, { token: admin }),
        ]);
        if ([del, delUser, put, putUser].some((r) => r.status >= 500)) console.error(log.lines.filter((l) => /"level":50/.test(l)).join("\n"));
        assert.equal(del.status, 204, del.text);
        assert.equal(delUser.status, 204, delUser.text);
        assert.ok([204, 404].includes(put.status), `grant racing the cluster: ${put.status} ${put.text}`);
        assert.ok([204, 404].includes(putUser.status), `grant racing the user: ${putUser.status} ${putUser.text}`);
        // Nothing left behind: no grant without its cluster or user.
        const orphans = await broker.ctx.store.db
          .selectFrom("grants")
          .select("id")
          .where((eb) =>
            eb.or([
              eb.and([eb("user_id", "is not", null), eb("user_id", "not in", eb.selectFrom("users").select("id"))]),
              eb.and([eb("cluster_id", "is not", null), eb("cluster_id", "not in", eb.selectFrom("clusters").select("id"))]),
            ]),
          )
          .execute();
        assert.deepEqual(orphans, [], `run ${i}`);
      }
      assert.ok(!log.lines.some((l) => /"status":500/.test(l)), "no 500 in the log");
    });

    test("migration 2 keeps v1 grants of existing clusters and *, drops those of clusters already gone", async () => {
      const loc = parseStoreLocation(await stores.newDb("migrate-grants"), { home: stores.dir, cwd: stores.dir });
      const s = await openStore(loc);
      try {
        const input = { dialect: s.dialect, keyCheck: keyCheckValue(masterKey), bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() };
        assert.deepEqual(await migrateStore(s.db, { ...input, upTo: 1 }), { applied: [1], createdAdmin: true });
        const db = s.db as any;
        const t = new Date().toISOString();
        const [u1, u2, cred, cl] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
        await db.insertInto("users").values([
          { id: u1, name: "ann", role: "user", token_hash: "a".repeat(64), created_at: t, token_created_at: t },
          { id: u2, name: "ben", role: "user", token_hash: "b".repeat(64), created_at: t, token_created_at: t },
        ]).execute();
        await db.insertInto("credentials").values({ id: cred, name: "c", provider: "ncp", sealed: "x", created_at: t }).execute();
        await db
          .insertInto("clusters")
          .values({ id: cl, name: "prod", provider: "ncp", credential_id: cred, region: "KR", connection: "c", endpoint: "https://x", ca_data: null, status: "RUNNING", info: "{}", created_at: t })
          .execute();
        await db.insertInto("grants").values([
          { user_id: u1, cluster: "prod", created_at: t },
          { user_id: u1, cluster: "gone", created_at: t },
          { user_id: u2, cluster: "*", created_at: t },
        ]).execute();
        const r = await migrateStore(s.db, input);
        assert.deepEqual(r.applied, Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 2));
        const store = new BrokerStore(s.db, s.dialect);
        assert.deepEqual((await store.grantsOf({ kind: "user", name: "ann" }))?.map((g) => [g.cluster, g.as, g.expiresAt, g.createdAt]), [["prod", null, null, t]]);
        assert.deepEqual((await store.grantsOf({ kind: "user", name: "ben" }))?.map((g) => g.cluster), ["*"]);
        const at = new Date();
        assert.equal((await store.tokenAccess("a".repeat(64), "prod", at))?.access?.granted, true);
        assert.equal((await store.tokenAccess("b".repeat(64), "prod", at))?.access?.granted, true);
        // The cluster's deletion now takes ann's grant with it.
        assert.equal(await store.deleteCluster("prod"), "ok");
        assert.deepEqual(await store.grantsOf({ kind: "user", name: "ann" }), []);
      } finally {
        await s.close();
      }
    });
  });
}
