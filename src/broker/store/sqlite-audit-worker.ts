/**
 * The embedded store's audit commits, off the main thread. better-sqlite3 is synchronous, so a
 * durable commit (WAL, synchronous=FULL: an fsync) made on the main thread stops every request for
 * its length, and no other rows can join the group commit meanwhile. Here a worker thread holds its
 * own connection and commits each batch with the store's own query (`BrokerStore.insertAudit`); the
 * main thread keeps serving while the disk syncs, so the next batch carries every row that came in.
 * A row's promise resolves only after its batch is committed, as before.
 *
 * This file is both sides: {@link startSqliteAuditWorker} on the main thread, and the worker's body
 * when loaded by `new Worker`.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { StoreError } from "../errors.js";
import type { AuditRecord } from "./store.js";

/** Commits rows durably; resolves once they are on disk. */
export interface AuditSink {
  (rows: AuditRecord[]): Promise<void>;
  /** Removes old audit rows on the worker's connection (see audit-store.ts `pruneAudit`); resolves with the count. */
  prune(before: string, limit: number): Promise<number>;
  /** Waits for pending commits, then stops the worker. */
  close(): Promise<void>;
}

type Request = { id: number; rows: AuditRecord[] } | { id: number; prune: { before: string; limit: number } };
interface Reply {
  id: number;
  error?: string;
  /** Rows pruned, for a prune request. */
  count?: number;
}

/**
 * Starts the worker for the SQLite file at `path` (already created and migrated, or about to be:
 * the worker opens the file on start and touches the audit table only when rows come).
 *
 * @example
 * ```ts
 * const sink = startSqliteAuditWorker("/home/ann/.kubeiam/broker.db");
 * await sink(rows);
 * await sink.close();
 * ```
 */
export function startSqliteAuditWorker(path: string): AuditSink {
  const worker = new Worker(new URL(import.meta.url), { workerData: { path } });
  // Only pending commits keep the process alive, not an idle worker.
  worker.unref();
  const pending = new Map<number, { resolve: (count: number) => void; reject: (e: unknown) => void }>();
  let next = 0;
  let dead: Error | undefined;
  const failAll = (error: Error): void => {
    dead ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on("message", (reply: Reply) => {
    const p = pending.get(reply.id);
    if (p === undefined) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.error === undefined) p.resolve(reply.count ?? 0);
    else p.reject(new StoreError(`the audit commit failed: ${reply.error}`));
  });
  worker.on("error", (e) => failAll(new StoreError(`the audit writer stopped: ${e.message}`, { cause: e })));
  worker.on("exit", (code) => failAll(new StoreError(`the audit writer exited (${code})`)));
  const send = (body: { rows: AuditRecord[] } | { prune: { before: string; limit: number } }): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      if (dead !== undefined) return reject(dead);
      const id = ++next;
      pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, ...body } satisfies Request);
    });
  const sink = (async (rows: AuditRecord[]) => {
    await send({ rows });
  }) as AuditSink;
  sink.prune = (before, limit) => send({ prune: { before, limit } });
  sink.close = async () => {
    while (pending.size > 0 && dead === undefined) await new Promise((r) => setTimeout(r, 5));
    if (dead === undefined) {
      dead = new StoreError("the audit writer is closed");
      await worker.terminate();
    }
  };
  return sink;
}

/** The worker's body: one connection, one commit per message, an answer per commit. */
async function serveAuditCommits(path: string): Promise<void> {
  const { default: Database } = await import("better-sqlite3");
  const { Kysely, SqliteDialect } = await import("kysely");
  const { BrokerStore } = await import("./store.js");
  const { cachingStatements } = await import("./sqlite-statements.js");
  const sqlite = new Database(path, { timeout: 10_000 });
  sqlite.pragma("journal_mode = WAL");
  // The same durability as the main connection: on disk before the answer.
  sqlite.pragma("synchronous = FULL");
  // Prepared once per row count: batch sizes repeat, and preparing a multi-row insert costs more than running it.
  const store = new BrokerStore(new Kysely({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) }), "sqlite");
  parentPort?.on("message", (req: Request) => {
    ("rows" in req ? store.insertAudit(req.rows).then(() => undefined) : store.pruneAudit(req.prune.before, req.prune.limit)).then(
      (count) => parentPort?.postMessage({ id: req.id, ...(count === undefined ? {} : { count }) } satisfies Reply),
      (e: unknown) => parentPort?.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) } satisfies Reply),
    );
  });
}

if (!isMainThread && parentPort !== null && typeof (workerData as { path?: unknown } | null)?.path === "string") {
  await serveAuditCommits((workerData as { path: string }).path);
}
