/**
 * The audit trail an operator can check (issue 22), through the built CLI: 20 tokens, then
 * `GET /v1/audit/verify` is ok and `kubeiam broker audit verify` exits 0; a row edited in the SQLite
 * file, and separately a row deleted from the middle, make both fail and name that row (the edited
 * one; the one after the gap). `--after` pages forward without a repeat.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { runInProcess } from "../helpers/cli.js";
import { newMasterKey, rest, restOk, startCliChild, type ReadyChild, type SandboxLine, type ServeLine } from "../helpers/serve-process.js";

let root: string;
let sandbox: ReadyChild<SandboxLine>;
let broker: ReadyChild<ServeLine>;
let admin: string;
let dbPath: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-audit-chain-"));
  dbPath = join(root, "broker.db");
  const PATH = process.env.PATH ?? "/usr/bin:/bin";
  sandbox = await startCliChild<SandboxLine>(["sandbox"], { PATH, HOME: root });
  broker = await startCliChild<ServeLine>(["serve", "--db", `sqlite:${dbPath}`, "--listen", "127.0.0.1:0"], { PATH, HOME: root, KUBEIAM_MASTER_KEY: newMasterKey() });
  assert.ok(broker.line.adminToken);
  admin = broker.line.adminToken;
});

after(async () => {
  await broker?.stop();
  await sandbox?.stop();
  await rm(root, { recursive: true, force: true });
});

const verifyRest = async (): Promise<unknown> => (await restOk(broker.line.url, admin, "GET", "/v1/audit/verify", undefined, 200)).body;
const verifyCli = () => runInProcess(["broker", "audit", "verify", "--server", broker.line.url], { env: { HOME: root, KUBEIAM_BROKER_TOKEN: admin } });

test("20 tokens: the trail verifies through the API and the CLI; an edited row and a removed row are named by both", async () => {
  const s = sandbox.line;
  const cluster = s.clusters.find((c) => c.status === "RUNNING" && c.endpoint !== null);
  assert.ok(cluster);
  const url = broker.line.url;
  await restOk(url, admin, "POST", "/v1/credentials", { name: "sbx", provider: "ncp", ncp: { accessKey: s.accessKey, secretKey: s.secretKey, apiUrl: s.apiUrl } }, 201);
  await restOk(url, admin, "POST", "/v1/clusters", { name: "demo", credential: "sbx", region: cluster.region, ncp: { clusterUuid: cluster.uuid } }, 201);
  const alice = ((await restOk(url, admin, "POST", "/v1/users", { name: "alice", role: "user" }, 201)).body as { token: string }).token;
  await restOk(url, admin, "PUT", "/v1/grants/alice/demo", undefined, 204);
  const answers = await Promise.all(Array.from({ length: 20 }, () => rest(url, alice, "GET", "/v1/clusters/demo/token")));
  assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));

  const good = (await verifyRest()) as { ok: boolean; entries: number };
  assert.equal(good.ok, true);
  assert.ok(good.entries >= 24, `${good.entries} entries`);
  const cli = await verifyCli();
  assert.equal(cli.status, 0, cli.err);
  assert.match(cli.out, new RegExp(`^audit trail intact: ${good.entries} entries verified\\n$`));

  // The forward pages: every row once, oldest first.
  const all: number[] = [];
  for (let cursor = 0; ; ) {
    const page = (await restOk(url, admin, "GET", `/v1/audit?after=${cursor}&limit=7`, undefined, 200)).body as { entries: { id: number }[] };
    if (page.entries.length === 0) break;
    all.push(...page.entries.map((e) => e.id));
    cursor = page.entries[page.entries.length - 1]?.id ?? cursor;
  }
  assert.equal(all.length, good.entries);
  assert.deepEqual(all, [...all].sort((a, b) => a - b));
  assert.equal(new Set(all).size, all.length);

  const tokenRows = ((await restOk(url, admin, "GET", "/v1/audit?user=alice&limit=100", undefined, 200)).body as { entries: { id: number; action: string }[] }).entries
    .filter((e) => e.action === "token.issue")
    .map((e) => e.id)
    .sort((a, b) => a - b);
  assert.equal(tokenRows.length, 20);
  const edited = tokenRows[7] as number;
  const removed = tokenRows[12] as number;

  // Someone with the file edits a row (the broker keeps serving meanwhile).
  const file = new Database(dbPath, { timeout: 10_000 });
  try {
    const original = file.prepare("SELECT outcome FROM audit WHERE id = ?").get(edited) as { outcome: string };
    file.prepare("UPDATE audit SET outcome = 'denied' WHERE id = ?").run(edited);
    const bad = (await verifyRest()) as { ok: boolean; firstBad: number; reason: string };
    assert.deepEqual(Object.keys(bad), ["ok", "firstBad", "reason"]);
    assert.equal(bad.ok, false);
    assert.equal(bad.firstBad, edited);
    assert.match(bad.reason, new RegExp(`entry ${edited} does not match its hash`));
    const failed = await verifyCli();
    assert.equal(failed.status, 1);
    assert.equal(failed.out, `audit trail broken at entry ${edited}: ${bad.reason}\n`);

    file.prepare("UPDATE audit SET outcome = ? WHERE id = ?").run(original.outcome, edited);
    assert.equal(((await verifyRest()) as { ok: boolean }).ok, true);

    // Separately, a row deleted from the middle: the row after the gap is named.
    const next = (file.prepare("SELECT min(id) AS id FROM audit WHERE id > ?").get(removed) as { id: number }).id;
    file.prepare("DELETE FROM audit WHERE id = ?").run(removed);
    const gap = (await verifyRest()) as { ok: boolean; firstBad: number; reason: string };
    assert.equal(gap.ok, false);
    assert.equal(gap.firstBad, next);
    assert.match(gap.reason, /was removed/);
    const gapCli = await verifyCli();
    assert.equal(gapCli.status, 1);
    assert.match(gapCli.out, new RegExp(`^audit trail broken at entry ${next}: `));
  } finally {
    file.close();
  }

  // A user is not shown the verification.
  assert.equal((await rest(url, alice, "GET", "/v1/audit/verify")).status, 403);
});
