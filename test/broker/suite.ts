/**
 * The broker's suite, run once per store (broker-sqlite.test.ts, broker-postgres.test.ts): the store
 * and its migrations, sealing bound to rows, then every route against ONE broker started in-process
 * on that store, with the sandbox as the cloud. Log lines are captured and checked for secrets.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { get as httpsGet } from "node:https";
import { sql } from "kysely";
import { parse as parseYaml } from "yaml";
import { verifyNcpToken } from "../../src/ncp/token.js";
import { startSandbox, type Sandbox, type SandboxClusterSummary } from "../../src/sandbox/index.js";
import { generateSandboxKey } from "../../src/sandbox/keys.js";
import { openCredential, sealCredential } from "../../src/broker/credential-secrets.js";
import { keyCheckValue } from "../../src/broker/sealing.js";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { migrateStore, SCHEMA_VERSION } from "../../src/broker/store/migrations.js";
import { openStore, parseStoreLocation } from "../../src/broker/store/open.js";
import { BrokerStore } from "../../src/broker/store/store.js";
import { hashBrokerToken, newBrokerToken } from "../../src/broker/tokens.js";
import { CredentialsError } from "../../src/lib/errors.js";
import { StoreError } from "../../src/broker/errors.js";
import { call, callFrom, captureLines, testStores, type StoreKind, type TestStores } from "./helpers.js";
import { startBearerCluster, startEksApi, startSts, verifyEksTokenByHand, type LocalServer, type StsIssued } from "../aws/stand-ins.js";

/** The AWS side of the suite: keys the broker holds, the role they may assume, and the role's keys as STS hands them out. */
const AWS_BASE_AK = "AKIDBROKERBASE000001";
const AWS_BASE_SECRET = randomBytes(24).toString("hex");
const AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/eks-fleet";
const AWS_EXTERNAL_ID = "fleet-external-7f3a";
const AWS_ROLE_KEYS: StsIssued[] = [0, 1, 2].map((i) => ({
  accessKeyId: `ASIAROLEKEY00000000${i}`,
  secretAccessKey: randomBytes(24).toString("hex"),
  sessionToken: `role-session-${i}-${randomBytes(16).toString("hex")}`,
  expiration: "",
}));

const TOKEN_RE = /^kbi_[A-Za-z0-9_-]{43}$/;

/** GET /version at a TLS cluster stand-in with a bearer token, trusting its CA: the status. */
function clusterVersionStatus(url: string, caData: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(`${url}/version`, { ca: Buffer.from(caData, "base64").toString(), headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** Defines the whole suite for one store kind. */
export function defineBrokerSuite(kind: StoreKind): void {
  let stores: TestStores;
  let sandbox: Sandbox;
  let broker: RunningBroker;
  let admin: string;
  let base: string;
  const log = captureLines();
  const masterKey = randomBytes(32);
  /** Every secret and token seen in this file: none may appear in a log line. */
  const secrets: string[] = [];
  /** When set, the broker's clock stands still (the rate-limit test needs one second to last). */
  let frozen: number | undefined;
  let running: SandboxClusterSummary;
  let other: SandboxClusterSummary;
  let sts: LocalServer & { assumed: Record<string, string>[] };
  let eksApi: LocalServer;
  let eksCluster: Awaited<ReturnType<typeof startBearerCluster>>;
  /** Each AssumeRole's answer expires an hour after the broker's clock at that moment. */
  const roleKeysIssued: StsIssued[] = [];
  /** The role's keys only: the held base keys must never sign an EKS call or token. */
  const roleSecrets: Record<string, string> = {};
  let mainDb: string;
  /** A second key of the sandbox's ring (the first is sandbox.accessKey), to replace a credential with. */
  const secondKey = generateSandboxKey("second-admin");

  before(async () => {
    stores = await testStores(kind);
    sandbox = await startSandbox({ keys: [generateSandboxKey("sandbox-admin"), secondKey] });
    secrets.push(sandbox.secretKey);
    const [a, b] = sandbox.clusters.filter((c) => c.status === "RUNNING");
    assert.ok(a && b, "the sandbox runs two clusters");
    running = a;
    other = b;
    for (const k of AWS_ROLE_KEYS) roleSecrets[k.accessKeyId] = k.secretAccessKey;
    sts = await startSts({
      keys: { [AWS_BASE_AK]: AWS_BASE_SECRET },
      roles: { [AWS_ROLE_ARN]: { externalId: AWS_EXTERNAL_ID } },
      issue: (_form, n) => {
        const keys = AWS_ROLE_KEYS[n];
        if (keys === undefined) throw new Error("the suite hands out three role sessions at most");
        const issued = { ...keys, expiration: new Date((frozen ?? Date.now()) + 3_600_000).toISOString() };
        roleKeysIssued.push(issued);
        return issued;
      },
    });
    eksCluster = await startBearerCluster((token) => {
      try {
        verifyEksTokenByHand(token, { secretFor: (k) => roleSecrets[k], clusterName: "fleet-eks", now: frozen ?? Date.now() });
        return undefined;
      } catch (e) {
        return String(e);
      }
    });
    eksApi = await startEksApi({
      keys: roleSecrets,
      clusters: [{ name: "fleet-eks", arn: "arn:aws:eks:us-east-2:123456789012:cluster/fleet-eks", status: "ACTIVE", version: "1.32", endpoint: eksCluster.url, certificateAuthority: { data: eksCluster.caData } }],
    });
    mainDb = await stores.newDb("main");
    broker = await startBroker({
      db: mainDb,
      listen: "127.0.0.1:0",
      masterKey: masterKey.toString("base64"),
      home: stores.dir,
      cwd: stores.dir,
      logStream: log.stream,
      rateLimit: 20,
      instance: `test-${kind}`,
      now: () => frozen ?? Date.now(),
      cloud: { eksEndpoint: eksApi.url, stsEndpoint: sts.url, env: {} },
    });
    assert.ok(broker.adminToken, "the first start creates an admin");
    admin = broker.adminToken;
    secrets.push(admin, secondKey.secretKey);
    // After the admin's: tests find alice's token as the first kbi_ token past index 1.
    secrets.push(AWS_BASE_SECRET, AWS_EXTERNAL_ID, ...AWS_ROLE_KEYS.flatMap((k) => [k.secretAccessKey, k.sessionToken]));
    base = broker.url;
  });
  after(async () => {
    await broker?.close();
    await Promise.all([sandbox?.close(), sts?.close(), eksApi?.close(), eksCluster?.close()]);
    await stores?.close();
  });

  const addCredential = (name: string) =>
    call(base, "POST", "/v1/credentials", {
      token: admin,
      body: { name, provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } },
    });
  const addCluster = (name: string, credential: string, c: SandboxClusterSummary, extra: Record<string, unknown> = {}) =>
    call(base, "POST", "/v1/clusters", { token: admin, body: { name, credential, region: c.region, ncp: { clusterUuid: c.uuid }, ...extra } });
  const addUser = async (name: string, role = "user"): Promise<string> => {
    const r = await call(base, "POST", "/v1/users", { token: admin, body: { name, role } });
    assert.equal(r.status, 201, r.text);
    secrets.push(r.json.token);
    return r.json.token as string;
  };
  const assertError = (r: { status: number; json: any; text: string }, status: number, code: string, message?: RegExp) => {
    assert.equal(r.status, status, r.text);
    assert.deepEqual(Object.keys(r.json), ["error"]);
    assert.equal(r.json.error.code, code);
    assert.equal(typeof r.json.error.message, "string");
    if (message) assert.match(r.json.error.message, message);
    for (const s of secrets) assert.ok(!r.text.includes(s), "no secret in an error");
  };
  const auditOf = async (query: string) => (await call(base, "GET", `/v1/audit?${query}`, { token: admin })).json.entries as any[];

  describe(`store (${kind})`, () => {
    test("migrations: an empty store gets the schema, the key check and one admin; a second start changes nothing", async () => {
      const loc = parseStoreLocation(await stores.newDb("migrate"), { home: stores.dir, cwd: stores.dir });
      const s = await openStore(loc);
      try {
        const key = keyCheckValue(masterKey);
        const first = await migrateStore(s.db, { dialect: s.dialect, keyCheck: key, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() });
        assert.deepEqual(first, { applied: Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1), createdAdmin: true });
        const again = await migrateStore(s.db, { dialect: s.dialect, keyCheck: key, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() });
        assert.deepEqual(again, { applied: [], createdAdmin: false });
        const users = await new BrokerStore(s.db, s.dialect).listUsers();
        assert.deepEqual(users.map((u) => [u.name, u.role]), [["admin", "admin"]]);
      } finally {
        await s.close();
      }
    });

    // better-sqlite3 is synchronous: two connections racing in one thread would wait on each other
    // forever, so for SQLite this race runs as two `kubeiam serve` processes (test/broker/serve.test.ts).
    test("migrations: two starts at once on one empty store end with one schema and one admin", { skip: kind === "sqlite" ? "SQLite: raced by two processes in serve.test.ts" : false }, async () => {
      const url = await stores.newDb("race");
      const loc = parseStoreLocation(url, { home: stores.dir, cwd: stores.dir });
      const [a, b] = [await openStore(loc), await openStore(loc)];
      try {
        const key = keyCheckValue(masterKey);
        const results = await Promise.all(
          [a, b].map((s) => migrateStore(s.db, { dialect: s.dialect, keyCheck: key, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() })),
        );
        assert.deepEqual(results.map((r) => r.createdAdmin).sort(), [false, true]);
        assert.equal((await new BrokerStore(a.db, a.dialect).listUsers()).length, 1);
        const meta = await a.db.selectFrom("kubeiam_meta").selectAll().orderBy("key").execute();
        assert.deepEqual(meta.map((m) => m.key), ["key_check", "schema_version"]);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test("migrations refuse a store sealed under another master key, and one from a newer kubeiam, changing nothing", async () => {
      const loc = parseStoreLocation(await stores.newDb("refuse"), { home: stores.dir, cwd: stores.dir });
      const s = await openStore(loc);
      try {
        const input = { dialect: s.dialect, bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() };
        await migrateStore(s.db, { ...input, keyCheck: keyCheckValue(masterKey) });
        await assert.rejects(migrateStore(s.db, { ...input, keyCheck: keyCheckValue(randomBytes(32)) }), (e) => e instanceof CredentialsError && /another master key/.test(e.message));
        await sql`UPDATE kubeiam_meta SET value = '99' WHERE key = 'schema_version'`.execute(s.db);
        await assert.rejects(
          migrateStore(s.db, { ...input, keyCheck: keyCheckValue(masterKey) }),
          (e) => e instanceof StoreError && e.message.includes(`schema version 99, newer than this kubeiam's ${SCHEMA_VERSION}`),
        );
        const v = await s.db.selectFrom("kubeiam_meta").select("value").where("key", "=", "schema_version").executeTakeFirstOrThrow();
        assert.equal(v.value, "99");
      } finally {
        await s.close();
      }
    });

    test("a sealed credential opens only in its own row: copied to another row, it does not open", async () => {
      const store = broker.ctx.store;
      const secretsA = { provider: "ncp", secrets: { accessKey: "AKA", secretKey: "secret-a" } };
      const sealedA = sealCredential(masterKey, "id-a", secretsA);
      assert.ok(!sealedA.includes("secret-a"));
      assert.equal((await store.createCredential({ id: "id-a", name: "seal-a", provider: "ncp", sealed: sealedA }, new Date())), "ok");
      assert.equal((await store.createCredential({ id: "id-b", name: "seal-b", provider: "ncp", sealed: sealedA }, new Date())), "ok");
      const a = await store.credentialByName("seal-a");
      const b = await store.credentialByName("seal-b");
      assert.ok(a && b);
      assert.deepEqual(openCredential(masterKey, a), secretsA);
      assert.throws(() => openCredential(masterKey, b), (e) => e instanceof CredentialsError && !e.message.includes("secret-a"));
      assert.throws(() => openCredential(randomBytes(32), a), CredentialsError);
      assert.equal((await store.deleteCredential("seal-a")).result, "ok");
      assert.equal((await store.deleteCredential("seal-b")).result, "ok");
    });

    test("the embedded store's file is 0600 in a 0700 folder, in WAL mode", { skip: kind !== "sqlite" ? "SQLite only" : false }, async () => {
      const { statSync } = await import("node:fs");
      const { dirname } = await import("node:path");
      const path = broker.db.slice("sqlite:".length);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const r = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(broker.ctx.store.db);
      assert.equal(r.rows[0]?.journal_mode, "wal");
      assert.ok((statSync(dirname(path)).mode & 0o077) === 0 || dirname(path) === stores.dir);
    });
  });

  describe(`routes (${kind})`, () => {
    test("GET /healthz answers without a token", async () => {
      const r = await call(base, "GET", "/healthz");
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { status: "ok" });
    });

    test("no token, a malformed one, an unknown one: 401 with one sentence, each audited", async () => {
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
      const basic = Buffer.from(`admin:${admin}`).toString("base64");
      const r = await call(base, "GET", "/v1/credentials", { headers: { authorization: `Basic ${basic}` } });
      assert.equal(r.status, 200, r.text);
    });

    test("POST /v1/credentials seals the key; no endpoint returns it; a taken name is 409", async () => {
      const r = await addCredential("sandbox");
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.json, { name: "sandbox", provider: "ncp" });
      const list = await call(base, "GET", "/v1/credentials", { token: admin });
      assert.equal(list.status, 200);
      assert.deepEqual(list.json.credentials.map((c: any) => [c.name, c.provider]), [["sandbox", "ncp"]]);
      assert.ok(!list.text.includes(sandbox.secretKey) && !list.text.includes(sandbox.accessKey));
      const row = await broker.ctx.store.credentialByName("sandbox");
      assert.ok(row && !row.sealed.includes(sandbox.secretKey));
      assertError(await addCredential("sandbox"), 409, "conflict", /already exists/);
    });

    test("bad credential bodies: malformed JSON, unknown field, missing secret, unknown provider, wrong block, non-object, too big", async () => {
      const post = (body: unknown) => call(base, "POST", "/v1/credentials", { token: admin, body });
      assertError(await call(base, "POST", "/v1/credentials", { token: admin, rawBody: '{"name":', headers: { "content-type": "application/json" } }), 400, "bad_request", /not valid JSON/);
      assertError(await post({ name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b" }, extra: 1 }), 400, "bad_request", /field extra is not known/);
      assertError(await post({ name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b", region: "KR" } }), 400, "bad_request", /field ncp\.region is not known/);
      assertError(await post({ name: "x", provider: "ncp", ncp: { accessKey: "a" } }), 400, "bad_request", /field ncp\.secretKey is missing/);
      assertError(await post({ name: "x", provider: "ncp" }), 400, "bad_request", /field ncp is missing/);
      assertError(await post({ name: "x", provider: "azure" }), 400, "bad_request", /provider must be one of "ncp", "aws", "gcp"/);
      assertError(await post({ name: "x", provider: "aws", ncp: { accessKey: "a", secretKey: "b" } }), 400, "bad_request", /ncp does not belong to a aws credential/);
      assertError(
        await post({ name: "x", provider: "aws", aws: { accessKeyId: "a", secretAccessKey: "b", roleArn: "arn:aws:iam::1:role/r" } }),
        400,
        "bad_request",
        /aws\.roleArn: role ARN "arn:aws:iam::1:role\/r" is not an IAM role ARN/,
      );
      assertError(await post({ name: "x", provider: "aws", aws: { accessKeyId: "a", secretAccessKey: "b", externalId: "team-1" } }), 400, "bad_request", /aws\.externalId goes with aws\.roleArn/);
      assertError(
        await post({ name: "x", provider: "aws", aws: { accessKeyId: "a", secretAccessKey: "b", roleArn: AWS_ROLE_ARN, sessionName: "has space" } }),
        400,
        "bad_request",
        /aws\.sessionName: role session name/,
      );
      assertError(await post({ name: "x", provider: "aws", aws: { accessKeyId: "a", secretAccessKey: "b", roleArn: AWS_ROLE_ARN, externalId: "x" } }), 400, "bad_request", /aws\.externalId: the external id is not valid/);
      assertError(await post({ name: "x", provider: "gcp", gcp: { serviceAccount: { type: "service_account", client_email: "a@b" } } }), 400, "bad_request", /gcp\.serviceAccount/);
      // 20,000 levels deep (40 KB, under the body limit): a 400 naming the field, not a stack overflow's 500.
      const deep = `{"name":"x","provider":"gcp","gcp":{"serviceAccount":{"type":"service_account","a":${"[".repeat(20_000)}${"]".repeat(20_000)}}}}`;
      assertError(await call(base, "POST", "/v1/credentials", { token: admin, rawBody: deep, headers: { "content-type": "application/json" } }), 400, "bad_request", /gcp\.serviceAccount\.a must be a string/);
      assertError(await post({ name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b", apiUrl: "http://example.com" } }), 400, "bad_request", /https/);
      assertError(await post({ name: "bad name!", provider: "ncp", ncp: { accessKey: "a", secretKey: "b" } }), 400, "bad_request", /field name has characters/);
      assertError(await post([1, 2]), 400, "bad_request", /must be a JSON object/);
      assertError(await call(base, "POST", "/v1/credentials", { token: admin, rawBody: "name=x", headers: { "content-type": "text/plain" } }), 400, "bad_request", /must be a JSON object/);
      assertError(await call(base, "POST", "/v1/credentials", { token: admin, rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }), 400, "bad_request", /not JSON/);
      const big = await post({ name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b".repeat(70 * 1024) } });
      assertError(big, 413, "body_too_large", /64 KiB/);
      const list = await call(base, "GET", "/v1/credentials", { token: admin });
      assert.deepEqual(list.json.credentials.map((c: any) => c.name), ["sandbox"], "nothing half-written");
    });

    test("POST /v1/clusters looks the cluster up through the cloud and keeps its endpoint and CA", async () => {
      const r = await addCluster("kr-main", "sandbox", running);
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.json, { name: "kr-main", provider: "ncp", region: running.region, endpoint: running.endpoint, status: "Active" });
      const r2 = await addCluster("second", "sandbox", other, { connection: "conn-b" });
      assert.equal(r2.status, 201, r2.text);
      const list = await call(base, "GET", "/v1/clusters", { token: admin });
      assert.deepEqual(
        list.json.clusters.map((c: any) => [c.name, c.provider, c.region, c.endpoint, c.connection]),
        [
          ["kr-main", "ncp", running.region, running.endpoint, "sandbox"],
          ["second", "ncp", other.region, other.endpoint, "conn-b"],
        ],
      );
    });

    test("bad cluster registrations leave no row: taken name, unknown credential, unknown cluster, a region the cloud rejects, a mismatched block", async () => {
      assertError(await addCluster("kr-main", "sandbox", running), 409, "conflict", /already exists/);
      assertError(await addCluster("c1", "nope", running), 404, "not_found", /credential nope does not exist/);
      assertError(await addCluster("c2", "sandbox", { ...running, uuid: "00000000-0000-4000-8000-000000000000" }), 404, "not_found", /not found/);
      assertError(await addCluster("c3", "sandbox", { ...running, region: "K-R" }), 400, "cloud_rejected", /region "K-R" is not a region code/);
      assertError(await addCluster("c4", "sandbox", { ...running, region: "ZZ" }), 404, "not_found", /region ZZ/);
      assertError(
        await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "c5", credential: "sandbox", region: "KR", aws: { clusterName: "x" } } }),
        400,
        "bad_request",
        /credential sandbox is for ncp: send ncp\.clusterUuid, not aws/,
      );
      assertError(await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "c6", credential: "sandbox" } }), 400, "bad_request", /field region is missing/);
      const list = await call(base, "GET", "/v1/clusters", { token: admin });
      assert.deepEqual(list.json.clusters.map((c: any) => c.name), ["kr-main", "second"]);
    });

    test("users: created with a kbi_ token shown once; a taken name is 409; non-admins get 403", async () => {
      const r = await call(base, "POST", "/v1/users", { token: admin, body: { name: "alice" } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.name, "alice");
      assert.equal(r.json.role, "user");
      assert.match(r.json.token, TOKEN_RE);
      secrets.push(r.json.token);
      const alice = r.json.token as string;
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

    test("GET /openapi.json: every operation not marked public answers 401 to a stranger, every admin one 403 to a user, public ones neither", async () => {
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
      const { createBrokerApp } = await import("../../src/broker/server.js");
      const { declareGroupAccess } = await import("../../src/broker/access.js");
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

    test("tokens: no grant 403, grant gives an ExecCredential that the cluster accepts, unknown cluster 404; each answer audited", async () => {
      const alice = secrets.find((s, i) => i > 1 && TOKEN_RE.test(s)) as string;
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
        rows.slice(0, 5).map((e) => [e.action, e.cluster, e.outcome]),
        [
          ["token.issue", "nope", "denied"],
          ["token.issue", "second", "denied"],
          ["token.issue", "kr-main", "issued"],
          ["token.issue", "kr-main", "issued"],
          ["token.issue", "kr-main", "denied"],
        ],
      );
      assert.equal((await call(base, "GET", "/v1/clusters", { token: alice })).json.clusters.length, 1);
    });

    test("a cluster row keeps what locates it (its engine's locator); a row from before schema v4 (no locator) is located from its stored info", async () => {
      const db = broker.ctx.store.db;
      const row = await db.selectFrom("clusters").select(["locator", "provider"]).where("name", "=", "kr-main").executeTakeFirstOrThrow();
      assert.equal(row.provider, "ncp");
      const locator = { cloud: "ncp", region: running.region, clusterUuid: running.uuid };
      assert.deepEqual(JSON.parse(row.locator ?? "null"), locator);
      const alice = secrets.find((s, i) => i > 1 && TOKEN_RE.test(s)) as string;
      await sql`UPDATE clusters SET locator = NULL WHERE name = 'kr-main'`.execute(db);
      try {
        const r = await call(base, "GET", "/v1/clusters/kr-main/token", { token: alice });
        assert.equal(r.status, 200, r.text);
        secrets.push(r.json.status.token);
        const who = verifyNcpToken(r.json.status.token, { secretKeyFor: (ak) => (ak === sandbox.accessKey ? sandbox.secretKey : undefined), clusterUuid: running.uuid, region: running.region });
        assert.equal(who.accessKey, sandbox.accessKey);
      } finally {
        await sql`UPDATE clusters SET locator = ${JSON.stringify(locator)} WHERE name = 'kr-main'`.execute(db);
      }
    });

    test("grant * reaches every cluster; deleting it takes effect on the next request", async () => {
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

    test("rotating a token stops the old one at once; deleting a user stops theirs", async () => {
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

    test("a second instance on the same store: a cluster, credential, grant or user changed there shows here on the next token request", async () => {
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
        const tokenHere = async (c: SandboxClusterSummary) => {
          const r = await call(base, "GET", "/v1/clusters/swap/token", { token: sam });
          assert.equal(r.status, 200, r.text);
          secrets.push(r.json.status.token);
          return verifyNcpToken(r.json.status.token, { secretKeyFor: (ak) => keys.get(ak), clusterUuid: c.uuid, region: c.region }).accessKey;
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
        assertError(await call(base, "GET", "/v1/clusters/swap/token", { token: sam }), 403, "no_grant");
        assert.equal((await viaB("PUT", "/v1/grants/sam/swap")).status, 204);
        assert.equal(await tokenHere(other), secondKey.accessKey);
        assert.equal((await viaB("DELETE", "/v1/users/sam")).status, 204);
        assertError(await call(base, "GET", "/v1/clusters/swap/token", { token: sam }), 401, "unauthenticated");
        assert.equal((await viaB("DELETE", "/v1/clusters/swap")).status, 204);
        assert.equal((await viaB("DELETE", "/v1/credentials/swap-key")).status, 204);
      } finally {
        await b.close();
      }
    });

    test("GET …/kubeconfig: exec runs 'kubeiam broker token', embed carries a token that the cluster accepts", async () => {
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
      assert.equal(rows[0].action, "token.issue.kubeconfig");
      assert.equal(rows[0].outcome, "issued");
    });

    test("deleting a credential still used is 409; deleting the cluster first, then the credential, works and drops its grants", async () => {
      assertError(await call(base, "DELETE", "/v1/credentials/sandbox", { token: admin }), 409, "in_use", /still used by cluster kr-main/);
      assertError(await call(base, "DELETE", "/v1/credentials/ghost", { token: admin }), 404, "not_found");
      assert.equal((await addCredential("spare")).status, 201);
      assert.equal((await call(base, "DELETE", "/v1/credentials/spare", { token: admin })).status, 204);
      assert.equal((await addCluster("temp", "sandbox", running)).status, 201);
      const fay = await addUser("fay");
      await call(base, "PUT", "/v1/grants/fay/temp", { token: admin });
      assert.equal((await call(base, "DELETE", "/v1/clusters/temp", { token: admin })).status, 204);
      assertError(await call(base, "DELETE", "/v1/clusters/temp", { token: admin }), 404, "not_found");
      assertError(await call(base, "GET", "/v1/clusters/temp/token", { token: fay }), 404, "not_found");
      assert.deepEqual((await call(base, "GET", "/v1/grants/fay", { token: admin })).json.grants, []);
    });

    test("GET /v1/audit: newest first, filters, limit, paging with before, bad limits refused", async () => {
      const all = await auditOf("limit=10000");
      assert.ok(all.length > 20);
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].id > all[i].id, "newest first");
      assert.deepEqual(Object.keys(all[0]).slice(0, 7), ["id", "time", "actor", "action", "cluster", "outcome", "remote"]);
      const page1 = await auditOf("limit=3");
      const page2 = await auditOf(`limit=3&before=${page1[2].id}`);
      assert.deepEqual([...page1, ...page2].map((e) => e.id), all.slice(0, 6).map((e) => e.id));
      const kr = await auditOf("cluster=kr-main&limit=10000");
      assert.ok(kr.length > 0 && kr.every((e) => e.cluster === "kr-main"));
      assert.equal((await call(base, "GET", "/v1/audit", { token: admin })).json.entries.length, Math.min(100, all.length));
      assertError(await call(base, "GET", "/v1/audit?limit=0", { token: admin }), 400, "bad_request", /limit must be 1 to 10000/);
      assertError(await call(base, "GET", "/v1/audit?limit=10001", { token: admin }), 400, "bad_request");
      assertError(await call(base, "GET", "/v1/audit?limit=ten", { token: admin }), 400, "bad_request", /limit/);
      assertError(await call(base, "GET", "/v1/audit?since=1", { token: admin }), 400, "bad_request", /since is not known/);
      const text = JSON.stringify(all);
      for (const s of secrets) assert.ok(!text.includes(s), "no secret in the audit trail");
    });

    test("--rate-limit: past N token requests a second, 429 with Retry-After", async () => {
      const gus = await addUser("gus");
      await call(base, "PUT", "/v1/grants/gus/kr-main", { token: admin });
      frozen = Date.now();
      let answers: Awaited<ReturnType<typeof call>>[];
      try {
        answers = await Promise.all(Array.from({ length: 80 }, () => call(base, "GET", "/v1/clusters/kr-main/token", { token: gus })));
      } finally {
        frozen = undefined;
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

    test("GET /metrics from loopback: requests, tokens by provider and outcome, store latency", async () => {
      const r = await call(base, "GET", "/metrics");
      assert.equal(r.status, 200);
      assert.match(r.text, /^kubeiam_broker_tokens_total\{provider="ncp",outcome="issued"\} \d+$/m);
      assert.match(r.text, /^kubeiam_broker_tokens_total\{provider="ncp",outcome="denied"\} \d+$/m);
      assert.match(r.text, /^kubeiam_broker_http_requests_total\{method="GET",route="\/v1\/clusters\/:name\/token",status="200"\} \d+$/m);
      assert.match(r.text, /^kubeiam_broker_store_seconds_count\{op="audit_commit"\} \d+$/m);
    });

    test("GET /metrics from another address: 401 without a token, 403 for a user, 200 for an admin", async () => {
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

    test("unknown routes are 404 in the same error shape", async () => {
      assertError(await call(base, "GET", "/v2/anything", { token: admin }), 404, "not_found", /no route GET \/v2\/anything/);
    });

    test("aws.roleArn: the broker assumes the role at STS with the held keys (external id, session name), once for many token requests, and signs with the role's keys", async () => {
      const before = sts.assumed.length;
      const cred = await call(base, "POST", "/v1/credentials", {
        token: admin,
        body: { name: "aws-role", provider: "aws", aws: { accessKeyId: AWS_BASE_AK, secretAccessKey: AWS_BASE_SECRET, roleArn: AWS_ROLE_ARN, externalId: AWS_EXTERNAL_ID } },
      });
      assert.equal(cred.status, 201, cred.text);
      assert.deepEqual(cred.json, { name: "aws-role", provider: "aws" });
      const row = await broker.ctx.store.credentialByName("aws-role");
      assert.ok(row && !row.sealed.includes(AWS_BASE_SECRET) && !row.sealed.includes(AWS_EXTERNAL_ID));
      // Registration looks the cluster up at the EKS API, which knows only the role's keys.
      const add = await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "eks-role", credential: "aws-role", region: "us-east-2", aws: { clusterName: "fleet-eks" } } });
      assert.equal(add.status, 201, add.text);
      assert.deepEqual(add.json, { name: "eks-role", provider: "aws", region: "us-east-2", endpoint: eksCluster.url, status: "Active" });
      assert.equal(sts.assumed.length, before + 1);
      const asked = sts.assumed[before];
      assert.equal(asked?.Action, "AssumeRole");
      assert.equal(asked?.RoleArn, AWS_ROLE_ARN);
      assert.equal(asked?.ExternalId, AWS_EXTERNAL_ID);
      assert.equal(asked?.RoleSessionName, "kubeiam-broker");
      assert.ok(sts.requests.every((r) => r.path !== "AssumeRole" || r.rejected === undefined), "signed with the held base keys");

      const ivy = await addUser("ivy");
      assert.equal((await call(base, "PUT", "/v1/grants/ivy/eks-role", { token: admin })).status, 204);
      const answers = await Promise.all(Array.from({ length: 16 }, () => call(base, "GET", "/v1/clusters/eks-role/token", { token: ivy })));
      const role = roleKeysIssued[0];
      assert.ok(role);
      for (const a of answers) {
        assert.equal(a.status, 200, a.text);
        const token = a.json.status.token as string;
        secrets.push(token);
        const who = verifyEksTokenByHand(token, { secretFor: (k) => roleSecrets[k], clusterName: "fleet-eks", now: Date.now() });
        assert.equal(who.accessKeyId, role.accessKeyId, "signed with the role's key, not the held one");
        assert.equal(who.sessionToken, role.sessionToken, "the role's session token is in the presigned URL");
        assert.equal(who.region, "us-east-2");
        assert.ok(Date.parse(a.json.status.expirationTimestamp) <= Date.parse(role.expiration));
      }
      assert.equal(sts.assumed.length, before + 1, "one AssumeRole for the registration and sixteen concurrent token requests");
      assert.ok(eksApi.requests.length > 0 && eksApi.requests.every((r) => r.rejected === undefined));
      // The cluster itself accepts the token (its stand-in verifies it by hand with the role's keys).
      const seen = eksCluster.seen.length;
      assert.equal(await clusterVersionStatus(eksCluster.url, eksCluster.caData, answers[0]?.json.status.token), 200);
      assert.deepEqual(eksCluster.seen.slice(seen), [{ accepted: true }]);

      // Renewed 5 minutes before the role's keys expire, not earlier.
      const end = Date.parse(role.expiration);
      for (const [at, assumedSoFar, key] of [
        [end - 5 * 60_000 - 1000, before + 1, role.accessKeyId],
        [end - 5 * 60_000, before + 2, AWS_ROLE_KEYS[1]?.accessKeyId],
      ] as const) {
        frozen = at;
        let r;
        try {
          r = await call(base, "GET", "/v1/clusters/eks-role/token", { token: ivy });
        } finally {
          frozen = undefined;
        }
        assert.equal(r.status, 200, r.text);
        secrets.push(r.json.status.token);
        assert.equal(sts.assumed.length, assumedSoFar);
        assert.equal(verifyEksTokenByHand(r.json.status.token, { secretFor: (k) => roleSecrets[k], clusterName: "fleet-eks", now: at }).accessKeyId, key);
      }
      const rows = await auditOf("user=ivy&limit=100");
      assert.equal(rows.filter((e) => e.action === "token.issue" && e.outcome === "issued").length, 18);
    });

    test("aws.roleArn refused by STS (wrong external id): the registration is a 400 naming the role and STS's reason, nothing stored, no secret shown", async () => {
      const cred = await call(base, "POST", "/v1/credentials", {
        token: admin,
        body: { name: "aws-wrong-id", provider: "aws", aws: { accessKeyId: AWS_BASE_AK, secretAccessKey: AWS_BASE_SECRET, roleArn: AWS_ROLE_ARN, externalId: "not-the-right-one" } },
      });
      assert.equal(cred.status, 201, cred.text);
      const before = sts.assumed.length;
      const r = await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "eks-refused", credential: "aws-wrong-id", region: "us-east-2", aws: { clusterName: "fleet-eks" } } });
      assertError(r, 400, "cloud_rejected", /cannot assume role arn:aws:iam::123456789012:role\/eks-fleet \(AccessDenied: .*not authorized to perform: sts:AssumeRole/);
      assert.ok(!r.text.includes("not-the-right-one"), "the external id is not repeated");
      assert.equal(sts.assumed.length, before);
      assert.ok(!(await call(base, "GET", "/v1/clusters", { token: admin })).json.clusters.some((c: any) => c.name === "eks-refused"));
      assert.equal((await call(base, "DELETE", "/v1/credentials/aws-wrong-id", { token: admin })).status, 204);
    });

    test("PostgreSQL gone: /healthz is 503, a token request is 503 in the same error shape, no token", { skip: kind !== "postgres" ? "a server to stop: PostgreSQL only" : false }, async () => {
      await stores.stopServer();
      const health = await call(base, "GET", "/healthz");
      assert.equal(health.status, 503);
      assert.equal(health.json.status, "unavailable");
      const alice = secrets.find((s, i) => i > 1 && TOKEN_RE.test(s)) as string;
      assertError(await call(base, "GET", "/v1/clusters/kr-main/token", { token: alice }), 503, "store_unavailable", /store does not answer/);
    });

    test("log lines: JSON with a request id, method, route, status and user, and never a secret or token", async () => {
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
