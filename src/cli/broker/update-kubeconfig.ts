/**
 * `kubeiam broker update-kubeconfig`: merges one broker cluster into a kubeconfig: its endpoint and
 * CA as the broker knows them, a user running `kubeiam broker token`, and a context; everything
 * else in the file stays, with the rules of the other kubeconfig commands.
 */
import { resolve } from "node:path";
import { KubeconfigError, UsageError } from "../../lib/errors.js";
import { fetchBrokerKubeconfig } from "../../broker/client/api.js";
import { readBrokerCaFile } from "../../broker/client/ca-file.js";
import { normalizeBrokerServer, resolveBrokerToken } from "../../broker/client/credentials.js";
import {
  contextEntry,
  execUserEntry,
  kubeconfigConflicts,
  mergeKubeconfigEntries,
  parseKubeconfig,
  serializeKubeconfigDocument,
  type KubeconfigDocument,
  type KubeconfigEntries,
  type MergeKubeconfigResult,
} from "../../kube/kubeconfig.js";
import { checkKubeconfigTarget, editKubeconfigFile, loadKubeconfigDocument, parseKubeconfigForEdit, resolveKubeconfigPath } from "../../kube/kubeconfig-file.js";
import { parseFlags, requireFlag, type CliContext, type Command } from "../context.js";

const FLAGS = {
  server: { type: "string" },
  cluster: { type: "string" },
  kubeconfig: { type: "string" },
  alias: { type: "string" },
  "user-alias": { type: "string" },
  "ca-file": { type: "string" },
  overwrite: { type: "boolean" },
  force: { type: "boolean" },
  "dry-run": { type: "boolean" },
  "no-set-current": { type: "boolean" },
} as const;

/**
 * The entries for one broker cluster: the cluster entry of the broker's kubeconfig, a user running
 * `kubeiam broker token --server SERVER --cluster NAME` (with `--ca-file` when given), and a context.
 *
 * @example
 * ```ts
 * const entries = brokerKubeconfigEntries(yamlFromBroker, { server, cluster: "prod-kr" });
 * ```
 */
export function brokerKubeconfigEntries(
  text: string,
  options: { server: string; cluster: string; alias?: string; userAlias?: string; caFile?: string },
): KubeconfigEntries {
  const kc = parseKubeconfig(text);
  const context = kc.contexts.find((c) => c.name === kc.currentContext) ?? kc.contexts[0];
  const cluster = kc.clusters.find((c) => c.name === context?.context.cluster) ?? kc.clusters[0];
  if (cluster === undefined) throw new KubeconfigError(`the broker's kubeconfig for ${options.cluster} has no cluster entry: update the broker`);
  const userName = options.userAlias ?? context?.context.user ?? `kubeiam-broker-${options.cluster}`;
  const user = execUserEntry(userName, {
    command: "kubeiam",
    args: ["broker", "token", "--server", options.server, "--cluster", options.cluster, ...(options.caFile === undefined ? [] : ["--ca-file", options.caFile])],
    apiVersion: "client.authentication.k8s.io/v1",
    interactiveMode: "Never",
  });
  return { cluster, user, context: contextEntry(options.alias ?? context?.name ?? cluster.name, { cluster: cluster.name, user: userName }) };
}

/**
 * `kubeiam broker update-kubeconfig`: merges one broker cluster into a kubeconfig.
 *
 * @example
 * ```ts
 * await brokerUpdateKubeconfigCommand.run(["--server", "https://broker.example:8750", "--cluster", "prod-kr"], ctx);
 * ```
 */
export const brokerUpdateKubeconfigCommand: Command = {
  options: { "": FLAGS },
  summary: "Add a broker cluster to your kubeconfig (exec plugin: kubeiam broker token)",
  help: `Adds one cluster the broker grants you to a kubeconfig: its cluster entry (endpoint and CA as
the broker knows them), a user that runs 'kubeiam broker token', and a context.

Usage:
  kubeiam broker update-kubeconfig --server URL --cluster NAME [flags]

Flags:
  --server URL         the broker (required)
  --cluster NAME       the cluster's name on the broker (required; 'kubeiam broker clusters' lists them)
  --kubeconfig FILE    the file to update (default: the first entry of $KUBECONFIG, else ~/.kube/config)
  --alias A            the context's name (default: the broker's, the cluster name)
  --user-alias U       the user's name (default: the broker's, kubeiam-broker-NAME)
  --ca-file PEM        the broker's CA, when a private one signed its certificate (also given to the plugin)
  --overwrite          replace entries whose names are taken (default: refuse)
  --force              write a kubeconfig whose mode is read-only (default: refuse)
  --dry-run            print the updated kubeconfig instead of writing it
  --no-set-current     leave current-context as it is
  -h, --help           this help

Other clusters, users and contexts stay as they were, in their order, with their comments. A
malformed kubeconfig is refused and left untouched. The file is read, changed and written under
<file>.lock (as kubectl locks it), so runs at once keep each other's entries; it is written
atomically, a new file gets mode 0600, an existing one keeps its mode.
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const cmd = "broker update-kubeconfig";
    const { values } = parseFlags(cmd, args, FLAGS);
    const server = normalizeBrokerServer(requireFlag(cmd, values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"));
    const cluster = requireFlag(cmd, values.cluster, "cluster", "pass the cluster's name on the broker ('kubeiam broker clusters' lists them)");
    if (values.kubeconfig !== undefined && values.kubeconfig.trim() === "") {
      throw new UsageError(`${cmd}: --kubeconfig is empty: pass a file path, or leave it out for $KUBECONFIG or ~/.kube/config`);
    }
    const caFile = values["ca-file"] === undefined ? undefined : resolve(values["ca-file"]);
    const ca = caFile === undefined ? undefined : await readBrokerCaFile(caFile);
    const path = resolveKubeconfigPath({ explicit: values.kubeconfig, env: ctx.env });
    const dryRun = values["dry-run"] === true;
    const force = values.force === true;
    // Refuse a file that cannot be written, or a malformed one, before asking the broker anything.
    if (!dryRun) await checkKubeconfigTarget(path, "update", { force });
    const { doc } = await loadKubeconfigDocument(path);
    const token = await resolveBrokerToken(server, ctx.env);
    const text = await fetchBrokerKubeconfig({ server, token, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal }, cluster, "exec");
    const entries = brokerKubeconfigEntries(text, {
      server,
      cluster,
      ...(values.alias === undefined ? {} : { alias: values.alias }),
      ...(values["user-alias"] === undefined ? {} : { userAlias: values["user-alias"] }),
      ...(caFile === undefined ? {} : { caFile }),
    });
    const overwrite = values.overwrite === true;
    const setCurrentContext = values["no-set-current"] !== true;
    const merge = (current: KubeconfigDocument): { text: string; result: MergeKubeconfigResult } => {
      const taken = kubeconfigConflicts(current, entries);
      if (taken.length > 0 && !overwrite) {
        throw new KubeconfigError(
          `${cmd}: ${path} already has ${taken.join(", ")}: pass --overwrite to replace ${taken.length > 1 ? "them" : "it"}, or choose other names with --alias and --user-alias (the file was left unchanged)`,
        );
      }
      const result = mergeKubeconfigEntries(current, entries, { overwrite, setCurrentContext });
      return { text: serializeKubeconfigDocument(current), result };
    };
    if (dryRun) {
      ctx.out(merge(doc).text);
      ctx.err(`${ctx.programName}: dry run: ${path} was not changed\n`);
      return 0;
    }
    // Merged again into the file as it is under the lock: another run may have written it meanwhile.
    let result: MergeKubeconfigResult = { added: [], replaced: [] };
    await editKubeconfigFile(
      path,
      "update",
      (file) => {
        const merged = merge(parseKubeconfigForEdit(file));
        result = merged.result;
        return merged.text;
      },
      { force, signal: ctx.signal },
    );
    if (result.replaced.length > 0) ctx.err(`${ctx.programName}: replaced ${result.replaced.join(", ")}\n`);
    ctx.out(`${result.replaced.some((r) => r.startsWith("context ")) ? "Updated context" : "Added new context"} ${entries.context.name} to ${path} (broker cluster ${cluster} at ${server})\n`);
    return 0;
  },
};
