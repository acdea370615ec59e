/**
 * Service-account impersonation: an access token of another service account, minted by IAM
 * Credentials `projects/-/serviceAccounts/{email}:generateAccessToken` with the held identity's own
 * access token (which needs `iam.serviceAccounts.getAccessToken` on that account, the role Service
 * Account Token Creator). The broker's GKE engine uses it so that grants map to different Google
 * identities, as `gcloud --impersonate-service-account` does.
 */
import type { MintedToken } from "../cluster-info.js";
import { mintedToken } from "../kube/exec-credential.js";
import { ApiError, CloudPermissionError, InvalidInputError } from "../lib/errors.js";
import { jsonObjectOf, sendHttpRequest, type HttpOptions } from "../lib/http.js";
import { isSecureOrLoopback } from "../lib/net.js";
import { displayUrl } from "../lib/redact-url.js";
import { toEpochMs, type TimeInput } from "../lib/time.js";

/** IAM Credentials' public endpoint. */
export const IAM_CREDENTIALS_API_URL = "https://iamcredentials.googleapis.com";

/** The role that holds `iam.serviceAccounts.getAccessToken`, named in refusals. */
export const TOKEN_CREATOR_ROLE = "roles/iam.serviceAccountTokenCreator";

/** The longest lifetime generateAccessToken gives without an organisation policy: one hour. */
const MAX_LIFETIME_S = 3600;

// A service account's e-mail (name@project.iam.gserviceaccount.com, and the older
// project@appspot.gserviceaccount.com / N-compute@developer.gserviceaccount.com): it becomes part of
// the URL path, so only characters that need no escaping there.
const SERVICE_ACCOUNT_RE = /^[a-z0-9][a-z0-9._-]{0,99}@[a-z0-9-]+(?:\.[a-z0-9-]+)+$/;

/**
 * Checks that `email` is a service account's e-mail address; throws {@link InvalidInputError} naming
 * `field` otherwise.
 *
 * @example
 * ```ts
 * checkServiceAccountEmail("viewer@my-project.iam.gserviceaccount.com", "impersonateServiceAccount");
 * ```
 */
export function checkServiceAccountEmail(email: string, field: string): string {
  if (email.length > 254 || !SERVICE_ACCOUNT_RE.test(email)) {
    throw new InvalidInputError(field, `${field} ${JSON.stringify(email.slice(0, 80))} is not a service account's e-mail: give one like viewer@my-project.iam.gserviceaccount.com`);
  }
  return email;
}

function baseUrl(apiUrl: string | undefined): string {
  const url = (apiUrl ?? IAM_CREDENTIALS_API_URL).replace(/\/+$/, "");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError("iamCredentialsUrl", `IAM Credentials URL ${displayUrl(url)} is not a URL`);
  }
  if (!isSecureOrLoopback(parsed)) throw new InvalidInputError("iamCredentialsUrl", `IAM Credentials URL ${displayUrl(parsed)} must be https (plain http only on loopback)`);
  return url;
}

/** What {@link generateServiceAccountToken} needs. */
export interface GenerateAccessTokenInput {
  /** The caller's own access token (the held key's), with the cloud-platform scope. */
  accessToken: string;
  /** The caller's e-mail, for messages only. */
  caller: string;
  /** The service account to act as. */
  serviceAccount: string;
  /** The scopes the new token carries. */
  scopes: readonly string[];
  /** Seconds the token lives, at most 3600 (the default). */
  lifetimeS?: number;
  /** IAM Credentials' base URL; {@link IAM_CREDENTIALS_API_URL} by default. */
  apiUrl?: string | undefined;
  /** When the request is sent, for the answer's issue time; the current time by default. */
  now?: TimeInput;
  http?: Omit<HttpOptions, "service">;
}

/**
 * Asks IAM Credentials for an access token of `serviceAccount`, and checks the answer: the token and
 * its real end (`expireTime`). A refusal (403: the caller lacks `iam.serviceAccounts.getAccessToken`
 * on the account; 404: no such account) is a {@link CloudPermissionError} naming both accounts and the
 * role to grant (or the API to enable, or the key that was not accepted); other failures are
 * {@link ApiError}s. No message holds a token.
 *
 * @example
 * ```ts
 * const viewer = await generateServiceAccountToken({ accessToken: own.token, caller, serviceAccount: "viewer@p.iam.gserviceaccount.com", scopes });
 * ```
 */
export async function generateServiceAccountToken(input: GenerateAccessTokenInput): Promise<MintedToken> {
  const lifetime = input.lifetimeS ?? MAX_LIFETIME_S;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_LIFETIME_S) throw new InvalidInputError("lifetimeS", `an impersonated token lives 1 to ${MAX_LIFETIME_S} seconds, not ${lifetime}`);
  const account = checkServiceAccountEmail(input.serviceAccount, "impersonateServiceAccount");
  const sentAt = toEpochMs(input.now);
  const res = await sendHttpRequest(
    {
      method: "POST",
      url: `${baseUrl(input.apiUrl)}/v1/projects/-/serviceAccounts/${account}:generateAccessToken`,
      headers: { authorization: `Bearer ${input.accessToken}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ scope: [...input.scopes], lifetime: `${lifetime}s` }),
    },
    { ...input.http, service: "IAM Credentials API" },
  );
  const rec = jsonObjectOf(res.text);
  if (res.status !== 200) {
    const err = (typeof rec.error === "object" && rec.error !== null ? rec.error : {}) as { status?: unknown; details?: unknown };
    const apiCode = typeof err.status === "string" ? err.status.slice(0, 40) : undefined;
    const answered = `IAM Credentials answered ${res.status}${apiCode === undefined ? "" : ` ${apiCode}`}`;
    // google.rpc.ErrorInfo says why, when it is not the caller's permission (AIP-193).
    const reasons = Array.isArray(err.details) ? err.details.map((d: unknown) => (typeof d === "object" && d !== null ? (d as { reason?: unknown }).reason : undefined)) : [];
    if (res.status === 403 && reasons.includes("SERVICE_DISABLED")) {
      throw new CloudPermissionError(`the IAM Service Account Credentials API is not enabled in the project of ${input.caller} (${answered} SERVICE_DISABLED): enable iamcredentials.googleapis.com there`, { status: res.status, apiCode });
    }
    if (res.status === 401) {
      throw new CloudPermissionError(`IAM Credentials did not accept the access token of ${input.caller} (${answered}): check that its key is still valid`, { status: res.status, apiCode });
    }
    if (res.status === 403 || res.status === 404) {
      // Google answers 403 for an account that does not exist as well ("or it may not exist").
      throw new CloudPermissionError(
        `${input.caller} cannot act as service account ${account} (${answered}): check that ${account} exists, and grant ${input.caller} the role ${TOKEN_CREATOR_ROLE} on it`,
        { status: res.status, apiCode },
      );
    }
    throw new ApiError(`generating an access token for service account ${account} failed: ${answered}`, { status: res.status, apiCode });
  }
  const token = rec.accessToken;
  if (typeof token !== "string" || token === "" || /\s/.test(token)) throw new ApiError(`IAM Credentials answered without a usable accessToken for ${account}`, { status: res.status });
  const expiresAt = typeof rec.expireTime === "string" ? Date.parse(rec.expireTime) : Number.NaN;
  if (!Number.isFinite(expiresAt) || expiresAt <= sentAt) throw new ApiError(`IAM Credentials answered without a future expireTime for ${account}`, { status: res.status });
  return mintedToken(token, new Date(expiresAt), new Date(sentAt));
}
