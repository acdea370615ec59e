/**
 * Many instances (issue 12): two `kubeiam serve` processes started at the same moment on one empty
 * throwaway PostgreSQL with the same master key end with one schema and one bootstrap admin; both
 * issue tokens; a user deleted through one is refused by the other within a second; and either
 * instance reads one audit trail holding both instances' rows.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { newMasterKey, rest, restOk, startCliChild, type ReadyChild, type SandboxLine, type ServeLine } from "../helpers/serve-process.js";

let root: string;
let pg: TestPostgres;
let sandbox: ReadyChild<SandboxLine>;
let a: ReadyChild<ServeLine>;
let b: ReadyChild<ServeLine>;
let admin: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-instances-"));
  pg = await startTestPostgres();
  const db = await pg.newDatabase("kubeiam_instances");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, KUBEIAM_MASTER_KEY: newMasterKey() };
  sandbox = await startCliChild<SandboxLine>(["sandbox"], { PATH: env.PATH, HOME: root });
  // The same moment: both race for the migration lock and the bootstrap admin.
  const serve = (): Promise<ReadyChild<ServeLine>> => startCliChild<ServeLine>(["serve", "--db", db, "--listen", "127.0.0.1:0"], env);
  const started = await Promise.allSettled([serve(), serve()]);
  for (const s of started) if (s.status === "fulfilled") (a === undefined ? (a = s.value) : (b = s.value));
  for (const s of started) if (s.status === "rejected") throw s.reason;
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await sandbox?.stop();
  await pg?.stop();
  await rm(root, { recursive: true, force: true });
});

test("two instances on one empty database: one schema, exactly one bootstrap admin, no password in the ready line", async () => {
  const tokens = [a.line.adminToken, b.line.adminToken].filter((t) => t !== undefined);
  assert.equal(tokens.length, 1, "exactly one instance created the first admin");
  admin = tokens[0] as string;
  if (b.line.adminToken !== undefined) [a, b] = [b, a];
  assert.equal(a.line.db, b.line.db);
  assert.match(a.line.db, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/kubeiam_instances$/);
  for (const instance of [a, b]) {
    const users = await restOk(instance.line.url, admin, "GET", "/v1/users", undefined, 200);
    const list = (users.body as { users: { name: string; role: string }[] }).users;
    assert.equal(list.filter((u) => u.role === "admin").length, 1, "one admin, seen by both");
  }
});

test("tokens through both; a user deleted on one is refused by the other within a second; one audit trail", async () => {
  const s = sandbox.line;
  const cluster = s.clusters.find((c) => c.status === "RUNNING" && c.endpoint !== null);
  assert.ok(cluster);
  const A = a.line.url;
  const B = b.line.url;
  await restOk(A, admin, "POST", "/v1/credentials", { name: "sbx", provider: "ncp", ncp: { accessKey: s.accessKey, secretKey: s.secretKey, apiUrl: s.apiUrl } }, 201);
  // Registered on A, used on B: everything lives in the database.
  await restOk(B, admin, "POST", "/v1/clusters", { name: "demo", credential: "sbx", region: cluster.region, ncp: { clusterUuid: cluster.uuid } }, 201);
  const alice = ((await restOk(A, admin, "POST", "/v1/users", { name: "alice", role: "user" }, 201)).body as { token: string }).token;
  const dave = ((await restOk(B, admin, "POST", "/v1/users", { name: "dave", role: "user" }, 201)).body as { token: string }).token;
  await restOk(A, admin, "PUT", "/v1/grants/alice/demo", undefined, 204);
  await restOk(B, admin, "PUT", "/v1/grants/dave/demo", undefined, 204);

  const issue = async (base: string, token: string): Promise<number> => (await rest(base, token, "GET", "/v1/clusters/demo/token")).status;
  const issued: Record<string, number> = { A: 0, B: 0 };
  for (let i = 0; i < 5; i++) {
    assert.equal(await issue(A, alice), 200);
    assert.equal(await issue(B, alice), 200);
    issued.A = (issued.A ?? 0) + 1;
    issued.B = (issued.B ?? 0) + 1;
  }
  assert.equal(await issue(B, dave), 200);

  // Delete dave on A; B must refuse him within a second, and from then on.
  await restOk(A, admin, "DELETE", "/v1/users/dave", undefined, 204);
  const deletedAt = performance.now();
  let refusedAfter: number | undefined;
  while (performance.now() - deletedAt < 1_000) {
    if ((await issue(B, dave)) === 401) {
      refusedAfter = performance.now() - deletedAt;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(refusedAfter !== undefined, "instance B still served a deleted user a second later");
  for (let i = 0; i < 3; i++) assert.equal(await issue(B, dave), 401);
  assert.equal(await issue(A, dave), 401);

  // One audit trail, the same through either instance, holding both instances' rows.
  const readA = await restOk(A, admin, "GET", "/v1/audit?user=alice&limit=10000", undefined, 200);
  const readB = await restOk(B, admin, "GET", "/v1/audit?user=alice&limit=10000", undefined, 200);
  type Entry = { id: number; actor: string; action: string; outcome: string; instance?: string };
  const entriesA = (readA.body as { entries: Entry[] }).entries;
  const entriesB = (readB.body as { entries: Entry[] }).entries;
  assert.deepEqual(entriesA, entriesB);
  const tokenRows = entriesA.filter((e) => e.actor === "alice" && e.action === "token.issue" && e.outcome === "issued");
  assert.equal(tokenRows.length, (issued.A ?? 0) + (issued.B ?? 0));
  const instances = new Set(tokenRows.map((e) => e.instance));
  assert.equal(instances.size, 2, `rows from both instances, named apart: ${[...instances].join(", ")}`);
  // The deletion (on A) is in the same trail, read through B, with A's instance name.
  const all = (await restOk(B, admin, "GET", "/v1/audit?limit=10000", undefined, 200)).body as { entries: (Entry & { reason?: string })[] };
  const deletion = all.entries.find((e) => e.action === "user.delete" && e.outcome === "ok");
  assert.ok(deletion, "the deletion is audited");
  assert.ok(instances.has(deletion.instance), "by one of the two instances");
});

test("400 concurrent token requests over both instances leave one chained trail that verifies on both (issue 22)", async () => {
  const A = a.line.url;
  const B = b.line.url;
  // The cluster registered in the test before; a user of this test's own.
  const erin = ((await restOk(A, admin, "POST", "/v1/users", { name: "erin", role: "user" }, 201)).body as { token: string }).token;
  await restOk(B, admin, "PUT", "/v1/grants/erin/demo", undefined, 204);
  const statuses = await Promise.all(Array.from({ length: 400 }, (_, i) => rest(i % 2 === 0 ? A : B, erin, "GET", "/v1/clusters/demo/token").then((r) => r.status)));
  assert.deepEqual(
    statuses.filter((s) => s !== 200),
    [],
    "every token request answered 200",
  );
  type Verdict = { ok: boolean; entries?: number; firstBad?: number; reason?: string };
  const verdicts = await Promise.all([A, B].map(async (base) => (await restOk(base, admin, "GET", "/v1/audit/verify", undefined, 200)).body as Verdict));
  for (const v of verdicts) assert.equal(v.ok, true, JSON.stringify(v));
  const rows = (await restOk(B, admin, "GET", "/v1/audit?user=erin&limit=10000", undefined, 200)).body as { entries: { action: string; outcome: string; instance?: string }[] };
  const issued = rows.entries.filter((e) => e.action === "token.issue" && e.outcome === "issued");
  assert.equal(issued.length, 400, "one row per token");
  assert.equal(new Set(issued.map((e) => e.instance)).size, 2, "rows from both instances");
  // Both instances walked the same trail: the same number of rows, at least the 400 just written.
  assert.equal(verdicts[0]?.entries, verdicts[1]?.entries);
  assert.ok((verdicts[0]?.entries ?? 0) >= 400);
});
