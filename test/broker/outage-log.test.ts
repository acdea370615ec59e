/** A store outage in the log (src/broker/outage-log.ts): a line when it starts, one per half minute, one when it ends. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FastifyBaseLogger } from "fastify";
import { StoreOutageLog } from "../../src/broker/outage-log.js";

test("a store outage logs once when it starts, every 30 s with the count refused meanwhile, and once when the store answers again", () => {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => lines.push({ level, obj, msg });
  const log = { error: at("error"), warn: at("warn"), info: at("info") } as unknown as FastifyBaseLogger;
  let clock = 1_000_000;
  const outage = new StoreOutageLog(log, () => clock);
  const cause = Object.assign(new Error("terminating connection due to administrator command"), { name: "DatabaseError" });

  outage.answered();
  assert.equal(lines.length, 0, "no outage, nothing to say");
  for (let i = 0; i < 500; i++) {
    outage.refused(cause);
    clock += 50;
  }
  // 500 refusals over 25 s: one line.
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [["error", "the store does not answer: every request that needs it gets 503 store_unavailable until it does"]]);
  assert.deepEqual(lines[0]?.obj, { err: { type: "DatabaseError", message: "terminating connection due to administrator command" } });
  clock += 5_000;
  outage.refused(cause);
  assert.equal(lines.length, 2);
  assert.equal(lines[1]?.msg, "the store still does not answer");
  assert.deepEqual({ refused: lines[1]?.obj.refused, outageSeconds: lines[1]?.obj.outageSeconds }, { refused: 500, outageSeconds: 30 });
  outage.refused(cause);
  assert.equal(lines.length, 2, "the next report waits another 30 s");
  clock += 2_000;
  outage.answered();
  outage.answered();
  assert.equal(lines.length, 3, "the end is said once");
  assert.deepEqual([lines[2]?.level, lines[2]?.msg, lines[2]?.obj], ["warn", "the store answers again", { refused: 502, outageSeconds: 32 }]);
  // A new outage starts a new story.
  outage.refused(cause);
  assert.equal(lines.length, 4);
  assert.equal(lines[3]?.level, "error");
});
