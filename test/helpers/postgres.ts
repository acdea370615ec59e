/**
 * A throwaway PostgreSQL for tests: `initdb` into a temp folder owned by `postgres` (the server
 * refuses to run as root), `pg_ctl` on a free loopback port, stopped and removed at the end. Every
 * wait is bounded. When the tools are missing it fails with one line saying what to install.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A running throwaway PostgreSQL. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication on loopback). */
  url: string;
  /** A URL for a fresh, empty database of this server. */
  newDatabase(name: string): Promise<string>;
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a !== null ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/** Runs a PostgreSQL tool as `postgres` when we are root (it refuses root), else as ourselves. */
async function asPostgres(bin: string, args: string[], timeoutMs: number): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  await run(cmd, argv, { timeout: timeoutMs, env: { ...process.env, LC_ALL: "C", LANG: "C" } });
}

/**
 * Starts a throwaway PostgreSQL on 127.0.0.1.
 *
 * @example
 * ```ts
 * const pg = await startTestPostgres();
 * // … KUBEIAM_DB=pg.url …
 * await pg.stop();
 * ```
 */
export async function startTestPostgres(): Promise<TestPostgres> {
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
  const port = await freePort();
  try {
    await asPostgres(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"], 120_000);
    await asPostgres(
      join(bin, "pg_ctl"),
      ["-D", data, "-l", join(dir, "log"), "-w", "-t", "60", "-o", `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c max_connections=200`, "start"],
      90_000,
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the test PostgreSQL did not start: ${(error as Error).message.split("\n")[0] ?? ""}`);
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
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], 40_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
