/**
 * Audit retention (issue 23): the duration flag's forms and refusals; a pass runs in batches until
 * one comes back short and stops between batches when asked; a broker started with a retention
 * removes old rows by itself while the trail keeps verifying and new rows keep coming.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditPruner, parseRetention, PRUNE_BATCH } from "../../src/broker/audit-retention.js";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { call } from "./helpers.js";

test("retention durations: s, m, h, d; anything else refused with the fix", () => {
  assert.equal(parseRetention("45s"), 45_000);
  assert.equal(parseRetention("30m"), 1_800_000);
  assert.equal(parseRetention("12h"), 43_200_000);
  assert.equal(parseRetention("90d"), 7_776_000_000);
  for (const bad of ["", "90", "1w", "-1d", "1.5h", "d"]) {
    assert.throws(() => parseRetention(bad), /^UsageError: serve: --audit-retention .* is not a duration: write whole numbers with s, m, h or d, for example 90d/);
  }
  assert.throws(() => parseRetention("0d"), /^UsageError: serve: --audit-retention 0d is no time at all: give a length, for example 90d$/);
});

test("a pass cuts before now minus the retention, batch after batch until one is short", async () => {
  const calls: [string, number][] = [];
  const left = [PRUNE_BATCH, PRUNE_BATCH, 17];
  const retired: string[] = [];
  const pruner = new AuditPruner(
    { pruneAudit: async (before, limit) => (calls.push([before, limit]), left.shift() ?? 0), pruneRetiredTokens: async (before) => (retired.push(before), 0) },
    { retentionMs: 3_600_000, now: () => Date.UTC(2026, 0, 1, 12), pauseMs: 0 },
  );
  assert.equal(await pruner.runOnce(), 2 * PRUNE_BATCH + 17);
  assert.deepEqual(calls, Array(3).fill(["2026-01-01T11:00:00.000Z", PRUNE_BATCH]));
  assert.deepEqual(retired, ["2026-01-01T11:00:00.000Z"], "retired tokens are cut at the same time, once a pass");
});

test("stop ends a pass after its current batch", async () => {
  let calls = 0;
  let pruner: AuditPruner | undefined;
  pruner = new AuditPruner(
    {
      pruneAudit: async () => {
        calls += 1;
        if (calls === 2) void pruner?.stop();
        return PRUNE_BATCH;
      },
      pruneRetiredTokens: async () => 0,
    },
    { retentionMs: 1000, now: Date.now, pauseMs: 0 },
  );
  await pruner.runOnce();
  assert.equal(calls, 2);
});

let dir: string;
let broker: RunningBroker | undefined;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-retention-"));
});
after(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a broker with --audit-retention 1h removes rows older than an hour by itself; the rest verifies and new rows follow", async () => {
  let clock = Date.UTC(2026, 0, 1, 0, 0, 0);
  broker = await startBroker({
    db: `sqlite:${join(dir, "b.db")}`,
    listen: "127.0.0.1:0",
    masterKey: randomBytes(32).toString("base64"),
    home: dir,
    cwd: dir,
    logStream: false,
    now: () => clock,
    auditRetentionMs: 3_600_000,
    auditPruneIntervalMs: 50,
  });
  const admin = broker.adminToken ?? "";
  // Old rows: refused authentications, audited at the broker's clock.
  for (let i = 0; i < 5; i++) assert.equal((await call(broker.url, "GET", "/v1/clusters", { token: `kbi_${"A".repeat(43)}` })).status, 401);
  const all = async () => (await call(broker?.url ?? "", "GET", "/v1/audit?after=0&limit=1000", { token: admin })).json.entries as { id: number; time: string }[];
  assert.equal((await all()).length, 5);
  clock += 2 * 3_600_000;
  for (let i = 0; i < 3; i++) assert.equal((await call(broker.url, "GET", "/v1/clusters", { token: `kbi_${"B".repeat(43)}` })).status, 401);
  let kept: { id: number; time: string }[] = [];
  for (const started = Date.now(); Date.now() - started < 10_000; await new Promise((r) => setTimeout(r, 50))) {
    kept = await all();
    if (kept.length === 3) break;
  }
  assert.equal(kept.length, 3, "the five old rows went");
  assert.ok(kept.every((e) => e.time >= "2026-01-01T02:00:00.000Z"));
  const v = await call(broker.url, "GET", "/v1/audit/verify", { token: admin });
  assert.deepEqual(v.json, { ok: true, entries: 3 });
  await call(broker.url, "GET", "/v1/clusters", { token: `kbi_${"C".repeat(43)}` });
  assert.deepEqual((await call(broker.url, "GET", "/v1/audit/verify", { token: admin })).json, { ok: true, entries: 4 });
});
