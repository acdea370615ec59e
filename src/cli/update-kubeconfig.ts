/**
 * `update-kubeconfig`: merges one NKS cluster's entries into an existing kubeconfig (the first
 * `KUBECONFIG` entry or `~/.kube/config`), keeping everything else as it was.
 */
import { UsageError } from "../lib/errors.js";
import { kubeconfigConflicts, mergeKubeconfigEntries, serializeKubeconfigDocument, type KubeconfigDocument } from "../kube/kubeconfig.js";
import { checkKubeconfigTarget, editKubeconfigFile, loadKubeconfigDocument, parseKubeconfigForEdit, resolveKubeconfigPath } from "../kube/kubeconfig-file.js";
import {
  NKS_BOOL_FLAGS,
  NKS_KUBECONFIG_FLAGS,
  embeddedTokenNote,
  fetchNksEntries,
  normalizeBoolArgs,
  readNksKubeconfigFlags,
} from "./create-kubeconfig.js";
import { parseBoolValue, parseFlags, type CliContext, type Command } from "./context.js";

const FLAGS = {
  ...NKS_KUBECONFIG_FLAGS,
  kubeconfig: { type: "string" },
  overwrite: { type: "string" },
  currentContext: { type: "string" },
  "current-context": { type: "string" },
  "dry-run": { type: "string" },
  force: { type: "string" },
} as const;

const BOOL_FLAGS = [...NKS_BOOL_FLAGS, "overwrite", "currentContext", "current-context", "dry-run", "force"] as const;

export const updateKubeconfigCommand: Command = {
  summary: "update Kubeconfig to access kubernetes",
  help: `Adds one NKS cluster to an existing kubeconfig: its cluster, user and context entries.

Usage:
  update-kubeconfig --clusterUuid UUID --region CODE [flags]

Flags:
  --clusterUuid, --cluster-uuid UUID   the cluster's UUID (required)
  --region CODE                        the cluster's region code: KR, SGN, JPN, FKR, … (required)
  --kubeconfig FILE                    the file to update (default: the first entry of $KUBECONFIG,
                                       else ~/.kube/config; created when missing)
  --overwrite                          replace entries whose names are taken (default: refuse)
  --currentContext=false               leave current-context as it is (default: switch to the new context)
  --dry-run                            print the updated kubeconfig instead of writing it
  --force                              write a kubeconfig whose mode is read-only (default: refuse)
  --format yaml|json                   the file's format (default: the existing file's, else yaml)
  --clusterName, --cluster-name NAME   the kubeconfig's cluster name (default: nks_{region}_{name}_{uuid})
  --userName, --user-name NAME         the kubeconfig's user name (default: the same)
  --embed-token                        put a fresh token in the file instead of an exec plugin
  --exec-command CMD                   the plugin to run (default: ncp-iam-authenticator)
  --exec-api-version v1|v1beta1        the exec plugin's apiVersion (default: v1beta1)
  --profile NAME                       section of the configure file (also passed to the plugin)
  --credentialConfig PATH              configure file (default: ~/.ncloud/configure; passed to the plugin)
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
    const overwrite = parseBoolValue(command, "overwrite", values.overwrite, false);
    const dryRun = parseBoolValue(command, "dry-run", values["dry-run"], false);
    const camel = values.currentContext;
    const kebab = values["current-context"];
    if (camel !== undefined && kebab !== undefined && camel !== kebab) {
      throw new UsageError(`${command}: --currentContext and --current-context are the same flag with different values: give it once`);
    }
    const setCurrentContext = parseBoolValue(command, "currentContext", camel ?? kebab, true);
    if (values.kubeconfig !== undefined && values.kubeconfig.trim() === "") {
      throw new UsageError(`${command}: --kubeconfig is empty: pass a file path, or leave it out for $KUBECONFIG or ~/.kube/config`);
    }
    const path = resolveKubeconfigPath({ explicit: values.kubeconfig, env: ctx.env });

    const force = parseBoolValue(command, "force", values.force, false);
    // Refuse a file that cannot be written, or a malformed one, before any API call.
    if (!dryRun) await checkKubeconfigTarget(path, "update", { force });
    const { doc } = await loadKubeconfigDocument(path);
    const built = await fetchNksEntries(request, ctx);
    if (built.tokenExpiresAt !== undefined) ctx.err(embeddedTokenNote(ctx.programName, built.tokenExpiresAt, ctx.now()));
    // --format when given; otherwise the file keeps its own format (a JSON kubeconfig stays JSON).
    const merged = (current: KubeconfigDocument): { text: string; replaced: string[] } => {
      const replaced = overwrite ? kubeconfigConflicts(current, built.entries) : [];
      mergeKubeconfigEntries(current, built.entries, { overwrite, setCurrentContext });
      return { text: serializeKubeconfigDocument(current, values.format === undefined ? current.format : request.format), replaced };
    };
    if (dryRun) {
      ctx.out(merged(doc).text);
      ctx.err(`${ctx.programName}: dry run: ${path} was not changed\n`);
      return 0;
    }
    // Merged again under the file's lock, into the file as it is now: another run may have added entries.
    let replaced: string[] = [];
    await editKubeconfigFile(
      path,
      "update",
      (file) => {
        const result = merged(parseKubeconfigForEdit(file));
        replaced = result.replaced;
        return result.text;
      },
      { force, signal: ctx.signal },
    );
    if (replaced.length > 0) ctx.err(`${ctx.programName}: replaced ${replaced.join(", ")}\n`);
    ctx.err(
      `${ctx.programName}: updated ${path} (context ${built.entries.context.name}${setCurrentContext ? ", now current" : ""})\n`,
    );
    // The official tool's line, word for word.
    ctx.out("kubeconfig updated successfully.\n");
    return 0;
  },
};
