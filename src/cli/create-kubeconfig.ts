/**
 * `create-kubeconfig`: writes a kubeconfig for one NKS cluster to its own file, with the official
 * ncp-iam-authenticator's flags, file name and names; also the flags and checks that
 * `update-kubeconfig` shares with it.
 */
import { isAbsolute, resolve } from "node:path";
import { KubeconfigError, UsageError } from "../lib/errors.js";
import type { ExecApiVersion } from "../kube/exec-credential.js";
import { parseExecApiVersion } from "../kube/exec-credential.js";
import { kubeconfigEntriesBeyond, kubeconfigOf, parseKubeconfig, serializeKubeconfig, type KubeconfigEntries, type KubeconfigFormat } from "../kube/kubeconfig.js";
import { checkKubeconfigTarget, editKubeconfigFile } from "../kube/kubeconfig-file.js";
import { createNcpApiClient } from "../ncp/api.js";
import { assertNcpClusterReady, ncpKubeconfigEntries, type NcpKubeconfigOptions } from "../ncp/cluster.js";
import { defaultNcpConfigFile, resolveNcpCredentials } from "../ncp/credentials.js";
import { normalizeNcpRegion } from "../ncp/region.js";
import { checkClusterUuid } from "../ncp/token.js";
import { NCP_GLOBAL_FLAGS, eitherFlag, parseBoolValue, parseFlags, requireFlag, retryProgress, warnUnknownNcpRegion, type CliContext, type Command } from "./context.js";

/** The flags that create-kubeconfig and update-kubeconfig share. */
export const NKS_KUBECONFIG_FLAGS = {
  ...NCP_GLOBAL_FLAGS,
  clusterUuid: { type: "string" },
  "cluster-uuid": { type: "string" },
  region: { type: "string" },
  format: { type: "string" },
  clusterName: { type: "string" },
  "cluster-name": { type: "string" },
  userName: { type: "string" },
  "user-name": { type: "string" },
  "embed-token": { type: "string" },
  "exec-command": { type: "string" },
  "exec-api-version": { type: "string" },
} as const;

/** Boolean flags that, like Go's pflag, also take `--flag=false`. */
export const NKS_BOOL_FLAGS = ["embed-token"] as const;

/** create-kubeconfig's own boolean flags. */
const CREATE_BOOL_FLAGS = [...NKS_BOOL_FLAGS, "overwrite", "force"] as const;

/**
 * Rewrites a bare boolean flag (`--overwrite`) to `--overwrite=true`, so that the flag can be parsed
 * as a string and also take `--overwrite=false`, as the official tool's flags do.
 *
 * @example
 * ```ts
 * normalizeBoolArgs(["--overwrite", "--currentContext=false"], ["overwrite", "currentContext"]);
 * // ["--overwrite=true", "--currentContext=false"]
 * ```
 */
export function normalizeBoolArgs(args: string[], flags: readonly string[]): string[] {
  return args.map((a) => (flags.some((f) => a === `--${f}`) ? `${a}=true` : a));
}

/** Everything the two commands need to fetch and build a cluster's entries. */
export interface NksKubeconfigRequest {
  clusterUuid: string;
  region: string;
  format: KubeconfigFormat;
  embed: boolean;
  profile: string | undefined;
  configFile: string | undefined;
  options: NcpKubeconfigOptions;
  /** `--debug`: retry progress on stderr even when it is not a terminal. */
  debug: boolean;
}

/**
 * Reads and checks the shared flags; throws a usage error naming a bad one. Touches nothing.
 *
 * @example
 * ```ts
 * const { values } = parseFlags("create-kubeconfig", args, NKS_KUBECONFIG_FLAGS);
 * const request = readNksKubeconfigFlags("create-kubeconfig", values, ctx);
 * ```
 */
export function readNksKubeconfigFlags(command: string, values: Record<string, unknown>, ctx: CliContext): NksKubeconfigRequest {
  const clusterUuid = requireFlag(
    command,
    eitherFlag(command, values, "clusterUuid", "cluster-uuid"),
    "clusterUuid",
    // Under its official name the program has no 'clusters' command: point at the console instead.
    `pass the cluster's UUID, for example --clusterUuid 3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b (${ctx.programName === "kubeiam" ? "'kubeiam clusters --region KR' lists them" : "the NKS console lists them"})`,
  );
  const region = requireFlag(command, typeof values.region === "string" ? values.region : undefined, "region", "pass the cluster's region code, for example --region KR");
  checkClusterUuid(clusterUuid);
  const normalizedRegion = normalizeNcpRegion(region);
  const format = parseFormat(command, typeof values.format === "string" ? values.format : undefined);
  const embed = parseBoolValue(command, "embed-token", typeof values["embed-token"] === "string" ? values["embed-token"] : undefined, false);
  const execCommand = typeof values["exec-command"] === "string" ? values["exec-command"] : undefined;
  const execApiRaw = typeof values["exec-api-version"] === "string" ? values["exec-api-version"] : undefined;
  if (embed && (execCommand !== undefined || execApiRaw !== undefined)) {
    throw new UsageError(`${command}: --embed-token writes a token, not an exec plugin: drop --exec-command and --exec-api-version, or drop --embed-token`);
  }
  let execApiVersion: ExecApiVersion | undefined;
  if (execApiRaw !== undefined) {
    try {
      execApiVersion = parseExecApiVersion(execApiRaw);
    } catch {
      throw new UsageError(`${command}: --exec-api-version ${JSON.stringify(execApiRaw)} is not supported: use v1 or v1beta1`);
    }
  }
  const configFile = eitherFlag(command, values, "credentialConfig", "credential-config");
  if (configFile !== undefined && configFile.trim() === "") {
    throw new UsageError(`${command}: --credentialConfig is empty: pass the path of a configure file`);
  }
  const profile = typeof values.profile === "string" && values.profile.trim() !== "" ? values.profile : undefined;
  const options: NcpKubeconfigOptions = { mode: embed ? "embed" : "exec" };
  const clusterName = eitherFlag(command, values, "clusterName", "cluster-name");
  const userName = eitherFlag(command, values, "userName", "user-name");
  if (clusterName !== undefined) options.clusterName = clusterName;
  if (userName !== undefined) options.userName = userName;
  if (execCommand !== undefined) Object.assign(options, execCommandOptions(command, execCommand));
  if (execApiVersion !== undefined) options.execApiVersion = execApiVersion;
  // The plugin runs wherever kubectl runs: name the configure file by an absolute path, and only when
  // it is not the default one (as the official tool does).
  if (configFile !== undefined) {
    const absolute = resolve(configFile);
    if (absolute !== defaultNcpConfigFile(ctx.env)) options.credentialConfig = absolute;
  }
  if (profile !== undefined) options.profile = profile;
  return { clusterUuid, region: normalizedRegion, format, embed, profile, configFile, options, debug: values.debug === true };
}

function parseFormat(command: string, value: string | undefined): KubeconfigFormat {
  if (value === undefined || value === "yaml" || value === "yml") return "yaml";
  if (value === "json") return "json";
  throw new UsageError(`${command}: --format ${JSON.stringify(value)} is not supported: use yaml or json`);
}

/**
 * `--exec-command`: a command on PATH, an absolute path, or a `.js` file (run with `node`, since a
 * built script need not be executable). Relative paths are made absolute: kubectl may run elsewhere.
 */
function execCommandOptions(command: string, value: string): Pick<NcpKubeconfigOptions, "execCommand" | "execCommandArgs"> {
  if (value.trim() === "" || /[\p{Cc}]/u.test(value)) {
    throw new UsageError(`${command}: --exec-command is empty or holds control characters: name a command or a path`);
  }
  const isPath = value.includes("/") || value.includes("\\");
  const path = isPath && !isAbsolute(value) ? resolve(value) : value;
  if (/\.(?:c|m)?js$/.test(path)) return { execCommand: "node", execCommandArgs: [isPath ? path : resolve(path)] };
  return { execCommand: path };
}

/**
 * Fetches the cluster (refusing one still being created) and builds its entries.
 *
 * @example
 * ```ts
 * const { entries, tokenExpiresAt } = await fetchNksEntries(request, ctx);
 * ```
 */
export async function fetchNksEntries(
  request: NksKubeconfigRequest,
  ctx: CliContext,
): Promise<{ entries: KubeconfigEntries; tokenExpiresAt?: Date; clusterName: string }> {
  const credentials = resolveNcpCredentials({ env: ctx.env, profile: request.profile, configFile: request.configFile });
  for (const warning of credentials.warnings) ctx.err(`${ctx.programName}: warning: ${warning}\n`);
  warnUnknownNcpRegion(ctx, request.region);
  const api = createNcpApiClient({
    credentials,
    region: request.region,
    now: ctx.now,
    signal: ctx.signal,
    onRetry: retryProgress(ctx, "NCP API", request.debug),
  });
  const cluster = await api.getCluster(request.clusterUuid);
  assertNcpClusterReady(cluster, request.region);
  const baseKubeconfig = await api.getKubeconfig(request.clusterUuid);
  const built = ncpKubeconfigEntries({ cluster, baseKubeconfig, region: request.region, options: request.options, credentials, now: ctx.now() });
  return { ...built, clusterName: cluster.name };
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

const FLAGS = {
  ...NKS_KUBECONFIG_FLAGS,
  output: { type: "string", short: "o" },
  overwrite: { type: "string" },
  force: { type: "string" },
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
  summary: "Get Kubeconfig to access kubernetes",
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
  --embed-token                        put a fresh token in the file instead of an exec plugin
                                       (it stops working after 15 minutes; its expiry goes to stderr)
  --exec-command CMD                   the plugin to run (default: ncp-iam-authenticator); a name on
                                       PATH, an absolute path, or a .js file (run with node)
  --exec-api-version v1|v1beta1        the exec plugin's apiVersion (default: v1beta1)
  --profile NAME                       section of the configure file (also passed to the plugin)
  --credentialConfig PATH              configure file (default: ~/.ncloud/configure; passed to the plugin)
  -h, --help                           this help

A cluster that is still being created is refused: it has no kubeconfig yet.
The file is written atomically under <file>.lock, with mode 0600 when new. A file holding only this
cluster's entries is replaced; one holding others is refused unless --overwrite. Only a regular file
is replaced: a symbolic link is followed, and a device or FIFO is written in place.
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("create-kubeconfig", normalizeBoolArgs(args, CREATE_BOOL_FLAGS), FLAGS);
    const request = readNksKubeconfigFlags("create-kubeconfig", values, ctx);
    if (values.output !== undefined && values.output.trim() === "") {
      throw new UsageError("create-kubeconfig: --output is empty: pass a file path, or leave it out for kubeconfig-{uuid}.yaml");
    }
    const output = values.output ?? `kubeconfig-${request.clusterUuid}.${request.format}`;
    const overwrite = parseBoolValue("create-kubeconfig", "overwrite", values.overwrite, false);
    const force = parseBoolValue("create-kubeconfig", "force", values.force, false);
    const toStdout = output === "-";
    if (!toStdout) await checkKubeconfigTarget(output, "replace", { force });
    const built = await fetchNksEntries(request, ctx);
    const text = serializeKubeconfig(kubeconfigOf(built.entries), request.format);
    if (built.tokenExpiresAt !== undefined) ctx.err(embeddedTokenNote(ctx.programName, built.tokenExpiresAt, ctx.now()));
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
    // The official tool's line, word for word.
    ctx.out("kubeconfig created successfully.\n");
    return 0;
  },
};
