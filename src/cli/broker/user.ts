/**
 * `kubeiam broker user add|list|delete|rotate`: the broker's users. A new or rotated token is printed
 * once, on stdout, and never again.
 */
import { printable, printableJson } from "../../lib/printable.js";
import { UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { ADMIN_FLAGS, ADMIN_FLAGS_HELP, adminConnection, table } from "./admin.js";

const FLAGS = { ...ADMIN_FLAGS, role: { type: "string" } } as const;

function one(command: string, positionals: string[], what: string): string {
  const [name, extra] = positionals;
  if (name === undefined || name.trim() === "") throw new UsageError(`${command}: name the ${what}: see '${command} --help'`);
  if (extra !== undefined) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra)}: see '${command} --help'`);
  return name;
}

/**
 * The `broker user` command.
 *
 * @example
 * ```ts
 * await brokerUserCommand.run(["add", "alice", "--server", url], ctx); // prints alice's token once
 * ```
 */
export const brokerUserCommand: Command = {
  options: { "": FLAGS },
  summary: "Add, list, delete users, or rotate a user's token (admins)",
  help: `Manages the broker's users. A new or rotated token is printed once on stdout: hand it over
safely; the broker keeps only its digest.

Usage:
  kubeiam broker user add NAME [--role user|admin] --server URL
  kubeiam broker user list --server URL
  kubeiam broker user delete NAME --server URL
  kubeiam broker user rotate NAME --server URL

Flags:
  --role user|admin        the new user's role (user by default)
${ADMIN_FLAGS_HELP}
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker user", args, FLAGS, true);
    const [verb, ...rest] = positionals;
    const output = values.output ?? "table";
    if (output !== "table" && output !== "json") throw new UsageError(`broker user: -o ${JSON.stringify(output)} is not supported: use table or json`);
    if (values.role !== undefined && verb !== "add") throw new UsageError("broker user: --role goes with 'add'");
    switch (verb) {
      case "add": {
        const name = one("broker user add", rest, "new user");
        const role = values.role ?? "user";
        if (role !== "user" && role !== "admin") throw new UsageError(`broker user add: --role ${JSON.stringify(role)} is not a role: use user or admin`);
        const conn = await adminConnection("broker user add", values, ctx);
        const r = (await brokerAdminRequest(conn, "POST", "/v1/users", { name, role })) as { token: string };
        ctx.out(output === "json" ? `${printableJson(r)}\n` : `${printable(r.token)}\n`);
        ctx.err(`${ctx.programName}: user ${name} (${role}) added; the token above is shown only now: they run 'kubeiam broker login --server ${conn.server}' with it on stdin\n`);
        return 0;
      }
      case "rotate": {
        const name = one("broker user rotate", rest, "user");
        const conn = await adminConnection("broker user rotate", values, ctx);
        const r = (await brokerAdminRequest(conn, "POST", `/v1/users/${encodeURIComponent(name)}/token`)) as { token: string };
        ctx.out(output === "json" ? `${printableJson(r)}\n` : `${printable(r.token)}\n`);
        ctx.err(`${ctx.programName}: ${name}'s old token stopped working; the new one above is shown only now\n`);
        return 0;
      }
      case "delete": {
        const name = one("broker user delete", rest, "user");
        const conn = await adminConnection("broker user delete", values, ctx);
        await brokerAdminRequest(conn, "DELETE", `/v1/users/${encodeURIComponent(name)}`);
        ctx.err(`${ctx.programName}: user ${name} deleted; their token stopped working\n`);
        return 0;
      }
      case "list": {
        if (rest.length > 0) throw new UsageError(`broker user list: unexpected argument ${JSON.stringify(rest[0])}`);
        const conn = await adminConnection("broker user list", values, ctx);
        const r = (await brokerAdminRequest(conn, "GET", "/v1/users")) as { users: { name: string; role: string; source?: string; createdAt: string }[] };
        // SOURCE: token (added by an admin) or oidc (signed in through the identity provider).
        ctx.out(output === "json" ? `${printableJson(r, 2)}\n` : table([["NAME", "ROLE", "SOURCE", "CREATED"], ...r.users.map((u) => [u.name, u.role, u.source ?? "token", u.createdAt])]));
        return 0;
      }
      default:
        throw new UsageError(`broker user: ${verb === undefined ? "say what to do" : `unknown action ${JSON.stringify(verb)}`}: add, list, delete or rotate`);
    }
  },
};
