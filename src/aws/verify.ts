/**
 * Verifying an EKS token the way aws-iam-authenticator's server does: check the presigned URL's
 * shape and age, then make the presigned STS GetCallerIdentity call with the cluster name in
 * `x-k8s-aws-id`; STS checks the signature and answers who signed it.
 */
import { ErrorCode, TokenError } from "../lib/errors.js";
import { sendHttpRequest, type HttpOptions } from "../lib/http.js";
import { toEpochMs, type TimeInput } from "../lib/time.js";
import { decodeEksToken, EKS_CLUSTER_ID_HEADER, checkEksClusterName } from "./token.js";

/** Who signed a verified EKS token, as STS says. */
export interface EksCallerIdentity {
  /** The signer's ARN (`arn:aws:iam::123456789012:user/alice`, or an assumed-role ARN). */
  arn: string;
  /** The 12-digit account. */
  account: string;
  /** STS's `UserId` (an access key's unique id, or `ROLEID:session`). */
  userId: string;
}

/** What {@link verifyEksTokenWithSts} needs. */
export interface VerifyEksTokenInput {
  token: string;
  /** The cluster the token must be for: STS checks it as the signed `x-k8s-aws-id` header. */
  clusterName: string;
  /** The time the 15-minute window is judged at; the current time by default. */
  now?: TimeInput;
  /**
   * Where to send the call instead of the token's own host (a private STS endpoint whose DNS answers
   * for the signed host, or a local stand-in); `AWS_ENDPOINT_URL_STS` in the CLI. The path and query stay.
   */
  stsEndpoint?: string | undefined;
  /** HTTP options (fetch, timeout, signal); HTTPS_PROXY / NO_PROXY apply by default. */
  http?: HttpOptions;
}

function refused(code: typeof ErrorCode.TOKEN_SIGNATURE | typeof ErrorCode.TOKEN_EXPIRED | typeof ErrorCode.TOKEN_FUTURE | typeof ErrorCode.TOKEN_CLUSTER, message: string): TokenError {
  return new TokenError(code, message);
}

/**
 * Verifies an EKS token with STS and returns the signer's identity. Throws a {@link TokenError}:
 * `ERR_TOKEN_MALFORMED` for a token that is not a presigned GetCallerIdentity URL, `ERR_TOKEN_CLUSTER`
 * when `x-k8s-aws-id` is not signed, `ERR_TOKEN_EXPIRED` / `ERR_TOKEN_FUTURE` outside the 15-minute
 * window, `ERR_TOKEN_SIGNATURE` when STS refuses it (wrong cluster name, bad signature, revoked key).
 *
 * @example
 * ```ts
 * const who = await verifyEksTokenWithSts({ token, clusterName: "prod-eks" });
 * console.log(who.arn, who.account);
 * ```
 */
export async function verifyEksTokenWithSts(input: VerifyEksTokenInput): Promise<EksCallerIdentity> {
  checkEksClusterName(input.clusterName);
  const claim = decodeEksToken(input.token);
  if (claim.action !== "GetCallerIdentity") {
    throw new TokenError(ErrorCode.TOKEN_MALFORMED, `the token's URL calls ${JSON.stringify(claim.action.slice(0, 40))}, not GetCallerIdentity`);
  }
  if (!claim.clusterIdSigned) {
    throw refused(ErrorCode.TOKEN_CLUSTER, "the token does not sign x-k8s-aws-id, so it is bound to no cluster: EKS refuses it; mint it with --cluster-name");
  }
  const now = toEpochMs(input.now);
  if (now > claim.expiresAt.getTime()) {
    throw refused(ErrorCode.TOKEN_EXPIRED, `the token was signed at ${claim.signedAt.toISOString()} and expired 15 minutes later: mint a new one`);
  }
  if (claim.signedAt.getTime() - now > 5 * 60 * 1000) {
    throw refused(ErrorCode.TOKEN_FUTURE, `the token was signed at ${claim.signedAt.toISOString()}, in the future: check the minting machine's clock`);
  }
  const target = new URL(claim.url);
  let url = claim.url;
  if (input.stsEndpoint !== undefined && input.stsEndpoint.trim() !== "") {
    const base = new URL(input.stsEndpoint);
    url = `${base.origin}${target.pathname}${target.search}`;
  }
  const res = await sendHttpRequest(
    { method: "GET", url, headers: { [EKS_CLUSTER_ID_HEADER]: input.clusterName, accept: "application/json" } },
    { service: "AWS STS", attempts: 2, ...input.http },
  );
  if (res.status !== 200) {
    const detail = stsError(res.text);
    throw refused(
      ErrorCode.TOKEN_SIGNATURE,
      `STS refused the token (${res.status}${detail === "" ? "" : ` ${detail}`}): it is not signed for cluster ${input.clusterName}, or its key is wrong, disabled or expired`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    parsed = undefined;
  }
  const result = (parsed as { GetCallerIdentityResponse?: { GetCallerIdentityResult?: Record<string, unknown> } } | undefined)?.GetCallerIdentityResponse
    ?.GetCallerIdentityResult;
  const arn = result?.Arn;
  const account = result?.Account;
  const userId = result?.UserId;
  if (typeof arn !== "string" || typeof account !== "string" || typeof userId !== "string") {
    throw new TokenError(ErrorCode.TOKEN_SIGNATURE, "STS answered 200 without GetCallerIdentityResult Arn, Account and UserId: the endpoint is not STS");
  }
  return { arn, account, userId };
}

/** STS's error code and message (JSON or XML), one short line. */
function stsError(text: string): string {
  try {
    const j = JSON.parse(text) as { Error?: { Code?: unknown; Message?: unknown } };
    if (typeof j.Error?.Code === "string") return `${j.Error.Code}${typeof j.Error.Message === "string" ? `: ${j.Error.Message}` : ""}`.slice(0, 200);
  } catch {
    // not JSON: try XML
  }
  const code = /<Code>([^<]{1,80})<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]{1,160})<\/Message>/.exec(text)?.[1];
  return code === undefined ? "" : `${code}${message === undefined ? "" : `: ${message}`}`;
}
