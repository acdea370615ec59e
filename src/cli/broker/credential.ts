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
import { commandGroup, renderHelp } from "../help.js";
import { ADMIN_FLAGS, ADMIN_NOTES, EXAMPLE_SERVER, adminConnection, table } from "./admin.js";

/** Every engine's own flags for `credential add` and `update` (names, never secrets), from the registry, with their help. */
const ENGINE_FLAGS = Object.fromEntries(ENGINES.flatMap((e) => e.cli.credentialFlags.map((f) => [f.name, { type: "string", value: f.value, help: f.help } as const])));

const PROVIDERS = ENGINES.map((e) => e.id).join("|");

/** The flags of `add` and `update`: the same keys from the same places. */
const KEY_FLAGS = {
  ...ADMIN_FLAGS,
  provider: { type: "string", value: PROVIDERS, help: "the cloud (required)" },
  ...ENGINE_FLAGS,
  stdin: { type: "boolean", help: "read the keys from stdin as JSON instead of the environment" },
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

/** Where each cloud's keys come from, for the help. */
const KEY_SOURCES = `Where the keys come from (never from arguments):
${ENGINES.map((e) => `  ${e.id.padEnd(4)} ${e.cli.credentialHelp}`).join("\n")}`;

/** `add` and `update`: the keys read the same way, sent as a new credential or in place of a held one's. */
function keysVerb(verb: "add" | "update"): Command {
  const command = `broker credential ${verb}`;
  return {
    options: { "": KEY_FLAGS },
    summary: verb === "add" ? "Give the broker a cloud key to hold (sealed, never shown again)" : "Replace a held key's secrets in place; its clusters and grants use the new key",
    help: renderHelp({
      about:
        verb === "add"
          ? "Gives the broker a cloud key to hold: sealed at rest under the master key, never returned by any command or page."
          : "Replaces a held credential's secrets in place (same name, same cloud): its clusters and grants mint with the new key from the next request. Use it when a key is rotated at the cloud.",
      usage: [`kubeiam ${command} NAME --provider ${PROVIDERS} [--stdin] [provider flags] --server URL`],
      flags: KEY_FLAGS,
      notes: `${KEY_SOURCES}\n\n${ADMIN_NOTES}`,
      examples:
        verb === "add"
          ? [
              `NCLOUD_ACCESS_KEY_ID=… NCLOUD_SECRET_ACCESS_KEY=… kubeiam broker credential add ncp-main --provider ncp --server ${EXAMPLE_SERVER}`,
              `kubeiam broker credential add gcp-main --provider gcp --stdin --server ${EXAMPLE_SERVER} < key.json`,
            ]
          : [`NCLOUD_ACCESS_KEY_ID=… NCLOUD_SECRET_ACCESS_KEY=… kubeiam broker credential update ncp-main --provider ncp --server ${EXAMPLE_SERVER}`],
    }),
    async run(args: string[], ctx: CliContext): Promise<number> {
      const { values, positionals } = parseFlags(command, args, KEY_FLAGS, true);
      const [name, extra] = positionals;
      if (extra !== undefined) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra)}`);
      if (name === undefined) throw new UsageError(`${command}: name the credential: kubeiam ${command} NAME --provider ncp`);
      const provider = values.provider;
      if (provider === undefined) throw new UsageError(`${command}: --provider is required: ${ENGINES.map((e) => e.id).join(", ")}`);
      const { block, notes } = await secretsFor(verb, provider, values, ctx);
      const conn = await adminConnection(command, values, ctx);
      if (verb === "add") await brokerAdminRequest(conn, "POST", "/v1/credentials", { name, provider, [provider]: block });
      else await brokerAdminRequest(conn, "PUT", `/v1/credentials/${encodeURIComponent(name)}`, { name, provider, [provider]: block });
      const done = verb === "add" ? "added; the broker holds it sealed" : "updated in place; tokens minted from now on use the new key";
      ctx.err(`${ctx.programName}: credential ${name} (${provider}) ${done}\n${notes.map((n) => `${ctx.programName}: ${printable(n)}\n`).join("")}`);
      return 0;
    },
  };
}

const del: Command = {
  options: { "": ADMIN_FLAGS },
  summary: "Delete a held credential (refused while a cluster uses it)",
  help: renderHelp({
    about: "Deletes a held credential; the broker refuses while a cluster uses it (delete or re-register the cluster first).",
    usage: ["kubeiam broker credential delete NAME --server URL"],
    flags: ADMIN_FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker credential delete ncp-old --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker credential delete", args, ADMIN_FLAGS, true);
    const [name, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`broker credential delete: unexpected argument ${JSON.stringify(extra)}`);
    if (name === undefined) throw new UsageError("broker credential delete: name the credential");
    const conn = await adminConnection("broker credential delete", values, ctx);
    await brokerAdminRequest(conn, "DELETE", `/v1/credentials/${encodeURIComponent(name)}`);
    ctx.err(`${ctx.programName}: credential ${name} deleted\n`);
    return 0;
  },
};

const list: Command = {
  options: { "": ADMIN_FLAGS },
  summary: "List the held credentials: names, clouds, where an NCP key points; never secrets",
  help: renderHelp({
    about: "Lists the credentials the broker holds: name, cloud, the API URL an NCP key is used at, whom a GCP or role-assuming AWS credential acts as, and when added; never a secret.",
    usage: ["kubeiam broker credential list --server URL [-o table|json]"],
    flags: ADMIN_FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker credential list --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker credential list", args, ADMIN_FLAGS);
    const conn = await adminConnection("broker credential list", values, ctx);
    const r = (await brokerAdminRequest(conn, "GET", "/v1/credentials")) as { credentials: { name: string; provider: string; apiUrl?: string; actsAs?: string; createdAt: string }[] };
    ctx.out(values.output === "json" ? `${printableJson(r, 2)}\n` : table([["NAME", "PROVIDER", "API URL", "ACTS AS", "CREATED"], ...r.credentials.map((c) => [c.name, c.provider, c.apiUrl ?? "-", c.actsAs ?? "-", c.createdAt])]));
    return 0;
  },
};

/**
 * The `broker credential` command: add, update, list, delete.
 *
 * @example
 * ```ts
 * await brokerCredentialCommand.run(["add", "ncp-main", "--provider", "ncp", "--server", url], ctx); // keys from NCLOUD_* variables
 * ```
 */
export const brokerCredentialCommand: Command = commandGroup({
  name: "broker credential",
  summary: "Add, update, list or delete the cloud keys the broker holds (admins)",
  about: `Gives the broker a cloud key to hold (sealed at rest, never shown again), replaces a held key in
place (its clusters and grants mint with the new one from the next request), lists them with where an
NCP key points (its API URL), deletes one.`,
  verbs: { add: keysVerb("add"), update: keysVerb("update"), list, delete: del },
  notes: KEY_SOURCES,
  examples: [`kubeiam broker credential add ncp-main --provider ncp --server ${EXAMPLE_SERVER}`, `kubeiam broker credential list --server ${EXAMPLE_SERVER}`],
});
