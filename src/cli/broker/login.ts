/**
 * `kubeiam broker login`: keeps a broker token for one server in ~/.kubeiam/credentials.json. The
 * token comes on stdin, never as an argument (arguments show in `ps` and shell history).
 */
import { UsageError } from "../../lib/errors.js";
import { listBrokerClusters } from "../../broker/client/api.js";
import { brokerCredentialsFile, checkBrokerToken, normalizeBrokerServer, saveBrokerToken } from "../../broker/client/credentials.js";
import { readBrokerCaFile } from "../../broker/client/ca-file.js";
import { parseFlags, requireFlag, type CliContext, type Command } from "../context.js";

const FLAGS = {
  server: { type: "string" },
  "ca-file": { type: "string" },
  "no-verify": { type: "boolean" },
} as const;

/**
 * `kubeiam broker login`: keeps the token read from stdin for one server.
 *
 * @example
 * ```ts
 * await brokerLoginCommand.run(["--server", "https://broker.example:8750"], ctx); // token on ctx's stdin
 * ```
 */
export const brokerLoginCommand: Command = {
  options: { "": FLAGS },
  summary: "Keep your broker token for a server (read from stdin)",
  help: `Reads a broker token (kbi_…) from stdin, checks it with the broker, and keeps it for that
server in ~/.kubeiam/credentials.json (mode 0600, written atomically; other servers' entries stay).

Usage:
  kubeiam broker login --server URL < token-file
  printf %s "$TOKEN" | kubeiam broker login --server URL

Flags:
  --server URL     the broker (required)
  --ca-file PEM    the broker's CA, when a private one signed its certificate
  --no-verify      keep the token without asking the broker whether it accepts it
  -h, --help       this help

$KUBEIAM_BROKER_TOKEN, when set, wins over the file for every command.
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker login", args, FLAGS);
    const server = normalizeBrokerServer(
      requireFlag("broker login", values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"),
    );
    if (ctx.stdinIsTTY) {
      throw new UsageError(`broker login: reads the token from stdin, not the terminal: run 'kubeiam broker login --server ${server} < token-file'`);
    }
    const token = checkBrokerToken((await ctx.readStdin()).trim(), "stdin");
    let note = "";
    if (!values["no-verify"]) {
      const ca = values["ca-file"] === undefined ? undefined : await readBrokerCaFile(values["ca-file"]);
      const clusters = await listBrokerClusters({ server, token, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal });
      note = ` (${clusters.length} cluster${clusters.length === 1 ? "" : "s"} granted)`;
    }
    const path = brokerCredentialsFile(ctx.env);
    await saveBrokerToken(path, server, token);
    ctx.err(`${ctx.programName}: logged in to ${server}${note}; token kept in ${path}\n`);
    return 0;
  },
};
