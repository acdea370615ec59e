/**
 * The one flow of every cloud's `update-kubeconfig` (NKS, EKS, GKE): which file, refusing a
 * malformed one before any cloud call, the check for taken names, `--overwrite`, `--dry-run`,
 * `--namespace`, the current-context switch, the atomic write, and the lines that say what happened.
 * Also the flags whose meaning is the same for every cloud's kubeconfig (`--exec-command`, a name such
 * as `--alias`), read and checked once. A cloud's command fetches its entries through its adapter and
 * hands them here. Not a command: command files import this, never each other.
 */
import { isAbsolute, resolve } from "node:path";
import type { KubeconfigEntriesResult } from "../contract.js";
import { KubeconfigError, UsageError } from "../lib/errors.js";
import { quoted } from "../lib/printable.js";
// Types only: the kubeconfig modules (and the yaml package) load when a flow runs, not when a
// command that also has a `token` subcommand is loaded.
import type { KubeconfigDocument, KubeconfigEntries, KubeconfigFormat } from "../kube/kubeconfig.js";
import type { KubeconfigFile } from "../kube/kubeconfig-file.js";
import type { KubeconfigText } from "../kube/kubeconfig-text.js";
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
  namespace: { type: "string" },
} as const;

/** `--exec-command`, for the commands that write a kubeiam exec user (each cloud's, not the broker's). */
export const EXEC_COMMAND_FLAGS = {
  "exec-command": { type: "string" },
} as const;

/** What `--exec-command` asks for: the command, and the script before the plugin's own arguments. */
export interface ExecCommandChoice {
  execCommand: string;
  /** `[script]` when the command is `node` running a `.js` file. */
  execCommandArgs?: string[];
}

/**
 * Reads `--exec-command`: a command on PATH, an absolute path, or a `.js` (`.mjs`, `.cjs`) file, run
 * with `node` since a built script need not be executable. A relative path is made absolute: kubectl
 * runs the plugin from its own working folder. Empty or control characters: a usage error.
 *
 * @example
 * ```ts
 * readExecCommandFlag("eks update-kubeconfig", "./dist/cli/main.js");
 * // { execCommand: "node", execCommandArgs: ["/home/me/kubeiam/dist/cli/main.js"] }
 * ```
 */
export function readExecCommandFlag(command: string, value: string | undefined): ExecCommandChoice | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "" || /[\p{Cc}]/u.test(value)) {
    throw new UsageError(`${command}: --exec-command is empty or holds control characters: name a command or a path`);
  }
  const isPath = value.includes("/") || value.includes("\\");
  const path = isPath && !isAbsolute(value) ? resolve(value) : value;
  if (/\.(?:c|m)?js$/.test(path)) return { execCommand: "node", execCommandArgs: [isPath ? path : resolve(path)] };
  return { execCommand: path };
}

// A namespace name is a DNS-1123 label (what the API server accepts for metadata.name of a Namespace).
const DNS_1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/**
 * Reads `--namespace`: a DNS-1123 label (at most 63 lower-case letters, digits and `-`, starting and
 * ending with a letter or digit), or a usage error saying so.
 *
 * @example
 * ```ts
 * readNamespaceFlag("update-kubeconfig", "team-a"); // "team-a"
 * ```
 */
export function readNamespaceFlag(command: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === "") throw new UsageError(`${command}: --namespace is empty: name a namespace, for example --namespace team-a, or leave the flag out`);
  if (value.length > 63 || !DNS_1123_LABEL.test(value)) {
    throw new UsageError(
      `${command}: --namespace ${quoted(value, 64)} is not a namespace name: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (for example team-a)`,
    );
  }
  return value;
}

/**
 * Reads a flag that names a kubeconfig entry (`--alias`, `--user-alias`): any text but empty, blank,
 * or holding control characters, which kubectl could not show or select.
 *
 * @example
 * ```ts
 * readEntryNameFlag("update-kubeconfig", "alias", values.alias); // "prod-kr"
 * ```
 */
export function readEntryNameFlag(command: string, flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "" || /[\p{Cc}]/u.test(value)) {
    throw new UsageError(`${command}: --${flag} is empty or holds control characters: pass a plain name, or leave the flag out for the default`);
  }
  return value;
}

/**
 * The entries with the context's default namespace set (a copy; `undefined` leaves them as they are).
 *
 * @example
 * ```ts
 * const entries = withContextNamespace(built.entries, "team-a");
 * ```
 */
export function withContextNamespace(entries: KubeconfigEntries, namespace: string | undefined): KubeconfigEntries {
  if (namespace === undefined) return entries;
  return { ...entries, context: { ...entries.context, context: { ...entries.context.context, namespace } } };
}

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
  /** `--namespace`: the new context's default namespace. */
  namespace: string | undefined;
}

/**
 * Reads the flow's flags; a contradiction (`--currentContext=true --no-set-current`), an empty
 * path or a namespace that is not a DNS-1123 label is a usage error. Touches nothing.
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
    namespace: readNamespaceFlag(command, str("namespace")),
  };
}

/** The file the flow updates, read and checked. */
export interface KubeconfigTarget {
  path: string;
  /**
   * The file as text the splicing editor reads (src/kube/kubeconfig-text.ts): block YAML as kubectl
   * and kubeiam write it. Absent when the file is outside that subset; `doc` is then the parsed file.
   */
  scanned?: KubeconfigText;
  /** The file parsed in full, when it could not be scanned. */
  doc?: KubeconfigDocument;
  /** The file as read; under the lock, the write reuses `scanned` or `doc` when the file has not changed since. */
  file: KubeconfigFile;
}

/**
 * Picks and reads the kubeconfig to update. Call it before any cloud call: a file that cannot be
 * written (a FIFO, read-only without `--force`) or a malformed one is refused first, and left as it was.
 * A file in kubectl's block style is only scanned (milliseconds for thousands of contexts); any
 * other is parsed in full by the yaml package, which refuses a malformed one.
 *
 * @example
 * ```ts
 * const target = await openKubeconfigTarget(flow, ctx);
 * ```
 */
export async function openKubeconfigTarget(flow: KubeconfigFlowOptions, ctx: CliContext): Promise<KubeconfigTarget> {
  const { checkKubeconfigTarget, readKubeconfigFile, resolveKubeconfigPath } = await import("../kube/kubeconfig-file.js");
  const path = resolveKubeconfigPath({ explicit: flow.kubeconfig, env: ctx.env });
  if (!flow.dryRun) await checkKubeconfigTarget(path, "update", { force: flow.force });
  const file = await readKubeconfigFile(path);
  debug(ctx, `kubeconfig: ${path}`);
  return { path, file, ...(await readKubeconfig(file, ctx)) };
}

/** A kubeconfig read for the edit: scanned as text when it can be, else parsed in full (refused when malformed). */
async function readKubeconfig(file: KubeconfigFile, ctx: CliContext): Promise<{ scanned: KubeconfigText } | { doc: KubeconfigDocument }> {
  const { scanKubeconfigText } = await import("../kube/kubeconfig-text.js");
  const scanned = scanKubeconfigText(file.text);
  if (scanned !== undefined) return { scanned };
  debug(ctx, "kubeconfig: not in kubectl's block style, parsed in full");
  const { parseKubeconfigForEdit } = await import("../kube/kubeconfig-file.js");
  return { doc: parseKubeconfigForEdit(file) };
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
  const { path } = target;
  const entries = withContextNamespace(built.entries, flow.namespace);
  const refuseTaken = (taken: string[]): void => {
    if (taken.length > 0 && !flow.overwrite) {
      throw new KubeconfigError(
        `${command}: the kubeconfig already has ${taken.join(", ")}: pass --overwrite to replace ${taken.length > 1 ? "them" : "it"}, or choose other names with ${options.renameFlags}; ${path} was left unchanged`,
      );
    }
  };
  const merge = async (read: { scanned?: KubeconfigText; doc?: KubeconfigDocument }, file: KubeconfigFile): Promise<{ text: string; taken: string[] }> => {
    const merge = { overwrite: flow.overwrite, setCurrentContext: flow.setCurrentContext };
    // The splice keeps the file's YAML; a JSON kubeconfig, or --format json, takes the full path.
    if (read.scanned !== undefined && options.format !== "json") {
      const { kubeconfigTextConflicts, spliceKubeconfigEntries } = await import("../kube/kubeconfig-text.js");
      const taken = kubeconfigTextConflicts(read.scanned, entries);
      refuseTaken(taken);
      return { text: spliceKubeconfigEntries(read.scanned, entries, merge).text, taken };
    }
    const { kubeconfigConflicts, mergeKubeconfigEntries, serializeKubeconfigDocument } = await import("../kube/kubeconfig.js");
    const { parseKubeconfigForEdit } = await import("../kube/kubeconfig-file.js");
    const doc = read.doc ?? parseKubeconfigForEdit(file);
    const taken = kubeconfigConflicts(doc, entries);
    refuseTaken(taken);
    mergeKubeconfigEntries(doc, entries, merge);
    return { text: serializeKubeconfigDocument(doc, options.format ?? doc.format), taken };
  };
  if (flow.dryRun) {
    const { text } = await merge(target, target.file);
    if (built.tokenRefreshAt !== undefined) ctx.err(embeddedTokenNote(ctx.programName, built.tokenRefreshAt, ctx.now()));
    ctx.out(text);
    ctx.err(`${ctx.programName}: dry run: ${path} was not changed\n`);
    return 0;
  }
  const { editKubeconfigFile } = await import("../kube/kubeconfig-file.js");
  // Merged under the file's lock into the file as it is now: another run may have added entries since
  // it was read. Read again only then: the file is looked at (device, inode, size, mtime, ctime), and
  // what was scanned or parsed before the API call is used when nothing changed.
  let taken: string[] = [];
  await editKubeconfigFile(
    path,
    "update",
    async (file) => {
      const reused = file === target.file;
      debug(ctx, reused ? "kubeconfig: unchanged under the lock, parsed once" : "kubeconfig: changed since it was read, parsed again under the lock");
      const merged = await merge(reused ? target : await readKubeconfig(file, ctx), file);
      taken = merged.taken;
      return merged.text;
    },
    { force: flow.force, signal: ctx.signal, current: target.file },
  );
  if (built.tokenRefreshAt !== undefined) ctx.err(embeddedTokenNote(ctx.programName, built.tokenRefreshAt, ctx.now()));
  if (taken.length > 0) ctx.err(`${ctx.programName}: replaced ${taken.join(", ")}\n`);
  const context = entries.context.name;
  // The warning first: the last stderr line stays the one that says what was written.
  warnIfExecMissing(ctx, entries);
  ctx.err(`${ctx.programName}: updated ${path} (context ${context}${flow.setCurrentContext ? ", now current" : ""})\n`);
  ctx.out(`${options.successLine({ path, context, replaced: taken.some((t) => t.startsWith("context ")) })}\n`);
  return 0;
}

/**
 * The stderr note for an embedded token: until when to use it (its `refreshAt`, a minute before it
 * stops working: 4 minutes for NKS, 14 for EKS), and what to do instead.
 *
 * @example
 * ```ts
 * ctx.err(embeddedTokenNote("kubeiam", built.tokenRefreshAt, ctx.now()));
 * ```
 */
export function embeddedTokenNote(programName: string, refreshAt: Date, now: number): string {
  const minutes = Math.round((refreshAt.getTime() - now) / 60_000);
  return `${programName}: the embedded token is good until ${refreshAt.toISOString()} (in ${minutes} minutes): run this again for a new one, or drop --embed-token for a kubeconfig that renews its own tokens\n`;
}
