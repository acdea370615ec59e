/**
 * `kubeiam broker audit`: the broker's audit trail, newest first.
 */
import { printableJson } from "../../lib/printable.js";
import { UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { ADMIN_FLAGS, ADMIN_FLAGS_HELP, adminConnection, table } from "./admin.js";

const FLAGS = { ...ADMIN_FLAGS, user: { type: "string" }, cluster: { type: "string" }, limit: { type: "string" }, before: { type: "string" } } as const;

interface Entry {
  id: number;
  time: string;
  actor: string;
  action: string;
  cluster: string | null;
  outcome: string;
  remote: string | null;
  reason?: string | null;
  /** The credential a token was minted with. */
  credential?: string | null;
}

/**
 * The `broker audit` command.
 *
 * @example
 * ```ts
 * await brokerAuditCommand.run(["--user", "alice", "--limit", "20", "--server", url], ctx);
 * ```
 */
export const brokerAuditCommand: Command = {
  options: { "": FLAGS },
  summary: "Show the broker's audit trail, newest first (admins)",
  help: `Prints the audit trail: every token answer (issued or denied), admin change and failed
authentication, newest first.

Usage:
  kubeiam broker audit [--user U] [--cluster C] [--limit N] [--before ID] --server URL

Flags:
  --user U                 only rows of this actor
  --cluster C              only rows for this cluster
  --limit N                how many rows (1-10000; 100 by default)
  --before ID              page back: rows older than this id
${ADMIN_FLAGS_HELP}
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker audit", args, FLAGS);
    for (const flag of ["limit", "before"] as const) {
      const v = values[flag];
      if (v !== undefined && !/^\d{1,15}$/.test(v)) throw new UsageError(`broker audit: --${flag} ${JSON.stringify(v)} is not a whole number`);
    }
    const query = new URLSearchParams();
    for (const k of ["user", "cluster", "limit", "before"] as const) if (values[k] !== undefined) query.set(k, values[k] ?? "");
    const conn = await adminConnection("broker audit", values, ctx);
    const q = query.toString();
    const r = (await brokerAdminRequest(conn, "GET", `/v1/audit${q === "" ? "" : `?${q}`}`)) as { entries: Entry[] };
    if (values.output === "json") {
      ctx.out(`${printableJson(r, 2)}\n`);
      return 0;
    }
    ctx.out(
      table([
        ["ID", "TIME", "ACTOR", "ACTION", "CLUSTER", "OUTCOME", "CREDENTIAL", "REMOTE", "REASON"],
        ...r.entries.map((e) => [String(e.id), e.time, e.actor, e.action, e.cluster ?? "-", e.outcome, e.credential ?? "-", e.remote ?? "-", e.reason ?? "-"]),
      ]),
    );
    return 0;
  },
};
