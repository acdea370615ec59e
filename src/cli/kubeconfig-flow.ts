/**
 * The one flow of every cloud's `update-kubeconfig` (NKS, EKS, GKE): which file, refusing a
 * malformed one before any cloud call, the check for taken names, `--overwrite`, `--dry-run`, the
 * current-context switch, the atomic write, and the lines that say what happened. A cloud's command
 * fetches its entries through its adapter and hands them here. Not a command: command files import
 * this, never each other.
 */
import type { KubeconfigEntriesResult } from "../contract.js";
import { KubeconfigError, UsageError } from "../lib/errors.js";
// Types only: the kubeconfig modules (and the yaml package) load when a flow runs, not when a
// command that also has a `token` subcommand is loaded.
import type { KubeconfigDocument, KubeconfigFormat } from "../kube/kubeconfig.js";
import { debug, parseBoolValue, type CliContext } from "./context.js";
import { warnIfExecMissing } from "./exec-on-path.js";

/**
 * The flow's flags, in every spelling the three tools use: the official ncp-iam-authenticator's
 * `--currentContext=false`, the AWS CLI's and gcloud's `--no-set-current`, and kebab-case. All are
 * parsed as strings so that each also takes `=false` (see `normalizeBoolArgs`).
 */
export const KUBECONFIG_FLOW_FLAGS = {
  kubeconfig: { type: "string" },
  overwrite: { type: "string" },
  "dry-run": { type: "string" },
  currentContext: { type: "string" },
  "current-context": { type: "string" },
  "no-set-current": { type: "string" },
  force: { type: "string" },
} as const;

/** The flow's boolean flags, for `normalizeBoolArgs`. */
export const KUBECONFIG_FLOW_BOOL_FLAGS = ["overwrite", "dry-run", "currentContext", "current-context", "no-set-current", "force"] as const;

/** What the flow's flags asked for. */
export interface KubeconfigFlowOptions {
  /** `--kubeconfig`; else the first entry of `KUBECONFIG`, else `~/.kube/config`. */
  kubeconfig: string | undefined;
  overwrite: boolean;
  dryRun: boolean;
  setCurrentContext: boolean;
  /** Write a kubeconfig whose mode is read-only (`--force`). */
  force: boolean;
}

/**
 * Reads the flow's flags; a contradiction (`--currentContext=true --no-set-current`) or an empty
 * path is a usage error. Touches nothing.
 *
 * @example
 * ```ts
 * const flow = readKubeconfigFlowFlags("eks update-kubeconfig", values);
 * ```
 */
export function readKubeconfigFlowFlags(command: string, values: Record<string, unknown>): KubeconfigFlowOptions {
  const str = (k: string): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const kubeconfig = str("kubeconfig");
  if (kubeconfig !== undefined && kubeconfig.trim() === "") {
    throw new UsageError(`${command}: --kubeconfig is empty: pass a file path, or leave it out for $KUBECONFIG or ~/.kube/config`);
  }
  const camel = str("currentContext");
  const kebab = str("current-context");
  if (camel !== undefined && kebab !== undefined && camel !== kebab) {
    throw new UsageError(`${command}: --currentContext and --current-context are the same flag with different values: give it once`);
  }
  const current = camel ?? kebab;
  const setCurrent = current === undefined ? undefined : parseBoolValue(command, camel !== undefined ? "currentContext" : "current-context", current, true);
  const noSetCurrent = parseBoolValue(command, "no-set-current", str("no-set-current"), false);
  if (setCurrent === true && noSetCurrent) {
    throw new UsageError(`${command}: --currentContext=true and --no-set-current contradict each other: give one`);
  }
  return {
    kubeconfig,
    overwrite: parseBoolValue(command, "overwrite", str("overwrite"), false),
    dryRun: parseBoolValue(command, "dry-run", str("dry-run"), false),
    setCurrentContext: setCurrent ?? !noSetCurrent,
    force: parseBoolValue(command, "force", str("force"), false),
  };
}

/** The file the flow updates, read and checked. */
export interface KubeconfigTarget {
  path: string;
  doc: KubeconfigDocument;
}

/**
 * Picks and reads the kubeconfig to update. Call it before any cloud call: a file that cannot be
 * written (a FIFO, read-only without `--force`) or a malformed one is refused first, and left as it was.
 *
 * @example
 * ```ts
 * const target = await openKubeconfigTarget(flow, ctx);
 * ```
 */
export async function openKubeconfigTarget(flow: KubeconfigFlowOptions, ctx: CliContext): Promise<KubeconfigTarget> {
  const { checkKubeconfigTarget, loadKubeconfigDocument, resolveKubeconfigPath } = await import("../kube/kubeconfig-file.js");
  const path = resolveKubeconfigPath({ explicit: flow.kubeconfig, env: ctx.env });
  if (!flow.dryRun) await checkKubeconfigTarget(path, "update", { force: flow.force });
  const { doc } = await loadKubeconfigDocument(path);
  debug(ctx, `kubeconfig: ${path}`);
  return { path, doc };
}

/** How {@link applyKubeconfigEntries} words and writes its result. */
export interface ApplyKubeconfigOptions {
  /** The flags that rename the entries, for the error on a taken name (`--alias and --user-alias`). */
  renameFlags: string;
  /** The format to write; the file's own by default (a JSON kubeconfig stays JSON). */
  format?: KubeconfigFormat | undefined;
  /** The line on stdout after a write, in the words of the tool this command stands in for. */
  successLine(result: { path: string; context: string; replaced: boolean }): string;
}

/**
 * Merges one cluster's entries into the target and writes it (or prints it, with `--dry-run`). A
 * taken name is refused unless `--overwrite`, naming every taken entry; everything else in the file
 * stays, in its order, with its comments; the write is atomic (0600 when new).
 *
 * @example
 * ```ts
 * return applyKubeconfigEntries("update-kubeconfig", target, built, flow, ctx, {
 *   renameFlags: "--clusterName and --userName",
 *   successLine: () => "kubeconfig updated successfully.",
 * });
 * ```
 */
export async function applyKubeconfigEntries(
  command: string,
  target: KubeconfigTarget,
  built: KubeconfigEntriesResult,
  flow: KubeconfigFlowOptions,
  ctx: CliContext,
  options: ApplyKubeconfigOptions,
): Promise<number> {
  const { kubeconfigConflicts, mergeKubeconfigEntries, serializeKubeconfigDocument } = await import("../kube/kubeconfig.js");
  const { editKubeconfigFile, parseKubeconfigForEdit } = await import("../kube/kubeconfig-file.js");
  const { path } = target;
  const { entries } = built;
  const merge = (doc: KubeconfigDocument): { text: string; taken: string[] } => {
    const taken = kubeconfigConflicts(doc, entries);
    if (taken.length > 0 && !flow.overwrite) {
      throw new KubeconfigError(
        `${command}: the kubeconfig already has ${taken.join(", ")}: pass --overwrite to replace ${taken.length > 1 ? "them" : "it"}, or choose other names with ${options.renameFlags}; ${path} was left unchanged`,
      );
    }
    mergeKubeconfigEntries(doc, entries, { overwrite: flow.overwrite, setCurrentContext: flow.setCurrentContext });
    return { text: serializeKubeconfigDocument(doc, options.format ?? doc.format), taken };
  };
  if (flow.dryRun) {
    const { text } = merge(target.doc);
    if (built.tokenExpiresAt !== undefined) ctx.err(embeddedTokenNote(ctx.programName, built.tokenExpiresAt, ctx.now()));
    ctx.out(text);
    ctx.err(`${ctx.programName}: dry run: ${path} was not changed\n`);
    return 0;
  }
  // Merged again under the file's lock, into the file as it is now: another run may have added entries.
  let taken: string[] = [];
  await editKubeconfigFile(
    path,
    "update",
    (file) => {
      const merged = merge(parseKubeconfigForEdit(file));
      taken = merged.taken;
      return merged.text;
    },
    { force: flow.force, signal: ctx.signal },
  );
  if (built.tokenExpiresAt !== undefined) ctx.err(embeddedTokenNote(ctx.programName, built.tokenExpiresAt, ctx.now()));
  if (taken.length > 0) ctx.err(`${ctx.programName}: replaced ${taken.join(", ")}\n`);
  const context = entries.context.name;
  // The warning first: the last stderr line stays the one that says what was written.
  warnIfExecMissing(ctx, entries);
  ctx.err(`${ctx.programName}: updated ${path} (context ${context}${flow.setCurrentContext ? ", now current" : ""})\n`);
  ctx.out(`${options.successLine({ path, context, replaced: taken.some((t) => t.startsWith("context ")) })}\n`);
  return 0;
}

/**
 * The stderr note for an embedded token: when it stops working, and what to do instead.
 *
 * @example
 * ```ts
 * ctx.err(embeddedTokenNote("kubeiam", expiresAt, ctx.now()));
 * ```
 */
export function embeddedTokenNote(programName: string, expiresAt: Date, now: number): string {
  const minutes = Math.round((expiresAt.getTime() - now) / 60_000);
  return `${programName}: the embedded token expires at ${expiresAt.toISOString()} (in ${minutes} minutes): run this again for a new one, or drop --embed-token for a kubeconfig that renews its own tokens\n`;
}
