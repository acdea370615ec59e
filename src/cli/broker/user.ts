/**
 * `kubeiam broker user add|list|delete|rotate`: the broker's users. A new or rotated token is printed
 * once, on stdout, and never again.
 */
import { printable, printableJson } from "../../lib/printable.js";
import { UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { commandGroup, renderHelp } from "../help.js";
import { ADMIN_FLAGS, ADMIN_NOTES, EXAMPLE_SERVER, adminConnection, table } from "./admin.js";

const FLAGS = ADMIN_FLAGS;
const ADD_FLAGS = { ...ADMIN_FLAGS, role: { type: "string", value: "user|admin", help: "the new user's role (user by default)" } } as const;

function one(command: string, positionals: string[], what: string): string {
  const [name, extra] = positionals;
  if (name === undefined || name.trim() === "") throw new UsageError(`${command}: name the ${what}: see 'kubeiam ${command} --help'`);
  if (extra !== undefined) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra)}: see 'kubeiam ${command} --help'`);
  return name;
}

function outputOf(command: string, output: string | undefined): "table" | "json" {
  const o = output ?? "table";
  if (o !== "table" && o !== "json") throw new UsageError(`${command}: -o ${JSON.stringify(o)} is not supported: use table or json`);
  return o;
}

const add: Command = {
  options: { "": ADD_FLAGS },
  summary: "Add a user; their token is printed once",
  help: renderHelp({
    about: "Adds a user and prints their new broker token once on stdout: hand it over safely; the broker keeps only its digest.",
    usage: ["kubeiam broker user add NAME [--role user|admin] --server URL"],
    flags: ADD_FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker user add alice --server ${EXAMPLE_SERVER}`, `kubeiam broker user add ops --role admin --server ${EXAMPLE_SERVER} -o json`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker user add", args, ADD_FLAGS, true);
    const output = outputOf("broker user add", values.output);
    const name = one("broker user add", positionals, "new user");
    const role = values.role ?? "user";
    if (role !== "user" && role !== "admin") throw new UsageError(`broker user add: --role ${JSON.stringify(role)} is not a role: use user or admin`);
    const conn = await adminConnection("broker user add", values, ctx);
    const r = (await brokerAdminRequest(conn, "POST", "/v1/users", { name, role })) as { token: string };
    ctx.out(output === "json" ? `${printableJson(r)}\n` : `${printable(r.token)}\n`);
    ctx.err(`${ctx.programName}: user ${name} (${role}) added; the token above is shown only now: they run 'kubeiam broker login --server ${conn.server}' with it on stdin\n`);
    return 0;
  },
};

const rotate: Command = {
  options: { "": FLAGS },
  summary: "Give a user a new token; the old one stops at once",
  help: renderHelp({
    about: "Gives a user a new broker token, printed once on stdout; their old token stops working on every broker instance at once.",
    usage: ["kubeiam broker user rotate NAME --server URL"],
    flags: FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker user rotate alice --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker user rotate", args, FLAGS, true);
    const output = outputOf("broker user rotate", values.output);
    const name = one("broker user rotate", positionals, "user");
    const conn = await adminConnection("broker user rotate", values, ctx);
    const r = (await brokerAdminRequest(conn, "POST", `/v1/users/${encodeURIComponent(name)}/token`)) as { token: string };
    ctx.out(output === "json" ? `${printableJson(r)}\n` : `${printable(r.token)}\n`);
    ctx.err(`${ctx.programName}: ${name}'s old token stopped working; the new one above is shown only now\n`);
    return 0;
  },
};

const del: Command = {
  options: { "": FLAGS },
  summary: "Delete a user; their token and sessions stop at once",
  help: renderHelp({
    about: "Deletes a user, with their grants; their token and sign-in sessions stop working on every broker instance at once.",
    usage: ["kubeiam broker user delete NAME --server URL"],
    flags: FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker user delete alice --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker user delete", args, FLAGS, true);
    outputOf("broker user delete", values.output);
    const name = one("broker user delete", positionals, "user");
    const conn = await adminConnection("broker user delete", values, ctx);
    await brokerAdminRequest(conn, "DELETE", `/v1/users/${encodeURIComponent(name)}`);
    ctx.err(`${ctx.programName}: user ${name} deleted; their token stopped working\n`);
    return 0;
  },
};

const list: Command = {
  options: { "": FLAGS },
  summary: "List the users: name, role, how they came, when",
  help: renderHelp({
    about: "Lists the broker's users: name, role, source (token: added by an admin; oidc: signed in through the identity provider) and when they were added.",
    usage: ["kubeiam broker user list --server URL [-o table|json]"],
    flags: FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker user list --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker user list", args, FLAGS, true);
    const output = outputOf("broker user list", values.output);
    if (positionals.length > 0) throw new UsageError(`broker user list: unexpected argument ${JSON.stringify(positionals[0])}`);
    const conn = await adminConnection("broker user list", values, ctx);
    const r = (await brokerAdminRequest(conn, "GET", "/v1/users")) as { users: { name: string; role: string; source?: string; createdAt: string }[] };
    ctx.out(output === "json" ? `${printableJson(r, 2)}\n` : table([["NAME", "ROLE", "SOURCE", "CREATED"], ...r.users.map((u) => [u.name, u.role, u.source ?? "token", u.createdAt])]));
    return 0;
  },
};

/**
 * The `broker user` command: add, list, delete, rotate.
 *
 * @example
 * ```ts
 * await brokerUserCommand.run(["add", "alice", "--server", url], ctx); // prints alice's token once
 * ```
 */
export const brokerUserCommand: Command = commandGroup({
  name: "broker user",
  summary: "Add, list, delete users, or rotate a user's token (admins)",
  about: `Manages the broker's users. A new or rotated token is printed once on stdout: hand it over
safely; the broker keeps only its digest.`,
  verbs: { add, list, delete: del, rotate },
  examples: [`kubeiam broker user add alice --server ${EXAMPLE_SERVER}`, `kubeiam broker user list --server ${EXAMPLE_SERVER}`],
});
