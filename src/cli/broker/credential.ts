/**
 * `kubeiam broker credential add|update|list|delete`: the cloud keys the broker holds. Secrets come from
 * the environment or stdin, never from arguments (which show in `ps` and shell history).
 */
import { printable, printableJson } from "../../lib/printable.js";
import { readUserFile } from "../../lib/read-file.js";
import type { EngineSecretSources } from "../../cloud-engine.js";
import { ConfigFileError, InvalidInputError, KubeiamError, UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { ENGINES } from "../../broker/engines.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { ADMIN_FLAGS, ADMIN_FLAGS_HELP, adminConnection, table } from "./admin.js";

/** Every engine's own flags for `credential add` (names, never secrets), from the registry. */
const ENGINE_FLAGS = Object.fromEntries(ENGINES.flatMap((e) => e.cli.credentialFlags.map((f) => [f.name, { type: "string" } as const])));

const FLAGS = {
  ...ADMIN_FLAGS,
  ...ENGINE_FLAGS,
  provider: { type: "string" },
  stdin: { type: "boolean" },
} as const;

/** "--a, --b and --c". */
function flagList(names: readonly string[]): string {
  const dashed = names.map((n) => `--${n}`);
  return dashed.length <= 1 ? (dashed[0] ?? "") : `${dashed.slice(0, -1).join(", ")} and ${dashed[dashed.length - 1] ?? ""}`;
}

/**
 * The provider block of the request body, from stdin or the environment, as the provider's engine
 * reads it, and what the engine said out loud about it (a setting taken from the environment).
 */
async function secretsFor(verb: "add" | "update", provider: string, values: Record<string, string | boolean | undefined>, ctx: CliContext): Promise<{ block: Record<string, unknown>; notes: string[] }> {
  const engine = ENGINES.find((e) => e.id === provider);
  if (engine === undefined) throw new UsageError(`broker credential ${verb}: --provider ${JSON.stringify(provider)} is not one the broker knows: use ${ENGINES.map((e) => e.id).join(", ")}`);
  for (const other of ENGINES) {
    if (other === engine) continue;
    const names = other.cli.credentialFlags.map((f) => f.name);
    if (names.some((n) => values[n] !== undefined)) throw new UsageError(`broker credential ${verb}: ${flagList(names)} ${names.length > 1 ? "are" : "is"} for ${other.id} credentials`);
  }
  const notes: string[] = [];
  const sources: EngineSecretSources = {
    note: (line) => void notes.push(line),
    env: (...names) => {
      for (const n of names) {
        const v = ctx.env[n];
        if (v !== undefined && v.trim() !== "") return v.trim();
      }
      return undefined;
    },
    stdinJson: async (what) => {
      if (ctx.stdinIsTTY === true) throw new UsageError(`broker credential ${verb}: --stdin reads ${what} from a pipe or file, not a terminal: cmd < file`);
      const text = await ctx.readStdin();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new UsageError(`broker credential ${verb}: stdin is not JSON: pipe ${what}`);
      }
      if (json === null || typeof json !== "object" || Array.isArray(json)) throw new UsageError(`broker credential ${verb}: stdin is not a JSON object: pipe ${what}`);
      return json as Record<string, unknown>;
    },
    fileJson: async (file, what) => {
      let text: string;
      try {
        text = (await readUserFile(file, { what })).text;
      } catch (cause) {
        if (cause instanceof KubeiamError) throw cause;
        throw new ConfigFileError(file, `cannot read ${what} ${file} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (cause) {
        throw new ConfigFileError(file, `${what} ${file} is not JSON: point it at the service account's key file`, { cause });
      }
    },
  };
  try {
    return { block: await engine.cli.credentialBlock(values, sources, values.stdin === true), notes };
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(`broker credential ${verb}: ${error.message}`, { cause: error });
    throw error;
  }
}

const PROVIDERS = ENGINES.map((e) => e.id).join("|");

/**
 * The `broker credential` command.
 *
 * @example
 * ```ts
 * await brokerCredentialCommand.run(["add", "ncp-main", "--provider", "ncp", "--server", url], ctx); // keys from NCLOUD_* variables
 * ```
 */
export const brokerCredentialCommand: Command = {
  options: { "": FLAGS },
  summary: "Add, update, list or delete the cloud keys the broker holds (admins)",
  help: `Gives the broker a cloud key to hold (sealed at rest, never shown again), replaces a held key in
place (its clusters and grants mint with the new one from the next request), lists them with where an
NCP key points (its API URL), deletes one.

Usage:
  kubeiam broker credential add NAME --provider ${PROVIDERS} [--stdin] [provider flags] --server URL
  kubeiam broker credential update NAME --provider ${PROVIDERS} [--stdin] [provider flags] --server URL
  kubeiam broker credential list --server URL
  kubeiam broker credential delete NAME --server URL

Where the keys come from (never from arguments):
${ENGINES.map((e) => `  ${e.id.padEnd(4)} ${e.cli.credentialHelp}`).join("\n")}

Flags:
  --provider ${PROVIDERS.padEnd(13)} the cloud (add, update)
${ENGINES.flatMap((e) => e.cli.credentialFlags.map((f) => `  --${`${f.name} ${f.value}`.padEnd(22)} ${f.help}`)).join("\n")}
  --stdin                  read the keys from stdin as JSON
${ADMIN_FLAGS_HELP}
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker credential", args, FLAGS, true);
    const [verb, name, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`broker credential: unexpected argument ${JSON.stringify(extra)}`);
    switch (verb) {
      case "add":
      case "update": {
        if (name === undefined) throw new UsageError(`broker credential ${verb}: name the credential: kubeiam broker credential ${verb} NAME --provider ncp`);
        const provider = values.provider;
        if (provider === undefined) throw new UsageError(`broker credential ${verb}: --provider is required: ${ENGINES.map((e) => e.id).join(", ")}`);
        const { block, notes } = await secretsFor(verb, provider, values, ctx);
        const conn = await adminConnection(`broker credential ${verb}`, values, ctx);
        if (verb === "add") await brokerAdminRequest(conn, "POST", "/v1/credentials", { name, provider, [provider]: block });
        else await brokerAdminRequest(conn, "PUT", `/v1/credentials/${encodeURIComponent(name)}`, { name, provider, [provider]: block });
        const done = verb === "add" ? "added; the broker holds it sealed" : "updated in place; tokens minted from now on use the new key";
        ctx.err(`${ctx.programName}: credential ${name} (${provider}) ${done}\n${notes.map((n) => `${ctx.programName}: ${printable(n)}\n`).join("")}`);
        return 0;
      }
      case "delete": {
        if (name === undefined) throw new UsageError("broker credential delete: name the credential");
        const conn = await adminConnection("broker credential delete", values, ctx);
        await brokerAdminRequest(conn, "DELETE", `/v1/credentials/${encodeURIComponent(name)}`);
        ctx.err(`${ctx.programName}: credential ${name} deleted\n`);
        return 0;
      }
      case "list": {
        if (name !== undefined) throw new UsageError(`broker credential list: unexpected argument ${JSON.stringify(name)}`);
        const conn = await adminConnection("broker credential list", values, ctx);
        const r = (await brokerAdminRequest(conn, "GET", "/v1/credentials")) as { credentials: { name: string; provider: string; apiUrl?: string; createdAt: string }[] };
        ctx.out(values.output === "json" ? `${printableJson(r, 2)}\n` : table([["NAME", "PROVIDER", "API URL", "CREATED"], ...r.credentials.map((c) => [c.name, c.provider, c.apiUrl ?? "-", c.createdAt])]));
        return 0;
      }
      default:
        throw new UsageError(`broker credential: ${verb === undefined ? "say what to do" : `unknown action ${JSON.stringify(verb)}`}: add, update, list or delete`);
    }
  },
};
