/**
 * `update-kubeconfig`: merges one NKS cluster's entries into an existing kubeconfig (the first
 * `KUBECONFIG` entry or `~/.kube/config`), keeping everything else as it was, through the flow that
 * every cloud's update-kubeconfig shares.
 */
import { normalizeBoolArgs, parseFlags, type CliContext, type Command } from "./context.js";
import {
  KUBECONFIG_FLOW_BOOL_FLAGS,
  KUBECONFIG_FLOW_FLAGS,
  applyKubeconfigEntries,
  openKubeconfigTarget,
  readKubeconfigFlowFlags,
} from "./kubeconfig-flow.js";
import { NKS_BOOL_FLAGS, NKS_KUBECONFIG_FLAGS, NKS_KUBECONFIG_FLAG_HINTS, fetchNksEntries, readNksKubeconfigFlags } from "./nks-flags.js";

const FLAGS = { ...NKS_KUBECONFIG_FLAGS, ...KUBECONFIG_FLOW_FLAGS } as const;

const BOOL_FLAGS = [...NKS_BOOL_FLAGS, ...KUBECONFIG_FLOW_BOOL_FLAGS] as const;

export const updateKubeconfigCommand: Command = {
  options: { "": FLAGS },
  summary: "update Kubeconfig to access kubernetes",
  flags: NKS_KUBECONFIG_FLAG_HINTS,
  help: `Adds one NKS cluster to an existing kubeconfig: its cluster, user and context entries.

Usage:
  update-kubeconfig --clusterUuid UUID --region CODE [flags]

Flags:
  --clusterUuid, --cluster-uuid UUID   the cluster's UUID (required)
  --region CODE                        the cluster's region code: KR, SGN, JPN, FKR, … (required)
  --kubeconfig FILE                    the file to update (default: the first entry of $KUBECONFIG,
                                       else ~/.kube/config; created when missing)
  --overwrite                          replace entries whose names are taken (default: refuse)
  --currentContext=false               leave current-context as it is (default: switch to the new context);
                                       also --current-context false, --no-set-current
  --dry-run                            print the updated kubeconfig instead of writing it
  --force                              write a kubeconfig whose mode is read-only (default: refuse)
  --format yaml|json                   the file's format (default: the existing file's, else yaml)
  --clusterName, --cluster-name NAME   the kubeconfig's cluster name (default: nks_{region}_{name}_{uuid})
  --userName, --user-name NAME         the kubeconfig's user name (default: the same)
  --alias NAME                         the context's name (default: the cluster's, or user@cluster when
                                       --clusterName or --userName is given)
  --namespace NS                       the context's default namespace (default: none, so "default")
  --embed-token                        put a fresh token in the file instead of an exec plugin
  --exec-command CMD                   the plugin to run (default: ncp-iam-authenticator); a name on
                                       PATH, an absolute path, or a .js file (run with node)
  --exec-api-version v1|v1beta1        the exec plugin's apiVersion (default: v1beta1)
  --profile NAME                       section of the configure file (also passed to the plugin)
  --credentialConfig, --credential-config PATH
                                       configure file (default: ~/.ncloud/configure; passed to the plugin)
  -h, --help                           this help

Other clusters, users and contexts stay as they were, in their order, with their comments. A
malformed kubeconfig is refused and left untouched. The file is written atomically under
<file>.lock (as kubectl locks it), so runs at once keep each other's entries; a new file gets mode
0600, an existing one keeps its mode. Only a regular file is replaced: a symbolic link is followed
(a dangling one creates its target), a character device such as /dev/null is written in place, and
a FIFO is refused.
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const command = "update-kubeconfig";
    const { values } = parseFlags(command, normalizeBoolArgs(args, BOOL_FLAGS), FLAGS);
    const request = readNksKubeconfigFlags(command, values, ctx);
    const flow = readKubeconfigFlowFlags(command, values);
    // Refuse a malformed file before any API call.
    const target = await openKubeconfigTarget(flow, ctx);
    const built = await fetchNksEntries(request, ctx);
    return applyKubeconfigEntries(command, target, built, flow, ctx, {
      renameFlags: "--clusterName, --userName and --alias",
      // --format when given; otherwise the file keeps its own format (a JSON kubeconfig stays JSON).
      format: values.format === undefined ? undefined : request.format,
      // The official tool's line, word for word.
      successLine: () => "kubeconfig updated successfully.",
    });
  },
};
