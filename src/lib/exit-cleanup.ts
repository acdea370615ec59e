/**
 * Cleanups that must run however the process ends (normal exit, `process.exit`, or the CLI's forced
 * end on SIGINT/SIGTERM): removing a lock file or a half-written temporary file. They are synchronous
 * because nothing asynchronous runs once the process is ending.
 */

const pending = new Set<() => void>();
let hooked = false;

/**
 * Registers a synchronous cleanup to run if the process ends before the returned function is
 * called; call that function once the resource is released the ordinary way.
 *
 * @example
 * ```ts
 * const forget = onAbruptExit(() => rmSync(lockPath, { force: true }));
 * try { await work(); } finally { await rm(lockPath, { force: true }); forget(); }
 * ```
 */
export function onAbruptExit(cleanup: () => void): () => void {
  pending.add(cleanup);
  if (!hooked) {
    hooked = true;
    process.once("exit", runExitCleanups);
  }
  return () => void pending.delete(cleanup);
}

/**
 * Runs every registered cleanup now, once each, ignoring their failures (the process is ending and
 * has nowhere to report them). The CLI calls it before it ends itself on a signal.
 *
 * @example
 * ```ts
 * process.on("SIGTERM", () => { runExitCleanups(); process.kill(process.pid, "SIGTERM"); });
 * ```
 */
export function runExitCleanups(): void {
  for (const cleanup of [...pending]) {
    pending.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort: the process is ending.
    }
  }
}
