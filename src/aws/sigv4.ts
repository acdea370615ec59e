/**
 * AWS Signature Version 4 for a presigned URL (query-string authentication) of a request with no
 * body, on node:crypto alone: what `@smithy/signature-v4`'s `presign` computes for the same request,
 * without the 300 KB of `@smithy/core` that it loads, on the path of `kubeiam eks token`, run on every
 * kubectl call. Steps and names as AWS documents them ("Create a signed AWS API request", SigV4).
 */
import { lazyBuiltin } from "../lib/builtin.js";

// Not `import`: `import("kubeiam")` loads this module but needs node:crypto only to sign (lib/builtin.ts).
const crypto = lazyBuiltin("node:crypto");

/** What {@link presignSigV4} signs. */
export interface SigV4PresignInput {
  accessKeyId: string;
  secretAccessKey: string;
  /** Signed into the query as `X-Amz-Security-Token`. */
  sessionToken?: string;
  region: string;
  service: string;
  method: string;
  /** The URL's path; `/` for an API's root (used as given: no normalisation). */
  path: string;
  /** The query before signing. */
  query: Readonly<Record<string, string>>;
  /** The headers to sign, with lower-case names (`host` among them). */
  headers: Readonly<Record<string, string>>;
  /** The signing time; whole seconds are used. */
  signedAt: Date;
  /** `X-Amz-Expires`, in seconds. */
  expiresIn: number;
}

// SHA-256 of an empty body, as the SDKs sign a request without one.
const EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** RFC 3986 percent-encoding (unreserved: A-Z a-z 0-9 - _ . ~), SigV4's URI encoding. */
export function sigV4Escape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The query of a presigned request: the input's query with the SigV4 parameters added
 * (`X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`, `-Security-Token` for
 * session credentials, and `-Signature`), values unescaped. The caller writes the URL in its own order.
 *
 * @example
 * ```ts
 * const query = presignSigV4({ accessKeyId, secretAccessKey, region: "us-east-1", service: "sts", method: "GET",
 *   path: "/", query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
 *   headers: { host: "sts.us-east-1.amazonaws.com" }, signedAt: new Date(), expiresIn: 60 });
 * ```
 */
export function presignSigV4(input: SigV4PresignInput): Record<string, string> {
  const longDate = new Date(Math.floor(input.signedAt.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${input.region}/${input.service}/aws4_request`;
  const headerNames = Object.keys(input.headers).sort();
  const query: Record<string, string> = { ...input.query };
  if (input.sessionToken !== undefined && input.sessionToken !== "") query["X-Amz-Security-Token"] = input.sessionToken;
  query["X-Amz-Algorithm"] = "AWS4-HMAC-SHA256";
  query["X-Amz-Credential"] = `${input.accessKeyId}/${scope}`;
  query["X-Amz-Date"] = longDate;
  query["X-Amz-Expires"] = String(input.expiresIn);
  query["X-Amz-SignedHeaders"] = headerNames.join(";");
  const canonicalQuery = Object.keys(query)
    .map((k) => [sigV4Escape(k), sigV4Escape(query[k] as string)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  // Header values trimmed, inner runs of white space made one space.
  const canonicalHeaders = headerNames.map((name) => `${name}:${(input.headers[name] as string).trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [input.method, input.path, canonicalQuery, canonicalHeaders, headerNames.join(";"), EMPTY_PAYLOAD_SHA256].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", longDate, scope, crypto().createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  let key: Buffer = crypto().createHmac("sha256", `AWS4${input.secretAccessKey}`).update(shortDate).digest();
  for (const part of [input.region, input.service, "aws4_request"]) key = crypto().createHmac("sha256", key).update(part).digest();
  query["X-Amz-Signature"] = crypto().createHmac("sha256", key).update(stringToSign).digest("hex");
  return query;
}
