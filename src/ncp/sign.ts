/**
 * The NCP API Gateway signature (docs/formats.md §3), shared by the NKS token and the NKS REST client,
 * and the signer that holds one API key's secret ready to sign with.
 */
import type { KeyObject } from "node:crypto";
import { lazyBuiltin } from "../lib/builtin.js";
import { InvalidInputError } from "../lib/errors.js";
import { KEY_RE } from "../lib/validate.js";

// Not `import`: this is on the exec-plugin path, and `import("kubeiam")` needs it only to sign (lib/builtin.ts).
const crypto = lazyBuiltin("node:crypto");

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
  return crypto().createHmac("sha256", input.secretKey).update(ncpStringToSign(input)).digest("base64");
}

/** Checks an access or secret key without ever echoing it. */
function checkKey(field: "accessKey" | "secretKey", value: string): void {
  const label = field === "accessKey" ? "access key" : "secret key";
  if (value === "") {
    throw new InvalidInputError(field, `the ${label} is empty: set it in the environment or in ~/.ncloud/configure`);
  }
  if (!KEY_RE.test(value)) {
    throw new InvalidInputError(field, `the ${label} holds white space or control characters: copy it again without spaces or line breaks`);
  }
}

/**
 * One NCP API key, checked once and ready to sign: the secret is held as a `KeyObject` (made once,
 * so each signature skips the key set-up), never printed (`util.inspect` and `JSON.stringify` show
 * only the access key). Made by {@link createNcpSigner}; the caller keeps it for as long as it mints
 * or calls with that key (the CLI for one command, a provider or the broker per credential).
 */
export interface NcpSigner {
  /** The access key, which every signature names. Not a secret. */
  readonly accessKey: string;
  /** Base64 (standard, padded) of HMAC-SHA256 over `message` with this key's secret. */
  sign(message: string): string;
  /** The signature of one request (`METHOD uri`, timestamp, this access key): docs/formats.md §3. */
  signRequest(method: string, uri: string, timestamp: string): string;
}

class KeySigner implements NcpSigner {
  readonly accessKey: string;
  readonly #key: KeyObject;

  constructor(accessKey: string, secretKey: string) {
    this.accessKey = accessKey;
    this.#key = crypto().createSecretKey(Buffer.from(secretKey, "utf8"));
  }

  sign(message: string): string {
    return crypto().createHmac("sha256", this.#key).update(message).digest("base64");
  }

  signRequest(method: string, uri: string, timestamp: string): string {
    return this.sign(`${method} ${uri}\n${timestamp}\n${this.accessKey}`);
  }

  toJSON(): { accessKey: string } {
    return { accessKey: this.accessKey };
  }
}

/**
 * Checks an NCP API key (neither part empty, no white space or control characters, or the signed
 * string would change: docs/formats.md §1) and makes its {@link NcpSigner}. Throws
 * `InvalidInputError` naming `accessKey` or `secretKey`, never echoing either.
 *
 * @example
 * ```ts
 * const signer = createNcpSigner(await resolveNcpCredentials());
 * const { token, refreshAt } = mintNcpToken({ signer, cluster: parseNcpTokenTarget({ region: "KR", clusterUuid }) });
 * ```
 */
export function createNcpSigner(credentials: { accessKey: string; secretKey: string }): NcpSigner {
  checkKey("accessKey", credentials.accessKey);
  checkKey("secretKey", credentials.secretKey);
  return new KeySigner(credentials.accessKey, credentials.secretKey);
}
