/**
 * The `<file>.lock` lock: exclusive across processes (parallel writers lose no update), stale locks
 * broken, released on every path (a throw, process exit, a signal), and a bounded wait.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { acquireFileLock, breakStaleLock, withFileLock } from "../../src/lib/file-lock.js";
import { ErrorCode, FileError } from "../../src/lib/errors.js";

const LOCK_MODULE = fileURLToPath(new URL("../../src/lib/file-lock.js", import.meta.url));

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-lock-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs a node script (ESM, given as text) as a child; resolves with its status and output, bounded. */
function node(script: string, args: string[] = [], onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<{ status: number | null; signal: string | null; out: string; err: string }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  onSpawn?.(child);
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => void (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => void (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child did not end; stderr: ${err}`));
    }, 60_000);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, out, err });
    });
  });
}

test("parallel processes each add 25 lines to one file under the lock: none is lost", async () => {
  const file = join(root, "counter");
  await writeFile(file, "");
  // Read, wait a little (so unlocked writers would surely overlap), write back with one more line.
  const writer = `
    import { readFile, writeFile } from "node:fs/promises";
    const { withFileLock } = await import(${JSON.stringify(LOCK_MODULE)});
    const [file, id] = process.argv.slice(1);
    for (let i = 0; i < 25; i++) {
      await withFileLock(file, async () => {
        const text = await readFile(file, "utf8");
        await new Promise((r) => setTimeout(r, 1));
        await writeFile(file, text + id + " " + i + "\\n");
      });
    }`;
  const runs = await Promise.all(Array.from({ length: 6 }, (_, id) => node(writer, [file, String(id)])));
  for (const r of runs) assert.equal(r.status, 0, r.err);
  const lines = (await readFile(file, "utf8")).trim().split("\n");
  assert.equal(lines.length, 6 * 25);
  assert.equal(new Set(lines).size, 6 * 25);
  assert.equal(existsSync(`${file}.lock`), false, "the lock is gone");
});

test("the lock is released when the locked work throws", async () => {
  const file = join(root, "throws");
  await assert.rejects(withFileLock(file, async () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(existsSync(`${file}.lock`), false);
  const lock = await acquireFileLock(file, { waitMs: 100 });
  await lock.release();
});

test("a held lock makes another taker wait, then fail with a typed error naming the holder", async () => {
  const file = join(root, "held");
  const lock = await acquireFileLock(file);
  try {
    await assert.rejects(acquireFileLock(file, { waitMs: 150 }), (e: unknown) => {
      assert.ok(e instanceof FileError);
      assert.equal(e.code, ErrorCode.FILE);
      assert.equal(e.reason, "locked");
      assert.match(e.message, new RegExp(`is locked by another run \\(process ${process.pid} on `));
      assert.match(e.message, /remove .*held\.lock if nothing is running/);
      return true;
    });
  } finally {
    await lock.release();
  }
  assert.equal(existsSync(`${file}.lock`), false);
});

test("a stale lock is broken: one older than the bound, or one whose process is gone", async () => {
  const old = join(root, "old");
  await writeFile(`${old}.lock`, `1 some-other-host\n`);
  const past = new Date(Date.now() - 60_000);
  await utimes(`${old}.lock`, past, past);
  const a = await acquireFileLock(old, { waitMs: 2_000, staleMs: 10_000 });
  assert.match(await readFile(`${old}.lock`, "utf8"), new RegExp(`^${process.pid} `));
  await a.release();

  // A fresh lock of this host whose process has ended (a crashed run).
  const dead = await node("process.stdout.write(String(process.pid))");
  const orphan = join(root, "orphan");
  await writeFile(`${orphan}.lock`, `${dead.out} ${hostname()}\n`);
  const b = await acquireFileLock(orphan, { waitMs: 2_000, staleMs: 600_000 });
  await b.release();
  assert.equal(existsSync(`${orphan}.lock`), false);
});

test("the lock file is removed when its process ends on a signal while holding it", async () => {
  const file = join(root, "signalled");
  const holder = `
    const { acquireFileLock } = await import(${JSON.stringify(LOCK_MODULE)});
    process.on("SIGTERM", () => process.exit(143));
    await acquireFileLock(process.argv[1]);
    process.stdout.write("held\\n");
    setInterval(() => {}, 1000);`;
  const r = await node(holder, [file], (child) => {
    child.stdout?.once("data", () => {
      assert.equal(existsSync(`${file}.lock`), true);
      child.kill("SIGTERM");
    });
  });
  assert.equal(r.status, 143, r.err);
  assert.equal(existsSync(`${file}.lock`), false, "released on the way out");
});

test("three runs, one stale lock: a run that judged it stale while another broke it and a third took it afresh leaves the fresh lock alone", async () => {
  const file = join(root, "race");
  const lockPath = `${file}.lock`;
  await writeFile(lockPath, "1 some-other-host\n");
  const past = new Date(Date.now() - 60_000);
  await utimes(lockPath, past, past);
  // Breaker C is in the middle of breaking it: the test plays C, holding the breakers' mutex.
  writeFileSync(`${lockPath}.break`, `${process.pid} test\n`, { flag: "wx" });
  // Breaker A looks too and finds the lock stale (before C removes it), then waits for the mutex.
  let seen!: () => void;
  const aSawStale = new Promise<void>((r) => (seen = r));
  const a = breakStaleLock(lockPath, { staleMs: 10_000, mutexWaitMs: 20_000, onStaleSeen: seen });
  await aSawStale;
  // C removes the stale lock; B takes a fresh one at once; C lets go of the mutex.
  await unlink(lockPath);
  const b = await acquireFileLock(file, { waitMs: 1_000, staleMs: 10_000 });
  const fresh = await stat(lockPath, { bigint: true });
  await unlink(`${lockPath}.break`);
  // A takes the mutex, looks again, and finds B's lock fresh: it removes nothing.
  assert.equal(await a, false);
  const after = await stat(lockPath, { bigint: true });
  assert.equal(after.ino, fresh.ino, "B's lock was removed (and perhaps another made)");
  assert.equal(after.mtimeNs, fresh.mtimeNs);
  assert.match(await readFile(lockPath, "utf8"), new RegExp(`^${process.pid} `));
  // B still excludes others, and its release removes exactly its lock.
  await assert.rejects(acquireFileLock(file, { waitMs: 100, staleMs: 10_000 }), /is locked by another run/);
  await b.release();
  assert.deepEqual((await readdir(root)).filter((f) => f.startsWith("race")), [], "no lock, mutex or renamed file left");
});

test("a breakers' mutex left by a crashed breaker is taken for stale, and the stale lock is still broken", async () => {
  const file = join(root, "crashed-breaker");
  const lockPath = `${file}.lock`;
  const past = new Date(Date.now() - 60_000);
  await writeFile(lockPath, "1 some-other-host\n");
  await writeFile(`${lockPath}.break`, "1 some-other-host\n");
  await utimes(lockPath, past, past);
  await utimes(`${lockPath}.break`, past, past);
  const lock = await acquireFileLock(file, { waitMs: 5_000, staleMs: 10_000 });
  assert.match(await readFile(lockPath, "utf8"), new RegExp(`^${process.pid} `));
  await lock.release();
  assert.deepEqual((await readdir(root)).filter((f) => f.startsWith("crashed-breaker")), []);
});
