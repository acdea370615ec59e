/**
 * `kubeiam serve`: runs the credential broker until SIGINT or SIGTERM. Prints one JSON line on stdout
 * when ready (`{"url","db","adminToken"?}`), then only JSON logs on stderr.
 */
import { UsageError } from "../lib/errors.js";
import { durationFlag } from "../lib/duration.js";
import { parseFlags, type CliContext, type Command } from "./context.js";
import { renderHelp, subcommandHelp } from "./help.js";

const CORE_FLAGS = {
  db: {
    type: "string",
    value: "URL",
    help: "sqlite:PATH (default sqlite:~/.kubeiam/broker.db) or postgres://user@host:5432/db; several instances may share one PostgreSQL. A URL with a password belongs in KUBEIAM_DB, not argv (every user can read argv): serve warns when it is",
  },
  listen: { type: "string", value: "HOST:PORT", help: "default 127.0.0.1:8750; port 0 takes a free one" },
  "tls-cert": { type: "string", value: "FILE", help: "serve HTTPS with this PEM certificate (with --tls-key; required off loopback)" },
  "tls-key": { type: "string", value: "FILE", help: "the certificate's PEM private key" },
  "master-key-file": {
    type: "string",
    value: "F",
    help: "the master key (32 bytes, Base64); KUBEIAM_MASTER_KEY wins. Default ~/.kubeiam/master.key, created on the first start of an embedded store; with PostgreSQL it must be given, the same for every instance. Either may hold a keyring NEW,OLD: the first key seals, every key opens ('serve rekey')",
  },
  "public-url": { type: "string", value: "URL", help: "the URL users reach the broker at, written into kubeconfigs" },
  "insecure-http": { type: "boolean", help: "allow plain HTTP off loopback (only behind a TLS proxy)" },
  "trust-proxy": {
    type: "string",
    value: "CIDR[,CIDR]",
    help: "proxies (addresses or CIDR blocks) whose X-Forwarded-For names the client: audit rows, the failed-authentication limit and /metrics from loopback use that address (default: none, the connection's own)",
  },
  "rate-limit": { type: "string", value: "N", help: "token requests per user per second (off by default)" },
  "audit-retention": {
    type: "string",
    value: "D",
    help: "remove audit rows older than D (90d, 12h, 30m…) in small batches; the trail still verifies across the cut (off by default: kept forever)",
  },
  help: { type: "boolean", short: "h" },
} as const;

const OIDC_FLAGS = {
  "oidc-issuer": { type: "string", value: "URL", help: "the provider's issuer (https://, or http:// on loopback)" },
  "oidc-client-id": { type: "string", value: "ID", help: "the broker's client at the provider (a confidential client)" },
  "oidc-client-secret-file": { type: "string", value: "F", help: "the client secret; KUBEIAM_OIDC_CLIENT_SECRET wins (never on the command line)" },
  "oidc-username-claim": { type: "string", value: "C", help: "the claim naming the person (default email)" },
  "oidc-groups-claim": { type: "string", value: "C", help: "the claim listing their groups (default groups; else from userinfo)" },
  "oidc-admin-group": { type: "string", value: "G", help: "members of this group are admins" },
  "oidc-scopes": { type: "string", value: "S", help: 'scopes asked for (default "openid email profile offline_access")' },
  "session-ttl": { type: "string", value: "D", help: "how long a session's access token works (default 10m); renewing asks the provider" },
  "session-max": { type: "string", value: "D", help: "when a session ends whatever happens (default 12h)" },
} as const;

const FLAGS = { ...CORE_FLAGS, ...OIDC_FLAGS } as const;

/** Whether a `postgres://user:password@…` URL holds a password. */
function dbUrlHasPassword(value: string): boolean {
  if (!/^postgres(?:ql)?:\/\//.test(value)) return false;
  try {
    return new URL(value).password !== "";
  } catch {
    return false;
  }
}

/**
 * `serve rekey`, `serve backup`, `serve admin-token`: operations on a broker's store, loaded only when run. A new one
 * adds a line here and one to SUBCOMMAND_SUMMARIES (its help is its own, next to its flags).
 */
const SUBCOMMANDS: Record<string, () => Promise<Command>> = {
  rekey: async () => (await import("./serve/rekey.js")).serveRekeyCommand,
  backup: async () => (await import("./serve/backup.js")).serveBackupCommand,
  "admin-token": async () => (await import("./serve/admin-token.js")).serveAdminTokenCommand,
};

/** One line per subcommand for `serve --help` (kept here so that serve's help loads none of them). */
const SUBCOMMAND_SUMMARIES: readonly (readonly [string, string])[] = [
  ["rekey", "re-seal every credential under the keyring's first key"],
  ["backup", "copy the embedded store while it serves (0600)"],
  ["admin-token", "print a fresh admin token once (a lost one stops working); audited"],
];

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === "") throw new UsageError(`serve: --${flag} is empty: give a value or leave the flag out`);
  return value;
}

/**
 * A duration as `--session-ttl` and `--session-max` take it (lib/duration.ts: `90s`, `10m`, `12h`,
 * `1h30m`), in ms; zero refused.
 *
 * @example
 * ```ts
 * parseDurationFlag("session-ttl", "10m"); // 600000
 * ```
 */
export function parseDurationFlag(flag: string, value: string): number {
  return durationFlag("serve", flag, value, "10m");
}

/** The sign-in settings from the --oidc-… flags and the client secret (environment, else file), or none. */
async function oidcSettings(values: Record<string, string | boolean | undefined>, ctx: CliContext): Promise<import("../broker/oidc.js").OidcSettings | undefined> {
  const str = (name: string): string | undefined => nonEmpty(name, values[name] as string | undefined);
  const issuer = str("oidc-issuer");
  const clientId = str("oidc-client-id");
  const others = ["oidc-client-secret-file", "oidc-username-claim", "oidc-groups-claim", "oidc-admin-group", "oidc-scopes"].filter((f) => values[f] !== undefined);
  if (issuer === undefined && clientId === undefined) {
    if (others.length > 0) throw new UsageError(`serve: --${others[0]} goes with --oidc-issuer and --oidc-client-id: give those too, or leave it out`);
    return undefined;
  }
  if (issuer === undefined || clientId === undefined) throw new UsageError("serve: --oidc-issuer and --oidc-client-id go together: give both to let people sign in through the identity provider");
  let clientSecret = ctx.env.KUBEIAM_OIDC_CLIENT_SECRET;
  const file = str("oidc-client-secret-file");
  if ((clientSecret === undefined || clientSecret === "") && file !== undefined) {
    const { readUserFile } = await import("../lib/read-file.js");
    try {
      clientSecret = (await readUserFile(file, { what: "client secret file", signal: ctx.signal })).text.trim();
    } catch (cause) {
      throw new UsageError(`serve: cannot read --oidc-client-secret-file ${file} (${(cause as NodeJS.ErrnoException).code ?? "error"}): give a readable file holding the client secret`, { cause });
    }
  }
  if (clientSecret === undefined || clientSecret.trim() === "") {
    throw new UsageError("serve: the identity provider's client secret is missing: set KUBEIAM_OIDC_CLIENT_SECRET or give --oidc-client-secret-file (never on the command line)");
  }
  return {
    issuer,
    clientId,
    clientSecret: clientSecret.trim(),
    ...(str("oidc-username-claim") === undefined ? {} : { usernameClaim: str("oidc-username-claim") }),
    ...(str("oidc-groups-claim") === undefined ? {} : { groupsClaim: str("oidc-groups-claim") }),
    ...(str("oidc-admin-group") === undefined ? {} : { adminGroup: str("oidc-admin-group") }),
    ...(str("oidc-scopes") === undefined ? {} : { scopes: str("oidc-scopes") }),
  };
}

/**
 * The `serve` command, loaded lazily by main.ts.
 *
 * @example
 * ```ts
 * const status = await serveCommand.run(["--listen", "127.0.0.1:0"], ctx); // resolves when ctx.signal aborts
 * ```
 */
export const serveCommand: Command = {
  options: { "": FLAGS },
  subcommands: SUBCOMMANDS,
  summary: "run the credential broker: holds cloud keys, hands out cluster tokens per user and grant",
  help: renderHelp({
    about: `Runs the kubeiam broker: it holds cloud keys (sealed at rest), and hands each user the cluster
tokens their grants allow, writing an audit row for every answer.`,
    usage: [
      "kubeiam serve [--db URL] [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--master-key-file FILE]",
      "      [--public-url URL] [--insecure-http] [--trust-proxy CIDR[,CIDR]] [--rate-limit N] [--audit-retention DURATION]",
      "      [--oidc-issuer URL --oidc-client-id ID [--oidc-client-secret-file F] [--oidc-username-claim C]",
      "       [--oidc-groups-claim C] [--oidc-admin-group G] [--oidc-scopes S]] [--session-ttl D] [--session-max D]",
      "kubeiam serve <command> [flags]",
    ],
    commands: SUBCOMMAND_SUMMARIES,
    flags: CORE_FLAGS,
    sections: [
      {
        title: `Signing in through the organisation's identity provider (OpenID Connect; the broker's redirect URI,
to register there, is <public URL>/v1/login/callback):`,
        flags: OIDC_FLAGS,
      },
    ],
    notes: `When ready it prints one JSON line on stdout:
  {"url":"http://127.0.0.1:8750","db":"sqlite:/…/broker.db","adminToken":"kbi_…"}
adminToken only when this start created the first admin. Then: 'kubeiam broker --help'.
Run 'kubeiam serve <command> --help' for a command's flags.`,
    examples: [
      "kubeiam serve",
      "KUBEIAM_DB=postgres://kubeiam:…@db:5432/kubeiam KUBEIAM_MASTER_KEY=… kubeiam serve --listen 0.0.0.0:8750 --tls-cert broker.crt --tls-key broker.key",
    ],
  }),
  helpFor: (args: string[]) => subcommandHelp(serveCommand, args),
  // Draining connections (and, for the broker, flushing audit rows) may take more than half a second.
  stopGraceMs: 10_000,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const sub = args[0] === undefined || !Object.hasOwn(SUBCOMMANDS, args[0]) ? undefined : SUBCOMMANDS[args[0]];
    if (sub !== undefined) return (await (await sub()).run(args.slice(1), ctx)) ?? 0;
    const { values } = parseFlags("serve", args, FLAGS);
    let rateLimit: number | undefined;
    const rl = nonEmpty("rate-limit", values["rate-limit"]);
    if (rl !== undefined) {
      if (!/^\d{1,6}$/.test(rl) || Number(rl) < 1) throw new UsageError(`serve: --rate-limit ${JSON.stringify(rl)} is not a whole number of requests per second (1 or more)`);
      rateLimit = Number(rl);
    }
    const ttl = nonEmpty("session-ttl", values["session-ttl"]);
    const max = nonEmpty("session-max", values["session-max"]);
    const sessionTtlMs = ttl === undefined ? undefined : parseDurationFlag("session-ttl", ttl);
    const sessionMaxMs = max === undefined ? undefined : parseDurationFlag("session-max", max);
    if (sessionTtlMs !== undefined && sessionMaxMs !== undefined && sessionTtlMs > sessionMaxMs) {
      throw new UsageError("serve: --session-ttl is longer than --session-max: an access token cannot outlive its session");
    }
    const oidc = await oidcSettings(values, ctx);
    const retention = nonEmpty("audit-retention", values["audit-retention"]);
    const auditRetentionMs = retention === undefined ? undefined : (await import("../broker/audit-retention.js")).parseRetention(retention);
    const home = ctx.env.HOME;
    if (home === undefined || home === "") throw new UsageError("serve: HOME is not set: set it, or give --db and --master-key-file with absolute paths");
    const { startBroker } = await import("../broker/serve.js");
    const db = nonEmpty("db", values.db) ?? (ctx.env.KUBEIAM_DB === "" ? undefined : ctx.env.KUBEIAM_DB);
    const broker = await startBroker({
      home,
      cwd: process.cwd(),
      // The log goes to the process's stderr, closed pipe included, as every other line does.
      ...(ctx.errStream === undefined ? {} : { logStream: ctx.errStream() }),
      ...(db === undefined ? {} : { db }),
      ...(values.listen === undefined ? {} : { listen: values.listen }),
      ...(values["tls-cert"] === undefined ? {} : { tlsCert: values["tls-cert"] }),
      ...(values["tls-key"] === undefined ? {} : { tlsKey: values["tls-key"] }),
      ...(nonEmpty("master-key-file", values["master-key-file"]) === undefined ? {} : { masterKeyFile: values["master-key-file"] }),
      ...(ctx.env.KUBEIAM_MASTER_KEY === undefined ? {} : { masterKey: ctx.env.KUBEIAM_MASTER_KEY }),
      ...(nonEmpty("public-url", values["public-url"]) === undefined ? {} : { publicUrl: values["public-url"] }),
      ...(values["insecure-http"] === true ? { insecureHttp: true } : {}),
      ...(nonEmpty("trust-proxy", values["trust-proxy"]) === undefined ? {} : { trustProxy: values["trust-proxy"] }),
      ...(rateLimit === undefined ? {} : { rateLimit }),
      ...(sessionTtlMs === undefined ? {} : { sessionTtlMs }),
      ...(sessionMaxMs === undefined ? {} : { sessionMaxMs }),
      ...(oidc === undefined ? {} : { oidc }),
      ...(auditRetentionMs === undefined ? {} : { auditRetentionMs }),
      cloud: {
        env: ctx.env,
        ...(ctx.env.AWS_ENDPOINT_URL_EKS === undefined ? {} : { eksEndpoint: ctx.env.AWS_ENDPOINT_URL_EKS }),
        ...(ctx.env.AWS_ENDPOINT_URL_STS === undefined ? {} : { stsEndpoint: ctx.env.AWS_ENDPOINT_URL_STS }),
        // gcloud's own overrides, as 'kubeiam gke' reads the first.
        ...(ctx.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER?.trim() ? { gkeApiUrl: ctx.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER.trim() } : {}),
        ...(ctx.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS?.trim() ? { iamCredentialsUrl: ctx.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS.trim() } : {}),
      },
    });
    if (values.db !== undefined && dbUrlHasPassword(values.db)) {
      // A JSON line like every other one on stderr: argv is readable by every user of the machine (ps).
      // Said once the broker runs, so that a start refused for another reason stays one line.
      ctx.err(
        `${JSON.stringify({ level: 40, time: Date.now(), msg: "--db carries a password, which every user of this machine can read in the process list: put the URL in KUBEIAM_DB (or use a password file, PGPASSFILE) instead" })}\n`,
      );
    }
    ctx.out(`${JSON.stringify({ url: broker.url, db: broker.db, ...(broker.adminToken === undefined ? {} : { adminToken: broker.adminToken }) })}\n`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await broker.close();
    return 0;
  },
};
