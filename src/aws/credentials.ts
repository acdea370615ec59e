/**
 * AWS credentials and region for EKS: the SDK's default chain (environment, shared config and
 * profiles, SSO, process, web identity, instance roles), an optional role to assume first, and the
 * checks that turn the SDK's vague failures into one clear line. The SDK loads on first use.
 */
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as Ini from "ini";
import { ConfigFileError, CredentialsError, InvalidInputError, KubeiamError, UsageError } from "../lib/errors.js";
import { readUserFile } from "../lib/read-file.js";
import { toEpochMs, type TimeInput } from "../lib/time.js";
import { nonEmpty } from "../lib/validate.js";
import type { AwsCacheIdentity } from "./cache.js";
import { checkAwsRegion, type AwsCredentials } from "./token.js";
import { assumeAwsRole, checkAwsExternalId, checkAwsRoleArn, checkAwsRoleSessionName } from "./assume-role.js";

// The ini package loads when a shared file is first read, not with `import("kubeiam")`: loaded from an
// ES module it would cost as much start-up as a dozen of ours (CommonJS, parsed for its exports).
// Node's require cache keeps it after the first call.
function ini(): typeof Ini {
  return createRequire(import.meta.url)("ini") as typeof Ini;
}

/** The session name used with `--role-arn` when none is given, as `aws eks get-token` uses it. */
export const DEFAULT_EKS_ROLE_SESSION_NAME = "EKSGetTokenAuth";

/** Profile settings whose credentials are temporary and cost a call (or a prompt) to resolve. */
const TEMPORARY_SOURCES = ["role_arn", "sso_session", "sso_start_url", "credential_process", "web_identity_token_file"];
const PROFILE_RE = /^[^\s\p{Cc}[\]]{1,128}$/u;

/** The shared config and credentials files, and the profiles they hold. */
export interface AwsSharedFiles {
  configFile: string;
  credentialsFile: string;
  /** Profile name → its settings, config file and credentials file merged (credentials win). */
  profiles: Map<string, Record<string, string>>;
}

/**
 * Reads `~/.aws/config` and `~/.aws/credentials` (or `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`).
 * Missing files count as empty (so does `/dev/null`); unreadable ones throw {@link ConfigFileError}.
 * A FIFO is refused before it is read (a {@link FileError}): the AWS SDK opens both files again
 * after us, and would find the FIFO empty or wait on it forever.
 *
 * @example
 * ```ts
 * const files = await readAwsSharedFiles(process.env);
 * console.log([...files.profiles.keys()]);
 * ```
 */
export async function readAwsSharedFiles(env: Record<string, string | undefined>): Promise<AwsSharedFiles> {
  const home = env.HOME || homedir();
  const configFile = nonEmpty(env.AWS_CONFIG_FILE) ?? join(home, ".aws", "config");
  const credentialsFile = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(home, ".aws", "credentials");
  const profiles = new Map<string, Record<string, string>>();
  const add = (name: string, section: unknown): void => {
    if (typeof section !== "object" || section === null) return;
    const values: Record<string, string> = { ...profiles.get(name) };
    for (const [k, v] of Object.entries(section)) if (typeof v === "string") values[k] = v;
    profiles.set(name, values);
  };
  const [config, credentials] = await Promise.all([readIni(configFile, "AWS config file"), readIni(credentialsFile, "AWS credentials file")]);
  for (const [name, section] of Object.entries(config)) {
    if (name === "default") add("default", section);
    else if (name.startsWith("profile ")) add(name.slice("profile ".length).trim(), section);
  }
  for (const [name, section] of Object.entries(credentials)) add(name, section);
  return { configFile, credentialsFile, profiles };
}

async function readIni(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = (await readUserFile(path, { what, refuseFifo: "the AWS SDK reads it again after kubeiam, so pass a regular file (or feed keys from a program with credential_process)" })).text;
  } catch (cause) {
    if (cause instanceof KubeiamError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return {};
    throw new ConfigFileError(path, `cannot read AWS file ${path} (${code ?? "error"}): check its permissions`, { cause });
  }
  return ini().parse(text) as Record<string, unknown>;
}

/**
 * The profile to use: the one named, else `AWS_PROFILE`, else none (the default chain). A profile
 * named but found in neither shared file is refused here, with the profiles that do exist.
 *
 * @example
 * ```ts
 * const profile = await resolveAwsProfile({ profile: "prod", env: process.env }); // "prod", or throws
 * ```
 */
export async function resolveAwsProfile(options: {
  profile?: string | undefined;
  env: Record<string, string | undefined>;
  files?: AwsSharedFiles;
}): Promise<string | undefined> {
  const profile = nonEmpty(options.profile) ?? nonEmpty(options.env.AWS_PROFILE);
  if (profile === undefined) return undefined;
  if (!PROFILE_RE.test(profile)) {
    throw new InvalidInputError("profile", `AWS profile name ${JSON.stringify(profile.slice(0, 40))} is not valid: pass a profile name from ~/.aws/config`);
  }
  const files = options.files ?? (await readAwsSharedFiles(options.env));
  if (!files.profiles.has(profile)) {
    const known = [...files.profiles.keys()];
    throw new CredentialsError(
      `AWS profile "${profile}" is in neither ${files.configFile} nor ${files.credentialsFile}${known.length ? ` (they have: ${known.join(", ")})` : ""}: choose one of those, or run 'aws configure --profile ${profile}'`,
      { field: "profile", value: profile },
    );
  }
  return profile;
}

/**
 * The region: the one named, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region`.
 * Throws {@link UsageError} when none is set anywhere. The shared files are read only when needed.
 *
 * @example
 * ```ts
 * await resolveAwsRegion({ region: undefined, env: { AWS_REGION: "eu-west-1" } }); // "eu-west-1"
 * ```
 */
export async function resolveAwsRegion(options: {
  region?: string | undefined;
  env: Record<string, string | undefined>;
  profile?: string | undefined;
  files?: AwsSharedFiles;
}): Promise<string> {
  const { env } = options;
  let region = nonEmpty(options.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region === undefined) {
    const files = options.files ?? (await readAwsSharedFiles(env));
    region = nonEmpty(files.profiles.get(options.profile ?? "default")?.region);
  }
  if (region === undefined) {
    throw new UsageError("no AWS region given: name one (for example us-east-1), or set AWS_REGION, or set region in your AWS profile", { field: "region" });
  }
  return checkAwsRegion(region);
}

/** Options of {@link resolveAwsCredentials}. */
export interface ResolveAwsCredentialsOptions {
  /** The environment used to find the shared files and the profile; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** The profile (`--profile`); `AWS_PROFILE` by default. */
  profile?: string | undefined;
  /** The region, for STS when assuming a role. */
  region: string;
  /** A role to assume with the chain's credentials before signing. */
  roleArn?: string | undefined;
  /** The role session name; {@link DEFAULT_EKS_ROLE_SESSION_NAME} by default. */
  sessionName?: string | undefined;
  /** The external id the role's trust policy asks for. */
  externalId?: string | undefined;
  /**
   * The credential cache: temporary credentials (an assumed role, an SSO, `credential_process` or
   * role profile) are read from and written to this folder, one file per identity; long-lived keys
   * never are. `forceRefresh` skips the read. Off when absent.
   */
  cache?: { dir: string; forceRefresh?: boolean } | undefined;
  /**
   * Asks for the code of a profile's `mfa_serial` (the CLI prompts on the terminal): for the profile's
   * own `role_arn`, or for `roleArn` when the profile holds keys and an MFA device but no role.
   */
  mfaCodeProvider?: (mfaSerial: string) => Promise<string>;
  /** STS endpoint for the role (tests, private endpoints); `AWS_ENDPOINT_URL_STS` works as well. */
  stsEndpoint?: string | undefined;
  /** The time that expired credentials are judged against; the current time by default. */
  now?: TimeInput;
  /** Where the SDK's own warnings go (one line each); dropped by default. */
  warn?: (message: string) => void;
}

/** Credentials with where they came from. */
export interface ResolvedAwsCredentials {
  credentials: AwsCredentials;
  /** The profile used, when one was. */
  profile?: string;
  /** The role assumed, when one was. */
  roleArn?: string;
  /** True when the credentials came from the cache. */
  cached?: boolean;
  /** A problem writing the cache (one line), when there was one. */
  cacheProblem?: string;
}

/**
 * Resolves AWS credentials through the SDK's default chain, then assumes `roleArn` when given.
 * Throws {@link CredentialsError} when nothing is found, a named profile does not exist, the role
 * cannot be assumed, or the credentials have already expired.
 *
 * @example
 * ```ts
 * const { credentials } = await resolveAwsCredentials({ region: "us-east-1", profile: "prod" });
 * const { token } = await mintEksToken({ credentials, clusterName: "prod-eks", region: "us-east-1" });
 * ```
 */
export async function resolveAwsCredentials(options: ResolveAwsCredentialsOptions): Promise<ResolvedAwsCredentials> {
  const env = options.env ?? process.env;
  // The chain's first link, without the chain: keys in the environment, when no profile is named and no
  // role is to be assumed, are what the SDK's default chain would return (its fromEnv), so neither the
  // SDK nor the shared files load for them (the AWS SDK alone is some 700 KB to compile on each run).
  if (nonEmpty(options.roleArn) === undefined && !options.profile && !env.AWS_PROFILE) {
    const fromEnv = awsCredentialsFromEnv(env);
    if (fromEnv !== undefined) {
      checkNotExpired(fromEnv, options.now, "the AWS credentials");
      return { credentials: fromEnv };
    }
  }
  const files = await readAwsSharedFiles(env);
  const profile = await resolveAwsProfile({ profile: options.profile, env, files });
  const roleArn = nonEmpty(options.roleArn);
  if (roleArn !== undefined) checkAwsRoleArn(roleArn);
  const sessionName = checkAwsRoleSessionName(nonEmpty(options.sessionName) ?? DEFAULT_EKS_ROLE_SESSION_NAME);
  const externalId = nonEmpty(options.externalId);
  if (externalId !== undefined) checkAwsExternalId(externalId);
  const cache = options.cache;
  const settings = profile === undefined ? undefined : files.profiles.get(profile);
  const temporary = roleArn !== undefined || (settings !== undefined && TEMPORARY_SOURCES.some((k) => nonEmpty(settings[k]) !== undefined));
  if (cache === undefined || !temporary) return resolveFresh(options, env, files, profile, roleArn, sessionName, externalId);
  // The cache and its lock files load only when a cache is used, not with import("kubeiam").
  const [{ awsCacheFileName, readAwsCachedCredentials, writeAwsCachedCredentials }, { withFileLock }] = await Promise.all([
    import("./cache.js"),
    import("../lib/cache-file.js"),
  ]);
  const identity: AwsCacheIdentity = {
    profile,
    roleArn,
    externalId,
    sessionName: roleArn === undefined ? undefined : sessionName,
    sourceAccessKeyId: profile === undefined ? nonEmpty(env.AWS_ACCESS_KEY_ID) : undefined,
    configFile: files.configFile,
    credentialsFile: files.credentialsFile,
  };
  const fromCache = async (): Promise<ResolvedAwsCredentials | undefined> => {
    if (cache.forceRefresh === true) return undefined;
    const hit = await readAwsCachedCredentials(cache.dir, identity, options.now);
    if (hit === undefined) return undefined;
    return { credentials: hit, cached: true, ...(profile === undefined ? {} : { profile }), ...(roleArn === undefined ? {} : { roleArn }) };
  };
  const early = await fromCache();
  if (early !== undefined) return early;
  // One refresh at a time per identity: the others wait, then find the cache filled (and no second MFA prompt).
  const lock = join(cache.dir, awsCacheFileName(identity).replace(/\.json$/, ".lock"));
  await mkdir(cache.dir, { recursive: true, mode: 0o700 }).catch(() => undefined);
  return withFileLock(lock, async () => {
    const late = await fromCache();
    if (late !== undefined) return late;
    const fresh = await resolveFresh(options, env, files, profile, roleArn, sessionName, externalId);
    const problem = await writeAwsCachedCredentials(cache.dir, identity, fresh.credentials);
    return problem === undefined ? fresh : { ...fresh, cacheProblem: problem };
  });
}

async function resolveFresh(
  options: ResolveAwsCredentialsOptions,
  env: Record<string, string | undefined>,
  files: AwsSharedFiles,
  profile: string | undefined,
  roleArn: string | undefined,
  sessionName: string,
  externalId: string | undefined,
): Promise<ResolvedAwsCredentials> {
  const warn = options.warn ?? ((): void => undefined);
  const logger = {
    debug: (): void => undefined,
    info: (): void => undefined,
    warn: (...parts: unknown[]) => warn(String(parts[0] ?? "").split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 3).join(" ")),
    error: (): void => undefined,
  };
  const { fromNodeProviderChain } = await import("@aws-sdk/credential-providers");
  // Every client the chain makes (STS for role profiles, SSO) goes through the proxy and CA of the environment.
  const { awsRequestHandler } = await import("./http-handler.js");
  const requestHandler = await awsRequestHandler(env);
  const chain = fromNodeProviderChain({
    ...(profile === undefined ? {} : { profile }),
    filepath: files.credentialsFile,
    configFilepath: files.configFile,
    logger,
    clientConfig: { requestHandler },
    ...(options.mfaCodeProvider === undefined ? {} : { mfaCodeProvider: options.mfaCodeProvider }),
  });
  const where = profile === undefined ? "" : ` for profile "${profile}"`;
  let base: AwsCredentials;
  try {
    base = await chain();
  } catch (cause) {
    if (cause instanceof KubeiamError) throw cause; // ours, from the MFA prompt: already one clear line
    throw new CredentialsError(
      `no usable AWS credentials${where} (${sdkReason(cause)}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run 'aws configure' or 'aws sso login', or name a profile`,
      { cause, field: "profile" },
    );
  }
  checkNotExpired(base, options.now, profile === undefined ? "the AWS credentials" : `the AWS credentials of profile "${profile}"`);
  if (roleArn === undefined) return { credentials: plain(base), ...(profile === undefined ? {} : { profile }) };

  // A profile of keys with an MFA device (mfa_serial, no role_arn of its own) uses it for --role-arn, as
  // a role profile with source_profile would; a role profile already used it for its own role above.
  const settings = profile === undefined ? undefined : files.profiles.get(profile);
  const mfaSerial = nonEmpty(settings?.role_arn) === undefined ? nonEmpty(settings?.mfa_serial) : undefined;
  const assumed = await assumeAwsRole({
    credentials: base,
    roleArn,
    sessionName,
    externalId,
    region: options.region,
    stsEndpoint: options.stsEndpoint,
    env,
    ...(mfaSerial === undefined ? {} : { mfa: { serial: mfaSerial, ...(options.mfaCodeProvider === undefined ? {} : { code: options.mfaCodeProvider }) } }),
    ...(options.now === undefined ? {} : { now: options.now }),
    warn,
  });
  return { credentials: plain(assumed), roleArn, ...(profile === undefined ? {} : { profile }) };
}

/**
 * The keys of the environment as the SDK's `fromEnv` reads them: `AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY` (both, or nothing), `AWS_SESSION_TOKEN` and `AWS_CREDENTIAL_EXPIRATION`.
 */
function awsCredentialsFromEnv(env: Record<string, string | undefined>): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN;
  const expiry = env.AWS_CREDENTIAL_EXPIRATION;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}), ...(expiry ? { expiration: new Date(expiry) } : {}) };
}

/** Only the four fields we use: the SDK adds `$source` and others that must not travel further. */
function plain(c: AwsCredentials): AwsCredentials {
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    ...(c.expiration instanceof Date ? { expiration: c.expiration } : {}),
  };
}

function checkNotExpired(c: AwsCredentials, now: TimeInput | undefined, what: string): void {
  if (c.expiration instanceof Date && c.expiration.getTime() <= toEpochMs(now)) {
    throw new CredentialsError(
      `${what} expired at ${c.expiration.toISOString()}: refresh them (for example 'aws sso login', or new values for AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION)`,
    );
  }
}

/** The SDK's reason in one short line, without anything that could be a secret. */
function sdkReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 160);
  const name = error.name && error.name !== "Error" ? `${error.name}: ` : "";
  return (name + (error.message.split("\n")[0] ?? "")).slice(0, 200);
}
