/**
 * The assertion of every fuzz test: each property ran without failing, and ran enough.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { fuzzInWorker, type FuzzRun } from "./fuzz.js";

/**
 * Runs every property does whatever the time (or all of them, when fewer were asked); the time
 * limit applies only past these, so a loaded machine fuzzes less but never too little.
 */
export const MIN_FUZZ_RUNS = 300;

/**
 * Runs the properties in a worker (see fuzzInWorker), notes each one's runs and time as a test
 * diagnostic, and fails with fast-check's report (input, seed, path to replay) on the first failure.
 *
 * @example
 * ```ts
 * await assertFuzz(t, new URL("./props/kubeconfig.js", import.meta.url), [{ name: "parseNeverThrowsUntyped", numRuns: 3000, timeLimitMs: 2000 }]);
 * ```
 */
export async function assertFuzz(t: TestContext, moduleUrl: URL, runs: FuzzRun[]): Promise<void> {
  const reports = await fuzzInWorker(moduleUrl, runs.map((r) => ({ minRuns: MIN_FUZZ_RUNS, ...r })));
  for (const r of reports) t.diagnostic(`${r.name}: ${r.numRuns} runs in ${r.ms} ms${r.interrupted ? " (stopped by its time limit)" : ""}`);
  for (const r of reports) {
    assert.equal(r.failed, false, r.message);
    const asked = runs.find((x) => x.name === r.name)?.numRuns ?? 0;
    assert.ok(r.numRuns >= Math.min(asked, MIN_FUZZ_RUNS), `${r.name}: only ${r.numRuns} runs`);
  }
}
