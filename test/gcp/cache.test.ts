import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { defaultGkeCacheDir, gkeCacheFile, legacyGkeCacheDir, readGkeCachedToken, writeGkeCachedToken } from "../../src/gcp/cache.js";
import { defaultAwsCacheDir } from "../../src/aws/cache.js";

const root = mkdtempSync(join(tmpdir(), "kubeiam-gke-cache-"));
after(() => rmSync(root, { recursive: true, force: true }));
const fp = (s: string): string => createHash("sha256").update(s).digest("hex");

test("a written token is read back until 5 minutes before it expires, then it is a miss", async () => {
  const dir = join(root, "a", "gke");
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const expiresAt = new Date(now + 60 * 60 * 1000);
  assert.equal(await writeGkeCachedToken(dir, fp("id-1"), { token: "ya29.cached", expiresAt }), undefined);
  const refreshAt = new Date(expiresAt.getTime() - 60 * 1000);
  assert.deepEqual(await readGkeCachedToken(dir, fp("id-1"), now), { token: "ya29.cached", expiresAt, refreshAt });
  assert.deepEqual(await readGkeCachedToken(dir, fp("id-1"), expiresAt.getTime() - 5 * 60 * 1000 - 1), { token: "ya29.cached", expiresAt, refreshAt });
  assert.equal(await readGkeCachedToken(dir, fp("id-1"), expiresAt.getTime() - 5 * 60 * 1000), undefined);
  assert.equal(await readGkeCachedToken(dir, fp("id-1"), expiresAt.getTime() + 1), undefined);
});

test("another identity is another file: no hit across fingerprints", async () => {
  const dir = join(root, "b");
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  await writeGkeCachedToken(dir, fp("alice"), { token: "ya29.alice", expiresAt: new Date(now + 3600_000) });
  assert.equal(await readGkeCachedToken(dir, fp("bob"), now), undefined);
  assert.equal((await readGkeCachedToken(dir, fp("alice"), now))?.token, "ya29.alice");
});

test("files are 0600 in a 0700 folder, named by fingerprint only, with no temporary file left", async () => {
  const dir = join(root, "c", "kubeiam", "gke");
  await writeGkeCachedToken(dir, fp("x"), { token: "ya29.x", expiresAt: new Date(Date.now() + 3600_000) });
  const names = readdirSync(dir);
  assert.deepEqual(names, [`token-${fp("x")}.json`]);
  assert.equal(statSync(join(dir, names[0]!)).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(dir, names[0]!), "utf8")) as object).sort(), ["expiresAt", "fingerprint", "token", "version"]);
});

test("a cache file others can read, or a malformed one, is a miss, not an error", async () => {
  const dir = join(root, "d");
  const now = Date.now();
  await writeGkeCachedToken(dir, fp("y"), { token: "ya29.y", expiresAt: new Date(now + 3600_000) });
  const file = gkeCacheFile(dir, fp("y"));
  chmodSync(file, 0o644);
  assert.equal(await readGkeCachedToken(dir, fp("y"), now), undefined);
  writeFileSync(file, "{broken", { mode: 0o600 });
  chmodSync(file, 0o600);
  assert.equal(await readGkeCachedToken(dir, fp("y"), now), undefined);
});

test("defaultGkeCacheDir: ~/.kube/cache/kubeiam/gcp, beside the AWS cache; the old folder is legacyGkeCacheDir", () => {
  assert.equal(defaultGkeCacheDir({ HOME: "/home/me" }), "/home/me/.kube/cache/kubeiam/gcp");
  assert.equal(defaultGkeCacheDir({ HOME: "/home/me", XDG_CACHE_HOME: "/xdg" }), "/home/me/.kube/cache/kubeiam/gcp");
  assert.equal(dirname(defaultGkeCacheDir({ HOME: "/home/me" })), dirname(defaultAwsCacheDir({ HOME: "/home/me" })));
  assert.equal(legacyGkeCacheDir({ HOME: "/home/me" }), "/home/me/.cache/kubeiam/gke");
  assert.equal(legacyGkeCacheDir({ HOME: "/home/me", XDG_CACHE_HOME: "/xdg" }), "/xdg/kubeiam/gke");
});

test("an unwritable cache folder is reported, not thrown", async () => {
  const blocker = join(root, "file-not-dir");
  writeFileSync(blocker, "x");
  const problem = await writeGkeCachedToken(join(blocker, "sub"), fp("z"), { token: "t", expiresAt: new Date(Date.now() + 3600_000) });
  assert.match(problem ?? "", /cannot write the token cache/);
});
