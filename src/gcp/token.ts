/**
 * The GKE token (docs/formats.md §7): an OAuth2 access token for the cloud-platform scope. From a
 * service-account key, one RS256 JWT assertion is exchanged at the key's own `token_uri` (RFC 7523),
 * which google-auth-library 10 does not honour; every other credential type (gcloud's authorized user,
 * external account, the metadata server) goes through google-auth-library, loaded on first use.
 */
import type { KeyObject } from "node:crypto";
import { lazyBuiltin } from "../lib/builtin.js";
import type { MintedToken } from "../cluster-info.js";
import { mintedToken } from "../kube/exec-credential.js";
import { ApiError, ConfigFileError, CredentialsError, InvalidInputError } from "../lib/errors.js";
import { jsonObjectOf, sendHttpRequest, type HttpOptions } from "../lib/http.js";
import { isSecureOrLoopback } from "../lib/net.js";
import { dateFromEpochMs, toEpochMs, type TimeInput } from "../lib/time.js";
import { displayUrl } from "../lib/redact-url.js";

// Not `import`: `import("kubeiam")` loads this module but needs node:crypto only to sign (lib/builtin.ts).
const crypto = lazyBuiltin("node:crypto");

/** The scopes kubeiam asks for, as gke-gcloud-auth-plugin does: cloud-platform, and the e-mail that GKE's RBAC names users by. */
export const GKE_DEFAULT_SCOPES = [
  "https://www.googleapis.com/auth/cloud-platform",
  "https://www.googleapis.com/auth/userinfo.email",
] as const;

/** The lifetime asked for in an assertion: one hour, the most Google allows. */
const ASSERTION_TTL_S = 3600;
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** A service-account key file's fields that kubeiam uses. */
export interface ServiceAccountKey {
  type: "service_account";
  clientEmail: string;
  /** The PEM private key; never printed, never cached. */
  privateKey: string;
  privateKeyId?: string;
  /** Where the assertion is exchanged: `https://oauth2.googleapis.com/token` in the public cloud. */
  tokenUri: string;
  projectId?: string;
}

/** Credentials for {@link mintGkeToken}. */
export type GkeCredentials =
  | { kind: "serviceAccount"; key: ServiceAccountKey }
  /** A credentials JSON file of another type (authorized_user, external_account, …), for google-auth-library. */
  | { kind: "file"; path: string; type: string; json: Record<string, unknown> }
  /** Application Default Credentials as google-auth-library finds them (gcloud's file, the metadata server). */
  | { kind: "adc" };

/** A minted access token: when Google says it ends (`expiresAt`), and a minute before (`refreshAt`). */
export type GkeToken = MintedToken;

function checkTokenUri(uri: string, path: string): string {
  const where = `service-account key ${path}`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ConfigFileError(path, `${where}: token_uri ${JSON.stringify(uri.slice(0, 80))} is not a URL`);
  }
  if (!isSecureOrLoopback(url)) {
    throw new ConfigFileError(path, `${where}: token_uri must be an https URL (plain http only on loopback), not ${JSON.stringify(uri.slice(0, 80))}`);
  }
  return uri;
}

/**
 * Parses and checks a credentials JSON file's text. A service-account key must have `client_email`,
 * a PEM `private_key` and a `token_uri`; other types are handed to google-auth-library.
 * Throws {@link ConfigFileError} naming the file and the field, never echoing the key.
 *
 * @example
 * ```ts
 * const creds = parseGcpCredentialsFile(readFileSync(path, "utf8"), path);
 * ```
 */
export function parseGcpCredentialsFile(text: string, path: string): GkeCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigFileError(path, `GCP credentials file ${path} is not JSON: download the key again (IAM > Service accounts > Keys) or run 'gcloud auth application-default login'`, { cause });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigFileError(path, `GCP credentials file ${path} is not a JSON object`);
  }
  const rec = json as Record<string, unknown>;
  const type = rec.type;
  if (typeof type !== "string" || type === "") {
    throw new ConfigFileError(path, `GCP credentials file ${path} has no "type": it is not a service-account key or ADC file`);
  }
  if (type !== "service_account") return { kind: "file", path, type, json: rec };
  const field = (name: string): string => {
    const v = rec[name];
    if (typeof v !== "string" || v.trim() === "") {
      throw new ConfigFileError(path, `service-account key ${path} lacks "${name}": download the key again`);
    }
    return v;
  };
  const clientEmail = field("client_email");
  const privateKey = field("private_key");
  const tokenUri = checkTokenUri(field("token_uri"), path);
  try {
    const k = crypto().createPrivateKey(privateKey);
    if (k.asymmetricKeyType !== "rsa") throw new Error("not RSA");
  } catch (cause) {
    throw new ConfigFileError(path, `service-account key ${path} has a private_key that is not a PEM RSA key: download the key again`, { cause });
  }
  const key: ServiceAccountKey = { type: "service_account", clientEmail, privateKey, tokenUri };
  if (typeof rec.private_key_id === "string" && rec.private_key_id !== "") key.privateKeyId = rec.private_key_id;
  if (typeof rec.project_id === "string" && rec.project_id !== "") key.projectId = rec.project_id;
  return { kind: "serviceAccount", key };
}

/**
 * A fingerprint of who the token is for and what it may do: identity and scopes, hashed. It holds no
 * key: for a service account the private key enters only as its own SHA-256, so a new key for the
 * same account gets a new fingerprint.
 *
 * @example
 * ```ts
 * const id = gkeIdentityFingerprint(creds, GKE_DEFAULT_SCOPES); // 64 hex characters
 * ```
 */
export function gkeIdentityFingerprint(credentials: GkeCredentials, scopes: readonly string[]): string {
  const h = crypto().createHash("sha256");
  const parts: string[] = [credentials.kind];
  if (credentials.kind === "serviceAccount") {
    const k = credentials.key;
    parts.push(k.clientEmail, k.privateKeyId ?? "", k.tokenUri, crypto().createHash("sha256").update(k.privateKey).digest("hex"));
  } else if (credentials.kind === "file") {
    parts.push(credentials.path, credentials.type, crypto().createHash("sha256").update(JSON.stringify(credentials.json)).digest("hex"));
  }
  parts.push([...scopes].sort().join(" "));
  return h.update(parts.join("\n")).digest("hex");
}

/**
 * Signs the RS256 JWT assertion of RFC 7523 for a service account (docs/formats.md §7): header
 * `{"alg":"RS256","typ":"JWT","kid":…}`, claims `iss`, `scope`, `aud` = `token_uri`, `exp`, `iat`.
 *
 * @example
 * ```ts
 * const assertion = signJwtAssertion({ key, scopes: GKE_DEFAULT_SCOPES, now: Date.now() });
 * ```
 */
export function signJwtAssertion(input: { key: ServiceAccountKey; scopes: readonly string[]; now?: TimeInput }): string {
  const iat = Math.floor(toEpochMs(input.now) / 1000);
  const header: Record<string, string> = { alg: "RS256", typ: "JWT" };
  if (input.key.privateKeyId !== undefined) header.kid = input.key.privateKeyId;
  const claims = { iss: input.key.clientEmail, scope: input.scopes.join(" "), aud: input.key.tokenUri, exp: iat + ASSERTION_TTL_S, iat };
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v), "utf8").toString("base64url");
  const signingInput = `${b64(header)}.${b64(claims)}`;
  let keyObject: KeyObject;
  try {
    keyObject = crypto().createPrivateKey(input.key.privateKey);
  } catch (cause) {
    throw new InvalidInputError("privateKey", `the private key of ${input.key.clientEmail} is not a PEM key`, { cause });
  }
  return `${signingInput}.${crypto().sign("sha256", Buffer.from(signingInput), keyObject).toString("base64url")}`;
}

/**
 * Exchanges a JWT assertion for an access token at `tokenUri` (RFC 7523), and checks the answer.
 *
 * @example
 * ```ts
 * const { token, expiresAt } = await exchangeJwtAssertion({ tokenUri: key.tokenUri, assertion });
 * ```
 */
export async function exchangeJwtAssertion(input: {
  tokenUri: string;
  assertion: string;
  now?: TimeInput;
  http?: Omit<HttpOptions, "service">;
}): Promise<GkeToken> {
  const sentAt = toEpochMs(input.now);
  const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion: input.assertion }).toString();
  const res = await sendHttpRequest(
    { method: "POST", url: input.tokenUri, headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" }, body },
    { ...input.http, service: "Google OAuth token endpoint" },
  );
  const rec = jsonObjectOf(res.text);
  if (res.status !== 200) {
    const code = typeof rec.error === "string" ? rec.error : undefined;
    const desc = typeof rec.error_description === "string" ? rec.error_description.slice(0, 200) : undefined;
    const message = `the token endpoint ${displayUrl(input.tokenUri)} refused the service-account assertion (${res.status}${code ? ` ${code}` : ""}${desc ? `: ${desc}` : ""}): check that the key is still valid and the account enabled`;
    if (res.status === 400 || res.status === 401 || res.status === 403) throw new CredentialsError(message);
    throw new ApiError(message, { status: res.status, apiCode: code, apiMessage: desc });
  }
  const token = rec.access_token;
  const expiresIn = rec.expires_in;
  if (typeof token !== "string" || token === "" || /\s/.test(token)) {
    throw new ApiError(`the token endpoint ${displayUrl(input.tokenUri)} answered without a usable access_token`, { status: res.status });
  }
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new ApiError(`the token endpoint ${displayUrl(input.tokenUri)} answered without a positive expires_in`, { status: res.status });
  }
  if (typeof rec.token_type === "string" && rec.token_type.toLowerCase() !== "bearer") {
    throw new ApiError(`the token endpoint answered a ${JSON.stringify(rec.token_type.slice(0, 20))} token, not a Bearer token`, { status: res.status });
  }
  const expiresAt = dateFromEpochMs(sentAt + expiresIn * 1000);
  if (expiresAt === undefined) {
    throw new ApiError(`the token endpoint ${new URL(input.tokenUri).origin} answered expires_in ${String(expiresIn).slice(0, 24)}, which is beyond any date`, { status: res.status });
  }
  return mintedToken(token, expiresAt, new Date(sentAt));
}

/** What {@link mintGkeToken} needs. */
export interface MintGkeTokenInput {
  /** The credentials; Application Default Credentials when absent. */
  credentials?: GkeCredentials;
  /** The scopes; {@link GKE_DEFAULT_SCOPES} by default. */
  scopes?: readonly string[];
  /** The time to sign the assertion at; the current time by default. */
  now?: TimeInput;
  /** HTTP options for the token endpoint (fetch, timeout, retries). */
  http?: Omit<HttpOptions, "service">;
}

/**
 * Mints a GKE access token: from a service-account key by the JWT-bearer exchange at its `token_uri`,
 * or through google-auth-library for every other kind of Application Default Credentials.
 *
 * @example
 * ```ts
 * const { token, expiresAt } = await mintGkeToken({ credentials: await readGcpCredentialsFile("sa.json") });
 * ```
 */
export async function mintGkeToken(input: MintGkeTokenInput = {}): Promise<GkeToken> {
  const scopes = input.scopes ?? GKE_DEFAULT_SCOPES;
  const credentials = input.credentials ?? { kind: "adc" };
  if (credentials.kind === "serviceAccount") {
    const assertion = signJwtAssertion({ key: credentials.key, scopes, ...(input.now === undefined ? {} : { now: input.now }) });
    return exchangeJwtAssertion({
      tokenUri: credentials.key.tokenUri,
      assertion,
      ...(input.now === undefined ? {} : { now: input.now }),
      ...(input.http === undefined ? {} : { http: input.http }),
    });
  }
  const { GoogleAuth } = await import("google-auth-library");
  const auth = new GoogleAuth({ scopes: [...scopes], ...(credentials.kind === "file" ? { keyFilename: credentials.path } : {}) });
  try {
    const client = await auth.getClient();
    const answer = await client.getAccessToken();
    const token = answer.token;
    if (typeof token !== "string" || token === "") throw new Error("no access token in the answer");
    const expiry = (client as { credentials?: { expiry_date?: number | null } }).credentials?.expiry_date;
    // Without a usable expiry from the library, assume the shortest lifetime Google gives: a quarter hour.
    // An expiry no Date can hold counts as none.
    const issued = toEpochMs(input.now);
    const expiresAt = (typeof expiry === "number" ? dateFromEpochMs(expiry) : undefined) ?? new Date(issued + 15 * 60 * 1000);
    return mintedToken(token, expiresAt, new Date(issued));
  } catch (cause) {
    const reason = cause instanceof Error ? (cause.message.split("\n")[0] ?? "").slice(0, 200) : String(cause).slice(0, 200);
    const where = credentials.kind === "file" ? `the ${credentials.type} credentials in ${credentials.path}` : "Application Default Credentials";
    throw new CredentialsError(`cannot get a GCP access token from ${where} (${reason}): run 'gcloud auth application-default login', or use a service-account key file`, { cause, field: "credentialsFile" });
  }
}
