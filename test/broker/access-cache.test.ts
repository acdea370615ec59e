/**
 * Granted access kept for at most a second (src/broker/access-cache.ts): only while the feed listens,
 * only a grant, never past the grant's end, never an answer read while something changed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AccessCache } from "../../src/broker/access-cache.js";
import type { TokenAccess } from "../../src/broker/store/store.js";

function access(granted: boolean, grantEndsAt?: string): TokenAccess {
  return {
    user: { id: "u1", name: "alice", role: "user" },
    access: {
      cluster: { id: "c1", name: "prod", provider: "ncp", credentialId: "k1", region: "KR", connection: "", endpoint: "https://e", caData: null, status: "RUNNING", locator: null, createdAt: "2026-01-01T00:00:00.000Z" },
      credential: { id: "k1", name: "key", provider: "ncp", sealed: "sealed" },
      granted,
      ...(grantEndsAt === undefined ? {} : { grantEndsAt }),
    },
  };
}

/** A store read that counts its calls and answers `answer()`. */
function counter(answer: () => TokenAccess | undefined): { load: () => Promise<TokenAccess | undefined>; calls: () => number } {
  let calls = 0;
  return {
    load: async () => {
      calls += 1;
      await new Promise((r) => setImmediate(r));
      return answer();
    },
    calls: () => calls,
  };
}

test("nothing is kept until the feed listens, and nothing once it stops", async () => {
  const clock = 1_000_000;
  const reads: boolean[] = [];
  const cache = new AccessCache(() => clock, { onRead: (kept) => reads.push(kept) });
  const store = counter(() => access(true));
  await cache.read("k", store.load);
  await cache.read("k", store.load);
  assert.equal(store.calls(), 2, "not listening: every request reads the store");
  cache.live(true);
  await cache.read("k", store.load);
  await cache.read("k", store.load);
  assert.equal(store.calls(), 3, "listening: the second request is answered from the first");
  assert.deepEqual(reads, [false, false, false, true]);
  cache.live(false);
  assert.equal(cache.keeping, false);
  await cache.read("k", store.load);
  assert.equal(store.calls(), 4, "what was kept is dropped when the feed stops listening");
});

test("kept for the given age from when it was asked, then read again; keys are apart", async () => {
  let clock = 1_000_000;
  const cache = new AccessCache(() => clock);
  cache.live(true);
  const store = counter(() => access(true));
  const first = await cache.read("alice\0prod", store.load);
  clock += 999;
  assert.equal(await cache.read("alice\0prod", store.load), first);
  assert.equal(store.calls(), 1);
  await cache.read("alice\0dev", store.load);
  assert.equal(store.calls(), 2, "another cluster is read apart");
  clock += 1;
  await cache.read("alice\0prod", store.load);
  assert.equal(store.calls(), 3, "a second after it was asked, it is read again");
});

test("a change while the answer was being read: the answer is used once, not kept", async () => {
  const cache = new AccessCache(() => 1_000_000);
  cache.live(true);
  let calls = 0;
  const load = async (): Promise<TokenAccess> => {
    calls += 1;
    // The store announces a change between the read's snapshot and its answer.
    cache.changed();
    return access(true);
  };
  await cache.read("k", load);
  await cache.read("k", load);
  assert.equal(calls, 2);
  const plain = counter(() => access(true));
  await cache.read("k", plain.load);
  cache.changed();
  await cache.read("k", plain.load);
  assert.equal(plain.calls(), 2, "a change drops what was kept");
});

test("only a grant is kept, and never past its end", async () => {
  let clock = Date.parse("2026-12-07T10:00:00.000Z");
  const cache = new AccessCache(() => clock, { maxAgeMs: 60_000 });
  cache.live(true);
  const refused = counter(() => access(false));
  await cache.read("r", refused.load);
  await cache.read("r", refused.load);
  assert.equal(refused.calls(), 2, "a refusal is read every time");
  const unknown = counter(() => undefined);
  await cache.read("u", unknown.load);
  await cache.read("u", unknown.load);
  assert.equal(unknown.calls(), 2, "an unknown token is read every time");
  const noCluster = counter(() => ({ user: { id: "u1", name: "alice", role: "user" }, access: undefined }));
  await cache.read("n", noCluster.load);
  await cache.read("n", noCluster.load);
  assert.equal(noCluster.calls(), 2, "an unknown cluster is read every time");

  const ending = counter(() => access(true, "2026-12-07T10:00:00.500Z"));
  await cache.read("e", ending.load);
  clock += 499;
  await cache.read("e", ending.load);
  assert.equal(ending.calls(), 1);
  clock += 1;
  await cache.read("e", ending.load);
  assert.equal(ending.calls(), 2, "at the grant's end, read again (60 s of age notwithstanding)");
  const ended = counter(() => access(true, "2026-12-07T10:00:00.000Z"));
  await cache.read("d", ended.load);
  await cache.read("d", ended.load);
  assert.equal(ended.calls(), 2, "a grant ending by the time it is read is not kept");
});

test("a kept answer is frozen: no request can change what the next one gets", async () => {
  const cache = new AccessCache(() => 1_000_000);
  cache.live(true);
  const store = counter(() => access(true));
  const got = await cache.read("k", store.load);
  assert.ok(got?.access !== undefined);
  assert.throws(() => {
    (got.user as { name: string }).name = "mallory";
  }, TypeError);
  assert.throws(() => {
    (got.access as { granted: boolean }).granted = false;
  }, TypeError);
  assert.throws(() => {
    (got.access as { credential: { sealed: string } }).credential.sealed = "x";
  }, TypeError);
});
