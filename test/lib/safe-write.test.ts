/**
 * writeFileSafely: only a regular file is replaced by rename; a device node or a FIFO is written in
 * place and stays what it is; links are followed (a dangling one creates its target); a read-only
 * file, a directory and a FIFO nobody reads are refused with a typed error, changing nothing.
 * Every node here is made by the test inside its own temp folder (mknod as root, mkfifo, ln -s).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveWriteTarget, writeFileSafely } from "../../src/lib/safe-write.js";
import { ErrorCode, FileError } from "../../src/lib/errors.js";

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-safe-write-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;

function refused(reason: FileError["reason"], pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof FileError, String(e));
    assert.equal(e.code, ErrorCode.FILE);
    assert.equal(e.reason, reason);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

test("a regular file is replaced (new inode) and keeps its mode; a new one is 0600 in a new 0700 folder", async () => {
  const file = join(root, "regular");
  await writeFile(file, "old");
  await chmod(file, 0o640);
  const before = await stat(file);
  assert.equal((await writeFileSafely(file, "new")).how, "replace");
  const after = await stat(file);
  assert.equal(await readFile(file, "utf8"), "new");
  assert.notEqual(after.ino, before.ino, "replaced by rename, not rewritten");
  assert.equal(after.mode & 0o777, 0o640);

  const fresh = join(root, "new-folder", "fresh");
  assert.equal((await writeFileSafely(fresh, "x")).how, "create");
  assert.equal((await stat(fresh)).mode & 0o777, 0o600);
  assert.equal((await stat(join(root, "new-folder"))).mode & 0o777, 0o700);
});

test("a link is followed: its target is replaced and the link stays; a dangling link creates its target", async () => {
  const target = join(root, "link-target");
  const link = join(root, "link");
  await writeFile(target, "old");
  await symlink(target, link);
  await writeFileSafely(link, "via link");
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.equal(await readFile(target, "utf8"), "via link");

  const missing = join(root, "sub", "not-yet");
  const dangling = join(root, "dangling");
  const chained = join(root, "dangling-2");
  await symlink(missing, dangling);
  await symlink("dangling", chained); // a relative link to a link
  assert.equal((await resolveWriteTarget(chained)).how, "create");
  await writeFileSafely(chained, "through");
  assert.ok((await lstat(dangling)).isSymbolicLink());
  assert.ok((await lstat(chained)).isSymbolicLink());
  assert.equal(await readlink(dangling), missing);
  assert.equal(await readFile(missing, "utf8"), "through");
});

test("a character device node is written in place and stays a device", { skip: isRoot ? false : "mknod needs root" }, async () => {
  const device = join(root, "null-device");
  execFileSync("mknod", [device, "c", "1", "3"]); // our own node for the null device, in our temp folder
  const link = join(root, "to-device");
  await symlink(device, link);
  for (const path of [device, link]) {
    const target = await writeFileSafely(path, "apiVersion: v1\n");
    assert.equal(target.how, "in-place");
    assert.ok((await stat(device)).isCharacterDevice());
  }
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.deepEqual((await readFile(device)).length, 0, "the null device reads empty");
});

test("a FIFO with a reader gets the text in place and stays a FIFO; one that nobody reads is refused at once", async () => {
  const fifo = join(root, "fifo");
  execFileSync("mkfifo", [fifo]);
  await assert.rejects(writeFileSafely(fifo, "x"), refused("kind", /fifo is a FIFO that nobody reads: start its reader first/));
  const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "inherit"] });
  let got = "";
  reader.stdout.setEncoding("utf8").on("data", (d: string) => void (got += d));
  const closed = new Promise((r) => reader.on("close", r));
  const text = "y".repeat(200_000) + "\n"; // more than a pipe holds: the writer waits for the reader
  // The reader may not have opened the FIFO yet: retry (bounded) while nobody reads.
  for (let i = 0; ; i++) {
    try {
      await writeFileSafely(fifo, text);
      break;
    } catch (e) {
      if (!(e instanceof FileError) || e.reason !== "kind" || i > 200) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await closed;
  assert.equal(got, text);
  assert.ok((await stat(fifo)).isFIFO());
});

test("a read-only file is refused unless forced, and a forced write keeps its mode", async () => {
  const file = join(root, "read-only");
  await writeFile(file, "keep");
  await chmod(file, 0o444);
  await assert.rejects(writeFileSafely(file, "new"), refused("read-only", /read-only \(mode 0444\)/));
  assert.equal(await readFile(file, "utf8"), "keep");
  await writeFileSafely(file, "new", { force: true });
  assert.equal(await readFile(file, "utf8"), "new");
  assert.equal((await stat(file)).mode & 0o777, 0o444);
});

test("a directory is refused, naming its kind", async () => {
  const dir = join(root, "a-dir");
  await mkdir(dir);
  await assert.rejects(writeFileSafely(dir, "x"), refused("directory", /a-dir is a directory, not a file/));
});
