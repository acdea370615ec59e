/**
 * Runs fast-check properties in a worker thread, bounded twice: fast-check starts no new run of a
 * property after its `timeLimitMs`, and a worker that has not answered after `hangMs` (one input
 * stuck in a loop, which fast-check cannot interrupt) is stopped and reported as a hang.
 */
import { Worker } from "node:worker_threads";

/** One property to run: the name of a function that the module exports and that returns a fast-check property. */
export interface FuzzRun {
  name: string;
  numRuns: number;
  /** Runs done whatever the time, before the time limit applies (0 by default). */
  minRuns?: number;
  /** After `minRuns`, fast-check starts no new run after this many milliseconds. */
  timeLimitMs: number;
  /** Replays a reported failure: `seed` and `path` from its message. */
  seed?: number;
  path?: string;
}

/** What a fuzz run did. */
export interface FuzzReport {
  name: string;
  /** The property failed (its report says with which input and seed), or the worker hung or died. */
  failed: boolean;
  /** Runs done: `numRuns` unless stopped by the time limit or a failure. */
  numRuns: number;
  interrupted: boolean;
  /** Wall time of the runs, in milliseconds (for the test's diagnostic line only). */
  ms: number;
  /** fast-check's report (counterexample, seed, path to replay), or why the worker failed. */
  message?: string;
}

/**
 * Runs the properties that `moduleUrl` exports, one after the other in one worker, and resolves to
 * their reports; never rejects, never waits past `hangMs` (60 s by default).
 *
 * @example
 * ```ts
 * const [r] = await fuzzInWorker(new URL("./props/ncp-token.js", import.meta.url), [{ name: "decodeNeverThrowsUntyped", numRuns: 4000, timeLimitMs: 2000 }]);
 * assert.equal(r?.failed, false, r?.message);
 * ```
 */
export function fuzzInWorker(moduleUrl: URL, runs: FuzzRun[], hangMs = 60_000): Promise<FuzzReport[]> {
  const worker = new Worker(new URL("./fuzz-worker.js", import.meta.url), { workerData: { moduleUrl: moduleUrl.href, runs } });
  const reports: FuzzReport[] = [];
  return new Promise<FuzzReport[]>((resolve) => {
    let done = false;
    const finish = (why?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      // A property that never reported failed with the worker.
      for (const run of runs.slice(reports.length)) {
        reports.push({ name: run.name, failed: true, numRuns: 0, interrupted: false, ms: 0, message: `${run.name}: ${why ?? "no report"}` });
      }
      resolve(reports);
    };
    const timer = setTimeout(() => finish(`no answer within ${hangMs} ms: an input hangs the code under test`), hangMs);
    worker.on("message", (report: FuzzReport) => void reports.push(report));
    worker.once("error", (e) => finish(`the worker failed: ${e.stack ?? e.message}`));
    // Done when the worker ends by itself, after its last report and its module's cleanup.
    worker.once("exit", (code) => finish(code === 0 ? undefined : `the worker exited (${code}) before reporting`));
  });
}
