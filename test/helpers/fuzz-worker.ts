/**
 * The worker side of fuzzInWorker (test/helpers/fuzz.ts): imports the property module, runs each
 * property with fast-check under its time limit, posts one report a property, and lets the module
 * clean up (its exported `cleanup`, if any). Run on its own (the test runner runs every file of
 * the folder), it does nothing.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import fc from "fast-check";
import type { FuzzReport, FuzzRun } from "./fuzz.js";

async function main(data: { moduleUrl: string; runs: FuzzRun[] }): Promise<void> {
  const mod = (await import(data.moduleUrl)) as Record<string, unknown>;
  try {
    for (const run of data.runs) {
      const make = mod[run.name];
      if (typeof make !== "function") throw new Error(`${data.moduleUrl} exports no property ${run.name}`);
      const property = (make as () => fc.IRawProperty<unknown>)();
      const started = performance.now();
      const seeded = { ...(run.seed === undefined ? {} : { seed: run.seed }), ...(run.path === undefined ? {} : { path: run.path }) };
      // The first minRuns runs whatever the time (a loaded machine still fuzzes that much; a hang
      // is the harness's to catch), then up to numRuns within the time limit.
      const floor = Math.min(run.minRuns ?? 0, run.numRuns);
      const first = await fc.check(property, { numRuns: floor, ...seeded });
      const rest =
        first.failed || floor === run.numRuns
          ? undefined
          : await fc.check(property, { numRuns: run.numRuns - floor, plugins: [fc.interruptAfterTimeLimit(run.timeLimitMs)], ...seeded });
      const failedRun = first.failed ? first : rest?.failed ? rest : undefined;
      const report: FuzzReport = {
        name: run.name,
        failed: failedRun !== undefined,
        numRuns: first.numRuns + (rest?.numRuns ?? 0),
        interrupted: rest?.interrupted ?? false,
        ms: Math.round(performance.now() - started),
      };
      if (failedRun !== undefined) report.message = fc.defaultReportMessage(failedRun) ?? "the property failed";
      parentPort?.postMessage(report);
    }
  } finally {
    if (typeof mod.cleanup === "function") (mod.cleanup as () => void)();
  }
}

const data = workerData as { moduleUrl?: string; runs?: FuzzRun[] } | null;
if (!isMainThread && typeof data?.moduleUrl === "string" && Array.isArray(data.runs)) {
  await main({ moduleUrl: data.moduleUrl, runs: data.runs });
}
