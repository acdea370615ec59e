/**
 * `kubeiam broker …`: the broker's client and admin commands. Each subcommand lives in its own file
 * under `src/cli/broker/` and loads only when run, so that `kubeiam broker token` (the exec plugin,
 * run on every kubectl call) pays for nothing else.
 */
import { UsageError } from "../lib/errors.js";
import { KUBECONFIG_WRITE_FLAG_HINTS, type CliContext, type Command } from "./context.js";
import { subcommandHelp } from "./help.js";

type Loader = () => Promise<Command>;

/** Subcommands by name; each file adds one line here. */
const SUBCOMMANDS: Record<string, Loader> = {
  login: async () => (await import("./broker/login.js")).brokerLoginCommand,
  token: async () => (await import("./broker/token.js")).brokerTokenCommand,
  clusters: async () => (await import("./broker/clusters.js")).brokerClustersCommand,
  "update-kubeconfig": async () => (await import("./broker/update-kubeconfig.js")).brokerUpdateKubeconfigCommand,
  user: async () => (await import("./broker/user.js")).brokerUserCommand,
  grant: async () => (await import("./broker/grant.js")).brokerGrantCommand,
  credential: async () => (await import("./broker/credential.js")).brokerCredentialCommand,
  cluster: async () => (await import("./broker/cluster.js")).brokerClusterCommand,
  audit: async () => (await import("./broker/audit.js")).brokerAuditCommand,
};

async function help(): Promise<string> {
  const lines: string[] = [];
  for (const [name, load] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(20)}${(await load()).summary}`);
  return `Talks to a kubeiam broker ('kubeiam serve'), which holds the cloud keys and hands out cluster tokens.

Usage:
  kubeiam broker <command> [flags]

Commands:
${lines.join("\n")}

Every command takes --server URL; the broker token comes from $KUBEIAM_BROKER_TOKEN, else from
'kubeiam broker login' (~/.kubeiam/credentials.json). Run 'kubeiam broker <command> --help' for its
flags (and 'kubeiam broker user add --help' for a verb's).

Examples:
  printf %s "$TOKEN" | kubeiam broker login --server https://broker.example:8750
  kubeiam broker update-kubeconfig --server https://broker.example:8750 --cluster prod-kr
`;
}

/**
 * The `broker` command group.
 *
 * @example
 * ```ts
 * await brokerCommand.run(["token", "--server", "https://broker.example:8750", "--cluster", "prod-kr"], ctx);
 * ```
 */
export const brokerCommand: Command = {
  subcommands: SUBCOMMANDS,
  // Errors of every subcommand come back through this command (main.ts adds the flag for the field):
  // broker update-kubeconfig refuses a read-only kubeconfig or a FIFO with these.
  flags: KUBECONFIG_WRITE_FLAG_HINTS,
  summary: "Use a kubeiam broker: log in, get cluster tokens and kubeconfigs, administer it",
  help: "Talks to a kubeiam broker ('kubeiam serve'). Run 'kubeiam broker --help' for its commands.\n",
  async helpFor(args: string[]): Promise<string> {
    return args[0] === undefined || !Object.hasOwn(SUBCOMMANDS, args[0]) ? help() : subcommandHelp(brokerCommand, args);
  },
  async run(args: string[], ctx: CliContext): Promise<number> {
    const [name, ...rest] = args;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      ctx.out(await help());
      return name === undefined ? 2 : 0;
    }
    const load = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (load === undefined) {
      throw new UsageError(`broker: unknown command ${JSON.stringify(name)}: run 'kubeiam broker --help' for the list`);
    }
    const command = await load();
    if (rest.includes("--help") || rest.includes("-h")) {
      ctx.out(command.helpFor === undefined ? command.help : await command.helpFor(rest.filter((a) => a !== "--help" && a !== "-h")));
      return 0;
    }
    return (await command.run(rest, ctx)) ?? 0;
  },
};
