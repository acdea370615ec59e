/**
 * `kubeiam convert-kubeconfig`: rewrites a kubeconfig's cb-spider `sh -c curl` users and official
 * `ncp-iam-authenticator` users to `kubeiam broker token` exec users, in place, keeping everything
 * else; `--dry-run` prints the result instead. A file it cannot parse is left byte for byte.
 */
import { resolve } from "node:path";
import { KubeconfigError, UsageError } from "../lib/errors.js";
import { listBrokerClusters, type BrokerCluster } from "../broker/client/api.js";
import { convertKubeconfigUsers, findConvertibleUsers, type ConvertedUser, type ConvertibleUser } from "../broker/client/convert.js";
import { normalizeBrokerServer, resolveBrokerToken } from "../broker/client/credentials.js";
import { serializeKubeconfigDocument } from "../kube/kubeconfig.js";
import { checkKubeconfigTarget, editKubeconfigFile, loadKubeconfigDocument, parseKubeconfigForEdit, resolveKubeconfigPath } from "../kube/kubeconfig-file.js";
import { readBrokerCaFile } from "../broker/client/ca-file.js";
import { KUBECONFIG_WRITE_FLAG_HINTS, parseFlags, requireFlag, type CliContext, type Command } from "./context.js";
import { readExecCommandFlag } from "./kubeconfig-flow.js";

const FLAGS = {
  server: { type: "string" },
  kubeconfig: { type: "string" },
  user: { type: "string" },
  cluster: { type: "string" },
  "exec-command": { type: "string" },
  "ca-file": { type: "string" },
  "dry-run": { type: "boolean" },
  force: { type: "boolean" },
} as const;

const trimSlash = (s: string): string => s.replace(/\/+$/, "");

function describe(u: ConvertibleUser): string {
  return u.kind === "cb-spider"
    ? `cb-spider cluster ${JSON.stringify(u.cluster)}, connection ${JSON.stringify(u.connection)} at ${u.spiderServer}`
    : `ncp-iam-authenticator, cluster ${u.clusterUuid} in ${u.region}`;
}

/**
 * `kubeiam convert-kubeconfig`: moves cb-spider and ncp-iam-authenticator users to the broker's plugin.
 *
 * @example
 * ```ts
 * await convertKubeconfigCommand.run(["--server", "https://broker.example:8750", "--dry-run"], ctx);
 * ```
 */
export const convertKubeconfigCommand: Command = {
  options: { "": FLAGS },
  flags: KUBECONFIG_WRITE_FLAG_HINTS,
  summary: "Rewrite cb-spider and ncp-iam-authenticator users to use a kubeiam broker",
  help: `Rewrites the users of a kubeconfig that fetch cluster tokens the old ways to exec users running
'kubeiam broker token --server URL --cluster NAME':
  - cb-spider's users (sh -c ". ~/.cb-spider/.spider-credential && curl -s -u … /spider/cluster/NAME/token?ConnectionName=…"):
    the broker cluster is the spider cluster's NAME;
  - official ncp-iam-authenticator users (token --clusterUuid … --region …): the broker cluster is
    the one of yours whose endpoint the user's contexts point at (asked of the broker), or --cluster.

Usage:
  kubeiam convert-kubeconfig --server URL [flags]

Flags:
  --server URL          the kubeiam broker (required)
  --kubeconfig FILE     the file to convert (default: the first entry of $KUBECONFIG, else ~/.kube/config)
  --user NAME           convert only this user
  --cluster NAME        the broker cluster for the one user converted (with --user, or when only one matches)
  --exec-command CMD    the plugin to run: a name on PATH, an absolute path, or a .js file
                        run with node (default: kubeiam)
  --ca-file PEM         the broker's CA, passed on to the plugin (absolute path)
  --dry-run             print the converted kubeconfig instead of writing it
  --force               write a kubeconfig whose mode is read-only (default: refuse)
  -h, --help            this help

Users keep their names, so contexts keep working; clusters, contexts, other users, order and
comments stay as they were. The file is read, changed and written under <file>.lock (as kubectl
locks it), atomically, and keeps its mode. A kubeconfig that cannot be parsed is refused and left
byte for byte.
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const command = "convert-kubeconfig";
    const { values } = parseFlags(command, args, FLAGS);
    const server = normalizeBrokerServer(requireFlag(command, values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"));
    if (values.kubeconfig !== undefined && values.kubeconfig.trim() === "") {
      throw new UsageError(`${command}: --kubeconfig is empty: pass a file path, or leave it out for $KUBECONFIG or ~/.kube/config`);
    }
    let caFile: string | undefined;
    if (values["ca-file"] !== undefined) {
      caFile = resolve(values["ca-file"]);
      await readBrokerCaFile(caFile);
    }
    const exec = readExecCommandFlag(command, values["exec-command"]);
    const path = resolveKubeconfigPath({ explicit: values.kubeconfig, env: ctx.env });
    const dryRun = values["dry-run"] === true;
    const force = values.force === true;
    if (!dryRun) await checkKubeconfigTarget(path, "update", { force });
    const { doc, file } = await loadKubeconfigDocument(path);
    if (!file.exists) throw new KubeconfigError(`kubeconfig ${path} does not exist: pass the file to convert with --kubeconfig`);

    const pick = (found: ConvertibleUser[]): ConvertibleUser[] => (values.user === undefined ? found : found.filter((u) => u.user === values.user));
    const users = pick(findConvertibleUsers(doc));
    if (values.user !== undefined) {
      if (users.length === 0) {
        throw new UsageError(`${command}: ${path} has no cb-spider or ncp-iam-authenticator user named ${JSON.stringify(values.user)}: leave out --user to convert every such user`);
      }
    }
    if (users.length === 0) {
      ctx.err(`${ctx.programName}: ${path} has no cb-spider or ncp-iam-authenticator users: nothing to convert\n`);
      return 0;
    }
    if (values.cluster !== undefined && users.length > 1) {
      throw new UsageError(`${command}: --cluster names the broker cluster of one user, but ${users.length} users match: add --user NAME`);
    }

    // ncp-iam-authenticator users name a cluster UUID; the broker knows clusters by name. Match by endpoint.
    let listed: BrokerCluster[] | undefined;
    const needLookup = values.cluster === undefined && users.some((u) => u.kind === "ncp-iam-authenticator");
    if (needLookup) {
      const token = await resolveBrokerToken(server, ctx.env);
      const ca = caFile === undefined ? undefined : await readBrokerCaFile(caFile);
      listed = await listBrokerClusters({ server, token, ...(ca === undefined ? {} : { ca }), signal: ctx.signal });
    }
    const clusterFor = (u: ConvertibleUser): string => {
      if (values.cluster !== undefined) return values.cluster;
      if (u.kind === "cb-spider") return u.cluster;
      const wanted = new Set(u.endpoints.map(trimSlash));
      const matches = (listed ?? []).filter((c) => c.endpoint !== "" && wanted.has(trimSlash(c.endpoint)));
      if (matches.length !== 1) {
        throw new UsageError(
          `${command}: user ${JSON.stringify(u.user)} (${describe(u)}) ${matches.length === 0 ? "matches none" : "matches several"} of your clusters on ${server} by endpoint: pass --user ${u.user} --cluster NAME`,
        );
      }
      return (matches[0] as BrokerCluster).name;
    };
    const options = {
      server,
      clusterFor,
      ...(exec === undefined ? {} : { command: exec.execCommand, ...(exec.execCommandArgs === undefined ? {} : { commandArgs: exec.execCommandArgs }) }),
      ...(caFile === undefined ? {} : { caFile }),
    };
    const report = (converted: ConvertedUser[]): void => {
      for (const c of converted) {
        ctx.err(`${ctx.programName}: user ${JSON.stringify(c.user)} (${describe(c.from)}) now runs 'kubeiam broker token --server ${server} --cluster ${c.cluster}'\n`);
      }
    };
    if (dryRun) {
      report(convertKubeconfigUsers(doc, users, options));
      ctx.out(serializeKubeconfigDocument(doc));
      ctx.err(`${ctx.programName}: dry run: ${path} was not changed\n`);
      return 0;
    }
    // Converted again in the file as it is under the lock: another run may have written it meanwhile.
    let converted: ConvertedUser[] = [];
    await editKubeconfigFile(
      path,
      "update",
      (current) => {
        const latest = parseKubeconfigForEdit(current);
        converted = convertKubeconfigUsers(latest, pick(findConvertibleUsers(latest)), options);
        return converted.length === 0 ? undefined : serializeKubeconfigDocument(latest);
      },
      { force, signal: ctx.signal },
    );
    report(converted);
    ctx.err(`${ctx.programName}: updated ${path} (${converted.length} user${converted.length === 1 ? "" : "s"} converted)\n`);
    return 0;
  },
};
