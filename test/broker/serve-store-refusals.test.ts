/**
 * `kubeiam serve` refusing a store or a master key it cannot use, as users run it (the built CLI, a
 * child): a SQLite path under /proc, a damaged SQLite file, a PostgreSQL database that does not
 * exist, a master key file others may read, and a fresh store with a --master-key-file not yet made
 * (created, not blamed on sealed keys). Each is one line and a non-zero exit, bounded in time.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertOneLine } from "../helpers/cli.js";
import { NEEDS_POSTGRES, startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { childEnv, runCliChild, startServe } from "./serve-helpers.js";

let dir: string;
let pg: TestPostgres | undefined;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-serve-store-"));
});
after(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("--db sqlite:/proc/…: one line naming the path, exit 7, within seconds (Node's recursive mkdir spun there forever)", async () => {
  const started = Date.now();
  const r = await runCliChild(["serve", "--db", "sqlite:/proc/kubeiam-none/x/b.db", "--listen", "127.0.0.1:0"], childEnv(dir, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") }), undefined, 15_000);
  assert.ok(Date.now() - started < 14_000, "it ended on its own");
  assertOneLine(r, 7, /cannot create the database file \/proc\/kubeiam-none\/x\/b\.db \(ENOENT\): pick a writable place/);
});

test("a damaged SQLite file: one line saying so and what to do, exit 7, not 'internal error'", async () => {
  const h = join(dir, "damaged");
  const key = randomBytes(32).toString("base64");
  const good = join(h, "good.db");
  const s = await startServe(["--db", `sqlite:${good}`, "--listen", "127.0.0.1:0"], childEnv(h, { KUBEIAM_MASTER_KEY: key }));
  assert.equal(await s.stop(), 0);
  const bytes = readFileSync(good);
  assert.ok(bytes.length > 8192);
  // Page 1 stays (the file opens as SQLite); every later page is garbage.
  for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 7) % 256;
  const bad = join(h, "bad.db");
  writeFileSync(bad, bytes, { mode: 0o600 });
  const before = readFileSync(bad);
  const r = await runCliChild(["serve", "--db", `sqlite:${bad}`, "--listen", "127.0.0.1:0"], childEnv(h, { KUBEIAM_MASTER_KEY: key }));
  assertOneLine(r, 7, /the database sqlite:.*bad\.db is damaged \(database disk image is malformed\): restore it from a backup, or start on a new file/);
  assert.doesNotMatch(r.err, /internal error/);
  assert.deepEqual(readFileSync(bad), before, "the file is left as it was");
});

test("a PostgreSQL database that does not exist (3D000): one line naming it and how to create it", { skip: NEEDS_POSTGRES }, async () => {
  pg = await startTestPostgres();
  const url = pg.url.replace(/\/postgres$/, "/nosuchdb");
  const r = await runCliChild(["serve", "--db", url, "--listen", "127.0.0.1:0"], childEnv(dir, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") }));
  assertOneLine(r, 7, /has no database "nosuchdb" \(3D000\): create it \(createdb nosuchdb/);
});

test("--db with a password in argv: serve warns in one JSON log line (never showing it) and runs; KUBEIAM_DB draws no warning", { skip: NEEDS_POSTGRES }, async () => {
  pg ??= await startTestPostgres();
  const db = (await pg.newDatabase("warned")).replace("postgres@", "postgres:hunter2-secret@");
  const env = childEnv(dir, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") });
  const s = await startServe(["--db", db, "--listen", "127.0.0.1:0"], env);
  assert.equal(await s.stop(), 0);
  const warnings = s.stderr().split("\n").filter((l) => l.includes("carries a password"));
  assert.equal(warnings.length, 1, s.stderr());
  assert.match(JSON.parse(warnings[0] ?? "").msg, /put the URL in KUBEIAM_DB/);
  assert.ok(!s.stderr().includes("hunter2") && !s.stdout().includes("hunter2"), "the password is shown nowhere");
  const quiet = await startServe(["--listen", "127.0.0.1:0"], { ...env, KUBEIAM_DB: db });
  assert.equal(await quiet.stop(), 0);
  assert.doesNotMatch(quiet.stderr(), /carries a password/);
});

test("a master key file others may read is refused as ssh does, naming chmod 600; nothing is created", async () => {
  const h = join(dir, "loose");
  const file = join(h, "master.key");
  const first = await startServe(["--db", `sqlite:${join(h, "b.db")}`, "--listen", "127.0.0.1:0", "--master-key-file", file], childEnv(h));
  assert.equal(await first.stop(), 0);
  for (const mode of [0o640, 0o604]) {
    chmodSync(file, mode);
    const r = await runCliChild(["serve", "--db", `sqlite:${join(h, "b.db")}`, "--listen", "127.0.0.1:0", "--master-key-file", file], childEnv(h));
    assertOneLine(r, 3, new RegExp(`master key file .*master\\.key may be read by others \\(mode 0${mode.toString(8)}\\): make it the owner's only with 'chmod 600 `));
  }
  chmodSync(file, 0o600);
  const again = await startServe(["--db", `sqlite:${join(h, "b.db")}`, "--listen", "127.0.0.1:0", "--master-key-file", file], childEnv(h));
  assert.equal(await again.stop(), 0);
});

test("a fresh embedded store with a --master-key-file not yet made: the file is created 0600 (no claim of sealed keys); a later start with it missing says the database is not new and needs its key", async () => {
  const h = join(dir, "fresh");
  const file = join(h, "keys", "broker.key");
  const db = join(h, "b.db");
  const s = await startServe(["--db", `sqlite:${db}`, "--listen", "127.0.0.1:0", "--master-key-file", file], childEnv(h));
  assert.match(s.ready.adminToken ?? "", /^kbi_/);
  assert.equal(await s.stop(), 0);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(Buffer.from(readFileSync(file, "utf8").trim(), "base64").length, 32);
  copyFileSync(file, `${file}.saved`);
  rmSync(file);
  const r = await runCliChild(["serve", "--db", `sqlite:${db}`, "--listen", "127.0.0.1:0", "--master-key-file", file], childEnv(h));
  // The store holds no credential: the line claims no sealed keys, only what is true.
  assertOneLine(r, 3, /does not exist, and sqlite:.*b\.db is not a new database: give the master key it was created with/);
  assert.ok(!/sealed keys/.test(r.err), r.err);
  assert.ok(!existsSync(file), "no new key was made for a store sealed under another");
});
