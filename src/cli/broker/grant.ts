/**
 * `kubeiam broker grant USER CLUSTER` (or `--group NAME CLUSTER`): lets a user or a group reach a
 * cluster (`*`: every cluster), optionally as another credential (`--as`) and for a while (`--for`,
 * `--until`); `--revoke` takes it back, `--list` shows a user's or group's grants.
 */
import { UsageError } from "../../lib/errors.js";
import { durationFlag, parseDuration } from "../../lib/duration.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { renderHelp } from "../help.js";
import { ADMIN_FLAGS, ADMIN_NOTES, EXAMPLE_SERVER, adminConnection, table } from "./admin.js";

const FLAGS = {
  ...ADMIN_FLAGS,
  group: { type: "string", value: "GROUP", help: "the grant is for a group (members of it, as their sign-in says), not a user" },
  as: {
    type: "string",
    value: "CREDENTIAL",
    help: "mint this person's tokens with CREDENTIAL (of the cluster's cloud) instead of the cluster's own, so the cluster sees them as that identity (a read-only NKS sub account, say); an AWS role session is named kubeiam-USER",
  },
  for: { type: "string", value: "DURATION", help: "the grant ends after DURATION: 90s, 30m, 2h, 1h30m, 7d" },
  until: { type: "string", value: "TIME", help: "the grant ends at TIME (RFC 3339, e.g. 2026-12-07T18:00:00Z)" },
  revoke: { type: "boolean", help: "take the grant back" },
  list: { type: "boolean", help: "print the grants of a user or group: cluster, credential acted as, end" },
} as const;

/** A grant as `GET /v1/grants/{subject}` lists it. */
interface ListedGrant {
  cluster: string;
  as: string | null;
  expiresAt: string | null;
  ended?: boolean;
}

/**
 * A duration like `90s`, `30m`, `2h`, `1h30m` or `7d`, in milliseconds; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * parseGrantDuration("1h30m"); // 5400000
 * ```
 */
export function parseGrantDuration(text: string): number | undefined {
  const ms = text === text.trim() ? parseDuration(text) : undefined;
  return ms === undefined || ms === 0 ? undefined : ms;
}

/** RFC 3339 with a zone, as the broker takes it. */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The `broker grant` command.
 *
 * @example
 * ```ts
 * await brokerGrantCommand.run(["alice", "prod-kr", "--as", "ncp-viewer", "--for", "2h", "--server", url], ctx);
 * ```
 */
export const brokerGrantCommand: Command = {
  options: { "": FLAGS },
  summary: "Grant a user or group a cluster (or '*'), as a credential, for a while; revoke; list (admins)",
  help: renderHelp({
    about: `Grants a user (or, with --group, every member of a group) a cluster; '*' grants every cluster,
present and future. Takes effect on the next request, on every broker instance. Granting again
replaces what the earlier grant said (--as, the end).`,
    usage: [
      "kubeiam broker grant USER CLUSTER [--as CREDENTIAL] [--for DURATION | --until TIME] --server URL",
      "kubeiam broker grant --group GROUP CLUSTER [--as CREDENTIAL] [--for DURATION | --until TIME] --server URL",
      "kubeiam broker grant --revoke USER CLUSTER --server URL       (or --revoke --group GROUP CLUSTER)",
      "kubeiam broker grant --list USER --server URL                 (or --list --group GROUP)",
    ],
    flags: FLAGS,
    notes: ADMIN_NOTES,
    examples: [
      `kubeiam broker grant alice prod-kr --as ncp-viewer --for 2h --server ${EXAMPLE_SERVER}`,
      `kubeiam broker grant --group platform '*' --server ${EXAMPLE_SERVER}`,
      `kubeiam broker grant --revoke alice prod-kr --server ${EXAMPLE_SERVER}`,
    ],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker grant", args, FLAGS, true);
    const group = values.group;
    if (group !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,253}$/.test(group)) {
      throw new UsageError(`broker grant: --group ${JSON.stringify(group)} is not a group name (letters, digits, '.', '_', '@', '+' and '-')`);
    }
    const subjectFrom = (first: string | undefined): string | undefined => (group !== undefined ? `group:${group}` : first);
    const shown = (subject: string): string => (group !== undefined ? `group ${group}` : subject);
    if (values.list === true) {
      const rest = group === undefined ? positionals.slice(1) : positionals;
      const subject = subjectFrom(positionals[0]);
      if (subject === undefined || rest.length > 0 || values.revoke === true || values.as !== undefined || values.for !== undefined || values.until !== undefined) {
        throw new UsageError("broker grant --list: name exactly one user or group: kubeiam broker grant --list USER (or --list --group GROUP)");
      }
      const conn = await adminConnection("broker grant", values, ctx);
      const r = (await brokerAdminRequest(conn, "GET", `/v1/grants/${encodeURIComponent(subject)}`)) as { grants: ListedGrant[] };
      if (values.output === "json") {
        ctx.out(`${JSON.stringify(r)}\n`);
        return 0;
      }
      if (r.grants.length === 0) {
        ctx.err(`${ctx.programName}: ${shown(subject)} has no grants: grant one with 'kubeiam broker grant ${group === undefined ? subject : `--group ${group}`} CLUSTER'\n`);
        return 0;
      }
      ctx.out(
        table([
          ["CLUSTER", "AS", "EXPIRES"],
          ...r.grants.map((g) => [g.cluster, g.as ?? "-", g.expiresAt === null ? "never" : `${g.expiresAt}${g.ended === true ? " (ended)" : ""}`]),
        ]),
      );
      return 0;
    }
    const [first, second, extra] = group === undefined ? positionals : [undefined, ...positionals];
    const subject = subjectFrom(first);
    const cluster = second;
    if (subject === undefined || cluster === undefined || extra !== undefined) {
      throw new UsageError("broker grant: name a user (or --group GROUP) and a cluster (or '*'): kubeiam broker grant USER CLUSTER");
    }
    if (values.for !== undefined && values.until !== undefined) {
      throw new UsageError("broker grant: --for and --until both say when the grant ends: give one of them");
    }
    const body: { as?: string; expiresAt?: string } = {};
    if (values.as !== undefined) body.as = values.as;
    if (values.for !== undefined) {
      const ms = durationFlag("broker grant", "for", values.for, "2h");
      body.expiresAt = new Date(ctx.now() + ms).toISOString();
    }
    if (values.until !== undefined) {
      if (!RFC3339_RE.test(values.until) || Number.isNaN(Date.parse(values.until))) {
        throw new UsageError(`broker grant: --until ${JSON.stringify(values.until)} is not an RFC 3339 time: give one like 2026-12-07T18:00:00Z`);
      }
      body.expiresAt = values.until;
    }
    if (values.revoke === true && Object.keys(body).length > 0) {
      throw new UsageError("broker grant --revoke takes the whole grant back: leave out --as, --for and --until");
    }
    const conn = await adminConnection("broker grant", values, ctx);
    const path = `/v1/grants/${encodeURIComponent(subject)}/${cluster === "*" ? "*" : encodeURIComponent(cluster)}`;
    if (values.revoke === true) {
      await brokerAdminRequest(conn, "DELETE", path);
      ctx.err(`${ctx.programName}: revoked ${shown(subject)}'s grant for ${cluster === "*" ? "every cluster (*)" : cluster}\n`);
      if (cluster !== "*") {
        // A * grant still in force keeps the cluster reachable: say so rather than let "revoked" mislead.
        const r = (await brokerAdminRequest(conn, "GET", `/v1/grants/${encodeURIComponent(subject)}`)) as { grants: ListedGrant[] };
        if (r.grants.some((g) => g.cluster === "*" && g.ended !== true)) {
          ctx.err(
            `${ctx.programName}: ${shown(subject)} still reaches ${cluster} through their grant of every cluster (*): revoke that too with 'kubeiam broker grant --revoke ${group === undefined ? subject : `--group ${group}`} '*''\n`,
          );
        }
      }
      return 0;
    }
    await brokerAdminRequest(conn, "PUT", path, Object.keys(body).length > 0 ? body : undefined);
    const terms = [body.as === undefined ? "" : ` as ${body.as}`, body.expiresAt === undefined ? "" : ` until ${new Date(body.expiresAt).toISOString()}`].join("");
    ctx.err(`${ctx.programName}: granted ${shown(subject)} ${cluster === "*" ? "every cluster" : `cluster ${cluster}`}${terms}\n`);
    return 0;
  },
};
