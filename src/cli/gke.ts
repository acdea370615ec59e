/**
 * `kubeiam gke token|update-kubeconfig`: an ExecCredential like gke-gcloud-auth-plugin's (with a disk
 * cache of the access token), and a kubeconfig entry like `gcloud container clusters get-credentials`,
 * on the GKE adapter and the kubeconfig flow that every cloud's update-kubeconfig shares.
 */
import { resolve } from "node:path";
import { lazyBuiltin } from "../lib/builtin.js";
import { UsageError } from "../lib/errors.js";
import { resolveGkeCredentials } from "../gcp/credentials.js";
import { defaultGkeCacheDir, readGkeCachedToken, writeGkeCachedToken } from "../gcp/cache.js";
import { GKE_DEFAULT_SCOPES, gkeIdentityFingerprint, mintGkeToken, type GkeCredentials, type GkeToken } from "../gcp/token.js";
import { chooseExecApiVersion, execCredentialText } from "../kube/exec-credential.js";
import { KUBECONFIG_WRITE_FLAG_HINTS, cliHttp, debug, normalizeBoolArgs, parseFlags, requireFlag, timed, type CliContext, type Command } from "./context.js";
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

// Not `import`: `kubeiam gke token` loads this on every kubectl call (lib/builtin.ts says why).
const crypto = lazyBuiltin("node:crypto");

const TOKEN_FLAGS = {
  credentials: { type: "string" },
  "impersonate-service-account": { type: "string" },
  "no-cache": { type: "boolean" },
  "force-refresh": { type: "boolean" },
  "cache-dir": { type: "string" },
  "api-version": { type: "string" },
  "token-only": { type: "boolean" },
} as const;

const UPDATE_FLAGS = {
  cluster: { type: "string" },
  location: { type: "string" },
  project: { type: "string" },
  credentials: { type: "string" },
  "impersonate-service-account": { type: "string" },
  alias: { type: "string" },
  "endpoint-url": { type: "string" },
  "no-cache": { type: "boolean" },
  "cache-dir": { type: "string" },
  ...EXEC_COMMAND_FLAGS,
  ...KUBECONFIG_FLOW_FLAGS,
} as const;

const HELP = `GKE: access tokens and kubeconfig entries for GCP GKE clusters.

Usage:
  kubeiam gke token [--credentials FILE] [flags]
  kubeiam gke update-kubeconfig --cluster C --location L --project P [flags]

gke token: prints an ExecCredential with an OAuth2 access token, like gke-gcloud-auth-plugin
  --credentials FILE      a service-account key or ADC file (default: $GOOGLE_APPLICATION_CREDENTIALS,
                          then gcloud's application_default_credentials.json, then the metadata server)
  --no-cache              mint a new token; do not read or write the cache
  --force-refresh         mint a new token even when the cache holds one, and cache it
  --cache-dir DIR         the cache folder (default: ~/.kube/cache/kubeiam/gcp)
  --impersonate-service-account EMAIL
                          the token is this service account's, from IAM Credentials generateAccessToken
                          asked with the credentials' own token (they need roles/iam.serviceAccountTokenCreator
                          on it); default: $CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT, as gcloud
  --api-version v1|v1beta1  ExecCredential apiVersion when kubectl does not say (default: v1beta1)
  --token-only            print the bare token instead of the ExecCredential

gke update-kubeconfig: adds the cluster to a kubeconfig, with 'kubeiam gke token' as its exec plugin
  --cluster C             the cluster's name (required)
  --location L            its region or zone (required), for example europe-west1 or europe-west1-b
  --project P             its project (default: $GOOGLE_CLOUD_PROJECT, $CLOUDSDK_CORE_PROJECT, the key's project_id)
  --credentials FILE      as above; also written into the plugin's arguments
  --impersonate-service-account EMAIL  as above, for the look-up; also written into the plugin's arguments
  --alias NAME            the name of the entries (default: gke_{project}_{location}_{cluster})
  --endpoint-url URL      the container API (default: $CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER, then Google's)
  --exec-command CMD      the plugin kubectl runs (default: kubeiam): a name on PATH, an absolute path,
                          or a .js file (run with node)
  --namespace NS          the context's default namespace (default: none, so "default")
  --kubeconfig PATH       the file to update (default: first of $KUBECONFIG, then ~/.kube/config)
  --overwrite             replace entries of the same names (otherwise a taken name is an error)
  --dry-run               print the merged kubeconfig instead of writing it
  --force                 write a kubeconfig whose mode is read-only (otherwise refused)
  --no-set-current        leave current-context as it is (also --currentContext=false, --current-context false)

A service-account key is exchanged for a token at its own token_uri (RFC 7523 JWT bearer). Tokens
are cached on disk (mode 0600, one file per fingerprint of identity and scopes, never the key) and
reused until 5 minutes before they expire. An impersonated token is cached apart from the
credentials' own, under a fingerprint that also names the account.
`;

/**
 * The `gke` command group: `gke token` and `gke update-kubeconfig`.
 *
 * @example
 * ```ts
 * await gkeCommand.run(["token", "--credentials", "/secrets/sa.json"], ctx);
 * ```
 */
export const gkeCommand: Command = {
  options: { token: TOKEN_FLAGS, "update-kubeconfig": UPDATE_FLAGS, "get-credentials": UPDATE_FLAGS },
  summary: "GCP GKE: print a token (gke token) or add a cluster to a kubeconfig (gke update-kubeconfig)",
  help: HELP,
  flags: {
    project: "--project",
    location: "--location",
    cluster: "--cluster",
    credentialsFile: "--credentials",
    endpointUrl: "--endpoint-url",
    kubeconfig: "--kubeconfig",
    ...KUBECONFIG_WRITE_FLAG_HINTS,
    names: "--alias",
  },
  async run(args: string[], ctx: CliContext): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === "token") return gkeToken(rest, ctx);
    if (sub === "update-kubeconfig" || sub === "get-credentials") return gkeUpdateKubeconfig(rest, ctx);
    throw new UsageError(
      sub === undefined
        ? "gke: name a subcommand: 'kubeiam gke token' or 'kubeiam gke update-kubeconfig' (see 'kubeiam gke --help')"
        : `gke: unknown subcommand ${JSON.stringify(sub)}: use token or update-kubeconfig`,
    );
  },
};

function checkPathFlag(cmd: string, flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === "") throw new UsageError(`${cmd}: --${flag} is empty: pass a path`);
  return value;
}

function describeCredentials(c: GkeCredentials): string {
  if (c.kind === "serviceAccount") return `service-account key of ${c.key.clientEmail}`;
  if (c.kind === "file") return `${c.type} credentials in ${c.path}`;
  return "Application Default Credentials (metadata server)";
}

/** The credentials named or found, with a `--debug` line saying which. */
async function credentialsFor(ctx: CliContext, file: string | undefined): Promise<GkeCredentials> {
  return timed(ctx, (c) => `credentials: ${describeCredentials(c)}`, () => resolveGkeCredentials({ file, env: ctx.env }));
}

/**
 * The service account to act as: `--impersonate-service-account`, else gcloud's
 * `CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT`; checked before any call.
 */
async function impersonationFor(cmd: string, ctx: CliContext, flag: string | undefined): Promise<string | undefined> {
  const email = flag ?? (ctx.env.CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT?.trim() || undefined);
  if (email === undefined) return undefined;
  const { checkServiceAccountEmail } = await import("../gcp/impersonate.js");
  try {
    return checkServiceAccountEmail(email, "impersonate-service-account");
  } catch (error) {
    const where = flag === undefined ? "CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT" : "--impersonate-service-account";
    throw new UsageError(`${cmd}: ${where} ${JSON.stringify(email.slice(0, 80))} is not a service account's e-mail: give one like viewer@my-project.iam.gserviceaccount.com`, { cause: error });
  }
}

/** A token from the cache, or a new one (then cached); `noCache` skips both. */
async function accessToken(
  ctx: CliContext,
  credentials: GkeCredentials,
  options: { noCache: boolean; cacheDir: string | undefined; forceRefresh?: boolean; impersonate?: string | undefined },
): Promise<GkeToken> {
  const now = ctx.now();
  const scopes = GKE_DEFAULT_SCOPES;
  const own = gkeIdentityFingerprint(credentials, scopes);
  // An impersonated token is another identity's: it never answers for the credentials' own, nor they for it.
  const fingerprint = options.impersonate === undefined ? own : crypto().createHash("sha256").update(`${own}\nimpersonate ${options.impersonate}`).digest("hex");
  const dir = options.cacheDir ?? defaultGkeCacheDir(ctx.env);
  if (!options.noCache && options.forceRefresh !== true) {
    const hit = await readGkeCachedToken(dir, fingerprint, now);
    debug(ctx, `token cache ${dir}: ${hit === undefined ? "miss" : `hit, good until ${hit.expiresAt.toISOString()}`}`);
    if (hit !== undefined) return hit;
  }
  const mint = async (): Promise<GkeToken> => {
    const mine = await mintGkeToken({ credentials, scopes, now, http: cliHttp(ctx, "Google OAuth token endpoint") });
    if (options.impersonate === undefined) return mine;
    const { generateServiceAccountToken } = await import("../gcp/impersonate.js");
    return generateServiceAccountToken({
      accessToken: mine.token,
      caller: credentials.kind === "serviceAccount" ? credentials.key.clientEmail : describeCredentials(credentials),
      serviceAccount: options.impersonate,
      scopes,
      apiUrl: ctx.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS?.trim() || undefined,
      now,
      http: cliHttp(ctx, "IAM Credentials API"),
    });
  };
  const token = await timed(ctx, options.impersonate === undefined ? "token: minted" : `token: minted as ${options.impersonate}`, mint);
  if (!options.noCache) {
    const problem = await writeGkeCachedToken(dir, fingerprint, token);
    if (problem !== undefined) ctx.err(`${ctx.programName}: warning: ${problem}\n`);
  }
  return token;
}

async function gkeToken(args: string[], ctx: CliContext): Promise<number> {
  const cmd = "gke token";
  const { values } = parseFlags(cmd, args, TOKEN_FLAGS);
  const apiVersion = chooseExecApiVersion({ execInfo: ctx.env.KUBERNETES_EXEC_INFO, flag: values["api-version"] });
  if (values["no-cache"] === true && values["force-refresh"] === true) {
    throw new UsageError(`${cmd}: --no-cache and --force-refresh exclude each other: --no-cache already mints anew`);
  }
  const impersonate = await impersonationFor(cmd, ctx, values["impersonate-service-account"]);
  const credentials = await credentialsFor(ctx, checkPathFlag(cmd, "credentials", values.credentials));
  const token = await accessToken(ctx, credentials, {
    noCache: values["no-cache"] === true,
    forceRefresh: values["force-refresh"] === true,
    cacheDir: checkPathFlag(cmd, "cache-dir", values["cache-dir"]),
    impersonate,
  });
  if (values["token-only"]) {
    ctx.out(`${token.token}\n`);
    return 0;
  }
  // gke-gcloud-auth-plugin's layout: indent 4, spec.interactive, the token's own expiry, no newline.
  ctx.out(execCredentialText({ token: token.token, expirationTimestamp: token.refreshAt, apiVersion }, "gke-gcloud-auth-plugin"));
  return 0;
}

async function gkeUpdateKubeconfig(args: string[], ctx: CliContext): Promise<number> {
  const cmd = "gke update-kubeconfig";
  const { values } = parseFlags(cmd, normalizeBoolArgs(args, KUBECONFIG_FLOW_BOOL_FLAGS), UPDATE_FLAGS);
  const cluster = requireFlag(cmd, values.cluster, "cluster", "pass the GKE cluster's name, for example --cluster prod");
  const location = requireFlag(cmd, values.location, "location", "pass the cluster's region or zone, for example --location europe-west1");
  // Checked before any Google call: a bad flag fails fast, alone, and changes nothing.
  const flow = readKubeconfigFlowFlags(cmd, values);
  const execCommand = readExecCommandFlag(cmd, values["exec-command"]);
  const alias = readEntryNameFlag(cmd, "alias", values.alias);
  const credentialsFile = checkPathFlag(cmd, "credentials", values.credentials);
  const impersonate = await impersonationFor(cmd, ctx, values["impersonate-service-account"]);
  const credentials = await credentialsFor(ctx, credentialsFile);
  const keyProject = credentials.kind === "serviceAccount" ? credentials.key.projectId : undefined;
  const project = requireFlag(
    cmd,
    values.project ?? (ctx.env.GOOGLE_CLOUD_PROJECT?.trim() || ctx.env.CLOUDSDK_CORE_PROJECT?.trim() || keyProject),
    "project",
    "pass the cluster's project, for example --project my-project-123 (or set GOOGLE_CLOUD_PROJECT)",
  );
  const [{ checkGkeClusterRef }, { gkeAdapter }] = await Promise.all([import("../gcp/cluster.js"), import("../gcp/adapter.js")]);
  checkGkeClusterRef({ project, location, cluster });
  const apiUrl = values["endpoint-url"] ?? (ctx.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER?.trim() || undefined);
  // Refuse a malformed file before any Google call.
  const target = await openKubeconfigTarget(flow, ctx);
  const token = await accessToken(ctx, credentials, {
    noCache: values["no-cache"] === true,
    cacheDir: checkPathFlag(cmd, "cache-dir", values["cache-dir"]),
    impersonate,
  });
  const api = { ...cliHttp(ctx, "GKE container API"), apiUrl, accessToken: token };
  const described = await gkeAdapter.describeCluster({ credentials, cluster: { project, location, cluster }, api });
  debug(ctx, `cluster ${project}/${location}/${cluster}: status ${described.status}`);
  const built = await gkeAdapter.kubeconfigEntries({
    credentials,
    cluster: described,
    // The plugin runs from kubectl's working folder, so a relative key path is written absolute.
    kubeconfig: { name: alias, credentialsFile: credentialsFile === undefined ? undefined : resolve(credentialsFile), impersonateServiceAccount: impersonate, ...execCommand },
    api,
  });
  const what = `GKE cluster ${project}/${location}/${cluster}`;
  return applyKubeconfigEntries(cmd, target, built, flow, ctx, {
    renameFlags: "--alias",
    successLine: ({ path, context, replaced }) => `${replaced ? "Updated context" : "Added new context"} ${context} to ${path} (${what})`,
  });
}
