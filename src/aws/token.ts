/**
 * The EKS token `k8s-aws-v1.…` (docs/formats.md §6): mint it (a SigV4 presigned STS GetCallerIdentity
 * URL, byte for byte as `aws eks get-token` prints it) and decode it for `kubeiam inspect`.
 * Signed with node:crypto (src/aws/sigv4.ts), checked against `@smithy/signature-v4` and the AWS CLI.
 */
import type { MintedToken } from "../cluster-info.js";
import { mintedToken } from "../kube/exec-credential.js";
import { InvalidInputError, TokenError, ErrorCode } from "../lib/errors.js";
import { isEpochMs, toEpochMs, type TimeInput } from "../lib/time.js";
import { KEY_RE } from "../lib/validate.js";
import { presignSigV4, sigV4Escape } from "./sigv4.js";

/** The prefix of every EKS token. */
export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";

/** The header that binds a token to one cluster; it is signed, never sent in the query. */
export const EKS_CLUSTER_ID_HEADER = "x-k8s-aws-id";

/** How long the presigned URL says it is valid (`X-Amz-Expires`), as the AWS CLI signs it. */
export const EKS_PRESIGN_EXPIRES_SECONDS = 60;

/**
 * How long the cluster side (aws-iam-authenticator) accepts a token after its `X-Amz-Date`: 15 minutes.
 * A minted token's `refreshAt` is a minute before, 14 minutes on, as `aws eks get-token` announces it.
 */
export const EKS_TOKEN_TTL_MS = 15 * 60 * 1000;

const STS_QUERY = { Action: "GetCallerIdentity", Version: "2011-06-15" } as const;
// botocore writes the presigned query in this order (not sorted); the bytes of the token depend on it.
const BOTOCORE_QUERY_ORDER = [
  "Action",
  "Version",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Security-Token",
  "X-Amz-Signature",
] as const;
const REGION_RE = /^[a-z]{2}(?:-[a-z0-9]+)+-\d{1,2}$/;
const CLUSTER_RE = /^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** AWS credentials, as `@aws-sdk/credential-providers` resolves them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present for temporary (session) credentials; signed into the URL as `X-Amz-Security-Token`. */
  sessionToken?: string;
  /** When temporary credentials stop working. */
  expiration?: Date;
}

/** What {@link mintEksToken} needs. */
export interface MintEksTokenInput {
  credentials: AwsCredentials;
  /** The cluster's name (or, for local clusters on Outposts, its id): the signed `x-k8s-aws-id`. */
  clusterName: string;
  /** The AWS region whose STS endpoint the URL names (`us-east-1`, `eu-central-1`, …). */
  region: string;
  /** The time to sign at; the current time by default. Signing keeps whole seconds. */
  now?: TimeInput;
}

/**
 * A minted EKS token: `expiresAt` is 15 minutes after signing, or when the credentials expire if that
 * is sooner; `refreshAt` a minute before (14 minutes on, the AWS CLI's `expirationTimestamp`).
 */
export interface EksToken extends MintedToken {
  /** The signing time (`X-Amz-Date`), whole seconds. */
  signedAt: Date;
  /** The presigned URL inside the token. */
  url: string;
}

/**
 * The STS host for a region: `sts.{region}.amazonaws.com`, with the DNS suffix of the region's partition.
 *
 * @example
 * ```ts
 * stsHostFor("eu-central-1"); // "sts.eu-central-1.amazonaws.com"
 * stsHostFor("cn-north-1");   // "sts.cn-north-1.amazonaws.com.cn"
 * ```
 */
export function stsHostFor(region: string): string {
  checkAwsRegion(region);
  return `sts.${region}.${dnsSuffixFor(region)}`;
}

function dnsSuffixFor(region: string): string {
  if (region.startsWith("cn-")) return "amazonaws.com.cn";
  if (region.startsWith("us-isob-")) return "sc2s.sgov.gov";
  if (region.startsWith("us-iso-")) return "c2s.ic.gov";
  if (region.startsWith("eusc-")) return "amazonaws.eu";
  return "amazonaws.com";
}

/**
 * Checks an AWS region code (`us-east-1`), since it becomes part of the signed host.
 *
 * @example
 * ```ts
 * checkAwsRegion("ap-northeast-2"); // returns it unchanged
 * ```
 */
export function checkAwsRegion(region: string): string {
  if (!REGION_RE.test(region)) {
    throw new InvalidInputError(
      "region",
      `AWS region ${JSON.stringify(region.slice(0, 40))} is not a region code: give one like us-east-1`,
      { value: region.slice(0, 40) },
    );
  }
  return region;
}

/**
 * Checks an EKS cluster name (1–100 letters, digits, `-` and `_`, starting with a letter or digit).
 *
 * @example
 * ```ts
 * checkEksClusterName("prod-eks"); // returns it unchanged
 * ```
 */
export function checkEksClusterName(name: string): string {
  if (!CLUSTER_RE.test(name)) {
    throw new InvalidInputError(
      "clusterName",
      `EKS cluster name ${JSON.stringify(name.slice(0, 100))} is not valid: use the cluster's name (letters, digits, - and _), as 'aws eks list-clusters' shows it`,
      { value: name.slice(0, 100) },
    );
  }
  return name;
}

function checkAwsKey(field: "accessKeyId" | "secretAccessKey" | "sessionToken", value: string): void {
  const label = { accessKeyId: "access key id", secretAccessKey: "secret access key", sessionToken: "session token" }[field];
  if (!KEY_RE.test(value)) {
    throw new InvalidInputError(
      field,
      `the AWS ${label} is empty or holds white space or control characters: set it again without spaces or line breaks`,
    );
  }
}

/**
 * Mints an EKS token (docs/formats.md §6): for the same credentials, region, cluster and second it is the
 * token that `aws eks get-token` prints, byte for byte.
 *
 * @example
 * ```ts
 * const { token, expiresAt } = await mintEksToken({
 *   credentials: { accessKeyId, secretAccessKey, sessionToken },
 *   clusterName: "prod-eks",
 *   region: "eu-central-1",
 * });
 * ```
 */
export async function mintEksToken(input: MintEksTokenInput): Promise<EksToken> {
  const { credentials } = input;
  checkAwsKey("accessKeyId", credentials.accessKeyId);
  checkAwsKey("secretAccessKey", credentials.secretAccessKey);
  if (credentials.sessionToken !== undefined) checkAwsKey("sessionToken", credentials.sessionToken);
  checkEksClusterName(input.clusterName);
  const host = stsHostFor(input.region);
  // SigV4 dates have whole seconds; drop the fraction so the date printed is the date signed.
  const signedAt = new Date(Math.floor(toEpochMs(input.now) / 1000) * 1000);

  // No body: botocore signs the SHA-256 of the empty payload, as presignSigV4 does.
  const query = presignSigV4({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    region: input.region,
    service: "sts",
    method: "GET",
    path: "/",
    query: STS_QUERY,
    headers: { host, [EKS_CLUSTER_ID_HEADER]: input.clusterName },
    signedAt,
    expiresIn: EKS_PRESIGN_EXPIRES_SECONDS,
  });
  const parts: string[] = [];
  for (const name of BOTOCORE_QUERY_ORDER) {
    const value = query[name];
    if (typeof value === "string") parts.push(`${name}=${sigV4Escape(value)}`);
  }
  const url = `https://${host}/?${parts.join("&")}`;
  const end = signedAt.getTime() + EKS_TOKEN_TTL_MS;
  if (!isEpochMs(end)) throw new InvalidInputError("now", "now is too far ahead: the token's expiry would be beyond any date");
  const credentialsEnd = credentials.expiration?.getTime();
  const expiresAt = new Date(credentialsEnd !== undefined && credentialsEnd < end ? credentialsEnd : end);
  return { ...mintedToken(EKS_TOKEN_PREFIX + Buffer.from(url, "utf8").toString("base64url"), expiresAt, signedAt), signedAt, url };
}

/** What an EKS token says, for `kubeiam inspect`. Nothing here is verified: that takes STS. */
export interface EksTokenClaim {
  /** The presigned URL. */
  url: string;
  /** The URL's host (`sts.us-east-1.amazonaws.com`). */
  host: string;
  /** The region of the credential scope. */
  region: string;
  /** The service of the credential scope (`sts`). */
  service: string;
  /** The access key id that signed it (not a secret). */
  accessKeyId: string;
  /** `X-Amz-Date`. */
  signedAt: Date;
  /** `X-Amz-Expires`, seconds. */
  presignExpiresSeconds: number;
  /** When the cluster side stops accepting it: `signedAt` + 15 minutes. */
  expiresAt: Date;
  /** The signed header names, in order. */
  signedHeaders: string[];
  /** Whether `x-k8s-aws-id` (the cluster binding) is among the signed headers. */
  clusterIdSigned: boolean;
  /** Whether the URL carries a session token (temporary credentials); the token itself is never returned. */
  hasSessionToken: boolean;
  /** The STS action (`GetCallerIdentity`). */
  action: string;
}

function malformed(message: string, cause?: unknown): TokenError {
  return new TokenError(ErrorCode.TOKEN_MALFORMED, message, cause === undefined ? undefined : { cause });
}

/**
 * Decodes an EKS token into what its presigned URL says, or throws a {@link TokenError} with code
 * `ERR_TOKEN_MALFORMED` naming what is wrong. Does not check the signature (only STS can).
 *
 * @example
 * ```ts
 * const claim = decodeEksToken(token);
 * console.log(claim.region, claim.signedAt.toISOString(), claim.clusterIdSigned);
 * ```
 */
export function decodeEksToken(token: string): EksTokenClaim {
  const input = token.trim();
  if (!input.startsWith(EKS_TOKEN_PREFIX)) throw malformed(`not an EKS token: it must start with "${EKS_TOKEN_PREFIX}"`);
  const body = input.slice(EKS_TOKEN_PREFIX.length);
  if (body.length === 0 || !/^[A-Za-z0-9_-]+$/.test(body)) {
    throw malformed("the token's body is not unpadded Base64url: copy the whole token again");
  }
  const text = Buffer.from(body, "base64url").toString("utf8");
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw malformed("the token's body is not a URL: copy the whole token again", cause);
  }
  if (url.protocol !== "https:") throw malformed(`the token's URL is ${url.protocol}, not https:`);
  if (!/^sts(\.[a-z0-9-]+)?\.amazonaws\.[a-z.]+$|^sts(\.[a-z0-9-]+)?\.(c2s\.ic|sc2s\.sgov)\.gov$/.test(url.hostname)) {
    throw malformed(`the token's URL names ${JSON.stringify(url.hostname.slice(0, 80))}, which is not an STS endpoint`);
  }
  const q = url.searchParams;
  const need = (name: string): string => {
    const v = q.get(name);
    if (v === null || v === "") throw malformed(`the token's URL lacks ${name}`);
    return v;
  };
  const credential = need("X-Amz-Credential").split("/");
  if (credential.length !== 5 || credential[4] !== "aws4_request") {
    throw malformed("the token's X-Amz-Credential is not {key}/{date}/{region}/{service}/aws4_request");
  }
  const date = AMZ_DATE_RE.exec(need("X-Amz-Date"));
  if (date === null) throw malformed("the token's X-Amz-Date is not YYYYMMDDTHHMMSSZ");
  const [, y, mo, d, h, mi, s] = date.map(Number) as [number, number, number, number, number, number, number];
  const signedAt = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const expires = need("X-Amz-Expires");
  if (!/^\d{1,6}$/.test(expires)) throw malformed("the token's X-Amz-Expires is not a number of seconds");
  need("X-Amz-Signature");
  const signedHeaders = need("X-Amz-SignedHeaders").split(";");
  return {
    url: text,
    host: url.hostname,
    region: credential[2] ?? "",
    service: credential[3] ?? "",
    accessKeyId: credential[0] ?? "",
    signedAt,
    presignExpiresSeconds: Number(expires),
    expiresAt: new Date(signedAt.getTime() + EKS_TOKEN_TTL_MS),
    signedHeaders,
    clusterIdSigned: signedHeaders.includes(EKS_CLUSTER_ID_HEADER),
    hasSessionToken: q.has("X-Amz-Security-Token"),
    action: q.get("Action") ?? "",
  };
}
