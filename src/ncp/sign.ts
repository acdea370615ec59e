/**
 * The NCP API Gateway signature (docs/formats.md §3), shared by the NKS token and the NKS REST client.
 */
import { createHmac } from "node:crypto";

/** What one signature covers. */
export interface NcpSignInput {
  /** HTTP method, upper case (`GET`). */
  method: string;
  /** Request URI: path and query, exactly as sent (`/vnks/v2/clusters?x=1`). */
  uri: string;
  /** Milliseconds since the epoch, as a decimal string. */
  timestamp: string;
  accessKey: string;
  secretKey: string;
}

/**
 * The string that NCP signs: `METHOD uri\ntimestamp\naccessKey`.
 *
 * @example
 * ```ts
 * ncpStringToSign({ method: "GET", uri: "/x", timestamp: "1", accessKey: "AK" }); // "GET /x\n1\nAK"
 * ```
 */
export function ncpStringToSign(input: Omit<NcpSignInput, "secretKey">): string {
  return `${input.method} ${input.uri}\n${input.timestamp}\n${input.accessKey}`;
}

/**
 * Base64 (standard, padded) of HMAC-SHA256 over {@link ncpStringToSign}, keyed with the secret key.
 *
 * @example
 * ```ts
 * const sig = signNcpRequest({ method: "GET", uri: "/vnks/v2/clusters", timestamp: String(Date.now()),
 *   accessKey: "AK", secretKey: "SK" });
 * ```
 */
export function signNcpRequest(input: NcpSignInput): string {
  return hmacSha256Base64(input.secretKey, ncpStringToSign(input));
}

/** Base64 (standard, padded) of HMAC-SHA256 over a message, keyed with a secret, both as UTF-8. */
export function hmacSha256Base64(secretKey: string, message: string): string {
  return createHmac("sha256", secretKey).update(message).digest("base64");
}
