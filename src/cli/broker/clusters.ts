/**
 * `kubeiam broker clusters`: the clusters the broker grants the caller, as a table or JSON.
 */
import { printable, printableJson } from "../../lib/printable.js";
import { UsageError } from "../../lib/errors.js";
import { listBrokerClusters, type BrokerCluster } from "../../broker/client/api.js";
import { brokerCaFor } from "../../broker/client/ca-file.js";
import { normalizeBrokerServer, resolveBrokerToken } from "../../broker/client/credentials.js";
import { parseFlags, requireFlag, type CliContext, type Command } from "../context.js";
import { renderHelp } from "../help.js";

const FLAGS = {
  server: { type: "string", value: "URL", help: "the broker (required)" },
  output: { type: "string", short: "o", value: "table|json", help: "table (default), or the broker's JSON list" },
  "ca-file": { type: "string", value: "PEM", help: "the broker's CA, when a private one signed its certificate (remembered per server by 'kubeiam broker login --ca-file')" },
} as const;

/**
 * Lays out broker clusters as a plain-text table: NAME, PROVIDER, REGION, ENDPOINT.
 *
 * @example
 * ```ts
 * ctx.out(formatBrokerClusterTable(await listBrokerClusters({ server, token })));
 * ```
 */
export function formatBrokerClusterTable(clusters: BrokerCluster[]): string {
  const rows = [["NAME", "PROVIDER", "REGION", "ENDPOINT"], ...clusters.map((c) => [c.name, c.provider, c.region, c.endpoint === "" ? "-" : c.endpoint].map((cell) => printable(cell)))];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("   ")).join("\n") + "\n";
}

/**
 * `kubeiam broker clusters`: the caller's clusters.
 *
 * @example
 * ```ts
 * await brokerClustersCommand.run(["--server", "https://broker.example:8750", "-o", "json"], ctx);
 * ```
 */
export const brokerClustersCommand: Command = {
  options: { "": FLAGS },
  summary: "List the clusters the broker grants you",
  help: renderHelp({
    about: "Lists the clusters the broker lets you reach: name, provider, region, endpoint.",
    usage: ["kubeiam broker clusters --server URL [-o table|json]"],
    flags: FLAGS,
    notes: "Your broker token comes from $KUBEIAM_BROKER_TOKEN, else from 'kubeiam broker login'.",
    examples: ["kubeiam broker clusters --server https://broker.example:8750", "kubeiam broker clusters --server https://broker.example:8750 -o json"],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker clusters", args, FLAGS);
    const server = normalizeBrokerServer(requireFlag("broker clusters", values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"));
    const output = values.output ?? "table";
    if (output !== "table" && output !== "json") throw new UsageError(`broker clusters: -o ${JSON.stringify(output)} is not supported: use table or json`);
    const ca = await brokerCaFor(server, values["ca-file"], ctx.env);
    const token = await resolveBrokerToken(server, ctx.env);
    const clusters = await listBrokerClusters({ server, token, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal });
    if (output === "json") ctx.out(`${printableJson({ clusters }, 2)}\n`);
    else if (clusters.length === 0) ctx.err(`${ctx.programName}: ${server} grants you no clusters yet: ask the broker's admin for a grant\n`);
    else ctx.out(formatBrokerClusterTable(clusters));
    return 0;
  },
};
