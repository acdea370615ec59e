/**
 * Assuming an IAM role at STS (AssumeRole) with given base credentials, and the checks of its three
 * inputs (role ARN, session name, external id). Shared by the credential chain (`--role-arn`) and
 * the broker (a held credential with `aws.roleArn`). The SDK loads on first use.
 */
import { ApiError, CredentialsError, InvalidInputError, KubeiamError, NetworkError } from "../lib/errors.js";
import { redactUrls } from "../lib/redact-url.js";
import { toEpochMs, type TimeInput } from "../lib/time.js";
import type { AwsCredentials } from "./token.js";

const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME_RE = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/;

/**
 * Checks an IAM role ARN (`arn:aws:iam::123456789012:role/name`) and returns it.
 *
 * @example
 * ```ts
 * checkAwsRoleArn("arn:aws:iam::123456789012:role/eks-admin"); // returns it unchanged
 * ```
 */
export function checkAwsRoleArn(roleArn: string): string {
  if (!ROLE_ARN_RE.test(roleArn)) {
    throw new InvalidInputError("roleArn", `role ARN ${JSON.stringify(roleArn.slice(0, 120))} is not an IAM role ARN: pass one like arn:aws:iam::123456789012:role/eks-admin`);
  }
  return roleArn;
}

/**
 * Checks a role session name (2 to 64 of letters, digits and `+=,.@_-`) and returns it.
 *
 * @example
 * ```ts
 * checkAwsRoleSessionName("kubeiam-broker"); // returns it unchanged
 * ```
 */
export function checkAwsRoleSessionName(sessionName: string): string {
  if (!SESSION_NAME_RE.test(sessionName)) {
    throw new InvalidInputError("sessionName", `role session name ${JSON.stringify(sessionName.slice(0, 80))} is not valid: use 2 to 64 letters, digits and +=,.@_-`);
  }
  return sessionName;
}

/**
 * Checks an external id (2 to 1224 of letters, digits and `+=,.@:/_-`) and returns it. The message
 * never repeats it.
 *
 * @example
 * ```ts
 * checkAwsExternalId("team-42-prod"); // returns it unchanged
 * ```
 */
export function checkAwsExternalId(externalId: string): string {
  if (!EXTERNAL_ID_RE.test(externalId)) {
    throw new InvalidInputError("externalId", "the external id is not valid: use 2 to 1224 letters, digits and +=,.@:/_-");
  }
  return externalId;
}

/** What {@link assumeAwsRole} needs. */
export interface AssumeAwsRoleInput {
  /** The credentials that call AssumeRole (long-lived keys, or temporary ones with their session token). */
  credentials: AwsCredentials;
  roleArn: string;
  sessionName: string;
  externalId?: string | undefined;
  /** The region whose STS endpoint answers. */
  region: string;
  /** STS endpoint (tests, private endpoints); `AWS_ENDPOINT_URL_STS` works as well. */
  stsEndpoint?: string | undefined;
  /** The environment whose HTTPS_PROXY, NO_PROXY and AWS_CA_BUNDLE the STS client follows. */
  env: Record<string, string | undefined>;
  /**
   * An MFA device the role asks for: its serial, and the way to ask for its code (without one, STS's
   * refusal says MFA is needed).
   */
  mfa?: { serial: string; code?: (serial: string) => Promise<string> } | undefined;
  /** The time that expired credentials are judged against; the current time by default. */
  now?: TimeInput;
  /** Where the SDK's own warnings go (one line each); dropped by default. */
  warn?: (message: string) => void;
}

/**
 * Assumes `roleArn` with `credentials` and returns the role's temporary credentials (with their
 * session token and expiry). Inputs are checked first. A refusal by STS (trust policy, external id,
 * permission) is a {@link CredentialsError}; STS unreachable is a {@link NetworkError}; STS failing
 * (5xx, throttled) an {@link ApiError}. No message holds a key, a secret or a session token.
 *
 * @example
 * ```ts
 * const role = await assumeAwsRole({
 *   credentials: { accessKeyId, secretAccessKey },
 *   roleArn: "arn:aws:iam::123456789012:role/eks-admin",
 *   sessionName: "kubeiam-broker",
 *   region: "eu-central-1",
 *   env: process.env,
 * });
 * const { token } = await mintEksToken({ credentials: role, clusterName: "prod", region: "eu-central-1" });
 * ```
 */
export async function assumeAwsRole(input: AssumeAwsRoleInput): Promise<AwsCredentials> {
  const roleArn = checkAwsRoleArn(input.roleArn);
  const sessionName = checkAwsRoleSessionName(input.sessionName);
  const externalId = input.externalId === undefined ? undefined : checkAwsExternalId(input.externalId);
  const warn = input.warn ?? ((): void => undefined);
  const logger = {
    debug: (): void => undefined,
    info: (): void => undefined,
    warn: (...parts: unknown[]) => warn(String(parts[0] ?? "").split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 3).join(" ")),
    error: (): void => undefined,
  };
  const [{ fromTemporaryCredentials }, { awsRequestHandler }] = await Promise.all([import("@aws-sdk/credential-providers"), import("./http-handler.js")]);
  const base = input.credentials;
  const requestHandler = await awsRequestHandler(input.env);
  const provider = fromTemporaryCredentials({
    params: {
      RoleArn: roleArn,
      RoleSessionName: sessionName,
      ...(externalId === undefined ? {} : { ExternalId: externalId }),
      ...(input.mfa === undefined ? {} : { SerialNumber: input.mfa.serial }),
    },
    ...(input.mfa?.code === undefined ? {} : { mfaCodeProvider: input.mfa.code }),
    masterCredentials: async () => base,
    clientConfig: {
      region: input.region,
      ...(input.stsEndpoint === undefined ? {} : { endpoint: input.stsEndpoint }),
      logger,
      requestHandler,
    },
    logger,
  });
  let assumed: AwsCredentials;
  try {
    assumed = await provider();
  } catch (cause) {
    throw assumeRoleError(roleArn, cause);
  }
  if (assumed.expiration instanceof Date && assumed.expiration.getTime() <= toEpochMs(input.now)) {
    throw new CredentialsError(`the credentials of role ${roleArn} expired at ${assumed.expiration.toISOString()}: check the clock of this machine`);
  }
  return {
    accessKeyId: assumed.accessKeyId,
    secretAccessKey: assumed.secretAccessKey,
    ...(assumed.sessionToken ? { sessionToken: assumed.sessionToken } : {}),
    ...(assumed.expiration instanceof Date ? { expiration: assumed.expiration } : {}),
  };
}

/** The SDK's failure as one of ours, in one line without anything that could be a secret. */
function assumeRoleError(roleArn: string, error: unknown): Error {
  if (error instanceof KubeiamError) return error; // ours, from the MFA prompt: already one clear line
  const e = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === "string" && e.name !== "Error" ? e.name : "";
  const message = redactUrls(typeof e.message === "string" ? (e.message.split("\n")[0] ?? "") : String(error)).slice(0, 200);
  const reason = name === "" ? message : `${name}: ${message}`;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined && name !== "CredentialsProviderError") {
    return new NetworkError(`cannot assume role ${roleArn}: STS could not be reached (${reason}): check the network, the proxy, the CA bundle and the STS endpoint`, { cause: error });
  }
  if (status !== undefined && (status >= 500 || status === 429)) {
    return new ApiError(`cannot assume role ${roleArn}: STS answered ${status} (${reason}); retry later`, { status, apiCode: name, apiMessage: message }, { cause: error });
  }
  return new CredentialsError(`cannot assume role ${roleArn} (${reason}): check the role's trust policy, its external id and the permission to sts:AssumeRole`, { cause: error });
}
