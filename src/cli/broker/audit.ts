/**
 * `kubeiam broker audit`: the broker's audit trail, newest first (or forward from an id with
 * `--after`); `kubeiam broker audit verify`: the broker walks its hash chain, and the exit status
 * says whether it holds.
 */
import { printableJson } from "../../lib/printable.js";
import { UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import type { AuditEntryAnswer } from "../../broker/audit-entry.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { commandGroup, renderHelp } from "../help.js";
import { ADMIN_FLAGS, ADMIN_NOTES, EXAMPLE_SERVER, adminConnection, table } from "./admin.js";

const FLAGS = {
  ...ADMIN_FLAGS,
  user: { type: "string", value: "U", help: "only rows of this actor" },
  cluster: { type: "string", value: "C", help: "only rows for this cluster" },
  limit: { type: "string", value: "N", help: "how many rows (1-10000; 100 by default)" },
  before: { type: "string", value: "ID", help: "page back: rows older than this id" },
  after: { type: "string", value: "ID", help: "page forward, oldest first: rows newer than this id (a log shipper's cursor)" },
} as const;

/** An entry as GET /v1/audit answers it (declared once, in broker/audit-entry.ts). */
type Entry = AuditEntryAnswer;

const list: Command = {
  options: { "": FLAGS },
  summary: "List the trail, newest first",
  help: renderHelp({
    about: `Prints the audit trail: every token answer (issued or denied), admin change and failed
authentication, newest first ('verify' checks its hash chain: 'kubeiam broker audit verify --help').`,
    usage: ["kubeiam broker audit [--user U] [--cluster C] [--limit N] [--before ID | --after ID] --server URL"],
    flags: FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker audit --user alice --limit 20 --server ${EXAMPLE_SERVER}`, `kubeiam broker audit --after 1200 -o json --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker audit", args, FLAGS);
    if (values.before !== undefined && values.after !== undefined) throw new UsageError("broker audit: --before and --after go different ways: give one of them");
    for (const flag of ["limit", "before", "after"] as const) {
      const v = values[flag];
      if (v !== undefined && !/^\d{1,15}$/.test(v)) throw new UsageError(`broker audit: --${flag} ${JSON.stringify(v)} is not a whole number`);
    }
    const query = new URLSearchParams();
    for (const k of ["user", "cluster", "limit", "before", "after"] as const) if (values[k] !== undefined) query.set(k, values[k] ?? "");
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

const verify: Command = {
  options: { "": ADMIN_FLAGS },
  summary: "Have the broker check the trail's hash chain",
  help: renderHelp({
    about: `Has the broker walk the audit trail's hash chain: exits 0 when every entry is intact, 1 naming
the first entry that was edited or whose neighbour was removed.`,
    usage: ["kubeiam broker audit verify --server URL [-o table|json]"],
    flags: ADMIN_FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker audit verify --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker audit verify", args, ADMIN_FLAGS);
    const conn = await adminConnection("broker audit verify", values, ctx);
    const r = (await brokerAdminRequest(conn, "GET", "/v1/audit/verify")) as { ok: boolean; entries?: number; firstBad?: number; reason?: string };
    if (values.output === "json") ctx.out(`${JSON.stringify(r)}\n`);
    else if (r.ok) ctx.out(`audit trail intact: ${r.entries ?? 0} entries verified\n`);
    else ctx.out(`audit trail broken at entry ${r.firstBad ?? "?"}: ${r.reason ?? "no reason given"}\n`);
    return r.ok ? 0 : 1;
  },
};

/**
 * The `broker audit` command: the trail, or `verify`.
 *
 * @example
 * ```ts
 * await brokerAuditCommand.run(["--user", "alice", "--limit", "20", "--server", url], ctx);
 * ```
 */
export const brokerAuditCommand: Command = commandGroup({
  name: "broker audit",
  summary: "Show the broker's audit trail, or verify its hash chain (admins)",
  about: `Prints the audit trail: every token answer (issued or denied), admin change and failed
authentication, newest first. 'verify' has the broker walk the trail's hash chain: it exits 0 when
every entry is intact, 1 naming the first entry that was edited or whose neighbour was removed.`,
  default: list,
  verbs: { verify },
  examples: [`kubeiam broker audit --user alice --limit 20 --server ${EXAMPLE_SERVER}`, `kubeiam broker audit verify --server ${EXAMPLE_SERVER}`],
});
