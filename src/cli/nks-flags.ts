/**
 * What the NKS kubeconfig commands (`create-kubeconfig`, `update-kubeconfig`) share: their flags with
 * the official ncp-iam-authenticator's spellings, reading and checking them, and fetching one
 * cluster's entries through the NKS adapter. Not a command: command files import this, never each other.
 */
import { resolve } from "node:path";
import { UsageError } from "../lib/errors.js";
import type { KubeconfigEntriesResult } from "../contract.js";
import type { ExecApiVersion } from "../kube/exec-credential.js";
import { parseExecApiVersion } from "../kube/exec-credential.js";
import type { KubeconfigFormat } from "../kube/kubeconfig.js";
import { ncpAdapter } from "../ncp/adapter.js";
import type { NcpKubeconfigOptions } from "../ncp/kubeconfig.js";
import { defaultNcpConfigFile, describeNcpCredentialSource, resolveNcpCredentials } from "../ncp/credentials.js";
import { normalizeNcpRegion } from "../ncp/region.js";
import { checkClusterUuid } from "../ncp/token.js";
import { KUBECONFIG_WRITE_FLAG_HINTS, NCP_FLAG_HINTS, NCP_GLOBAL_FLAGS, cliHttp, debug, eitherFlag, parseBoolValue, requireFlag, timed, warnUnknownNcpRegion, type CliContext } from "./context.js";
import { EXEC_COMMAND_FLAGS, readEntryNameFlag, readExecCommandFlag } from "./kubeconfig-flow.js";

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
  alias: { type: "string" },
  "embed-token": { type: "string" },
  ...EXEC_COMMAND_FLAGS,
  "exec-api-version": { type: "string" },
} as const;

/** Boolean flags that, like Go's pflag, also take `--flag=false`. */
export const NKS_BOOL_FLAGS = ["embed-token"] as const;

/** The flags of the NKS kubeconfig commands, by the library field they set (see `Command.flags`). */
export const NKS_KUBECONFIG_FLAG_HINTS: Readonly<Record<string, string>> = {
  ...NCP_FLAG_HINTS,
  ...KUBECONFIG_WRITE_FLAG_HINTS,
  kubeconfig: "--kubeconfig",
  names: "--clusterName, --userName, --alias",
  contextName: "--alias",
};

/** Everything the two commands need to fetch and build a cluster's entries. */
export interface NksKubeconfigRequest {
  clusterUuid: string;
  region: string;
  format: KubeconfigFormat;
  embed: boolean;
  profile: string | undefined;
  configFile: string | undefined;
  options: NcpKubeconfigOptions;
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
  const execCommand = readExecCommandFlag(command, typeof values["exec-command"] === "string" ? values["exec-command"] : undefined);
  const alias = readEntryNameFlag(command, "alias", typeof values.alias === "string" ? values.alias : undefined);
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
  if (alias !== undefined) options.contextName = alias;
  if (execCommand !== undefined) Object.assign(options, execCommand);
  if (execApiVersion !== undefined) options.execApiVersion = execApiVersion;
  // The plugin runs wherever kubectl runs: name the configure file by an absolute path, and only when
  // it is not the default one (as the official tool does).
  if (configFile !== undefined) {
    const absolute = resolve(configFile);
    if (absolute !== defaultNcpConfigFile(ctx.env)) options.credentialConfig = absolute;
  }
  if (profile !== undefined) options.profile = profile;
  return { clusterUuid, region: normalizedRegion, format, embed, profile, configFile, options };
}

function parseFormat(command: string, value: string | undefined): KubeconfigFormat {
  if (value === undefined || value === "yaml" || value === "yml") return "yaml";
  if (value === "json") return "json";
  throw new UsageError(`${command}: --format ${JSON.stringify(value)} is not supported: use yaml or json`);
}

/**
 * Fetches the cluster through the NKS adapter (refusing one still being created) and builds its entries.
 *
 * @example
 * ```ts
 * const { entries, tokenExpiresAt } = await fetchNksEntries(request, ctx);
 * ```
 */
export async function fetchNksEntries(request: NksKubeconfigRequest, ctx: CliContext): Promise<KubeconfigEntriesResult & { clusterName: string }> {
  const credentials = await timed(
    ctx,
    (c) => `credentials: ${describeNcpCredentialSource(c)}`,
    () => resolveNcpCredentials({ env: ctx.env, profile: request.profile, configFile: request.configFile }),
  );
  for (const warning of credentials.warnings) ctx.err(`${ctx.programName}: warning: ${warning}\n`);
  warnUnknownNcpRegion(ctx, request.region);
  const api = { now: ctx.now, ...cliHttp(ctx, "NCP API") };
  const described = await ncpAdapter.describeCluster({ credentials, cluster: { region: request.region, clusterUuid: request.clusterUuid }, api });
  debug(ctx, `cluster ${described.cluster.name} (${described.cluster.uuid}): status ${described.cluster.status}`);
  const built = await ncpAdapter.kubeconfigEntries({ credentials, cluster: described, kubeconfig: request.options, now: ctx.now() });
  return { ...built, clusterName: described.cluster.name };
}
