/**
 * `kubeiam broker cluster add|list|delete`: the clusters the broker serves. `add` makes the broker
 * look the cluster up through its cloud with a held credential.
 */
import { printableJson } from "../../lib/printable.js";
import { UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { ENGINES } from "../../broker/engines.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { ADMIN_FLAGS, ADMIN_FLAGS_HELP, adminConnection, table } from "./admin.js";

/** Every engine's flags that locate one of its clusters, from the registry. */
const LOCATOR_FLAGS = Object.fromEntries(ENGINES.flatMap((e) => e.cli.clusterFlags.map((f) => [f.name, { type: "string" } as const])));

const FLAGS = {
  ...ADMIN_FLAGS,
  ...LOCATOR_FLAGS,
  credential: { type: "string" },
  region: { type: "string" },
  connection: { type: "string" },
} as const;

/** "--cluster-uuid (NKS), --cluster-name (EKS) or …": each engine's locator flags. */
const LOCATOR_CHOICES = ENGINES.map((e) => `${e.cli.clusterFlags.map((f) => `--${f.name}`).join("/")} (${e.title})`);

/**
 * The `broker cluster` command.
 *
 * @example
 * ```ts
 * await brokerClusterCommand.run(["add", "prod-kr", "--credential", "ncp-main", "--region", "KR", "--cluster-uuid", uuid, "--server", url], ctx);
 * ```
 */
export const brokerClusterCommand: Command = {
  options: { "": FLAGS },
  summary: "Add, list or delete the clusters the broker serves (admins)",
  help: `Registers a cluster with the broker, which looks it up through its cloud with the credential
named and keeps its endpoint and CA; lists them; deletes one (and the grants naming it).

Usage:
  kubeiam broker cluster add NAME --credential C --region R [--connection CONN] --server URL \\
      (${ENGINES.map((e) => e.cli.clusterFlags.map((f) => `--${f.name} ${f.value}`).join(" ")).join(" | ")})
  kubeiam broker cluster list --server URL
  kubeiam broker cluster delete NAME --server URL

Flags:
  --credential C           the held credential to look the cluster up and mint with
  --region R               the cluster's region (KR, us-east-1, europe-west1, …)
  --connection CONN        the cb-spider ConnectionName it answers to (default: the credential's name)
${ENGINES.flatMap((e) => e.cli.clusterFlags.map((f) => `  --${`${f.name} ${f.value}`.padEnd(22)} ${f.help}`)).join("\n")}
${ADMIN_FLAGS_HELP}
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker cluster", args, FLAGS, true);
    const [verb, name, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`broker cluster: unexpected argument ${JSON.stringify(extra)}`);
    switch (verb) {
      case "add": {
        if (name === undefined) throw new UsageError("broker cluster add: name the cluster: kubeiam broker cluster add NAME --credential C --region R …");
        if (values.credential === undefined) throw new UsageError("broker cluster add: --credential is required: the held credential to reach the cluster with");
        if (values.region === undefined) throw new UsageError("broker cluster add: --region is required");
        const kinds = ENGINES.flatMap((e) => {
          const block = e.cli.clusterBlock(values);
          return block === undefined ? [] : [{ [e.id]: block }];
        });
        if (kinds.length !== 1) throw new UsageError(`broker cluster add: give exactly one of ${LOCATOR_CHOICES.slice(0, -1).join(", ")} or ${LOCATOR_CHOICES[LOCATOR_CHOICES.length - 1] ?? ""}`);
        const conn = await adminConnection("broker cluster add", values, ctx);
        const body = { name, credential: values.credential, region: values.region, ...(values.connection === undefined ? {} : { connection: values.connection }), ...kinds[0] };
        const r = (await brokerAdminRequest(conn, "POST", "/v1/clusters", body)) as { name: string; provider: string; region: string; endpoint: string; status: string };
        ctx.out(values.output === "json" ? `${printableJson(r)}\n` : table([["NAME", "PROVIDER", "REGION", "STATUS", "ENDPOINT"], [r.name, r.provider, r.region, r.status, r.endpoint || "-"]]));
        return 0;
      }
      case "delete": {
        if (name === undefined) throw new UsageError("broker cluster delete: name the cluster");
        const conn = await adminConnection("broker cluster delete", values, ctx);
        await brokerAdminRequest(conn, "DELETE", `/v1/clusters/${encodeURIComponent(name)}`);
        ctx.err(`${ctx.programName}: cluster ${name} deleted, with the grants that named it\n`);
        return 0;
      }
      case "list": {
        if (name !== undefined) throw new UsageError(`broker cluster list: unexpected argument ${JSON.stringify(name)}`);
        const conn = await adminConnection("broker cluster list", values, ctx);
        const r = (await brokerAdminRequest(conn, "GET", "/v1/clusters")) as { clusters: { name: string; provider: string; region: string; status?: string; endpoint: string; connection?: string }[] };
        ctx.out(
          values.output === "json"
            ? `${printableJson(r, 2)}\n`
            : table([["NAME", "PROVIDER", "REGION", "STATUS", "CONNECTION", "ENDPOINT"], ...r.clusters.map((c) => [c.name, c.provider, c.region, c.status ?? "-", c.connection ?? "-", c.endpoint || "-"])]),
        );
        return 0;
      }
      default:
        throw new UsageError(`broker cluster: ${verb === undefined ? "say what to do" : `unknown action ${JSON.stringify(verb)}`}: add, list or delete`);
    }
  },
};
