/**
 * Operating the broker (issue 22), through the built CLI against the sandbox:
 * - a backup taken while tokens are issued is 0600 and serves alice on a broker started from it;
 *   a backup to an existing file, or of PostgreSQL, is refused in one line with nothing written;
 * - master-key rotation on PostgreSQL: with the keyring "new,old" tokens flow, `serve rekey`
 *   succeeds while an instance serves (its token requests all answered), the new key alone serves,
 *   and the old key alone is refused in one line.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { runCliChild } from "../broker/serve-helpers.js";
import { newMasterKey, rest, restOk, startCliChild, type ReadyChild, type SandboxLine, type ServeLine } from "../helpers/serve-process.js";

let root: string;
let sandbox: ReadyChild<SandboxLine>;
let pg: TestPostgres | undefined;
const PATH = process.env.PATH ?? "/usr/bin:/bin";
const running: ReadyChild<ServeLine>[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-keys-backup-"));
  sandbox = await startCliChild<SandboxLine>(["sandbox"], { PATH, HOME: root });
});

after(async () => {
  for (const b of running) await b.stop();
  await sandbox?.stop();
  await pg?.stop();
  await rm(root, { recursive: true, force: true });
});

async function serve(db: string, masterKey: string): Promise<ReadyChild<ServeLine>> {
  const b = await startCliChild<ServeLine>(["serve", "--db", db, "--listen", "127.0.0.1:0"], { PATH, HOME: root, KUBEIAM_MASTER_KEY: masterKey });
  running.push(b);
  return b;
}

/** A credential, a cluster and alice with a grant on a fresh broker; alice's token. */
async function setUp(url: string, admin: string, credential = "sbx"): Promise<string> {
  const s = sandbox.line;
  const cluster = s.clusters.find((c) => c.status === "RUNNING" && c.endpoint !== null);
  assert.ok(cluster);
  await restOk(url, admin, "POST", "/v1/credentials", { name: credential, provider: "ncp", ncp: { accessKey: s.accessKey, secretKey: s.secretKey, apiUrl: s.apiUrl } }, 201);
  await restOk(url, admin, "POST", "/v1/clusters", { name: "demo", credential, region: cluster.region, ncp: { clusterUuid: cluster.uuid } }, 201);
  const alice = ((await restOk(url, admin, "POST", "/v1/users", { name: "alice", role: "user" }, 201)).body as { token: string }).token;
  await restOk(url, admin, "PUT", "/v1/grants/alice/demo", undefined, 204);
  return alice;
}

/** Issues tokens for alice one after another until `stop()`; resolves with every status seen. */
function issueUntilStopped(url: string, alice: string): { stop: () => Promise<number[]> } {
  let stopping = false;
  const statuses: number[] = [];
  const loop = (async () => {
    while (!stopping) statuses.push((await rest(url, alice, "GET", "/v1/clusters/demo/token")).status);
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      return statuses;
    },
  };
}

test("a backup taken while tokens are issued is 0600 and serves alice on a broker started from it; bad targets are refused in one line", async () => {
  const key = newMasterKey();
  const dbPath = join(root, "live.db");
  const live = await serve(`sqlite:${dbPath}`, key);
  assert.ok(live.line.adminToken);
  const alice = await setUp(live.line.url, live.line.adminToken);
  const env = { PATH, HOME: root };
  const copy = join(root, "copy.db");

  const load = issueUntilStopped(live.line.url, alice);
  await new Promise((r) => setTimeout(r, 200));
  const r = await runCliChild(["serve", "backup", "--db", `sqlite:${dbPath}`, "--to", copy], env);
  const statuses = await load.stop();
  assert.equal(r.status, 0, r.err);
  assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `tokens during the backup: ${statuses.join(",")}`);
  const summary = JSON.parse(r.out) as { file: string; users: number; credentials: number; clusters: number; audit: number };
  assert.equal(summary.file, copy);
  assert.deepEqual([summary.users, summary.credentials, summary.clusters], [2, 1, 1]);
  assert.ok(summary.audit > 0);
  assert.equal(statSync(copy).mode & 0o777, 0o600);
  assert.ok(!r.err.includes(key) && !r.out.includes(alice));

  // Refusals: the copy exists; a PostgreSQL URL; no --to. Nothing written, one line each.
  const before = readFileSync(copy);
  const again = await runCliChild(["serve", "backup", "--db", `sqlite:${dbPath}`, "--to", copy], env);
  assert.notEqual(again.status, 0);
  assert.equal(again.out, "");
  assert.match(again.err, /^kubeiam: serve backup: .*copy\.db already exists: give a new file name, or remove the old backup first\n$/);
  assert.deepEqual(readFileSync(copy), before);
  const pgAnswer = await runCliChild(["serve", "backup", "--db", "postgres://kubeiam:s3cret@127.0.0.1:1/kubeiam", "--to", join(root, "pg.dump")], env);
  assert.equal(pgAnswer.status, 2);
  assert.match(pgAnswer.err, /^kubeiam: serve backup: a PostgreSQL store is backed up with PostgreSQL's own tools: run pg_dump --format=custom/);
  assert.equal(pgAnswer.err.split("\n").length, 2);
  assert.ok(!pgAnswer.err.includes("s3cret"), "no password in the answer");
  const missing = await runCliChild(["serve", "backup", "--db", `sqlite:${join(root, "nothing.db")}`, "--to", join(root, "x.db")], env);
  assert.notEqual(missing.status, 0);
  assert.match(missing.err, /there is no database at .*nothing\.db/);

  // The copy serves the same users, grants and clusters, with the same master key.
  await live.stop();
  const restored = await serve(`sqlite:${copy}`, key);
  assert.equal(restored.line.adminToken, undefined, "the copy has its admin already");
  const token = await rest(restored.line.url, alice, "GET", "/v1/clusters/demo/token");
  assert.equal(token.status, 200, token.text);
  assert.ok(((token.body as { status: { token: string } }).status.token ?? "").length > 20, "a cluster token");
  assert.deepEqual(((await restOk(restored.line.url, alice, "GET", "/v1/clusters", undefined, 200)).body as { clusters: { name: string }[] }).clusters.map((c) => c.name), ["demo"]);
});

test("rotation on PostgreSQL: keyring new,old serves; rekey while an instance serves; the new key alone serves; the old alone is refused", async () => {
  pg = await startTestPostgres();
  const db = await pg.newDatabase("rotation");
  const oldKey = newMasterKey();
  const newKey = newMasterKey();
  const first = await serve(db, oldKey);
  assert.ok(first.line.adminToken);
  const admin = first.line.adminToken;
  const alice = await setUp(first.line.url, admin);
  await first.stop();

  // Every instance gets the keyring; credentials added now are sealed under the new key.
  const ring = await serve(db, `${newKey},${oldKey}`);
  assert.equal((await rest(ring.line.url, alice, "GET", "/v1/clusters/demo/token")).status, 200);
  const s = sandbox.line;
  await restOk(ring.line.url, admin, "POST", "/v1/credentials", { name: "sbx-2", provider: "ncp", ncp: { accessKey: s.accessKey, secretKey: s.secretKey, apiUrl: s.apiUrl } }, 201);

  const load = issueUntilStopped(ring.line.url, alice);
  await new Promise((r) => setTimeout(r, 200));
  const rekey = await runCliChild(["serve", "rekey", "--db", db], { PATH, HOME: root, KUBEIAM_MASTER_KEY: `${newKey},${oldKey}` });
  await new Promise((r) => setTimeout(r, 200));
  const statuses = await load.stop();
  assert.equal(rekey.status, 0, rekey.err);
  const result = JSON.parse(rekey.out) as { resealed: number; unchanged: number; keyId: string };
  assert.deepEqual([result.resealed, result.unchanged], [1, 1]);
  assert.match(result.keyId, /^[0-9a-f]{16}$/);
  assert.match(rekey.err, /1 credential re-sealed under master key id [0-9a-f]{16} \(1 already were\)/);
  assert.ok(!rekey.err.includes(newKey) && !rekey.err.includes(oldKey));
  assert.ok(statuses.length > 0 && statuses.every((x) => x === 200), `tokens during the rekey: ${statuses.join(",")}`);
  const trail = (await restOk(ring.line.url, admin, "GET", `/v1/audit?user=${encodeURIComponent("(serve rekey)")}`, undefined, 200)).body as { entries: { actor: string; action: string }[] };
  assert.deepEqual(trail.entries.map((e) => e.action), ["master_key.rekey"], "the rekey is audited");
  await ring.stop();

  const fresh = await serve(db, newKey);
  assert.equal((await rest(fresh.line.url, alice, "GET", "/v1/clusters/demo/token")).status, 200);
  assert.deepEqual(await verify(fresh.line.url, admin), { ok: true });
  await fresh.stop();

  const refused = await runCliChild(["serve", "--db", db, "--listen", "127.0.0.1:0"], { PATH, HOME: root, KUBEIAM_MASTER_KEY: oldKey });
  assert.equal(refused.status, 3);
  assert.equal(refused.out, "");
  assert.equal(refused.err.split("\n").length, 2, refused.err);
  assert.match(refused.err, /^kubeiam: the database's keys were sealed under another master key/);
  // rekey with the old key alone changes nothing and says why in one line.
  const noRekey = await runCliChild(["serve", "rekey", "--db", db], { PATH, HOME: root, KUBEIAM_MASTER_KEY: oldKey });
  assert.equal(noRekey.status, 3);
  assert.match(noRekey.err, /^kubeiam: the database's keys were sealed under a master key that is not in the keyring/);
});

async function verify(url: string, admin: string): Promise<{ ok: boolean }> {
  const r = (await restOk(url, admin, "GET", "/v1/audit/verify", undefined, 200)).body as { ok: boolean };
  return { ok: r.ok };
}

test("serve rekey refuses what it cannot do in one line, changing nothing: no database, a bad keyring", async () => {
  const env = { PATH, HOME: root };
  const none = await runCliChild(["serve", "rekey", "--db", `sqlite:${join(root, "absent.db")}`], { ...env, KUBEIAM_MASTER_KEY: newMasterKey() });
  assert.equal(none.status, 2);
  assert.match(none.err, /^kubeiam: serve rekey: there is no database at .*absent\.db: give the broker's --db\n$/);
  const keyFile = join(root, "ring.key");
  writeFileSync(keyFile, `${newMasterKey()},,${newMasterKey()}\n`, { mode: 0o600 });
  const dbFile = join(root, "ring.db");
  writeFileSync(dbFile, "");
  const badRing = await runCliChild(["serve", "rekey", "--db", `sqlite:${dbFile}`, "--master-key-file", keyFile], env);
  assert.equal(badRing.status, 3);
  assert.match(badRing.err, /empty entry in its keyring/);
  assert.equal(readFileSync(dbFile, "utf8"), "", "nothing written");
});
