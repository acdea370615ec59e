/**
 * readUserFile: a regular file is read whole; a FIFO is read as `cat` reads it (waiting for its
 * writer on the event loop, to the writer's end), bounded in size and time and stoppable; a
 * character device (our own null node) reads as empty; a socket or block device is refused in one
 * line naming the file and its kind; the file system's own errors keep their code.
 * Every node is made by the test in its own temp folder (mkfifo, mknod as root, a listening socket).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { constants, openSync, closeSync, writeSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile, chmod } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readUserFile } from "../../src/lib/read-file.js";
import { ErrorCode, FileError } from "../../src/lib/errors.js";

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-read-file-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;
let n = 0;
function fifo(): string {
  const path = join(root, `fifo-${n++}`);
  execFileSync("mkfifo", [path]);
  return path;
}

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

/** Opens the FIFO for writing once its reader has it open (bounded wait), without blocking. */
async function writerOf(path: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error(`nobody opened ${path} for reading`);
}

test("a regular file is read whole, with its mode", async () => {
  const file = join(root, "regular");
  await writeFile(file, "[DEFAULT]\nkey = value\n");
  await chmod(file, 0o640);
  const read = await readUserFile(file);
  assert.equal(read.text, "[DEFAULT]\nkey = value\n");
  assert.equal(read.kind, "regular file");
  assert.equal(read.mode & 0o777, 0o640);
});

test("a missing file and a directory keep the file system's own code for the caller to word", async () => {
  await assert.rejects(readUserFile(join(root, "absent")), (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOENT");
  const dir = join(root, "a-dir");
  await mkdir(dir);
  await assert.rejects(readUserFile(dir), (e: unknown) => (e as NodeJS.ErrnoException).code === "EISDIR");
});

test("a FIFO written by another process, in pieces and late, is read to the writer's end", async () => {
  const path = fifo();
  // A separate process, as `<(…)` would be: it opens the FIFO (waiting for us), writes, pauses, writes again.
  const writer = spawn("sh", ["-c", 'sleep 0.2; { printf "[DEFAULT]\\n"; sleep 0.3; printf "ncloud_access_key_id = AK\\n"; } > "$0"', path], { stdio: "ignore" });
  try {
    const read = await readUserFile(path, { what: "credential file", waitMs: 30_000 });
    assert.equal(read.text, "[DEFAULT]\nncloud_access_key_id = AK\n");
    assert.equal(read.kind, "FIFO");
  } finally {
    writer.kill();
  }
});

test("a FIFO whose writer is already there (as with process substitution) is read", async () => {
  const path = fifo();
  const reading = readUserFile(path);
  const fd = await writerOf(path);
  writeSync(fd, "apiVersion: v1\n");
  closeSync(fd);
  assert.equal((await reading).text, "apiVersion: v1\n");
});

test("a FIFO nobody writes to: stopped by the signal, or refused when its wait runs out, never hung", async () => {
  const path = fifo();
  const controller = new AbortController();
  const reading = readUserFile(path, { what: "credential file", signal: controller.signal, waitMs: 60_000 });
  const fd = await writerOf(path); // a writer that never writes: the reader must still wait, and still stop
  try {
    setTimeout(() => controller.abort(new Error("SIGTERM")), 50);
    await assert.rejects(reading, refused("io", /^stopped while reading credential file .*fifo-\d+$/));
  } finally {
    closeSync(fd);
  }
  const quiet = fifo();
  await assert.rejects(
    readUserFile(quiet, { what: "kubeconfig", waitMs: 200 }),
    refused("kind", /^kubeconfig .*fifo-\d+ is a FIFO that did not reach its end within 0 s: start the program that writes it, or pass a regular file$/),
  );
});

test("a FIFO that gives more than the limit is refused, naming it", async () => {
  const path = fifo();
  const writer = spawn(process.execPath, ["-e", `require("fs").writeFileSync(process.argv[1], Buffer.alloc(300000, 97))`, path], { stdio: "ignore" });
  try {
    await assert.rejects(readUserFile(path, { what: "kubeconfig", maxBytes: 100_000 }), refused("kind", /^kubeconfig .*fifo-\d+ \(a FIFO\) gives more than 0 MiB: pass a regular file$/));
  } finally {
    writer.kill();
  }
});

test("refuseFifo: a FIFO is refused before it is read, with the caller's fix", async () => {
  const path = fifo();
  await assert.rejects(readUserFile(path, { what: "AWS config file", refuseFifo: "pass a regular file" }), refused("kind", /^AWS config file .*fifo-\d+ is a FIFO: pass a regular file$/));
});

test("a socket is refused, naming the file and what it is", async () => {
  const path = join(root, "sock");
  const server = createServer();
  await new Promise<void>((r) => server.listen(path, r));
  try {
    await assert.rejects(readUserFile(path, { what: "credential file" }), refused("kind", /^credential file .*sock is a socket, not a file: pass the file itself$/));
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("a character device (our own null node) reads as empty; a block device is refused", { skip: isRoot ? false : "mknod needs root" }, async () => {
  const nul = join(root, "null");
  execFileSync("mknod", [nul, "c", "1", "3"]);
  assert.deepEqual({ ...(await readUserFile(nul)), mode: 0 }, { text: "", mode: 0, kind: "character device" });
  const zero = join(root, "zero");
  execFileSync("mknod", [zero, "c", "1", "5"]); // endless: the size bound ends it
  await assert.rejects(readUserFile(zero, { what: "kubeconfig", maxBytes: 100_000 }), refused("kind", /^kubeconfig .*zero \(a character device\) gives more than 0 MiB/));
  const block = join(root, "block");
  execFileSync("mknod", [block, "b", "7", "200"]); // a loop device's numbers: refused from its stat, never opened
  await assert.rejects(readUserFile(block, { what: "credential file" }), refused("kind", /^credential file .*block is a block device, not a file: pass the file itself$/));
});
