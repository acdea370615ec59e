/**
 * `kubeiam eks token|update-kubeconfig`: the EKS twins of `aws eks get-token` and
 * `aws eks update-kubeconfig`, with the same flags, output and kubeconfig entries.
 */
import { resolveAwsCredentials, resolveAwsProfile, resolveAwsRegion } from "../aws/credentials.js";
import { checkEksClusterName, mintEksToken } from "../aws/token.js";
import { defaultAwsCacheDir } from "../aws/cache.js";
import { CredentialsError, KubeconfigError, UsageError } from "../lib/errors.js";
import { NoTerminalError, promptOnTerminal, terminalPath } from "../lib/tty.js";
import { parseExecApiVersion, parseExecInfo, rfc3339Seconds, DEFAULT_EXEC_API_VERSION } from "../kube/exec-credential.js";
import type { KubeconfigDocument, KubeconfigEntries } from "../kube/kubeconfig.js";
import { parseFlags, requireFlag, type CliContext, type Command } from "./context.js";
import { displayUrl } from "../lib/redact-url.js";

const TOKEN_FLAGS = {
  "cluster-name": { type: "string" },
  "cluster-id": { type: "string" },
  region: { type: "string" },
  profile: { type: "string" },
  "role-arn": { type: "string" },
  "session-name": { type: "string" },
  "external-id": { type: "string" },
  "api-version": { type: "string" },
  "token-only": { type: "boolean" },
  "no-cache": { type: "boolean" },
  "force-refresh": { type: "boolean" },
  "cache-dir": { type: "string" },
} as const;

const UPDATE_FLAGS = {
  name: { type: "string" },
  region: { type: "string" },
  profile: { type: "string" },
  alias: { type: "string" },
  "user-alias": { type: "string" },
  "role-arn": { type: "string" },
  "endpoint-url": { type: "string" },
  kubeconfig: { type: "string" },
  "dry-run": { type: "boolean" },
  overwrite: { type: "boolean" },
  force: { type: "boolean" },
  "no-set-current": { type: "boolean" },
} as const;

const HELP = `EKS: tokens and kubeconfig entries for AWS EKS clusters, as the AWS CLI makes them.

Usage:
  kubeiam eks token --cluster-name NAME [--region R] [flags]
  kubeiam eks update-kubeconfig --name NAME [--region R] [flags]

eks token: prints an ExecCredential with a k8s-aws-v1 token, like 'aws eks get-token'
  --cluster-name NAME     the cluster's name (required, or --cluster-id for local clusters on Outposts)
  --cluster-id ID         the cluster's id (local clusters on Outposts)
  --region R              the cluster's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region)
  --profile P             the AWS profile (default: $AWS_PROFILE, then the default credential chain)
  --role-arn ARN          assume this role first, and sign with its credentials
  --session-name NAME     the role session name (default: EKSGetTokenAuth)
  --external-id ID        the external id the role's trust policy asks for
  --api-version v1|v1beta1  ExecCredential apiVersion when kubectl does not say (default: v1beta1)
  --token-only            print the bare token instead of the ExecCredential
  --no-cache              neither read nor write the credential cache
  --force-refresh         resolve the credentials anew (and cache them) even when the cache holds some
  --cache-dir DIR         the cache folder (default: ~/.kube/cache/kubeiam/aws)

eks update-kubeconfig: adds the cluster to a kubeconfig, like 'aws eks update-kubeconfig'
  --name NAME             the cluster's name (required)
  --region R              the cluster's region (default as above)
  --profile P             the AWS profile; also written into the exec plugin's env as AWS_PROFILE
  --alias A               the context name (default: the cluster ARN)
  --user-alias U          the user name (default: the cluster ARN)
  --role-arn ARN          a role for the exec plugin to assume when minting tokens
  --endpoint-url URL      the EKS API endpoint (default: $AWS_ENDPOINT_URL_EKS, then AWS's)
  --kubeconfig PATH       the file to update (default: first of $KUBECONFIG, then ~/.kube/config)
  --overwrite             replace entries of the same names (otherwise a taken name is an error)
  --dry-run               print the merged kubeconfig instead of writing it
  --force                 write a kubeconfig whose mode is read-only (otherwise refused)
  --no-set-current        leave current-context as it is

Credentials come from the AWS default chain: environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN), shared config and credentials files and their profiles, SSO, credential_process,
web identity, instance roles. The token's expirationTimestamp is 14 minutes on, or when the
credentials expire if that is sooner.

Temporary credentials (--role-arn, and profiles with role_arn, SSO or credential_process) are cached
in ~/.kube/cache/kubeiam/aws, one 0600 file per identity (profile, role, external id, session name),
and used until 5 minutes before they expire; long-lived keys are never cached. A profile with
mfa_serial asks for the code on the terminal (/dev/tty), once per cached session.
HTTPS_PROXY and NO_PROXY apply to every AWS call; AWS_CA_BUNDLE and NODE_EXTRA_CA_CERTS add CAs.
`;

/**
 * The `eks` command group: `eks token` and `eks update-kubeconfig`.
 *
 * @example
 * ```ts
 * await eksCommand.run(["token", "--cluster-name", "prod-eks", "--region", "eu-west-1"], ctx);
 * ```
 */
export const eksCommand: Command = {
  summary: "AWS EKS: print a token (eks token) or add a cluster to a kubeconfig (eks update-kubeconfig)",
  help: HELP,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const [sub, ...rest] = args;
    // The AWS SDK prints a six-line notice about its own future Node.js support from every client it
    // makes; kubectl would show it on each call. kubeiam states its own support, so silence it here
    // unless the user has set the variable themselves.
    ctx.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    if (sub === "token" || sub === "get-token") return eksToken(rest, ctx);
    if (sub === "update-kubeconfig") return eksUpdateKubeconfig(rest, ctx);
    throw new UsageError(
      sub === undefined
        ? "eks: name a subcommand: 'kubeiam eks token' or 'kubeiam eks update-kubeconfig' (see 'kubeiam eks --help')"
        : `eks: unknown subcommand ${JSON.stringify(sub)}: use token or update-kubeconfig`,
    );
  },
};

async function eksToken(args: string[], ctx: CliContext): Promise<number> {
  const cmd = "eks token";
  const { values } = parseFlags(cmd, args, TOKEN_FLAGS);
  if (values["cluster-name"] !== undefined && values["cluster-id"] !== undefined) {
    throw new UsageError(`${cmd}: --cluster-name and --cluster-id exclude each other: give one`);
  }
  const clusterName = requireFlag(cmd, values["cluster-name"] ?? values["cluster-id"], "cluster-name", "pass the EKS cluster's name, for example --cluster-name prod-eks");
  checkEksClusterName(clusterName);
  const apiVersion =
    parseExecInfo(ctx.env.KUBERNETES_EXEC_INFO)?.apiVersion ??
    (values["api-version"] === undefined ? DEFAULT_EXEC_API_VERSION : parseExecApiVersion(values["api-version"]));
  const profile = resolveAwsProfile({ profile: values.profile, env: ctx.env });
  const region = resolveAwsRegion({ region: values.region, env: ctx.env, profile });
  if (values["no-cache"] === true && values["force-refresh"] === true) {
    throw new UsageError(`${cmd}: --no-cache and --force-refresh exclude each other: --no-cache already resolves anew`);
  }
  const cacheDir = values["cache-dir"];
  if (cacheDir !== undefined && cacheDir.trim() === "") throw new UsageError(`${cmd}: --cache-dir is empty: pass a folder`);
  const resolved = await resolveAwsCredentials({
    env: ctx.env,
    profile,
    region,
    roleArn: values["role-arn"],
    sessionName: values["session-name"],
    externalId: values["external-id"],
    now: ctx.now(),
    warn: (m) => ctx.err(`${ctx.programName}: warning: ${m}\n`),
    cache: values["no-cache"] === true ? undefined : { dir: cacheDir ?? defaultAwsCacheDir(ctx.env), forceRefresh: values["force-refresh"] === true },
    mfaCodeProvider: mfaPrompt(ctx, profile),
  });
  if (resolved.cacheProblem !== undefined) ctx.err(`${ctx.programName}: warning: ${resolved.cacheProblem}\n`);
  const { credentials } = resolved;
  const { token, expiresAt } = await mintEksToken({ credentials, clusterName, region, now: ctx.now() });
  if (values["token-only"]) {
    ctx.out(`${token}\n`);
    return 0;
  }
  // The AWS CLI's layout, byte for byte: its JSON formatter (indent 4), then a blank line.
  const credential = {
    kind: "ExecCredential",
    apiVersion,
    spec: {},
    status: { expirationTimestamp: rfc3339Seconds(expiresAt), token },
  };
  ctx.out(`${JSON.stringify(credential, null, 4)}\n\n`);
  return 0;
}

/**
 * Asks for the code of a profile's `mfa_serial` on the terminal, never on stdout (kubectl reads it);
 * without a terminal, one line saying how to get a cached session instead.
 */
function mfaPrompt(ctx: CliContext, profile: string | undefined): (serial: string) => Promise<string> {
  return async (serial) => {
    const path = terminalPath(ctx.env);
    let code: string;
    try {
      code = await promptOnTerminal(path, `${ctx.programName}: MFA code for ${serial}: `, ctx.signal);
    } catch (cause) {
      if (!(cause instanceof NoTerminalError)) throw cause;
      throw new CredentialsError(
        `AWS profile "${profile ?? "default"}" needs an MFA code for ${serial}, and there is no terminal to ask on (${cause.reason}): run the same 'kubeiam eks token' once in a terminal; the session is then cached until it expires`,
        { cause },
      );
    }
    if (!/^\d{6}$/.test(code)) throw new CredentialsError(`the MFA code for ${serial} must be 6 digits: run the command again and type the code your device shows`);
    return code;
  };
}

async function eksUpdateKubeconfig(args: string[], ctx: CliContext): Promise<number> {
  const cmd = "eks update-kubeconfig";
  const { values } = parseFlags(cmd, args, UPDATE_FLAGS);
  const name = requireFlag(cmd, values.name, "name", "pass the EKS cluster's name, for example --name prod-eks");
  checkEksClusterName(name);
  const endpoint = values["endpoint-url"];
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    throw new UsageError(`${cmd}: --endpoint-url ${displayUrl(endpoint)} is not an http(s) URL`);
  }
  const profile = resolveAwsProfile({ profile: values.profile, env: ctx.env });
  const region = resolveAwsRegion({ region: values.region, env: ctx.env, profile });
  const { credentials } = await resolveAwsCredentials({
    env: ctx.env,
    profile,
    region,
    now: ctx.now(),
    warn: (m) => ctx.err(`${ctx.programName}: warning: ${m}\n`),
    cache: { dir: defaultAwsCacheDir(ctx.env) },
    mfaCodeProvider: mfaPrompt(ctx, profile),
  });
  const { describeEksCluster, eksKubeconfigEntries } = await import("../aws/cluster.js");
  const cluster = await describeEksCluster({ name, region, credentials, endpoint, env: ctx.env });
  const { entries } = await eksKubeconfigEntries({
    cluster,
    region,
    options: {
      alias: values.alias,
      userAlias: values["user-alias"],
      // The profile goes into the plugin's env only when named here, as the AWS CLI writes it.
      profile: values.profile ?? ctx.env.AWS_PROFILE,
      roleArn: values["role-arn"],
    },
  });
  return applyKubeconfigEntries(cmd, entries, ctx, {
    kubeconfig: values.kubeconfig,
    dryRun: values["dry-run"] === true,
    overwrite: values.overwrite === true,
    force: values.force === true,
    setCurrentContext: values["no-set-current"] !== true,
    what: `EKS cluster ${cluster.arn}`,
    renameFlags: "--alias and --user-alias",
  });
}

/** How {@link applyKubeconfigEntries} writes. */
export interface ApplyKubeconfigOptions {
  /** `--kubeconfig`; else the first of `KUBECONFIG`, else `~/.kube/config`. */
  kubeconfig?: string | undefined;
  dryRun: boolean;
  overwrite: boolean;
  /** Write a kubeconfig whose mode is read-only (`--force`). */
  force?: boolean;
  setCurrentContext: boolean;
  /** What the entries are for, in the progress line (`EKS cluster arn:…`). */
  what: string;
  /** The flags that rename the entries, for the error on a taken name. */
  renameFlags: string;
}

/**
 * Merges one cluster's entries into the kubeconfig file (or prints the result with `dryRun`), with the
 * same rules as the NKS command: a taken name is an error unless `overwrite`; everything else in the
 * file stays; the file is written atomically, 0600 when new. Shared by `eks` and `gke`.
 *
 * @example
 * ```ts
 * return applyKubeconfigEntries("eks update-kubeconfig", entries, ctx, { dryRun: false, overwrite: false, setCurrentContext: true, what: "EKS cluster x", renameFlags: "--alias/--user-alias" });
 * ```
 */
export async function applyKubeconfigEntries(
  cmd: string,
  entries: KubeconfigEntries,
  ctx: CliContext,
  options: ApplyKubeconfigOptions,
): Promise<number> {
  const { kubeconfigConflicts, mergeKubeconfigEntries, serializeKubeconfigDocument } = await import("../kube/kubeconfig.js");
  const { checkKubeconfigTarget, editKubeconfigFile, loadKubeconfigDocument, parseKubeconfigForEdit, resolveKubeconfigPath } = await import("../kube/kubeconfig-file.js");
  if (options.kubeconfig !== undefined && options.kubeconfig.trim() === "") {
    throw new UsageError(`${cmd}: --kubeconfig is empty: pass the path of the kubeconfig file to update`);
  }
  const path = resolveKubeconfigPath({ explicit: options.kubeconfig, env: ctx.env });
  const force = options.force === true;
  if (!options.dryRun) await checkKubeconfigTarget(path, "update", { force });
  const merge = (doc: KubeconfigDocument): { text: string; replaced: string[] } => {
    const taken = kubeconfigConflicts(doc, entries);
    if (taken.length > 0 && !options.overwrite) {
      throw new KubeconfigError(
        `${cmd}: ${path} already has ${taken.join(", ")}: pass --overwrite to replace ${taken.length > 1 ? "them" : "it"}, or choose other names with ${options.renameFlags} (the file was left unchanged)`,
      );
    }
    const { replaced } = mergeKubeconfigEntries(doc, entries, { overwrite: options.overwrite, setCurrentContext: options.setCurrentContext });
    return { text: serializeKubeconfigDocument(doc), replaced };
  };
  if (options.dryRun) {
    ctx.out(merge((await loadKubeconfigDocument(path)).doc).text);
    return 0;
  }
  // Read, merged and written under the file's lock, so runs at once keep each other's entries.
  let result = { replaced: [] as string[] };
  await editKubeconfigFile(path, "update", (file) => (result = merge(parseKubeconfigForEdit(file))).text, { force, signal: ctx.signal });
  const verb = result.replaced.some((r) => r.startsWith("context ")) ? "Updated context" : "Added new context";
  ctx.out(`${verb} ${entries.context.name} to ${path} (${options.what})\n`);
  return 0;
}
