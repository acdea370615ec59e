/**
 * The clouds' recent answers behind /spider (src/broker/routes/spider.ts RecentLookups): a polled
 * cluster is one cloud call per 15 s, not one per request; lookups in flight are shared; a failure is
 * not kept.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterInfo } from "../../src/cluster-info.js";
import { RecentLookups } from "../../src/broker/routes/spider.js";

test("an answer serves for 15 s, lookups in flight are shared, a failure is asked again, keys are apart", async () => {
  let clock = 1_000_000;
  const recent = new RecentLookups(() => clock);
  let calls = 0;
  let fail = false;
  const lookup = async (): Promise<ClusterInfo> => {
    calls += 1;
    await new Promise((r) => setImmediate(r));
    if (fail) throw new Error("the cloud said no");
    return { id: `answer-${calls}` } as unknown as ClusterInfo;
  };
  const [a, b] = await Promise.all([recent.get("c1|k", lookup), recent.get("c1|k", lookup)]);
  assert.equal(calls, 1, "two requests at once: one cloud call");
  assert.equal(a, b);
  clock += 14_999;
  assert.equal((await recent.get("c1|k", lookup)).id, "answer-1");
  assert.equal(calls, 1);
  assert.equal((await recent.get("c2|k", lookup)).id, "answer-2", "another cluster (or credential) is asked apart");
  clock += 1;
  assert.equal((await recent.get("c1|k", lookup)).id, "answer-3", "15 s on, the cloud is asked again");

  clock += 20_000;
  fail = true;
  await assert.rejects(recent.get("c1|k", lookup), /the cloud said no/);
  fail = false;
  assert.equal((await recent.get("c1|k", lookup)).id, "answer-5", "a failure is not kept");
  assert.equal(calls, 5);
});
