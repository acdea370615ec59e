/**
 * The audit writer's group commit: rows of concurrent requests share commits, each request waits for
 * its own, a failed commit fails only the requests whose rows it carried.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AuditWriter } from "../../src/broker/audit.js";
import type { AuditRecord } from "../../src/broker/store/store.js";

const row = (i: number): AuditRecord => ({ time: new Date(0).toISOString(), actor: `u${i}`, action: "token.issue", outcome: "issued", instance: "t" });

test("100 rows recorded at once: fewer commits than rows, every row written once, each promise resolved after its commit", async () => {
  const commits: AuditRecord[][] = [];
  const committed = new Set<string>();
  const writer = new AuditWriter(async (rows) => {
    await new Promise((r) => setTimeout(r, 5));
    commits.push(rows);
    for (const r of rows) committed.add(r.actor);
  });
  await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      await writer.record(row(i));
      assert.ok(committed.has(`u${i}`), "resolved only once its row was committed");
    }),
  );
  assert.ok(commits.length < 100 && commits.length >= 1, `${commits.length} commits`);
  assert.deepEqual(commits.flat().map((r) => r.actor).sort(), Array.from({ length: 100 }, (_, i) => `u${i}`).sort());
});

test("rows that arrive while a commit is in flight go together into the next one", async () => {
  const sizes: number[] = [];
  let release: () => void = () => undefined;
  const writer = new AuditWriter(async (rows) => {
    sizes.push(rows.length);
    if (sizes.length === 1) await new Promise<void>((r) => (release = r));
  });
  const first = writer.record(row(0));
  await new Promise((r) => setImmediate(r));
  const rest = Array.from({ length: 10 }, (_, i) => writer.record(row(i + 1)));
  release();
  await Promise.all([first, ...rest]);
  assert.deepEqual(sizes, [1, 10]);
});

test("a failed commit rejects the requests whose rows it carried, and the next commit works", async () => {
  let fail = true;
  const writer = new AuditWriter(async () => {
    if (fail) throw new Error("disk full");
  });
  const results = await Promise.allSettled([writer.record(row(1)), writer.record(row(2))]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  fail = false;
  await writer.record(row(3));
  await writer.flush();
});
