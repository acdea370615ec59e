/**
 * `kubeiam serve admin-token`: a fresh admin token, made on the server host with the master key and
 * the database, printed once on stdout (nothing else there); the old one stops working; audited.
 */
import { hostname, userInfo } from "node:os";
import { UsageError } from "../../lib/errors.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { renderHelp } from "../help.js";
import { HELD_STORE_FLAGS, openHeldStore } from "./held-store.js";

const FLAGS = {
  ...HELD_STORE_FLAGS,
  help: { type: "boolean", short: "h" },
} as const;

/** The OS user running the command, for the audit row; "unknown" when the system has none to say. */
function osUser(ctx: CliContext): string {
  try {
    return userInfo().username;
  } catch {
    return ctx.env.USER ?? "unknown";
  }
}

/**
 * The `serve admin-token` command.
 *
 * @example
 * ```ts
 * await serveAdminTokenCommand.run(["--db", "sqlite:/var/lib/kubeiam/broker.db"], ctx); // KUBEIAM_MASTER_KEY set
 * ```
 */
export const serveAdminTokenCommand: Command = {
  options: { "": FLAGS },
  summary: "print a fresh admin token once (a lost one stops working); run on the server host",
  help: renderHelp({
    about: `Gives the broker's admin a fresh token and prints it once on stdout: for an admin token that
was lost. Run it on the server host: it needs the broker's database and its master key, and every
running instance accepts the new token (and refuses the old one) on the next request. The change is
written to the audit trail (action admin_token.replace, with the OS user and host) before the token
is printed.`,
    usage: ["kubeiam serve admin-token [--db URL] [--master-key-file FILE]"],
    flags: FLAGS,
    examples: ["KUBEIAM_DB=sqlite:/var/lib/kubeiam/broker.db kubeiam serve admin-token > admin.token"],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("serve admin-token", args, FLAGS, true);
    if (positionals.length > 0) throw new UsageError(`serve admin-token: unexpected argument ${JSON.stringify(positionals[0])}: it takes only --db and --master-key-file`);
    const { replaceAdminToken } = await import("../../broker/admin-token.js");
    const { BrokerStore } = await import("../../broker/store/store.js");
    const { store, keys } = await openHeldStore("serve admin-token", values, ctx);
    try {
      const broker = new BrokerStore(store.db, store.dialect, store.auditSink === undefined ? {} : { auditSink: store.auditSink });
      const r = await replaceAdminToken(broker, keys, new Date(ctx.now()), { user: osUser(ctx), host: hostname() });
      ctx.out(`${r.token}\n`);
      ctx.err(`${ctx.programName}: a fresh token for ${r.name}, shown only now${r.created ? " (the admin was made again)" : "; the old one stopped working"}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
