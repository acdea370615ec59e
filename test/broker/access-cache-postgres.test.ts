/**
 * Granted access kept on PostgreSQL (src/broker/access-cache.ts, store/access-feed.ts, migration 8):
 * the triggers announce every change of users, grants, clusters and credentials and nothing else;
 * two instances on one database; a change made anywhere (another instance, plain SQL) is refused
 * here without waiting out the age (the instances keep answers for 60 s in this file, so only the
 * announcement can explain a refusal); this instance's own change on its very next request; never
 * past a grant's end; the announcements' connection lost and regained.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { askUntil, call, captureLines } from "./helpers.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let dir: string;
let postgres: TestPostgres;
let sandbox: Sandbox;
let db: string;
let a: RunningBroker;
let b: RunningBroker;
let admin: string;
const logA = captureLines();
const logB = captureLines();

/** Both instances keep answers this long: a refusal within it comes from an announcement. */
const KEPT_MS = 60_000;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-access-cache-"));
  postgres = await startTestPostgres();
  sandbox = await startSandbox();
  db = await postgres.newDatabase("access");
  const masterKey = randomBytes(32).toString("base64");
  const start = (instance: string, log: { stream: NodeJS.WritableStream }) =>
    startBroker({ db, listen: "127.0.0.1:0", masterKey, home: dir, cwd: dir, logStream: log.stream, instance, accessCacheMs: KEPT_MS });
  a = await start("a", logA);
  b = await start("b", logB);
  assert.ok(a.adminToken);
  admin = a.adminToken;
  const c = sandbox.clusters.find((x) => x.status === "RUNNING");
  assert.ok(c);
  const ok = async (url: string, method: string, path: string, body: unknown, status: number) => {
    const r = await call(url, method, path, { token: admin, body });
    assert.equal(r.status, status, r.text);
    return r;
  };
  await ok(a.url, "POST", "/v1/credentials", { name: "sb", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } }, 201);
  await ok(a.url, "POST", "/v1/clusters", { name: "prod", credential: "sb", region: c.region, ncp: { clusterUuid: c.uuid } }, 201);
});
let bClosed = false;
after(async () => {
  await a?.close();
  if (!bClosed) await b?.close();
  await sandbox?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function newUser(name: string): Promise<string> {
  const r = await call(a.url, "POST", "/v1/users", { token: admin, body: { name, role: "user" } });
  assert.equal(r.status, 201, r.text);
  return r.json.token as string;
}

const token = (broker: RunningBroker, who: string) => call(broker.url, "GET", "/v1/clusters/prod/token", { token: who });

async function kept(broker: RunningBroker): Promise<{ hit: number; miss: number; live: number }> {
  const counts = (await broker.ctx.metrics.accessCache.get()).values;
  const live = (await broker.ctx.metrics.accessCacheLive.get()).values[0]?.value ?? 0;
  const of = (result: string) => counts.find((v) => v.labels.result === result)?.value ?? 0;
  return { hit: of("hit"), miss: of("miss"), live };
}

/**
 * Asks `broker` for a token until one is answered from what it kept (bounded): right after a change,
 * the instance's own announcement of it may still be on its way and drop what the first request kept.
 */
async function warm(broker: RunningBroker, who: string): Promise<void> {
  await askUntil(
    "a token request answered from the one before",
    async () => {
      const k = await kept(broker);
      const r = await token(broker, who);
      assert.equal(r.status, 200, r.text);
      return (await kept(broker)).hit - k.hit;
    },
    (hits) => hits === 1,
  );
}

/** Waits (bounded) until both instances hear the announcements. */
async function bothListening(): Promise<void> {
  for (const broker of [a, b]) await askUntil("the instance hears the store's announcements", () => kept(broker), (k) => k.live === 1, 10_000);
}

test("the triggers announce a change of users, grants, clusters and credentials, naming the table; other tables' changes are not announced", async () => {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const heard: string[] = [];
    client.on("notification", (m) => heard.push(`${m.channel}:${m.payload ?? ""}`));
    await client.query("LISTEN kubeiam_access");
    const other = new pg.Client({ connectionString: db });
    await other.connect();
    try {
      // Not access: the audit trail, the meta table, sessions, retired tokens.
      await other.query("INSERT INTO kubeiam_meta (key, value) VALUES ('test_note', 'x')");
      await other.query("DELETE FROM kubeiam_meta WHERE key = 'test_note'");
      await other.query("DELETE FROM sessions WHERE id = 'none'");
      await other.query("DELETE FROM retired_tokens WHERE digest = 'none'");
      await other.query("UPDATE audit SET reason = reason WHERE id = -1");
      // Access, in this order; the last one also says that every earlier change has been delivered.
      await other.query("UPDATE credentials SET name = name WHERE name = 'sb'");
      await other.query("UPDATE clusters SET status = status WHERE name = 'prod'");
      await other.query("BEGIN");
      // Two statements on one table in one transaction: one announcement, at the commit.
      await other.query("UPDATE users SET role = role WHERE id = 'none'");
      await other.query("UPDATE users SET role = role WHERE id = 'none'");
      assert.ok(!heard.some((h) => h.endsWith(":users")), "nothing is announced before the commit");
      await other.query("COMMIT");
      await other.query("DELETE FROM grants WHERE id = 'none'");
    } finally {
      await other.end();
    }
    await askUntil("the four announcements", async () => heard.length, (n) => n >= 4);
    assert.deepEqual(heard, ["kubeiam_access:credentials", "kubeiam_access:clusters", "kubeiam_access:users", "kubeiam_access:grants"]);
  } finally {
    await client.end();
  }
});

test("a grant revoked on another instance is refused here without waiting out the age, and a grant given there is honoured here", async () => {
  await bothListening();
  const ci = await newUser("ci");
  assert.equal((await call(a.url, "PUT", "/v1/grants/ci/prod", { token: admin })).status, 204);
  const before = await kept(a);
  assert.equal((await token(a, ci)).status, 200);
  assert.ok((await kept(a)).miss > before.miss, "the first request reads the store");
  await warm(a, ci);
  assert.equal((await call(b.url, "DELETE", "/v1/grants/ci/prod", { token: admin })).status, 204);
  const refused = await askUntil("the grant revoked on b refused on a", () => token(a, ci), (r) => r.status !== 200, 10_000);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json.error.code, "no_grant");
  // A refusal is never kept: granted again on b, honoured here as soon as it is heard.
  assert.equal((await call(b.url, "PUT", "/v1/grants/ci/prod", { token: admin })).status, 204);
  await askUntil("the grant given on b honoured on a", () => token(a, ci), (r) => r.status === 200, 10_000);
  // The audit trail has a row for every answer, kept ones included.
  const rows = (await call(a.url, "GET", "/v1/audit?user=ci&limit=100", { token: admin })).json.entries as { action: string; outcome: string }[];
  const answers = (await kept(a)).hit + (await kept(a)).miss - before.hit - before.miss;
  assert.equal(rows.filter((r) => r.action === "token.issue").length, answers);
});

test("changed on this instance: refused here on the very next request (a revoked grant, a rotated token, a deleted user)", async () => {
  await bothListening();
  const dev = await newUser("dev");
  const grantAndWarm = async (who: string) => {
    assert.equal((await call(a.url, "PUT", "/v1/grants/dev/prod", { token: admin })).status, 204);
    await warm(a, who);
  };
  await grantAndWarm(dev);
  assert.equal((await call(a.url, "DELETE", "/v1/grants/dev/prod", { token: admin })).status, 204);
  const r1 = await token(a, dev);
  assert.equal(r1.status, 403, r1.text);
  await grantAndWarm(dev);
  const rotated = await call(a.url, "POST", "/v1/users/dev/token", { token: admin });
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal((await token(a, dev)).status, 401, "the rotated-away token");
  const fresh = rotated.json.token as string;
  await warm(a, fresh);
  assert.equal((await call(a.url, "DELETE", "/v1/users/dev", { token: admin })).status, 204);
  assert.equal((await token(a, fresh)).status, 401, "the deleted user");
});

test("changed in plain SQL, by no broker: announced by the triggers, refused on both instances", async () => {
  await bothListening();
  const ops = await newUser("ops");
  assert.equal((await call(a.url, "PUT", "/v1/grants/ops/prod", { token: admin })).status, 204);
  for (const broker of [a, b]) await warm(broker, ops);
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    await client.query("DELETE FROM grants WHERE user_id = (SELECT id FROM users WHERE name = 'ops')");
  } finally {
    await client.end();
  }
  for (const broker of [a, b]) {
    const r = await askUntil(`the grant deleted in SQL refused on ${broker === a ? "a" : "b"}`, () => token(broker, ops), (x) => x.status !== 200, 10_000);
    assert.equal(r.status, 403, r.text);
  }
});

test("kept never past the grant's end: the first request after it is refused as ended", async () => {
  await bothListening();
  const temp = await newUser("temp");
  const ends = new Date(Date.now() + 3_000);
  assert.equal((await call(a.url, "PUT", "/v1/grants/temp/prod", { token: admin, body: { expiresAt: ends.toISOString() } })).status, 204);
  assert.equal((await token(a, temp)).status, 200);
  const k = await kept(a);
  const second = await token(a, temp);
  // Unless the grant has ended already (a slow machine), the second request was answered from the first.
  if (Date.now() < ends.getTime()) {
    assert.equal(second.status, 200);
    assert.equal((await kept(a)).hit, k.hit + 1);
  }
  await new Promise((r) => setTimeout(r, Math.max(0, ends.getTime() - Date.now() + 20)));
  const r = await token(a, temp);
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, "grant_ended");
});

test("the announcements' connection cut: the instance says so, keeps nothing, reconnects by itself and keeps again", async () => {
  await bothListening();
  const job = await newUser("job");
  assert.equal((await call(a.url, "PUT", "/v1/grants/job/prod", { token: admin })).status, 204);
  await warm(a, job);
  const marked = logA.lines.length;
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const cut = await client.query("SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = 'kubeiam-access-feed'");
    assert.equal(cut.rows.length, 2, "one announcements connection per instance");
  } finally {
    await client.end();
  }
  const lines = () => logA.lines.slice(marked).map((l) => JSON.parse(l) as { level: number; msg: string });
  await askUntil("a says it no longer hears the announcements", async () => lines(), (ls) => ls.some((l) => l.level === 40 && /not heard/.test(l.msg)), 10_000);
  await askUntil("a hears them again", async () => lines(), (ls) => ls.some((l) => l.level === 30 && /are heard/.test(l.msg)), 10_000);
  assert.equal((await kept(a)).live, 1);
  // What was kept before the cut is gone: the next request reads the store.
  const k = await kept(a);
  assert.equal((await token(a, job)).status, 200);
  assert.equal((await kept(a)).miss, k.miss + 1);
  await warm(a, job);
});

test("an instance that closes ends its announcements connection, without warning that it no longer hears them", async () => {
  await bothListening();
  const marked = logB.lines.length;
  await b.close();
  bClosed = true;
  assert.deepEqual(logB.lines.slice(marked).filter((l) => /not heard/.test(l)), []);
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const feeds = async () => Number((await client.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'kubeiam-access-feed'")).rows[0].n);
    await askUntil("only a's announcements connection left", feeds, (n) => n === 1);
  } finally {
    await client.end();
  }
});
