/**
 * Opens the broker's store from a `--db` URL: `sqlite:PATH` (the embedded store, WAL, folder 0700 and
 * file 0600) or `postgres://…` (a pool). Both come back as one Kysely instance over {@link BrokerDatabase}.
 */
import { createHash } from "node:crypto";
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import { KubeiamError, UsageError } from "../../lib/errors.js";
import { StoreError } from "../errors.js";
import type { AccessChangeFeed } from "../access-cache.js";
import { PostgresAccessFeed } from "./access-feed.js";
import { AUDIT_INSERT_POSTGRES, type SnapshotReader } from "./audit-store.js";
import type { BrokerDatabase } from "./schema.js";
import { startSqliteAuditWorker, type AuditSink } from "./sqlite-audit-worker.js";
import { cachingStatements } from "./sqlite-statements.js";

/** The SQL dialect of a store. */
export type StoreDialect = "sqlite" | "postgres";

/** A parsed `--db` value. */
export type StoreLocation =
  | { dialect: "sqlite"; path: string; display: string }
  | { dialect: "postgres"; url: string; display: string };

/** An open store: the query builder and how to close it. */
export interface OpenStore {
  db: Kysely<BrokerDatabase>;
  dialect: StoreDialect;
  /** The location without any password, for the ready line and logs. */
  display: string;
  /** The embedded store's off-thread audit committer (see sqlite-audit-worker.ts); PostgreSQL needs none. */
  auditSink?: AuditSink;
  /** Reads in one consistent snapshot, beside the connections that serve requests. */
  snapshot: SnapshotReader;
  /** PostgreSQL's announcements of access changes (access-feed.ts); the embedded store has none. */
  accessFeed?: AccessChangeFeed;
  close(): Promise<void>;
}

/**
 * Parses a `--db` value. `~` at the start of a SQLite path is the home folder; relative paths are
 * resolved against `cwd`. A PostgreSQL URL's password never reaches `display`.
 *
 * @example
 * ```ts
 * parseStoreLocation("sqlite:~/.kubeiam/broker.db", { home: "/home/ann", cwd: "/" }).display; // "sqlite:/home/ann/.kubeiam/broker.db"
 * ```
 */
export function parseStoreLocation(value: string, where: { home: string; cwd: string }): StoreLocation {
  if (value.startsWith("sqlite:")) {
    let path = value.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "") throw new UsageError("--db sqlite: needs a file path, for example sqlite:~/.kubeiam/broker.db");
    if (path === "~" || path.startsWith("~/")) path = join(where.home, path.slice(1));
    path = isAbsolute(path) ? path : resolve(where.cwd, path);
    return { dialect: "sqlite", path, display: `sqlite:${path}` };
  }
  if (value.startsWith("postgres://") || value.startsWith("postgresql://")) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UsageError("--db is not a valid PostgreSQL URL: write postgres://user:password@host:5432/database");
    }
    if (url.hostname === "") throw new UsageError("--db names no PostgreSQL host: write postgres://user:password@host:5432/database");
    const shown = new URL(value);
    shown.password = "";
    return { dialect: "postgres", url: value, display: shown.toString() };
  }
  throw new UsageError(`--db ${JSON.stringify(value.slice(0, 40).replace(/:[^:@/]*@/, ":***@"))} is neither sqlite:PATH nor postgres://…: give one of those`);
}

/**
 * Opens a store (creating the SQLite file and its folder when missing). Nothing is migrated yet.
 *
 * @example
 * ```ts
 * const store = await openStore(parseStoreLocation("sqlite:/tmp/b.db", { home, cwd }));
 * ```
 */
export async function openStore(location: StoreLocation, options: { poolSize?: number } = {}): Promise<OpenStore> {
  if (location.dialect === "sqlite") return openSqlite(location.path, location.display);
  return openPostgres(location.url, location.display, options.poolSize ?? 10);
}

async function openSqlite(path: string, display: string): Promise<OpenStore> {
  const { default: Database } = await import("better-sqlite3");
  const folder = dirname(path);
  try {
    makeFoldersSync(folder, 0o700);
    // Create the file ourselves so it is 0600 from its first byte; SQLite gives its WAL the same mode.
    closeSync(openSync(path, "a", 0o600));
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } catch (cause) {
    throw new StoreError(`cannot create the database file ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"}): pick a writable place with --db sqlite:PATH`, { cause });
  }
  let sqlite: InstanceType<typeof Database>;
  try {
    sqlite = new Database(path, { timeout: 10_000 });
    sqlite.pragma("journal_mode = WAL");
    // FULL: a commit is on disk before the answer leaves, even across a power cut.
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("foreign_keys = ON");
  } catch (cause) {
    throw storeProblem(cause, display);
  }
  const db = new Kysely<BrokerDatabase>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  const auditSink = startSqliteAuditWorker(path);
  // Its own read-only connection in a read transaction: WAL keeps its snapshot while others write,
  // and the main connection (one for every request) is not held for the length of the read.
  const snapshot: SnapshotReader = async (read) => {
    const reader = new Database(path, { readonly: true, timeout: 10_000 });
    const rdb = new Kysely<BrokerDatabase>({ dialect: new SqliteDialect({ database: reader }) });
    try {
      await sql.raw("BEGIN").execute(rdb);
      try {
        return await read(rdb);
      } finally {
        await sql.raw("COMMIT").execute(rdb).catch(() => undefined);
      }
    } finally {
      await rdb.destroy();
    }
  };
  return {
    db,
    dialect: "sqlite",
    display,
    auditSink,
    snapshot,
    close: async () => {
      await auditSink.close();
      await db.destroy();
    },
  };
}

/**
 * Creates `folder` and its missing parents, one at a time, with `mode`. Node's recursive mkdir
 * retries forever where the kernel answers ENOENT for a parent that exists (under /proc), blocking
 * the process and its signals; this one stops at the first refusal and throws it.
 *
 * @example
 * ```ts
 * makeFoldersSync("/home/ann/.kubeiam", 0o700);
 * ```
 */
export function makeFoldersSync(folder: string, mode: number): void {
  const missing: string[] = [];
  let at = resolve(folder);
  for (;;) {
    let isFolder: boolean;
    try {
      isFolder = statSync(at).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      missing.push(at);
      const parent = dirname(at);
      if (parent === at) break;
      at = parent;
      continue;
    }
    if (!isFolder) throw Object.assign(new Error(`${at} is not a folder`), { code: "ENOTDIR", path: at });
    break;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/**
 * A driver error met while preparing the store, as one line that says what to do: a damaged SQLite
 * file, a full disk, a read-only one. Our own errors pass unchanged.
 *
 * @example
 * ```ts
 * await migrateStore(db, options).catch((e: unknown) => { throw storeProblem(e, store.display); });
 * ```
 */
export function storeProblem(error: unknown, display: string): unknown {
  if (error instanceof KubeiamError) return error;
  const code = String((error as { code?: unknown }).code ?? "");
  const said = (error as Error).message?.split("\n")[0] ?? "";
  if (code === "SQLITE_NOTADB") return new StoreError(`${display} is not a SQLite database (${said}): is it another kind of file? Give another path`, { cause: error });
  if (code === "SQLITE_CORRUPT") {
    return new StoreError(`the database ${display} is damaged (${said}): restore it from a backup, or start on a new file`, { cause: error });
  }
  if (code === "SQLITE_FULL") return new StoreError(`the disk holding ${display} is full: free some space and start again`, { cause: error });
  if (code === "SQLITE_READONLY" || code === "SQLITE_CANTOPEN" || code.startsWith("SQLITE_IOERR")) {
    return new StoreError(`cannot write the database ${display} (${code}): check the file, its folder and their permissions`, { cause: error });
  }
  return new StoreError(`the database ${display} failed while being prepared (${code === "" ? said : `${code}: ${said}`}): check it, and start again`, { cause: error });
}

/** The part of a pg client that Kysely's driver calls. */
interface PgClientLike {
  query(text: unknown, values?: unknown[]): Promise<unknown>;
  release(destroy?: boolean): void;
  on(event: "error", listener: (error: Error) => void): unknown;
}

/**
 * The pool as Kysely's PostgreSQL dialect wants it, with every query sent as a named prepared
 * statement (pg keeps them per connection): the server parses and plans each SQL text once per
 * connection instead of on every token request. The name is a digest of the text. Only SELECTs, and
 * the audit insert, whose text is the same for every batch (audit-store.ts).
 */
function preparingStatements<P extends { connect(): Promise<PgClientLike>; end(): Promise<void> }>(pool: P): P {
  const names = new Map<string, string>();
  const listened = new WeakSet<PgClientLike>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (name === undefined) {
      name = `kubeiam_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
      if (names.size < STATEMENT_CACHE_SIZE) names.set(text, name);
    }
    return name;
  };
  return new Proxy(pool, {
    get(target, key, receiver) {
      if (key !== "connect") return Reflect.get(target, key, receiver) as unknown;
      return async () => {
        const client = await target.connect();
        // pg-pool listens for errors only on idle clients: a checked-out one whose server ends the
        // session between two queries (a restart's 57P01, a failover) emits 'error' with no listener,
        // which ends the process. The error is the connection's; its pending query (if any) rejects on
        // its own, the request answers 503, and pg-pool discards the broken client on release.
        if (!listened.has(client)) {
          listened.add(client);
          client.on("error", () => undefined);
        }
        return new Proxy(client, {
          get(c, k, r) {
            if (k !== "query") return Reflect.get(c, k, r) as unknown;
            return (text: unknown, values?: unknown[]) =>
              // Not other writes: a text built per call (a row count, a list) would fill the connection with statements.
              typeof text === "string" && Array.isArray(values) && (/^\s*select\b/i.test(text) || text === AUDIT_INSERT_POSTGRES)
                ? c.query({ name: nameOf(text), text, values })
                : // A simple query of several statements gives pg one result each: Kysely gets the last one's (its
                  // rows), as if the text were that statement alone after the others.
                  c.query(text, values).then((r) => (Array.isArray(r) ? (r[r.length - 1] as unknown) : r));
          },
        });
      };
    },
  });
}

/** One line for a failed first connection: what PostgreSQL said, and what to do about it. */
function postgresConnectProblem(cause: unknown, display: string, url: string): string {
  const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
  let database = "";
  try {
    database = decodeURIComponent(new URL(url).pathname.slice(1));
  } catch {
    // parseStoreLocation checked it; keep the generic line
  }
  switch (code) {
    case "3D000":
      return `PostgreSQL at ${display} has no database ${JSON.stringify(database)} (3D000): create it (createdb ${database.replace(/[^A-Za-z0-9_.-]/g, "")}, or CREATE DATABASE as its owner) or name one that exists in --db`;
    case "28P01":
    case "28000":
      return `PostgreSQL at ${display} refused the user or password (${code}): check the user and password in --db (or KUBEIAM_DB), and pg_hba.conf`;
    case "ECONNREFUSED":
      return `cannot reach PostgreSQL at ${display} (ECONNREFUSED): nothing listens there; check the host and port, and that the server runs`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot reach PostgreSQL at ${display} (${code}): the host name does not resolve; check the host in --db`;
    default:
      return `cannot reach PostgreSQL at ${display} (${code}): check the URL, the server and its password`;
  }
}

/** Statements kept per connection: the broker's queries are few; multi-row audit inserts vary by row count. */
const STATEMENT_CACHE_SIZE = 256;

async function openPostgres(url: string, display: string, max: number): Promise<OpenStore> {
  const pg = await import("pg");
  const { Pool, types } = pg.default;
  const pool = new Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Audit ids are BIGINT; they stay far below 2^53, so numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 20 ? (v: string) => Number(v) : types.getTypeParser(oid, format ?? "text")) as typeof types.getTypeParser,
    },
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on("error", () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new StoreError(postgresConnectProblem(cause, display, url), { cause });
  }
  const db = new Kysely<BrokerDatabase>({ dialect: new PostgresDialect({ pool: preparingStatements(pool) }) });
  const snapshot: SnapshotReader = (read) =>
    db.connection().execute(async (conn) => {
      await sql.raw("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(conn);
      try {
        return await read(conn);
      } finally {
        await sql.raw("COMMIT").execute(conn).catch(() => undefined);
      }
    });
  // Its own connection, outside the pool, named so that an operator sees it in pg_stat_activity.
  const accessFeed = new PostgresAccessFeed(() => new pg.default.Client({ connectionString: url, application_name: "kubeiam-access-feed", connectionTimeoutMillis: 10_000 }));
  return {
    db,
    dialect: "postgres",
    display,
    snapshot,
    accessFeed,
    close: async () => {
      await accessFeed.close();
      await db.destroy();
    },
  };
}
