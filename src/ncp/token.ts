/**
 * The NKS IAM token `k8s-ncp-v1.…` (docs/formats.md §1): mint, decode and verify.
 * Pure: the clock and the key lookup are passed in.
 */
import type { MintedToken } from "../cluster-info.js";
import { mintedToken } from "../kube/exec-credential.js";
import { InvalidInputError, TokenError, ErrorCode } from "../lib/errors.js";
import { MAX_DATE_MS, toEpochMs, type TimeInput } from "../lib/time.js";
import { UUID_RE } from "../lib/validate.js";
import { clipped, quoted } from "../lib/printable.js";
import { parseNcpRegion, type NcpRegion } from "./region.js";
import { signNcpRequest, type NcpSigner } from "./sign.js";
import { lazyBuiltin } from "../lib/builtin.js";

// Not `import`: this is on the exec-plugin path, and `import("kubeiam")` needs it only to verify (lib/builtin.ts).
const crypto = lazyBuiltin("node:crypto");

/** The prefix of every NKS IAM token. */
export const NCP_TOKEN_PREFIX = "k8s-ncp-v1.";

/**
 * How long an NKS token works after its timestamp: 5 minutes. The cluster replays the token's
 * signature to NCP IAM, whose API gateway refuses a timestamp more than 5 minutes off its clock
 * (NCP API docs, common request headers; docs/formats.md §1). So a minted token's `expiresAt` is
 * its timestamp + 5 minutes and its `refreshAt` (the ExecCredential's `expirationTimestamp`) + 4,
 * as cb-spider announces NKS tokens (cb-spider#1828); and a verifier's default window is 5 minutes.
 */
export const NCP_TOKEN_TTL_MS = 5 * 60 * 1000;

/** How far in the future a token's timestamp may lie by default when verifying: 1 minute. */
export const NCP_TOKEN_MAX_FUTURE_SKEW_MS = 60 * 1000;

const CLAIM_KEYS = ["timestamp", "accessKey", "signature", "path"] as const;
// A timestamp as minting writes it (String of a whole, non-negative number): no sign, no leading zero.
const TIMESTAMP_RE = /^(?:0|[1-9][0-9]{0,15})$/;
const PATH_RE = /^\/iam\/([a-z0-9-]+)\/user\?clusterUuid=(.*)$/;
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
// Go's encoding/json escapes these inside strings; we must produce the same bytes.
const GO_ESCAPE_TEST = /[<>&\u2028\u2029]/;
const GO_ESCAPE_ALL = /[<>&\u2028\u2029]/g;
const GO_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

// The last timestamp whose expiry is still a Date.
const MAX_TIMESTAMP_MS = MAX_DATE_MS - NCP_TOKEN_TTL_MS;

/**
 * Checks that a cluster UUID is 8-4-4-4-12 hexadecimal (case kept), so nothing else can reach
 * the signed path.
 *
 * @example
 * ```ts
 * checkClusterUuid("3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b"); // returns it unchanged
 * ```
 */
export function checkClusterUuid(clusterUuid: string): string {
  if (!UUID_RE.test(clusterUuid)) {
    throw new InvalidInputError(
      "clusterUuid",
      `cluster UUID ${quoted(clusterUuid, 64)} is not a UUID: give the cluster's 8-4-4-4-12 hexadecimal UUID, as the NKS console shows it`,
      { value: clusterUuid.slice(0, 64) },
    );
  }
  return clusterUuid;
}

declare const parsedCluster: unique symbol;

/**
 * One NKS cluster as its tokens name it, parsed once where the input entered ({@link parseNcpTokenTarget}):
 * the UUID checked, the region checked with its stage, and the IAM path a token signs. Hold it for as
 * long as you mint for the cluster: minting then checks nothing again.
 */
export interface NcpTokenTarget {
  readonly [parsedCluster]: true;
  /** The cluster UUID, as given (case kept). */
  readonly clusterUuid: string;
  readonly region: NcpRegion;
  /** `/iam/{stage}/user?clusterUuid={uuid}`: docs/formats.md §1, step 3. */
  readonly path: string;
}

/**
 * Checks a cluster's region and UUID (refusing, with `InvalidInputError` naming the field, anything
 * that would change what is signed) and returns the {@link NcpTokenTarget} that minting takes.
 *
 * @example
 * ```ts
 * const cluster = parseNcpTokenTarget({ region: "sgn", clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b" });
 * cluster.path; // "/iam/sgn-v1/user?clusterUuid=3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b"
 * ```
 */
export function parseNcpTokenTarget(input: { region: string | NcpRegion; clusterUuid: string }): NcpTokenTarget {
  const clusterUuid = checkClusterUuid(input.clusterUuid);
  const region = typeof input.region === "string" ? parseNcpRegion(input.region) : input.region;
  return { clusterUuid, region, path: `/iam/${region.stage}/user?clusterUuid=${clusterUuid}` } as NcpTokenTarget;
}

/** The IAM path that a token for this cluster and region signs. */
export function ncpTokenPath(clusterUuid: string, region: string): string {
  return parseNcpTokenTarget({ clusterUuid, region }).path;
}

/** What {@link mintNcpToken} needs: a key ready to sign, a parsed cluster, and the time. */
export interface MintNcpTokenInput {
  /** The API key that signs ({@link createNcpSigner}). */
  signer: NcpSigner;
  /** The cluster the token is for ({@link parseNcpTokenTarget}). */
  cluster: NcpTokenTarget;
  /** The time to sign at; defaults to the current time. */
  now?: TimeInput;
}

// Of the printable ASCII characters, the ones that Go's encoding/json writes as they are (all but " & < > and backslash).
const GO_PLAIN_RE = /^[!#-%'-;=?-[\]-~]+$/;

/**
 * Mints an NKS IAM token, byte for byte as the official `ncp-iam-authenticator` does (docs/formats.md §1):
 * good for 5 minutes after its timestamp (`expiresAt`), to be replaced after 4 (`refreshAt`). Pure:
 * the key, the cluster and the time are all passed in, and nothing is kept between calls.
 *
 * @example
 * ```ts
 * const signer = createNcpSigner({ accessKey, secretKey });
 * const cluster = parseNcpTokenTarget({ region: "KR", clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b" });
 * const { token, expiresAt, refreshAt } = mintNcpToken({ signer, cluster });
 * ```
 */
export function mintNcpToken(input: MintNcpTokenInput): MintedToken {
  const { signer, cluster } = input;
  const ms = toEpochMs(input.now);
  if (ms < 0 || ms > MAX_TIMESTAMP_MS) {
    throw new InvalidInputError("now", "now is before 1970 or too far ahead: a token's timestamp cannot carry it");
  }
  const timestamp = String(ms);
  const accessKey = signer.accessKey;
  const signature = signer.sign(`GET ${cluster.path}\n${timestamp}\n${accessKey}`);
  // The timestamp is digits, the signature Base64 and the path checked: only the access key can
  // need escaping. The common case, a plain ASCII key, is written as it is; any other key goes the
  // long way: JSON.stringify, Go's extra escapes, UTF-8.
  const body = GO_PLAIN_RE.test(accessKey)
    ? btoa(`{"timestamp":"${timestamp}","accessKey":"${accessKey}","signature":"${signature}","path":"${cluster.path}"}`)
    : encodeClaim({ timestamp, accessKey, signature, path: cluster.path });
  return mintedToken(NCP_TOKEN_PREFIX + body, new Date(ms + NCP_TOKEN_TTL_MS));
}

/** JSON as Go's encoding/json writes it: also escaping <, >, &, U+2028 and U+2029. */
function goJson(value: unknown): string {
  const json = JSON.stringify(value);
  return GO_ESCAPE_TEST.test(json) ? json.replace(GO_ESCAPE_ALL, (c) => GO_ESCAPES[c] ?? c) : json;
}

/** The token body that minting writes for these claim values (docs/formats.md §1, steps 5-6). */
function encodeClaim(c: { timestamp: string; accessKey: string; signature: string; path: string }): string {
  // A fresh object: the key order is part of the bytes.
  const claim = { timestamp: c.timestamp, accessKey: c.accessKey, signature: c.signature, path: c.path };
  return Buffer.from(goJson(claim), "utf8").toString("base64");
}

/** The parts of a decoded NKS token. Nothing here is checked beyond its form. */
export interface NcpTokenClaim {
  /** The signing time. */
  issuedAt: Date;
  /** The signing time as it stands in the claim (milliseconds, decimal). */
  timestamp: string;
  /** When the token stops being accepted: `issuedAt` plus 5 minutes ({@link NCP_TOKEN_TTL_MS}). */
  expiresAt: Date;
  accessKey: string;
  signature: string;
  path: string;
  /** The cluster UUID that the path names. */
  clusterUuid: string;
  /** The IAM stage that the path names (`v1`, `sgn-v1`, …). */
  stage: string;
  /**
   * Whether the token is, byte for byte, what minting writes for these values. A claim with
   * duplicate keys, spaces, `\u` escapes or another key order (or Base64 with stray padding bits,
   * or white space around the token) decodes to the same values but is another string for the
   * same signature: {@link verifyNcpToken} refuses it, so that a token string is a stable identity.
   */
  canonical: boolean;
}

function malformed(message: string, cause?: unknown): TokenError {
  return new TokenError(ErrorCode.TOKEN_MALFORMED, message, cause === undefined ? undefined : { cause });
}

/**
 * Decodes an NKS token into its claim, or throws a {@link TokenError} with code
 * `ERR_TOKEN_MALFORMED` saying what is wrong with it. Does not check the signature.
 *
 * @example
 * ```ts
 * const claim = decodeNcpToken(token);
 * console.log(claim.clusterUuid, claim.expiresAt.toISOString());
 * ```
 */
export function decodeNcpToken(token: string): NcpTokenClaim {
  const input = token.trim();
  if (!input.startsWith(NCP_TOKEN_PREFIX)) {
    throw malformed(`not an NKS token: it must start with "${NCP_TOKEN_PREFIX}"`);
  }
  const body = input.slice(NCP_TOKEN_PREFIX.length);
  if (body.length === 0 || body.length % 4 !== 0 || !B64_RE.test(body)) {
    throw malformed("the token's body is not standard Base64 with padding: copy the whole token again");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, "base64").toString("utf8"));
  } catch (cause) {
    throw malformed("the token's body is not JSON: copy the whole token again", cause);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw malformed("the token's claim is not a JSON object");
  }
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record);
  const extra = keys.filter((k) => !(CLAIM_KEYS as readonly string[]).includes(k));
  if (extra.length > 0) {
    throw malformed(`the token's claim has unexpected keys (${extra.slice(0, 5).map((k) => quoted(k, 40)).join(", ")}): expected exactly ${CLAIM_KEYS.join(", ")}`);
  }
  for (const key of CLAIM_KEYS) {
    if (typeof record[key] !== "string") {
      throw malformed(`the token's claim lacks the string field "${key}"`);
    }
  }
  const timestamp = record.timestamp as string;
  const accessKey = record.accessKey as string;
  const signature = record.signature as string;
  const path = record.path as string;
  // Anything else would parse to NaN or to a time no Date holds, and slip past every window check.
  if (!TIMESTAMP_RE.test(timestamp) || Number(timestamp) > MAX_TIMESTAMP_MS) {
    throw malformed(
      `the token's timestamp ${quoted(timestamp, 32)} is not milliseconds since the epoch (a whole number up to ${MAX_TIMESTAMP_MS}, no sign or leading zero)`,
    );
  }
  const match = PATH_RE.exec(path);
  if (!match) {
    throw malformed(`the token's path ${quoted(path, 120)} is not /iam/{stage}/user?clusterUuid={uuid}`);
  }
  const stage = match[1] as string;
  const clusterUuid = match[2] as string;
  if (!UUID_RE.test(clusterUuid)) {
    throw malformed(`the token's path names ${quoted(clusterUuid, 64)}, which is not a cluster UUID`);
  }
  const ms = Number(timestamp);
  return {
    issuedAt: new Date(ms),
    timestamp,
    expiresAt: new Date(ms + NCP_TOKEN_TTL_MS),
    accessKey,
    signature,
    path,
    clusterUuid,
    stage,
    canonical: token === NCP_TOKEN_PREFIX + encodeClaim({ timestamp, accessKey, signature, path }),
  };
}

/** Options of {@link verifyNcpToken}. */
export interface VerifyNcpTokenOptions {
  /** The secret key of an access key, or `undefined` when the key is unknown. */
  secretKeyFor: (accessKey: string) => string | undefined;
  /** When set, the token must name this cluster (compared case-insensitively, as UUIDs are). */
  clusterUuid?: string;
  /** When set, the token's path must name this region's IAM stage. */
  region?: string;
  /** The time to check against; defaults to the current time. */
  now?: TimeInput;
  /** How old a token may be; 5 minutes by default (NCP's gateway window, {@link NCP_TOKEN_TTL_MS}). */
  maxAgeMs?: number;
  /** How far in the future its timestamp may be; 1 minute by default. */
  maxFutureSkewMs?: number;
}

/** What a verified token proves. */
export interface VerifiedNcpToken {
  accessKey: string;
  clusterUuid: string;
  stage: string;
  issuedAt: Date;
  expiresAt: Date;
}

/**
 * Verifies an NKS token: form, known access key, signature (constant-time), age, future skew,
 * cluster and stage. Throws a {@link TokenError} whose code names the failed check.
 *
 * @example
 * ```ts
 * const who = verifyNcpToken(token, {
 *   secretKeyFor: (ak) => keyring.get(ak),
 *   clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b",
 * });
 * console.log(who.accessKey);
 * ```
 */
export function verifyNcpToken(token: string, options: VerifyNcpTokenOptions): VerifiedNcpToken {
  const now = toEpochMs(options.now);
  const maxAge = span("maxAgeMs", options.maxAgeMs ?? NCP_TOKEN_TTL_MS);
  const maxSkew = span("maxFutureSkewMs", options.maxFutureSkewMs ?? NCP_TOKEN_MAX_FUTURE_SKEW_MS);
  const claim = decodeNcpToken(token);
  if (!claim.canonical) {
    throw malformed("the token is not in its canonical form (the bytes minting writes for its values): mint it again, and pass it on unchanged");
  }
  const secretKey = options.secretKeyFor(claim.accessKey);
  if (secretKey === undefined) {
    throw new TokenError(ErrorCode.TOKEN_UNKNOWN_KEY, `the token is signed by access key ${clipped(claim.accessKey, 64)}, which is not known here`);
  }
  const expected = Buffer.from(
    signNcpRequest({ method: "GET", uri: claim.path, timestamp: claim.timestamp, accessKey: claim.accessKey, secretKey }),
  );
  const given = Buffer.from(claim.signature);
  if (expected.length !== given.length || !crypto().timingSafeEqual(expected, given)) {
    throw new TokenError(ErrorCode.TOKEN_SIGNATURE, "the token's signature does not match: it was not signed with this access key's secret, or it was altered");
  }
  const issued = claim.issuedAt.getTime();
  // A Date cannot go past MAX_DATE_MS; a token allowed to live that long never expires anyway.
  const expiresAt = new Date(Math.min(issued + maxAge, MAX_DATE_MS));
  if (now - issued > maxAge) {
    throw new TokenError(
      ErrorCode.TOKEN_EXPIRED,
      `the token expired at ${expiresAt.toISOString()} (issued ${claim.issuedAt.toISOString()}): mint a new one`,
    );
  }
  if (issued - now > maxSkew) {
    throw new TokenError(
      ErrorCode.TOKEN_FUTURE,
      `the token is issued at ${claim.issuedAt.toISOString()}, more than ${Math.round(maxSkew / 1000)} s in the future: check the clock of the machine that minted it`,
    );
  }
  if (options.clusterUuid !== undefined && options.clusterUuid.toLowerCase() !== claim.clusterUuid.toLowerCase()) {
    throw new TokenError(ErrorCode.TOKEN_CLUSTER, `the token is for cluster ${claim.clusterUuid}, not ${clipped(options.clusterUuid, 64)}`);
  }
  if (options.region !== undefined) {
    const want = parseNcpRegion(options.region).stage;
    if (want !== claim.stage) {
      throw new TokenError(ErrorCode.TOKEN_CLUSTER, `the token names IAM stage ${claim.stage}, but this cluster's region ${options.region.toUpperCase()} uses ${want}`);
    }
  }
  return {
    accessKey: claim.accessKey,
    clusterUuid: claim.clusterUuid,
    stage: claim.stage,
    issuedAt: claim.issuedAt,
    expiresAt,
  };
}

/** A verifier's span option: a non-negative number of milliseconds that a Date can hold. */
function span(field: "maxAgeMs" | "maxFutureSkewMs", ms: number): number {
  if (!(ms >= 0 && ms <= MAX_DATE_MS)) {
    throw new InvalidInputError(field, `${field} is not a number of milliseconds between 0 and ${MAX_DATE_MS}`);
  }
  return ms;
}
