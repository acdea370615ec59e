import { after, test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile, lstat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeconfigError } from "../../src/lib/errors.js";
import { loadKubeconfigDocument, readKubeconfigFile, resolveKubeconfigPath, writeKubeconfigFile } from "../../src/kube/kubeconfig-file.js";

const root = await mkdtemp(join(tmpdir(), "kubeiam-kcfile-"));
after(() => rm(root, { recursive: true, force: true }));

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

test("a missing file reads as empty; a directory is refused", async () => {
  assert.deepEqual(await readKubeconfigFile(join(root, "absent")), { path: join(root, "absent"), text: "", exists: false });
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
