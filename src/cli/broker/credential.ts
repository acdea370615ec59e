/**
 * `kubeiam broker credential add|list|delete`: the cloud keys the broker holds. Secrets come from
 * the environment or stdin, never from arguments (which show in `ps` and shell history).
 */
import { readUserFile } from "../../lib/read-file.js";
import { ConfigFileError, KubeiamError, UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { ADMIN_FLAGS, ADMIN_FLAGS_HELP, adminConnection, table } from "./admin.js";

const FLAGS = {
  ...ADMIN_FLAGS,
  provider: { type: "string" },
  "api-url": { type: "string" },
  "role-arn": { type: "string" },
  "external-id": { type: "string" },
  "session-name": { type: "string" },
  stdin: { type: "boolean" },
} as const;

type AddValues = { "api-url"?: string | undefined; "role-arn"?: string | undefined; "external-id"?: string | undefined; "session-name"?: string | undefined; stdin?: boolean | undefined };

/** The role flags (names, not secrets) as the aws block's fields. */
function roleFields(values: AddValues): Record<string, string> {
  const out: Record<string, string> = {};
  if (values["role-arn"] !== undefined) out.roleArn = values["role-arn"];
  if (values["external-id"] !== undefined) out.externalId = values["external-id"];
  if (values["session-name"] !== undefined) out.sessionName = values["session-name"];
  return out;
}

function env(ctx: CliContext, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = ctx.env[n];
    if (v !== undefined && v.trim() !== "") return v.trim();
  }
  return undefined;
}

async function stdinJson(ctx: CliContext, what: string): Promise<Record<string, unknown>> {
  if (ctx.stdinIsTTY === true) throw new UsageError(`broker credential add: --stdin reads ${what} from a pipe or file, not a terminal: cmd < file`);
  const text = await ctx.readStdin();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`broker credential add: stdin is not JSON: pipe ${what}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new UsageError(`broker credential add: stdin is not a JSON object: pipe ${what}`);
  return json as Record<string, unknown>;
}

/** The provider block of the request body, from stdin or the environment. */
async function secretsFor(provider: string, values: AddValues, ctx: CliContext): Promise<Record<string, unknown>> {
  if (provider !== "aws" && Object.keys(roleFields(values)).length > 0) {
    throw new UsageError("broker credential add: --role-arn, --external-id and --session-name are for aws credentials");
  }
  const missing = (names: string): UsageError =>
    new UsageError(`broker credential add: ${names} not set: export them, or pipe the keys as JSON with --stdin (never as arguments)`);
  switch (provider) {
    case "ncp": {
      const block = values.stdin === true ? await stdinJson(ctx, '{"accessKey","secretKey"}') : {
        accessKey: env(ctx, "NCLOUD_ACCESS_KEY_ID", "NCLOUD_ACCESS_KEY"),
        secretKey: env(ctx, "NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_SECRET_KEY"),
      };
      if (block.accessKey === undefined || block.secretKey === undefined) throw missing("NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY are");
      const apiUrl = values["api-url"] ?? (values.stdin === true ? undefined : env(ctx, "NCLOUD_API_GW"));
      return apiUrl === undefined ? block : { ...block, apiUrl };
    }
    case "aws": {
      if (values["api-url"] !== undefined) throw new UsageError("broker credential add: --api-url is for ncp credentials");
      if (values.stdin === true) return { ...(await stdinJson(ctx, '{"accessKeyId","secretAccessKey","sessionToken"?,"roleArn"?}')), ...roleFields(values) };
      const accessKeyId = env(ctx, "AWS_ACCESS_KEY_ID");
      const secretAccessKey = env(ctx, "AWS_SECRET_ACCESS_KEY");
      if (accessKeyId === undefined || secretAccessKey === undefined) throw missing("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are");
      const sessionToken = env(ctx, "AWS_SESSION_TOKEN");
      return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }), ...roleFields(values) };
    }
    case "gcp": {
      if (values["api-url"] !== undefined) throw new UsageError("broker credential add: --api-url is for ncp credentials");
      if (values.stdin === true) return { serviceAccount: await stdinJson(ctx, "the service account's key file") };
      const file = env(ctx, "GOOGLE_APPLICATION_CREDENTIALS");
      if (file === undefined) throw new UsageError("broker credential add: pipe the service account's key file with --stdin, or set GOOGLE_APPLICATION_CREDENTIALS to it");
      let text: string;
      try {
        text = (await readUserFile(file, { what: "GOOGLE_APPLICATION_CREDENTIALS file" })).text;
      } catch (cause) {
        if (cause instanceof KubeiamError) throw cause;
        throw new ConfigFileError(file, `cannot read GOOGLE_APPLICATION_CREDENTIALS ${file} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
      }
      try {
        return { serviceAccount: JSON.parse(text) as unknown };
      } catch (cause) {
        throw new ConfigFileError(file, `GOOGLE_APPLICATION_CREDENTIALS ${file} is not JSON: point it at the service account's key file`, { cause });
      }
    }
    default:
      throw new UsageError(`broker credential add: --provider ${JSON.stringify(provider)} is not one the broker knows: use ncp, aws or gcp`);
  }
}

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
  summary: "Add, list or delete the cloud keys the broker holds (admins)",
  help: `Gives the broker a cloud key to hold (sealed at rest, never shown again), lists them, deletes one.

Usage:
  kubeiam broker credential add NAME --provider ncp|aws|gcp [--api-url URL] [--stdin] --server URL
  kubeiam broker credential add NAME --provider aws --role-arn ARN [--external-id ID] [--session-name N] --server URL
  kubeiam broker credential list --server URL
  kubeiam broker credential delete NAME --server URL

Where the keys come from (never from arguments):
  ncp  NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY (NCLOUD_API_GW or --api-url for the gateway),
       or --stdin with {"accessKey","secretKey","apiUrl"?}
  aws  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or --stdin with that JSON;
       with --role-arn the broker assumes that role with these keys (AssumeRole) and signs
       tokens with the role's temporary keys, kept in memory and renewed 5 minutes before expiry
  gcp  the service account's key file on stdin (--stdin), or the file GOOGLE_APPLICATION_CREDENTIALS names

Flags:
  --provider ncp|aws|gcp   the cloud (add)
  --api-url URL            the NCP API gateway (add, ncp)
  --role-arn ARN           a role for the broker to assume with the keys (add, aws)
  --external-id ID         the external id the role's trust policy asks for (add, aws)
  --session-name NAME      the role session name (add, aws; default: kubeiam-broker)
  --stdin                  read the keys from stdin as JSON
${ADMIN_FLAGS_HELP}
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker credential", args, FLAGS, true);
    const [verb, name, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`broker credential: unexpected argument ${JSON.stringify(extra)}`);
    switch (verb) {
      case "add": {
        if (name === undefined) throw new UsageError("broker credential add: name the credential: kubeiam broker credential add NAME --provider ncp");
        const provider = values.provider;
        if (provider === undefined) throw new UsageError("broker credential add: --provider is required: ncp, aws or gcp");
        const block = await secretsFor(provider, values, ctx);
        const conn = await adminConnection("broker credential add", values, ctx);
        await brokerAdminRequest(conn, "POST", "/v1/credentials", { name, provider, [provider]: block });
        ctx.err(`${ctx.programName}: credential ${name} (${provider}) added; the broker holds it sealed\n`);
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
        const r = (await brokerAdminRequest(conn, "GET", "/v1/credentials")) as { credentials: { name: string; provider: string; createdAt: string }[] };
        ctx.out(values.output === "json" ? `${JSON.stringify(r, null, 2)}\n` : table([["NAME", "PROVIDER", "CREATED"], ...r.credentials.map((c) => [c.name, c.provider, c.createdAt])]));
        return 0;
      }
      default:
        throw new UsageError(`broker credential: ${verb === undefined ? "say what to do" : `unknown action ${JSON.stringify(verb)}`}: add, list or delete`);
    }
  },
};
