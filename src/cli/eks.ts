/**
 * `kubeiam eks token|update-kubeconfig`: the EKS twins of `aws eks get-token` and
 * `aws eks update-kubeconfig`, with the same flags, output and kubeconfig entries, on the EKS
 * adapter and the kubeconfig flow that every cloud's update-kubeconfig shares.
 */
import { resolveAwsCredentials, resolveAwsProfile, resolveAwsRegion } from "../aws/credentials.js";
import { checkEksClusterName, mintEksToken, type AwsCredentials } from "../aws/token.js";
import { defaultAwsCacheDir } from "../aws/cache.js";
import { CredentialsError, UsageError } from "../lib/errors.js";
import { displayUrl } from "../lib/redact-url.js";
import { NoTerminalError, promptOnTerminal, terminalPath } from "../lib/tty.js";
import { chooseExecApiVersion, execCredentialText } from "../kube/exec-credential.js";
import { KUBECONFIG_WRITE_FLAG_HINTS, attemptLine, debug, normalizeBoolArgs, parseFlags, requireFlag, timed, type CliContext, type Command } from "./context.js";
import {
  EXEC_COMMAND_FLAGS,
  KUBECONFIG_FLOW_BOOL_FLAGS,
  KUBECONFIG_FLOW_FLAGS,
  applyKubeconfigEntries,
  openKubeconfigTarget,
  readEntryNameFlag,
  readExecCommandFlag,
  readKubeconfigFlowFlags,
} from "./kubeconfig-flow.js";

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
  ...EXEC_COMMAND_FLAGS,
  ...KUBECONFIG_FLOW_FLAGS,
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
  --exec-command CMD      the plugin kubectl runs (default: kubeiam): a name on PATH, an absolute path,
                          or a .js file (run with node)
  --namespace NS          the context's default namespace (default: none, so "default")
  --kubeconfig PATH       the file to update (default: first of $KUBECONFIG, then ~/.kube/config)
  --overwrite             replace entries of the same names (otherwise a taken name is an error)
  --dry-run               print the merged kubeconfig instead of writing it
  --force                 write a kubeconfig whose mode is read-only (otherwise refused)
  --no-set-current        leave current-context as it is (also --currentContext=false, --current-context false)

Credentials come from the AWS default chain: environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN), shared config and credentials files and their profiles, SSO, credential_process,
web identity, instance roles. The token's expirationTimestamp is 14 minutes on, or a minute before
the credentials expire if that is sooner.

Temporary credentials (--role-arn, and profiles with role_arn, SSO or credential_process) are cached
in ~/.kube/cache/kubeiam/aws, one 0600 file per identity (profile, role, external id, session name),
and used until 5 minutes before they expire; long-lived keys are never cached. A profile with
mfa_serial asks for the code on the terminal (/dev/tty), once per cached session: for its own role,
or for --role-arn when it holds keys and no role.
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
  options: { token: TOKEN_FLAGS, "get-token": TOKEN_FLAGS, "update-kubeconfig": UPDATE_FLAGS },
  summary: "AWS EKS: print a token (eks token) or add a cluster to a kubeconfig (eks update-kubeconfig)",
  help: HELP,
  flags: {
    region: "--region",
    profile: "--profile",
    clusterName: "--cluster-name or --name",
    name: "--name",
    roleArn: "--role-arn",
    sessionName: "--session-name",
    externalId: "--external-id",
    endpoint: "--endpoint-url",
    kubeconfig: "--kubeconfig",
    ...KUBECONFIG_WRITE_FLAG_HINTS,
    names: "--alias, --user-alias",
  },
  async run(args: string[], ctx: CliContext): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === "token" || sub === "get-token") return eksToken(rest, ctx);
    if (sub === "update-kubeconfig") return eksUpdateKubeconfig(rest, ctx);
    throw new UsageError(
      sub === undefined
        ? "eks: name a subcommand: 'kubeiam eks token' or 'kubeiam eks update-kubeconfig' (see 'kubeiam eks --help')"
        : `eks: unknown subcommand ${JSON.stringify(sub)}: use token or update-kubeconfig`,
    );
  },
};

/** The credentials of the default chain (or a role), with a `--debug` line saying where they came from. */
async function credentialsFor(
  ctx: CliContext,
  options: {
    profile: string | undefined;
    region: string;
    roleArn?: string | undefined;
    sessionName?: string | undefined;
    externalId?: string | undefined;
    cache: { dir: string; forceRefresh?: boolean } | undefined;
  },
): Promise<AwsCredentials> {
  // The adapter's resolveCredentials, without loading the adapter (and its kubeconfig modules) on the token path.
  const resolved = await timed(
    ctx,
    ({ credentials: c }) => `credentials: ${options.roleArn ? `role ${options.roleArn} assumed with ` : ""}${options.profile === undefined ? "the AWS default chain" : `profile ${options.profile}`}, access key id ${c.accessKeyId}${c.expiration ? `, expiring ${c.expiration.toISOString()}` : ""}`,
    () =>
      resolveAwsCredentials({
        env: ctx.env,
        profile: options.profile,
        region: options.region,
        roleArn: options.roleArn,
        sessionName: options.sessionName,
        externalId: options.externalId,
        now: ctx.now(),
        warn: (m) => ctx.err(`${ctx.programName}: warning: ${m}\n`),
        cache: options.cache,
        mfaCodeProvider: mfaPrompt(ctx, options.profile),
      }),
  );
  if (resolved.cacheProblem !== undefined) ctx.err(`${ctx.programName}: warning: ${resolved.cacheProblem}\n`);
  return resolved.credentials;
}

async function eksToken(args: string[], ctx: CliContext): Promise<number> {
  const cmd = "eks token";
  const { values } = parseFlags(cmd, args, TOKEN_FLAGS);
  if (values["cluster-name"] !== undefined && values["cluster-id"] !== undefined) {
    throw new UsageError(`${cmd}: --cluster-name and --cluster-id exclude each other: give one`);
  }
  const clusterName = requireFlag(cmd, values["cluster-name"] ?? values["cluster-id"], "cluster-name", "pass the EKS cluster's name, for example --cluster-name prod-eks");
  checkEksClusterName(clusterName);
  const apiVersion = chooseExecApiVersion({ execInfo: ctx.env.KUBERNETES_EXEC_INFO, flag: values["api-version"] });
  const profile = await resolveAwsProfile({ profile: values.profile, env: ctx.env });
  const region = await resolveAwsRegion({ region: values.region, env: ctx.env, profile });
  if (values["no-cache"] === true && values["force-refresh"] === true) {
    throw new UsageError(`${cmd}: --no-cache and --force-refresh exclude each other: --no-cache already resolves anew`);
  }
  const cacheDir = values["cache-dir"];
  if (cacheDir !== undefined && cacheDir.trim() === "") throw new UsageError(`${cmd}: --cache-dir is empty: pass a folder`);
  const credentials = await credentialsFor(ctx, {
    profile,
    region,
    roleArn: values["role-arn"],
    sessionName: values["session-name"],
    externalId: values["external-id"],
    cache: values["no-cache"] === true ? undefined : { dir: cacheDir ?? defaultAwsCacheDir(ctx.env), forceRefresh: values["force-refresh"] === true },
  });
  const { token, refreshAt } = await timed(ctx, `token: signed for cluster ${clusterName} in ${region}`, () =>
    mintEksToken({ credentials, clusterName, region, now: ctx.now() }),
  );
  if (values["token-only"]) {
    ctx.out(`${token}\n`);
    return 0;
  }
  // The AWS CLI's layout, byte for byte.
  ctx.out(execCredentialText({ token, expirationTimestamp: refreshAt, apiVersion }, "aws-cli"));
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
  const { values } = parseFlags(cmd, normalizeBoolArgs(args, KUBECONFIG_FLOW_BOOL_FLAGS), UPDATE_FLAGS);
  const name = requireFlag(cmd, values.name, "name", "pass the EKS cluster's name, for example --name prod-eks");
  checkEksClusterName(name);
  const endpoint = values["endpoint-url"];
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    throw new UsageError(`${cmd}: --endpoint-url ${displayUrl(endpoint)} is not an http(s) URL`);
  }
  // Checked before any AWS call: a bad flag fails fast, alone, and changes nothing.
  const flow = readKubeconfigFlowFlags(cmd, values);
  const execCommand = readExecCommandFlag(cmd, values["exec-command"]);
  const alias = readEntryNameFlag(cmd, "alias", values.alias);
  const userAlias = readEntryNameFlag(cmd, "user-alias", values["user-alias"]);
  const profile = await resolveAwsProfile({ profile: values.profile, env: ctx.env });
  const region = await resolveAwsRegion({ region: values.region, env: ctx.env, profile });
  // Refuse a malformed file before any AWS call.
  const target = await openKubeconfigTarget(flow, ctx);
  const credentials = await credentialsFor(ctx, { profile, region, cache: { dir: defaultAwsCacheDir(ctx.env) } });
  const { eksAdapter } = await import("../aws/adapter.js");
  const api = { endpoint, env: ctx.env, ...(ctx.debug === undefined ? {} : { onAttempt: (a: Parameters<typeof attemptLine>[0]) => debug(ctx, attemptLine(a)) }) };
  const described = await eksAdapter.describeCluster({ credentials, cluster: { region, name }, api });
  debug(ctx, `cluster ${described.cluster.arn}: status ${described.cluster.status}`);
  const built = await eksAdapter.kubeconfigEntries({
    credentials,
    cluster: described,
    kubeconfig: {
      alias,
      userAlias,
      // The profile goes into the plugin's env only when named here, as the AWS CLI writes it.
      profile: values.profile ?? ctx.env.AWS_PROFILE,
      roleArn: values["role-arn"],
      ...execCommand,
    },
  });
  const what = `EKS cluster ${described.cluster.arn}`;
  return applyKubeconfigEntries(cmd, target, built, flow, ctx, {
    renameFlags: "--alias and --user-alias",
    successLine: ({ path, context, replaced }) => `${replaced ? "Updated context" : "Added new context"} ${context} to ${path} (${what})`,
  });
}
