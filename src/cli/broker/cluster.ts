/**
 * `kubeiam broker cluster add|list|delete`: the clusters the broker serves. `add` makes the broker
 * look the cluster up through its cloud with a held credential.
 */
import { printableJson } from "../../lib/printable.js";
import { UsageError } from "../../lib/errors.js";
import { brokerAdminRequest } from "../../broker/admin-client.js";
import { ENGINES } from "../../broker/engines.js";
import { parseFlags, type CliContext, type Command } from "../context.js";
import { commandGroup, renderHelp } from "../help.js";
import { ADMIN_FLAGS, ADMIN_NOTES, EXAMPLE_SERVER, adminConnection, table } from "./admin.js";

/** Every engine's flags that locate one of its clusters, from the registry, with their help. */
const LOCATOR_FLAGS = Object.fromEntries(ENGINES.flatMap((e) => e.cli.clusterFlags.map((f) => [f.name, { type: "string", value: f.value, help: f.help } as const])));

const ADD_FLAGS = {
  ...ADMIN_FLAGS,
  credential: { type: "string", value: "C", help: "the held credential to look the cluster up and mint with (required)" },
  region: { type: "string", value: "R", help: "the cluster's region: KR, us-east-1, europe-west1, … (required)" },
  connection: { type: "string", value: "CONN", help: "the cb-spider ConnectionName it answers to (default: the credential's name)" },
  ...LOCATOR_FLAGS,
} as const;

/** "--cluster-uuid (NKS), --cluster-name (EKS) or …": each engine's locator flags. */
const LOCATOR_CHOICES = ENGINES.map((e) => `${e.cli.clusterFlags.map((f) => `--${f.name}`).join("/")} (${e.title})`);

function nameOf(command: string, positionals: string[]): string {
  const [name, extra] = positionals;
  if (name === undefined) throw new UsageError(`${command}: name the cluster: see 'kubeiam ${command} --help'`);
  if (extra !== undefined) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra)}`);
  return name;
}

const add: Command = {
  options: { "": ADD_FLAGS },
  summary: "Register a cluster: the broker looks it up through its cloud",
  help: renderHelp({
    about: `Registers a cluster with the broker, which looks it up through its cloud with the credential
named and keeps its endpoint and CA. Give exactly one cloud's locator flag.`,
    usage: [
      "kubeiam broker cluster add NAME --credential C --region R [--connection CONN] --server URL \\",
      `    (${ENGINES.map((e) => e.cli.clusterFlags.map((f) => `--${f.name} ${f.value}`).join(" ")).join(" | ")})`,
    ],
    flags: ADD_FLAGS,
    notes: ADMIN_NOTES,
    examples: [
      `kubeiam broker cluster add prod-kr --credential ncp-main --region KR --cluster-uuid 2d5c4a8e-… --server ${EXAMPLE_SERVER}`,
      `kubeiam broker cluster add prod-us --credential aws-main --region us-east-1 --cluster-name prod --server ${EXAMPLE_SERVER}`,
    ],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker cluster add", args, ADD_FLAGS, true);
    const name = nameOf("broker cluster add", positionals);
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
  },
};

const del: Command = {
  options: { "": ADMIN_FLAGS },
  summary: "Delete a cluster, with the grants that name it",
  help: renderHelp({
    about: "Deletes a cluster from the broker, with the grants that name it; its tokens are no longer handed out.",
    usage: ["kubeiam broker cluster delete NAME --server URL"],
    flags: ADMIN_FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker cluster delete prod-kr --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("broker cluster delete", args, ADMIN_FLAGS, true);
    const name = nameOf("broker cluster delete", positionals);
    const conn = await adminConnection("broker cluster delete", values, ctx);
    await brokerAdminRequest(conn, "DELETE", `/v1/clusters/${encodeURIComponent(name)}`);
    ctx.err(`${ctx.programName}: cluster ${name} deleted, with the grants that named it\n`);
    return 0;
  },
};

const list: Command = {
  options: { "": ADMIN_FLAGS },
  summary: "List every cluster the broker serves",
  help: renderHelp({
    about: "Lists every cluster the broker serves: name, cloud, region, status, cb-spider connection, endpoint.",
    usage: ["kubeiam broker cluster list --server URL [-o table|json]"],
    flags: ADMIN_FLAGS,
    notes: ADMIN_NOTES,
    examples: [`kubeiam broker cluster list --server ${EXAMPLE_SERVER}`],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker cluster list", args, ADMIN_FLAGS);
    const conn = await adminConnection("broker cluster list", values, ctx);
    const r = (await brokerAdminRequest(conn, "GET", "/v1/clusters")) as { clusters: { name: string; provider: string; region: string; status?: string; endpoint: string; connection?: string }[] };
    ctx.out(
      values.output === "json"
        ? `${printableJson(r, 2)}\n`
        : table([["NAME", "PROVIDER", "REGION", "STATUS", "CONNECTION", "ENDPOINT"], ...r.clusters.map((c) => [c.name, c.provider, c.region, c.status ?? "-", c.connection ?? "-", c.endpoint || "-"])]),
    );
    return 0;
  },
};

/**
 * The `broker cluster` command: add, list, delete.
 *
 * @example
 * ```ts
 * await brokerClusterCommand.run(["add", "prod-kr", "--credential", "ncp-main", "--region", "KR", "--cluster-uuid", uuid, "--server", url], ctx);
 * ```
 */
export const brokerClusterCommand: Command = commandGroup({
  name: "broker cluster",
  summary: "Add, list or delete the clusters the broker serves (admins)",
  about: `Registers a cluster with the broker, which looks it up through its cloud with the credential
named and keeps its endpoint and CA; lists them; deletes one (and the grants naming it).`,
  verbs: { add, list, delete: del },
  examples: [`kubeiam broker cluster add prod-kr --credential ncp-main --region KR --cluster-uuid UUID --server ${EXAMPLE_SERVER}`, `kubeiam broker cluster list --server ${EXAMPLE_SERVER}`],
});
