/**
 * What the admin commands (`broker user|grant|credential|cluster|audit`) share: the connection from
 * `--server`, `--ca-file` and the caller's token (KUBEIAM_BROKER_TOKEN, else `broker login`'s file),
 * and plain-text tables.
 */
import type { AdminConnection } from "../../broker/admin-client.js";
import { brokerCaFor } from "../../broker/client/ca-file.js";
import { normalizeBrokerServer, resolveBrokerToken } from "../../broker/client/credentials.js";
import { printable } from "../../lib/printable.js";
import { requireFlag, type CliContext } from "../context.js";

/** The flags every admin command takes, each with its help (see ../help.ts). */
export const ADMIN_FLAGS = {
  server: { type: "string", value: "URL", help: "the broker (required)" },
  "ca-file": { type: "string", value: "PEM", help: "the broker's CA, when a private one signed its certificate (remembered per server by 'kubeiam broker login --ca-file')" },
  output: { type: "string", short: "o", value: "table|json", help: "how to print the answer (table by default)" },
} as const;

/** What every admin command's help says after its flags. */
export const ADMIN_NOTES = "The caller's broker token comes from $KUBEIAM_BROKER_TOKEN, else from 'kubeiam broker login'.";

/** An example broker address for help texts. */
export const EXAMPLE_SERVER = "https://broker.example:8750";

/**
 * The admin connection for a command's flags.
 *
 * @example
 * ```ts
 * const conn = await adminConnection("broker user", values, ctx);
 * ```
 */
export async function adminConnection(command: string, values: { server?: string | undefined; "ca-file"?: string | undefined }, ctx: CliContext): Promise<AdminConnection> {
  const server = normalizeBrokerServer(requireFlag(command, values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"));
  const ca = await brokerCaFor(server, values["ca-file"], ctx.env);
  const token = await resolveBrokerToken(server, ctx.env);
  return { server, token, env: ctx.env, signal: ctx.signal, ...(ca === undefined ? {} : { ca }) };
}

/**
 * Lays out rows as a plain-text table, the first row being the header.
 *
 * @example
 * ```ts
 * ctx.out(table([["NAME", "ROLE"], ["alice", "user"]]));
 * ```
 */
export function table(rows: string[][]): string {
  // Cells come from the broker (names, audit rows a stranger could have written): no control or bidi
  // character reaches the terminal as itself.
  rows = rows.map((r) => r.map((cell) => printable(cell)));
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("   ")).join("\n") + "\n";
}
