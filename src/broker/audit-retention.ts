/**
 * Audit retention (`serve --audit-retention DURATION`): rows older than the retention are removed in
 * small batches on a timer, off the request path, each batch its own short transaction that keeps the
 * trail verifiable across the cut (see store/audit-store.ts `pruneAudit`). Tokens retired before the
 * cut are forgotten with them: whose a token was is kept as long as the rows it explains.
 */
import { durationFlag } from "../lib/duration.js";

/** Rows removed per transaction: short enough that appends hardly wait for one. */
export const PRUNE_BATCH = 500;

/**
 * Parses a retention such as `90d`, `12h`, `30m` or `45s` (lib/duration.ts) into milliseconds; zero refused.
 *
 * @example
 * ```ts
 * parseRetention("90d"); // 7776000000
 * ```
 */
export function parseRetention(text: string, flag = "--audit-retention"): number {
  return durationFlag("serve", flag.replace(/^--/, ""), text, "90d");
}

/** What the pruner needs of the store. */
export interface PrunableStore {
  pruneAudit(before: string, limit: number): Promise<number>;
  pruneRetiredTokens(before: string): Promise<number>;
}

/** Options of {@link AuditPruner}. */
export interface AuditPrunerOptions {
  retentionMs: number;
  /** How often a pass runs; a minute, or half the retention when that is shorter (at least a second). */
  intervalMs?: number;
  /** The pause between two batches of one pass, so appends and requests go first. */
  pauseMs?: number;
  now: () => number;
  /** Told about a failed pass (the next pass tries again). */
  onError?: (error: unknown) => void;
  /** Told how many rows a pass removed, when it removed any. */
  onPruned?: (rows: number) => void;
}

/**
 * Runs retention passes on a timer until stopped.
 *
 * @example
 * ```ts
 * const pruner = new AuditPruner(store, { retentionMs: parseRetention("90d"), now: Date.now });
 * pruner.start();
 * await pruner.stop();
 * ```
 */
export class AuditPruner {
  readonly #store: PrunableStore;
  readonly #options: AuditPrunerOptions;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  #stopped = false;

  constructor(store: PrunableStore, options: AuditPrunerOptions) {
    this.#store = store;
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? Math.max(1_000, Math.min(60_000, Math.floor(options.retentionMs / 2)));
  }

  /** Schedules passes: the first soon after start, then every interval. */
  start(): void {
    this.#schedule(Math.min(this.#intervalMs, 1_000));
  }

  /** One pass now: batches until one comes back short, then the retired tokens. Resolves with the audit rows removed. */
  async runOnce(): Promise<number> {
    const cutoff = new Date(this.#options.now() - this.#options.retentionMs).toISOString();
    let total = 0;
    while (!this.#stopped) {
      const n = await this.#store.pruneAudit(cutoff, PRUNE_BATCH);
      total += n;
      if (n < PRUNE_BATCH) break;
      await new Promise((r) => setTimeout(r, this.#options.pauseMs ?? 20));
    }
    if (!this.#stopped) await this.#store.pruneRetiredTokens(cutoff);
    return total;
  }

  /** Stops scheduling and waits for a pass in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#pass;
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#pass = this.runOnce().then(
        (n) => {
          if (n > 0) this.#options.onPruned?.(n);
        },
        (error: unknown) => this.#options.onError?.(error),
      );
      void this.#pass.finally(() => this.#schedule(this.#intervalMs));
    }, delay);
    // Only requests keep a broker alive, not its housekeeping.
    this.#timer.unref();
  }
}
