/**
 * `kubeiam serve backup`: an online copy of the embedded store (SQLite's backup API), 0600; for
 * PostgreSQL, the one line that names pg_dump.
 */
import { UsageError } from "../../lib/errors.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { renderHelp } from "../help.js";

const FLAGS = {
  db: { type: "string", value: "URL", help: "sqlite:PATH (default sqlite:~/.kubeiam/broker.db, or KUBEIAM_DB)" },
  to: { type: "string", value: "FILE", help: "where the copy goes; must not exist yet (required)" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * The `serve backup` command.
 *
 * @example
 * ```ts
 * await serveBackupCommand.run(["--db", "sqlite:/var/lib/kubeiam/broker.db", "--to", "/backup/broker.db"], ctx);
 * ```
 */
export const serveBackupCommand: Command = {
  options: { "": FLAGS },
  summary: "copy the embedded store while it serves (a consistent, 0600 file)",
  help: renderHelp({
    about: `Copies the embedded store (sqlite:PATH) to FILE while brokers keep serving: the copy is
consistent as of one moment, written 0600, checked, and takes its name only once complete. It
holds sealed cloud keys and token digests, not the master key: keep the master key apart, and both
to restore. A PostgreSQL store is backed up with pg_dump.`,
    usage: ["kubeiam serve backup [--db sqlite:PATH] --to FILE"],
    flags: FLAGS,
    notes: `Restore: stop the broker, put the copy in place of the database file (remove its -wal and -shm
files), start 'kubeiam serve' on it with the same master key.`,
    examples: ["kubeiam serve backup --to /backup/broker-$(date +%F).db", "kubeiam serve backup --db sqlite:/var/lib/kubeiam/broker.db --to /backup/broker.db"],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("serve backup", args, FLAGS);
    const home = ctx.env.HOME;
    if (home === undefined || home === "") throw new UsageError("serve backup: HOME is not set: set it, or give --db with an absolute path");
    const { parseStoreLocation } = await import("../../broker/store/open.js");
    const db = values.db ?? (ctx.env.KUBEIAM_DB === "" ? undefined : ctx.env.KUBEIAM_DB) ?? "sqlite:~/.kubeiam/broker.db";
    const location = parseStoreLocation(db, { home, cwd: process.cwd() });
    if (location.dialect === "postgres") {
      throw new UsageError(
        `serve backup: a PostgreSQL store is backed up with PostgreSQL's own tools: run pg_dump --format=custom --file=FILE '${location.display}' (restore with pg_restore), and keep the master key apart`,
      );
    }
    if (values.to === undefined || values.to.trim() === "") throw new UsageError("serve backup: --to FILE is missing: name the file the copy goes to");
    const { resolve } = await import("node:path");
    const { backupSqliteStore } = await import("../../broker/backup.js");
    const r = await backupSqliteStore(location.path, resolve(process.cwd(), values.to));
    ctx.out(`${JSON.stringify(r)}\n`);
    ctx.err(`${ctx.programName}: ${r.file} holds ${r.users} users, ${r.credentials} credentials, ${r.clusters} clusters and ${r.audit} audit entries (${r.bytes} bytes); keep the master key apart from it\n`);
    return 0;
  },
};
