/**
 * Online backups of the embedded store: SQLite's backup API copies the database page by page from a
 * read snapshot (WAL: brokers keep writing meanwhile), into a file that is 0600 from its first byte
 * and appears under its name only once complete and synced (a hard link from a temporary name, so an
 * existing file is never replaced).
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, linkSync, openSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigFileError } from "../lib/errors.js";
import { StoreError } from "./errors.js";

/** What a backup holds, read back from the copy (a check that it opens). */
export interface BackupResult {
  /** The copy's path. */
  file: string;
  bytes: number;
  users: number;
  credentials: number;
  clusters: number;
  audit: number;
}

/**
 * Copies the broker database at `source` to `to` (which must not exist), consistent as of one moment
 * while brokers serve, mode 0600, checked with `PRAGMA quick_check` before it takes its name.
 *
 * @example
 * ```ts
 * const r = await backupSqliteStore("/var/lib/kubeiam/broker.db", "/backup/broker-2026-12-07.db");
 * ```
 */
export async function backupSqliteStore(source: string, to: string): Promise<BackupResult> {
  if (!existsSync(source)) throw new ConfigFileError(source, `serve backup: there is no database at ${source}: give the broker's --db`);
  if (existsSync(to)) throw new ConfigFileError(to, `serve backup: ${to} already exists: give a new file name, or remove the old backup first`);
  const folder = dirname(to);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new ConfigFileError(to, `serve backup: the folder ${folder} does not exist: create it, or give --to in an existing folder`);
  const { default: Database } = await import("better-sqlite3");
  let db: InstanceType<typeof Database>;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true, timeout: 10_000 });
  } catch (cause) {
    throw new StoreError(`serve backup: cannot open ${source} as a SQLite database (${(cause as Error).message}): is it the broker's --db?`, { cause });
  }
  const tmp = join(folder, `.${basename(to)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const meta = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'kubeiam_meta'").get() as { n: number };
    if (meta.n !== 1) throw new StoreError(`serve backup: ${source} is a SQLite database but not a kubeiam broker's: check --db`);
    // Created 0600 before SQLite writes a byte; SQLite keeps the mode, and gives its journal the same.
    closeSync(openSync(tmp, "wx", 0o600));
    // Every page in one step, from one read snapshot: a writer in between would restart a stepwise copy.
    await db.backup(tmp, { progress: () => 0x7fffffff });
  } catch (error) {
    db.close();
    try {
      unlinkSync(tmp);
    } catch {
      // not created
    }
    if (error instanceof StoreError) throw error;
    throw new StoreError(`serve backup: the copy to ${to} failed (${(error as Error).message}): check the space and permissions there`, { cause: error });
  }
  db.close();
  try {
    const copy = new Database(tmp, { fileMustExist: true });
    let counts: Omit<BackupResult, "file" | "bytes">;
    try {
      // One self-contained file (no -wal beside it); a broker started on it turns WAL on again.
      copy.pragma("journal_mode = DELETE");
      const check = copy.pragma("quick_check", { simple: true });
      if (check !== "ok") throw new StoreError(`serve backup: the copy failed its integrity check (${String(check)}): the source may be damaged; nothing was kept`);
      const n = (table: string): number => (copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      counts = { users: n("users"), credentials: n("credentials"), clusters: n("clusters"), audit: n("audit") };
    } finally {
      copy.close();
    }
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, to);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "EEXIST") throw new ConfigFileError(to, `serve backup: ${to} appeared while the copy was made: give a new file name`, { cause });
      throw cause;
    }
    const dirFd = openSync(folder, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return { file: to, bytes: statSync(to).size, ...counts };
  } finally {
    for (const f of [tmp, `${tmp}-journal`, `${tmp}-wal`, `${tmp}-shm`]) {
      try {
        unlinkSync(f);
      } catch {
        // not there
      }
    }
  }
}
