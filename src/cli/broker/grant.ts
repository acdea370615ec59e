/**
 * `kubeiam broker grant USER CLUSTER`: lets a user reach a cluster (`*`: every cluster);
 * `--revoke` takes it back, `--list USER` shows a user's grants.
 */
import { UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { ADMIN_FLAGS, ADMIN_FLAGS_HELP, adminConnection } from "./admin.js";

const FLAGS = { ...ADMIN_FLAGS, revoke: { type: "boolean" }, list: { type: "boolean" } } as const;

/**
 * The `broker grant` command.
 *
 * @example
 * ```ts
 * await brokerGrantCommand.run(["alice", "prod-kr", "--server", url], ctx);
 * ```
 */
export const brokerGrantCommand: Command = {
  options: { "": FLAGS },
  summary: "Grant a user a cluster (or '*'), revoke it, or list a user's grants (admins)",
  help: `Grants a user a cluster; '*' grants every cluster, present and future. Takes effect on the
user's next request, on every broker instance.

Usage:
  kubeiam broker grant USER CLUSTER --server URL
  kubeiam broker grant --revoke USER CLUSTER --server URL
  kubeiam broker grant --list USER --server URL

Flags:
  --revoke                 take the grant back
  --list                   print the user's grants, one a line
${ADMIN_FLAGS_HELP}
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker grant", args, FLAGS, true);
    if (values.list === true) {
      const [user, extra] = positionals;
      if (user === undefined || extra !== undefined || values.revoke === true) throw new UsageError("broker grant --list: name exactly one user: kubeiam broker grant --list USER");
      const conn = await adminConnection("broker grant", values, ctx);
      const r = (await brokerAdminRequest(conn, "GET", `/v1/grants/${encodeURIComponent(user)}`)) as { grants: string[] };
      ctx.out(values.output === "json" ? `${JSON.stringify(r)}\n` : r.grants.map((g) => `${g}\n`).join(""));
      return 0;
    }
    const [user, cluster, extra] = positionals;
    if (user === undefined || cluster === undefined || extra !== undefined) {
      throw new UsageError("broker grant: name a user and a cluster (or '*'): kubeiam broker grant USER CLUSTER");
    }
    const conn = await adminConnection("broker grant", values, ctx);
    const path = `/v1/grants/${encodeURIComponent(user)}/${cluster === "*" ? "*" : encodeURIComponent(cluster)}`;
    await brokerAdminRequest(conn, values.revoke === true ? "DELETE" : "PUT", path);
    ctx.err(`${ctx.programName}: ${values.revoke === true ? `revoked ${user}'s grant for ${cluster}` : `granted ${user} ${cluster === "*" ? "every cluster" : `cluster ${cluster}`}`}\n`);
    return 0;
  },
};
