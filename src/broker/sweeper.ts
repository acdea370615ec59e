/**
 * The broker's housekeeping, off the request path: a timer removes sign-in sessions past their end
 * and device sign-ins long expired (neither is ever accepted; this only keeps the tables small).
 */

/** What one pass sweeps: each returns how many rows it removed. */
export interface SweepTargets {
  sessions(): Promise<number>;
  loginRequests(): Promise<number>;
}

/** Options of {@link Sweeper}. */
export interface SweeperOptions {
  /** How often a pass runs; a minute by default. */
  intervalMs?: number;
  /** Told what a pass removed, when it removed anything. */
  onSwept?: (removed: { sessions: number; loginRequests: number }) => void;
  /** Told when a pass failed (the store away, say); the next pass tries again. */
  onError?: (error: unknown) => void;
}

/**
 * Runs sweep passes on an unref'd timer until stopped; a pass never overlaps the next.
 *
 * @example
 * ```ts
 * const sweeper = new Sweeper({ sessions: () => ctx.sessions.sweep(), loginRequests: () => requests.sweep() });
 * sweeper.start();
 * await sweeper.stop();
 * ```
 */
export class Sweeper {
  readonly #targets: SweepTargets;
  readonly #options: SweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(targets: SweepTargets, options: SweeperOptions = {}) {
    this.#targets = targets;
    this.#options = options;
  }

  /** One pass: both tables, the failure of one not stopping the other. */
  async sweepOnce(): Promise<{ sessions: number; loginRequests: number }> {
    const [sessions, loginRequests] = await Promise.allSettled([this.#targets.sessions(), this.#targets.loginRequests()]);
    for (const r of [sessions, loginRequests]) if (r.status === "rejected") this.#options.onError?.(r.reason);
    const removed = { sessions: sessions.status === "fulfilled" ? sessions.value : 0, loginRequests: loginRequests.status === "fulfilled" ? loginRequests.value : 0 };
    if (removed.sessions + removed.loginRequests > 0) this.#options.onSwept?.(removed);
    return removed;
  }

  /** Starts the timer (the first pass after one interval). */
  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops the timer and waits for a pass under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.sweepOnce().then(
        () => undefined,
        (error: unknown) => this.#options.onError?.(error),
      ).finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, this.#options.intervalMs ?? 60_000);
    this.#timer.unref();
  }
}
