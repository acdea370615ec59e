/**
 * `create-kubeconfig`: writes a kubeconfig for one NKS cluster to its own file, with the official
 * ncp-iam-authenticator's flags, file name and names.
 */
import { resolve } from "node:path";
import { KubeconfigError, UsageError } from "../lib/errors.js";
import { kubeconfigEntriesBeyond, kubeconfigOf, parseKubeconfig, serializeKubeconfig, type KubeconfigEntries } from "../kube/kubeconfig.js";
import { checkKubeconfigTarget, editKubeconfigFile } from "../kube/kubeconfig-file.js";
import { normalizeBoolArgs, parseBoolValue, parseFlags, type CliContext, type Command } from "./context.js";
import { KUBECONFIG_FLOW_FLAGS, embeddedTokenNote, readNamespaceFlag, withContextNamespace } from "./kubeconfig-flow.js";
import { NKS_BOOL_FLAGS, NKS_KUBECONFIG_FLAGS, NKS_KUBECONFIG_FLAG_HINTS, fetchNksEntries, readNksKubeconfigFlags } from "./nks-flags.js";
import { warnIfExecMissing } from "./exec-on-path.js";

/** create-kubeconfig's own boolean flags. */
const CREATE_BOOL_FLAGS = [...NKS_BOOL_FLAGS, "overwrite", "force"] as const;

const FLAGS = {
  ...NKS_KUBECONFIG_FLAGS,
  output: { type: "string", short: "o" },
  overwrite: { type: "string" },
  force: { type: "string" },
  namespace: KUBECONFIG_FLOW_FLAGS.namespace,
} as const;

/**
 * Refuses to replace a file that holds more than this cluster's entries (other clusters' contexts,
 * or text that is not a kubeconfig): one line naming what would be lost. Empty, or only this
 * cluster's entries, may be replaced.
 */
function refuseLosingEntries(output: string, text: string, entries: KubeconfigEntries): void {
  if (text.trim() === "") return;
  let existing;
  try {
    existing = parseKubeconfig(text);
  } catch {
    throw new KubeconfigError(
      `create-kubeconfig: ${output} already exists and is not a kubeconfig that kubeiam can read: pass --overwrite to replace it, or -o another file (it was left unchanged)`,
    );
  }
  const lost = kubeconfigEntriesBeyond(existing, entries);
  if (lost.length === 0) return;
  const shown = lost.length > 4 ? `${lost.slice(0, 4).join(", ")} and ${lost.length - 4} more` : lost.join(", ");
  throw new KubeconfigError(
    `create-kubeconfig: ${output} holds ${shown}, which replacing it would lose: add this cluster to it with 'update-kubeconfig --kubeconfig ${output}', pass --overwrite to replace it, or -o another file (it was left unchanged)`,
  );
}

export const createKubeconfigCommand: Command = {
  options: { "": FLAGS },
  summary: "Get Kubeconfig to access kubernetes",
  flags: NKS_KUBECONFIG_FLAG_HINTS,
  help: `Writes a kubeconfig for one NKS cluster to its own file.

Usage:
  create-kubeconfig --clusterUuid UUID --region CODE [flags]

Flags:
  --clusterUuid, --cluster-uuid UUID   the cluster's UUID (required)
  --region CODE                        the cluster's region code: KR, SGN, JPN, FKR, … (required)
  -o, --output FILE                    where to write (default: kubeconfig-{uuid}.{format} here);
                                       - prints the kubeconfig on stdout
  --overwrite                          replace a file that holds other clusters' entries (default: refuse)
  --force                              write a file whose mode is read-only (default: refuse)
  --format yaml|json                   the file's format (default: yaml)
  --clusterName, --cluster-name NAME   the kubeconfig's cluster name (default: nks_{region}_{name}_{uuid})
  --userName, --user-name NAME         the kubeconfig's user name (default: the same)
                                       the context is named like them, or user@cluster when one is given
  --alias NAME                         the context's name (default: as above)
  --namespace NS                       the context's default namespace (default: none, so "default")
  --embed-token                        put a fresh token in the file instead of an exec plugin
                                       (it stops working after 5 minutes; until when to use it goes to stderr)
  --exec-command CMD                   the plugin to run (default: ncp-iam-authenticator); a name on
                                       PATH, an absolute path, or a .js file (run with node)
  --exec-api-version v1|v1beta1        the exec plugin's apiVersion (default: v1beta1)
  --profile NAME                       section of the configure file (also passed to the plugin)
  --credentialConfig, --credential-config PATH
                                       configure file (default: ~/.ncloud/configure; passed to the plugin)
  -h, --help                           this help

A cluster that is still being created is refused: it has no kubeconfig yet.
The file is written atomically under <file>.lock, with mode 0600 when new. A file holding only this
cluster's entries is replaced; one holding others is refused unless --overwrite. Only a regular file
is replaced: a symbolic link is followed, and a device or FIFO is written in place.
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("create-kubeconfig", normalizeBoolArgs(args, CREATE_BOOL_FLAGS), FLAGS);
    const request = readNksKubeconfigFlags("create-kubeconfig", values, ctx);
    const namespace = readNamespaceFlag("create-kubeconfig", values.namespace);
    if (values.output !== undefined && values.output.trim() === "") {
      throw new UsageError("create-kubeconfig: --output is empty: pass a file path, or leave it out for kubeconfig-{uuid}.yaml");
    }
    const output = values.output ?? `kubeconfig-${request.clusterUuid}.${request.format}`;
    const overwrite = parseBoolValue("create-kubeconfig", "overwrite", values.overwrite, false);
    const force = parseBoolValue("create-kubeconfig", "force", values.force, false);
    const toStdout = output === "-";
    if (!toStdout) await checkKubeconfigTarget(output, "replace", { force });
    const fetched = await fetchNksEntries(request, ctx);
    const built = { ...fetched, entries: withContextNamespace(fetched.entries, namespace) };
    const text = serializeKubeconfig(kubeconfigOf(built.entries), request.format);
    if (built.tokenRefreshAt !== undefined) ctx.err(embeddedTokenNote(ctx.programName, built.tokenRefreshAt, ctx.now()));
    if (toStdout) {
      // stdout holds the kubeconfig alone, so it can be piped or redirected.
      ctx.out(text);
      return 0;
    }
    await editKubeconfigFile(
      output,
      "replace",
      (file) => {
        if (!overwrite) refuseLosingEntries(output, file.text, built.entries);
        return text;
      },
      { force, signal: ctx.signal },
    );
    ctx.err(`${ctx.programName}: wrote ${resolve(output)} (context ${built.entries.context.name})\n`);
    warnIfExecMissing(ctx, built.entries);
    // The official tool's line, word for word.
    ctx.out("kubeconfig created successfully.\n");
    return 0;
  },
};
