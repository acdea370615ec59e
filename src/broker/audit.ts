/**
 * The audit writer: every request awaits the commit of its own row, and rows of concurrent requests
 * share one transaction (group commit), so durability costs one commit per burst, not per request.
 */
import type { AuditRecord } from "./store/store.js";

interface Pending {
  row: AuditRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The most rows one commit carries (SQLite's bound-parameter limit stays far away). */
const MAX_BATCH = 500;

/**
 * Batches audit rows into commits. `record` resolves once the row is committed, rejects when the
 * commit failed (the caller then answers without a token).
 *
 * @example
 * ```ts
 * const audit = new AuditWriter((rows) => store.insertAudit(rows));
 * await audit.record({ time, actor: "alice", action: "token.issue", cluster: "prod", outcome: "issued", instance });
 * ```
 */
export class AuditWriter {
  readonly #write: (rows: AuditRecord[]) => Promise<void>;
  readonly #onCommit: ((rows: number, seconds: number) => void) | undefined;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;

  constructor(write: (rows: AuditRecord[]) => Promise<void>, onCommit?: (rows: number, seconds: number) => void) {
    this.#write = write;
    this.#onCommit = onCommit;
  }

  /** Queues a row and resolves when it is committed. */
  record(row: AuditRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ row, resolve, reject });
      // Start at the end of this tick so rows queued in the same tick share the first commit too.
      this.#running ??= new Promise<void>((r) => queueMicrotask(r)).then(() => this.#drain());
    });
  }

  /** Resolves when every row queued so far is committed (or has failed). */
  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        const started = performance.now();
        try {
          await this.#write(batch.map((p) => p.row));
          this.#onCommit?.(batch.length, (performance.now() - started) / 1000);
          for (const p of batch) p.resolve();
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.#running = undefined;
    }
  }
}
