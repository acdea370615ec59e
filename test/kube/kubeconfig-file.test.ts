import { after, before, test } from "node:test";
import { execFile } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, readdir, rename, rm, stat, symlink, utimes, writeFile, lstat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeconfigError } from "../../src/lib/errors.js";
import { editKubeconfigFile, kubeconfigFileUnchanged, loadKubeconfigDocument, readKubeconfigFile, resolveKubeconfigPath, writeKubeconfigFile } from "../../src/kube/kubeconfig-file.js";
import { requireTools } from "../helpers/tools.js";

const root = await mkdtemp(join(tmpdir(), "kubeiam-kcfile-"));
after(() => rm(root, { recursive: true, force: true }));
before(() => requireTools("kubectl"));

test("resolveKubeconfigPath: explicit, then the first KUBECONFIG entry, then ~/.kube/config", () => {
  assert.equal(resolveKubeconfigPath({ explicit: "/x/y", env: { KUBECONFIG: "/a", HOME: "/h" } }), "/x/y");
  assert.equal(resolveKubeconfigPath({ env: { KUBECONFIG: ["/a/one", "/b/two"].join(delimiter), HOME: "/h" } }), "/a/one");
  assert.equal(resolveKubeconfigPath({ env: { KUBECONFIG: [" ", "", "/b/two"].join(delimiter), HOME: "/h" } }), "/b/two");
  assert.equal(resolveKubeconfigPath({ env: { KUBECONFIG: "", HOME: "/h" } }), "/h/.kube/config");
  assert.equal(resolveKubeconfigPath({ env: { HOME: "/h" } }), "/h/.kube/config");
});

test("a new file is written with mode 0600, its parent folders created", async () => {
  const path = join(root, "new", "deep", "config");
  await writeKubeconfigFile(path, "apiVersion: v1\n");
  assert.equal(await readFile(path, "utf8"), "apiVersion: v1\n");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(root, "new"))).mode & 0o777, 0o700);
  assert.deepEqual(await readdir(join(root, "new", "deep")), ["config"], "no temporary file is left behind");
});

test("an existing file keeps its mode", async () => {
  const path = join(root, "existing");
  await writeFile(path, "old\n");
  await chmod(path, 0o640);
  await writeKubeconfigFile(path, "new\n");
  assert.equal(await readFile(path, "utf8"), "new\n");
  assert.equal((await stat(path)).mode & 0o777, 0o640);
});

test("a symbolic link is followed: the target is replaced, the link stays", async () => {
  const target = join(root, "real-config");
  const link = join(root, "link-config");
  await writeFile(target, "old\n", { mode: 0o600 });
  await symlink(target, link);
  await writeKubeconfigFile(link, "new\n");
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.equal(await readFile(target, "utf8"), "new\n");
});

test("writing over a directory is refused", async () => {
  await assert.rejects(writeKubeconfigFile(root, "x"), (e: unknown) => e instanceof KubeconfigError && /is a directory/.test(e.message));
});

test("a read-only file and a FIFO to update are refused in domain words, naming the option that would do it (force, dryRun), no CLI flag", async () => {
  const readOnly = join(root, "read-only-config");
  await writeFile(readOnly, "old\n", { mode: 0o444 });
  await assert.rejects(writeKubeconfigFile(readOnly, "new\n"), (e: unknown) => {
    assert.ok(e instanceof KubeconfigError);
    assert.match(e.message, /is read-only \(mode 0444\): make it writable \(chmod u\+w .*\), or force its replacement \(it was left unchanged\)$/);
    assert.doesNotMatch(e.message, /--/);
    assert.deepEqual([e.field, e.value], ["force", readOnly]);
    return true;
  });
  assert.equal(await readFile(readOnly, "utf8"), "old\n");
  await writeKubeconfigFile(readOnly, "new\n", { force: true });
  assert.equal(await readFile(readOnly, "utf8"), "new\n");

  const fifo = join(root, "fifo-config");
  await new Promise<void>((resolve, reject) => execFile("mkfifo", [fifo], (error) => (error ? reject(error) : resolve())));
  await assert.rejects(editKubeconfigFile(fifo, "update", () => "x"), (e: unknown) => {
    assert.ok(e instanceof KubeconfigError);
    assert.match(e.message, /is a FIFO, which cannot be read and then written back: pass a regular file, or make it a dry run that prints the result \(nothing was written\)$/);
    assert.doesNotMatch(e.message, /--/);
    assert.deepEqual([e.field, e.value], ["dryRun", fifo]);
    return true;
  });
});

test("a missing file reads as empty; a directory is refused", async () => {
  assert.deepEqual(await readKubeconfigFile(join(root, "absent")), { path: join(root, "absent"), text: "", exists: false, stamp: "absent" });
  await assert.rejects(readKubeconfigFile(root), (e: unknown) => e instanceof KubeconfigError && /is a directory: name the file itself/.test(e.message) && e.field === "kubeconfig");
});

test("a malformed file is refused, naming the file and the field, and left byte for byte", async () => {
  const path = join(root, "malformed");
  const bytes = "apiVersion: v1\nclusters:\n- cluster: {server: https://x}\n";
  await writeFile(path, bytes, { mode: 0o600 });
  await assert.rejects(loadKubeconfigDocument(path), (e: unknown) => {
    assert.ok(e instanceof KubeconfigError);
    assert.equal(e.message, `kubeconfig ${path} is malformed: clusters[0].name is missing; fix it or use another file (it was left unchanged)`);
    return true;
  });
  assert.equal(await readFile(path, "utf8"), bytes);
});

/** Runs the real kubectl with a bounded wait; resolves with its exit status and stderr. */
function kubectl(args: string[]): Promise<{ status: number; err: string }> {
  return new Promise((resolve) => {
    execFile("kubectl", args, { timeout: 30_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root } }, (error, _out, err) => {
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : 1, err });
    });
  });
}

test("the lock is kubectl's for the path as given: a kubectl writing through a link is kept out while kubeiam edits, and kubeiam waits for its lock", async () => {
  const real = join(root, "lock-real.yaml");
  const link = join(root, "lock-link.yaml");
  await writeFile(real, "apiVersion: v1\nkind: Config\n", { mode: 0o600 });
  await symlink(real, link);
  // kubectl (client-go's lockFile) takes `<name given>.lock` with O_EXCL and gives up at once when it exists.
  await editKubeconfigFile(link, "update", async (file) => {
    const r = await kubectl(["--kubeconfig", link, "config", "set-context", "from-kubectl", "--cluster=x"]);
    assert.notEqual(r.status, 0, "kubectl wrote while kubeiam held the file");
    assert.match(r.err, /lock-link\.yaml\.lock: file exists/);
    return `${file.text}# kubeiam\n`;
  });
  assert.equal(await readFile(real, "utf8"), "apiVersion: v1\nkind: Config\n# kubeiam\n");
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.deepEqual((await readdir(root)).filter((f) => f.startsWith("lock-")).sort(), ["lock-link.yaml", "lock-real.yaml"], "no lock left");

  // The other way round: a lock as kubectl leaves it while it writes (empty, mode 0) on the link's name.
  closeSync(openSync(`${link}.lock`, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0));
  try {
    await assert.rejects(
      writeKubeconfigFile(link, "apiVersion: v1\n", { lock: { waitMs: 300, staleMs: 60_000 } }),
      (e: unknown) => e instanceof KubeconfigError && /is locked by another run/.test(e.message),
    );
    assert.equal(await readFile(real, "utf8"), "apiVersion: v1\nkind: Config\n# kubeiam\n", "nothing written under kubectl's lock");
  } finally {
    await rm(`${link}.lock`);
  }
  // And the real file's own name is locked too, for a run given the real path or another link.
  closeSync(openSync(`${real}.lock`, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0));
  try {
    await assert.rejects(writeKubeconfigFile(link, "apiVersion: v1\n", { lock: { waitMs: 300, staleMs: 60_000 } }), /is locked by another run/);
  } finally {
    await rm(`${real}.lock`);
  }
  await writeKubeconfigFile(link, "apiVersion: v1\n");
  assert.equal(await readFile(real, "utf8"), "apiVersion: v1\n");
});

test("editKubeconfigFile with the file as read before: handed back as it was when unchanged, read again when replaced, written in place or created", async () => {
  const path = join(root, "stamped-config");
  const seen: (string | boolean)[] = [];
  const editWith = async (before: Awaited<ReturnType<typeof readKubeconfigFile>>): Promise<void> => {
    await editKubeconfigFile(path, "update", (file) => {
      seen.push(file === before ? "as read" : file.text);
      return undefined;
    }, { current: before });
  };
  await writeFile(path, "one\n");
  await editWith(await readKubeconfigFile(path));
  // Replaced by a rename (a new inode), as kubectl and kubeiam write.
  let before = await readKubeconfigFile(path);
  await writeFile(`${path}.new`, "two\n");
  await rename(`${path}.new`, path);
  await editWith(before);
  // Written in place at the same size: the ctime moves even when the mtime is set back.
  before = await readKubeconfigFile(path);
  const { mtime } = await stat(path);
  await writeFile(path, "2wo\n");
  await utimes(path, mtime, mtime);
  await editWith(before);
  // Missing when read, still missing: as read; created meanwhile: read.
  const absent = join(root, "stamped-absent");
  const missing = await readKubeconfigFile(absent);
  assert.equal(missing.exists, false);
  assert.equal(await kubeconfigFileUnchanged(missing), true);
  await writeFile(absent, "three\n");
  assert.equal(await kubeconfigFileUnchanged(missing), false);
  assert.deepEqual(seen, ["as read", "two\n", "2wo\n"]);
  assert.equal(await kubeconfigFileUnchanged({ path: "/dev/null", text: "", exists: true }), false, "a device is never taken as unchanged");
});
