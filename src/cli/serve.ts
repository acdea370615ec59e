/**
 * `kubeiam serve`: runs the credential broker until SIGINT or SIGTERM. Prints one JSON line on stdout
 * when ready (`{"url","db","adminToken"?}`), then only JSON logs on stderr.
 */
import { UsageError } from "../lib/errors.js";
import { parseFlags, type CliContext, type Command } from "./context.js";

const FLAGS = {
  db: { type: "string" },
  listen: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "master-key-file": { type: "string" },
  "public-url": { type: "string" },
  "insecure-http": { type: "boolean" },
  "rate-limit": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === "") throw new UsageError(`serve: --${flag} is empty: give a value or leave the flag out`);
  return value;
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
  summary: "run the credential broker: holds cloud keys, hands out cluster tokens per user and grant",
  help: `Runs the kubeiam broker: it holds cloud keys (sealed at rest), and hands each user the cluster
tokens their grants allow, writing an audit row for every answer.

Usage:
  serve [--db URL] [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--master-key-file FILE]
        [--public-url URL] [--insecure-http] [--rate-limit N]

Flags:
  --db URL               sqlite:PATH (default sqlite:~/.kubeiam/broker.db) or postgres://user:pass@host:5432/db
                         (or KUBEIAM_DB); several instances may share one PostgreSQL
  --listen HOST:PORT     default 127.0.0.1:8750; port 0 takes a free one
  --tls-cert, --tls-key  serve HTTPS with this PEM certificate and key (required off loopback)
  --master-key-file F    the master key (32 bytes, Base64); KUBEIAM_MASTER_KEY wins. Default
                         ~/.kubeiam/master.key, created on the first start of an embedded store;
                         with PostgreSQL it must be given, the same for every instance
  --public-url URL       the URL users reach the broker at, written into kubeconfigs
  --insecure-http        allow plain HTTP off loopback (only behind a TLS proxy)
  --rate-limit N         token requests per user per second (off by default)
  -h, --help             this help

When ready it prints one JSON line on stdout:
  {"url":"http://127.0.0.1:8750","db":"sqlite:/…/broker.db","adminToken":"kbi_…"}
adminToken only when this start created the first admin. Then: 'kubeiam broker --help'.
`,
  // Draining connections (and, for the broker, flushing audit rows) may take more than half a second.
  stopGraceMs: 10_000,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("serve", args, FLAGS);
    let rateLimit: number | undefined;
    const rl = nonEmpty("rate-limit", values["rate-limit"]);
    if (rl !== undefined) {
      if (!/^\d{1,6}$/.test(rl) || Number(rl) < 1) throw new UsageError(`serve: --rate-limit ${JSON.stringify(rl)} is not a whole number of requests per second (1 or more)`);
      rateLimit = Number(rl);
    }
    const home = ctx.env.HOME;
    if (home === undefined || home === "") throw new UsageError("serve: HOME is not set: set it, or give --db and --master-key-file with absolute paths");
    const { startBroker } = await import("../broker/serve.js");
    const db = nonEmpty("db", values.db) ?? (ctx.env.KUBEIAM_DB === "" ? undefined : ctx.env.KUBEIAM_DB);
    const broker = await startBroker({
      home,
      cwd: process.cwd(),
      ...(db === undefined ? {} : { db }),
      ...(values.listen === undefined ? {} : { listen: values.listen }),
      ...(values["tls-cert"] === undefined ? {} : { tlsCert: values["tls-cert"] }),
      ...(values["tls-key"] === undefined ? {} : { tlsKey: values["tls-key"] }),
      ...(nonEmpty("master-key-file", values["master-key-file"]) === undefined ? {} : { masterKeyFile: values["master-key-file"] }),
      ...(ctx.env.KUBEIAM_MASTER_KEY === undefined ? {} : { masterKey: ctx.env.KUBEIAM_MASTER_KEY }),
      ...(nonEmpty("public-url", values["public-url"]) === undefined ? {} : { publicUrl: values["public-url"] }),
      ...(values["insecure-http"] === true ? { insecureHttp: true } : {}),
      ...(rateLimit === undefined ? {} : { rateLimit }),
      cloud: {
        env: ctx.env,
        ...(ctx.env.AWS_ENDPOINT_URL_EKS === undefined ? {} : { eksEndpoint: ctx.env.AWS_ENDPOINT_URL_EKS }),
        ...(ctx.env.AWS_ENDPOINT_URL_STS === undefined ? {} : { stsEndpoint: ctx.env.AWS_ENDPOINT_URL_STS }),
      },
    });
    ctx.out(`${JSON.stringify({ url: broker.url, db: broker.db, ...(broker.adminToken === undefined ? {} : { adminToken: broker.adminToken }) })}\n`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await broker.close();
    return 0;
  },
};
