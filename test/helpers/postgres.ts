/**
 * A throwaway PostgreSQL for tests: `initdb` into a temp folder owned by `postgres` (the server
 * refuses to run as root), `pg_ctl` on a free loopback port (another port when that one was taken
 * meanwhile), ready once a real connection answers, stopped and removed at the end. Every wait is
 * bounded. When it does not start, its folder and log are kept and the log's end is printed. When the
 * tools are missing it fails with one line saying what to install.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { closedPort } from "./closed-port.js";

/**
 * A test's skip reason in the fast lane (`npm run test:unit` sets KUBEIAM_TEST_LANE=unit), which
 * needs no PostgreSQL: `test(name, { skip: NEEDS_POSTGRES }, fn)`. `npm test` runs them.
 */
export const NEEDS_POSTGRES: string | false = process.env.KUBEIAM_TEST_LANE === "unit" ? "needs PostgreSQL: the fast lane runs none, npm test does" : false;

const run = promisify(execFile);

/** A running throwaway PostgreSQL. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication on loopback). */
  url: string;
  /** A URL for a fresh, empty database of this server. */
  newDatabase(name: string): Promise<string>;
  /** Stops the server as an operator's restart does (`pg_ctl stop -m fast`: sessions end with 57P01), keeping its data. */
  pause(): Promise<void>;
  /** Starts the paused server again on the same port. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Where initdb and pg_ctl are: PATH, /usr/local/bin, or Debian's /usr/lib/postgresql/N/bin. */
export function findPostgresBin(): string {
  const dirs = (process.env.PATH ?? "").split(":").filter(Boolean);
  dirs.push("/usr/local/bin");
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // no Debian layout
  }
  for (const d of dirs) if (existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")) && existsSync(join(d, "postgres"))) return d;
  throw new Error("PostgreSQL's initdb and pg_ctl were not found on PATH, in /usr/local/bin or /usr/lib/postgresql/*/bin: install them (apt-get install -y postgresql)");
}


/** How many ports to try when another process takes the one picked. */
const MAX_START_ATTEMPTS = 4;
/** How long the server may take to accept connections on a busy machine. */
const READY_TIMEOUT_MS = 120_000;

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    return `(no log: ${firstLine(error)})`;
  }
}

/** The last lines of a log, enough to see why a server stopped. */
function tail(text: string, lines = 60): string {
  return text.split("\n").slice(-lines).join("\n");
}

/**
 * Starts the server on `port` and waits until it takes a real connection (`SELECT 1`), bounded by
 * {@link READY_TIMEOUT_MS}: pg_ctl's own wait gives up early on a loaded machine, while the server
 * goes on starting, so its verdict alone is not the answer.
 */
async function startOnPort(bin: string, data: string, dir: string, log: string, port: number, durable: boolean): Promise<"ok" | { why: string }> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ctlError: string | undefined;
  try {
    await asPostgres(
      join(bin, "pg_ctl"),
      ["-D", data, "-l", log, "-w", "-t", String(READY_TIMEOUT_MS / 1000), "-o", `-p ${port} -k ${dir} -h 127.0.0.1${durable ? "" : " -c fsync=off"} -c max_connections=200`, "start"],
      READY_TIMEOUT_MS + 10_000,
    );
  } catch (error) {
    ctlError = firstLine(error);
    // A server that failed to bind has already exited: no use waiting for it.
    if (/Address already in use|could not create any TCP\/IP sockets/.test(readLog(log))) return { why: `pg_ctl: ${ctlError}` };
  }
  const pg = (await import("pg")).default;
  let last = ctlError ?? "no answer";
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      return "ok";
    } catch (error) {
      last = firstLine(error);
      await client.end().catch(() => undefined);
    }
    if (!existsSync(join(data, "postmaster.pid"))) return { why: `the server is not running (pg_ctl: ${ctlError ?? "started"}; last connection: ${last})` };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { why: `no connection within ${READY_TIMEOUT_MS / 1000} s (pg_ctl: ${ctlError ?? "started"}; last connection: ${last})` };
}

/** Runs a PostgreSQL tool as `postgres` when we are root (it refuses root), else as ourselves. */
async function asPostgres(bin: string, args: string[], timeoutMs: number): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  await run(cmd, argv, { timeout: timeoutMs, env: { ...process.env, LC_ALL: "C", LANG: "C" } });
}

/**
 * Starts a throwaway PostgreSQL on 127.0.0.1: with `fsync=off` for tests, or, with `durable`, at
 * PostgreSQL's own durability (fsync and synchronous commit on), as an operator runs it (the bench).
 *
 * @example
 * ```ts
 * const pg = await startTestPostgres();
 * // … KUBEIAM_DB=pg.url …
 * await pg.stop();
 * ```
 */
export async function startTestPostgres(options: { durable?: boolean } = {}): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const dir = mkdtempSync(join(tmpdir(), "kubeiam-pg-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    let uid: number;
    let gid: number;
    try {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: g } = await run("id", ["-g", "postgres"]);
      uid = Number(stdout.trim());
      gid = Number(g.trim());
    } catch {
      rmSync(dir, { recursive: true, force: true });
      throw new Error("there is no 'postgres' user to run the test PostgreSQL as (it refuses root): install PostgreSQL from packages (apt-get install -y postgresql), which creates it");
    }
    chownSync(dir, uid, gid);
  }
  try {
    await asPostgres(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"], 120_000);
  } catch (error) {
    throw new Error(`the test PostgreSQL did not start: initdb failed (${firstLine(error)}); its folder is kept at ${dir}`);
  }
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await closedPort();
    const log = join(dir, `log-${attempt}`);
    const started = await startOnPort(bin, data, dir, log, port, options.durable === true);
    if (started === "ok") break;
    const text = readLog(log);
    // Another process took the port between closedPort() and the server's bind: try another one.
    if (attempt < MAX_START_ATTEMPTS && /Address already in use|could not create any TCP\/IP sockets/.test(text)) {
      await asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], 40_000).catch(() => undefined);
      continue;
    }
    // The log is kept (the folder is not removed) and printed, so the failure says why.
    await asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], 40_000).catch(() => undefined);
    const message = `the test PostgreSQL did not start (attempt ${attempt}, port ${port}): ${started.why}; its log, kept at ${log}:\n${tail(text)}`;
    process.stderr.write(`${message}\n`);
    throw new Error(message);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    async newDatabase(name: string): Promise<string> {
      const pg = (await import("pg")).default;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, "")}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async pause(): Promise<void> {
      await asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"], 40_000);
    },
    async resume(): Promise<void> {
      const log = join(dir, `log-resumed-${Date.now()}`);
      const started = await startOnPort(bin, data, dir, log, port, options.durable === true);
      if (started !== "ok") throw new Error(`the test PostgreSQL did not start again on port ${port}: ${started.why}; its log, kept at ${log}:\n${tail(readLog(log))}`);
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], 40_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
