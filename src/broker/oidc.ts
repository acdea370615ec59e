/**
 * The broker as an OpenID Connect relying party upstream (BROKER.md "Signing in with an identity
 * provider"): discovery and JWKS from the issuer, the authorization code flow with PKCE S256 as a
 * confidential client, and refresh. openid-client does every check of the relying party (state,
 * PKCE, the ID token's iss, aud, exp, nonce, and with non-repudiation checks its signature against
 * the issuer's JWKS, also when it comes straight from the token endpoint); this module turns what
 * it returns into a person (username claim, groups claim, role) or one sentence saying why not.
 * Loaded only when `serve --oidc-issuer` is given.
 */
import * as client from "openid-client";
import { UsageError } from "../lib/errors.js";
import type { BrokerRole } from "./store/store.js";

/** What `serve --oidc-…` configures. */
export interface OidcSettings {
  /** The issuer URL: https, or http on loopback only. */
  issuer: string;
  clientId: string;
  /** The client secret (from KUBEIAM_OIDC_CLIENT_SECRET or --oidc-client-secret-file). */
  clientSecret: string;
  /** The claim that names the person; `email` by default. */
  usernameClaim?: string;
  /** The claim that lists their groups; `groups` by default. */
  groupsClaim?: string;
  /** Members of this group are admins. */
  adminGroup?: string;
  /** The scopes asked for; `openid email profile offline_access` by default. */
  scopes?: string;
  /** Milliseconds for each call to the identity provider; 10 000 by default. */
  timeoutMs?: number;
}

/** A person the identity provider vouched for. */
export interface SignedInPerson {
  username: string;
  groups: string[];
  role: BrokerRole;
  /** The identity provider's refresh token, when it gave one. */
  idpRefreshToken: string | undefined;
}

/** Why a sign-in or a renewal did not happen: one sentence for the page, the poll and the audit. */
export class SignInRefused extends Error {
  /** `refused`: the identity provider or a check said no; `unavailable`: it could not be reached. */
  readonly kind: "refused" | "unavailable";
  constructor(kind: "refused" | "unavailable", message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SignInRefused";
    this.kind = kind;
  }
}

/** The default scopes: the ID token, the claims people are named by, and a refresh token. */
export const DEFAULT_OIDC_SCOPES = "openid email profile offline_access";

/** A user name as the broker accepts one (routes/schemas.ts USER_NAME_SCHEMA). */
const USER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,253}$/;

function isLoopbackHostname(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Checks an issuer URL: https, or http on loopback (a test or a local provider); no query or fragment.
 *
 * @example
 * ```ts
 * parseIssuer("https://accounts.example.com"); // URL
 * ```
 */
export function parseIssuer(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new UsageError(`serve: --oidc-issuer ${JSON.stringify(issuer.slice(0, 100))} is not a URL: give the identity provider's issuer, for example https://accounts.example.com`);
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new UsageError("serve: --oidc-issuer holds a user, query or fragment: give the issuer exactly as the provider's discovery document names it");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHostname(url.hostname))) {
    throw new UsageError(`serve: --oidc-issuer ${url.origin} is not https: the identity provider must be reached over TLS (plain http only on loopback)`);
  }
  return url;
}

/** A short, printable account of an error from the identity provider's side; never a token. */
function said(text: unknown): string {
  if (typeof text !== "string" || text === "") return "";
  const t = text.replace(/[\p{Cc}]+/gu, " ").trim();
  return t.length > 160 ? `${t.slice(0, 160)}…` : t;
}

/**
 * One sentence for an error thrown by openid-client (or the network under it).
 *
 * @example
 * ```ts
 * try { await rp.signIn(...) } catch (e) { throw describeOidcError(e, "signing in"); }
 * ```
 */
export function describeOidcError(error: unknown, doing: string): SignInRefused {
  if (error instanceof SignInRefused) return error;
  if (error instanceof client.ResponseBodyError) {
    const d = said(error.error_description);
    return new SignInRefused(error.status >= 500 ? "unavailable" : "refused", `the identity provider refused ${doing}: ${said(error.error) || "error"}${d === "" ? "" : ` (${d})`}`, { cause: error });
  }
  if (error instanceof client.AuthorizationResponseError) {
    const d = said(error.error_description);
    return new SignInRefused("refused", `the identity provider refused the sign-in: ${said(error.error) || "error"}${d === "" ? "" : ` (${d})`}`, { cause: error });
  }
  const e = error as { code?: unknown; message?: unknown; name?: unknown };
  const message = typeof e.message === "string" ? e.message : String(error);
  if (e.name === "TimeoutError" || e.name === "AbortError" || (e.name === "TypeError" && /fetch failed/.test(message))) {
    return new SignInRefused("unavailable", `the identity provider could not be reached while ${doing}: try again in a moment`, { cause: error });
  }
  if (typeof e.code === "string" && e.code.startsWith("OAUTH_")) {
    // openid-client wraps oauth4webapi's precise error ("unexpected JWT \"aud\" …") in a general one: read the chain.
    let detail = message;
    for (let c: unknown = (error as Error).cause, depth = 0; c instanceof Error && depth < 4; c = c.cause, depth++) detail += ` | ${c.message}`;
    if (/JWT signature verification failed/.test(detail)) {
      return new SignInRefused("refused", "the ID token's signature does not verify against the identity provider's keys, so the broker did not trust it", { cause: error });
    }
    if (/"exp"/.test(detail) && /past/.test(detail)) return new SignInRefused("refused", "the ID token has expired, so the broker did not trust it", { cause: error });
    if (/"iss"/.test(detail)) return new SignInRefused("refused", "the ID token was issued by another identity provider than the one configured, so the broker did not trust it", { cause: error });
    if (/"aud"|"azp"/.test(detail)) return new SignInRefused("refused", "the ID token was issued for another client than this broker, so the broker did not trust it", { cause: error });
    if (/"nonce"/.test(detail)) return new SignInRefused("refused", "the ID token does not answer this sign-in (its nonce differs), so the broker did not trust it", { cause: error });
    if (/state/.test(detail)) return new SignInRefused("refused", "the answer does not belong to this sign-in (its state differs)", { cause: error });
    if (/"id_token"/.test(detail)) return new SignInRefused("refused", "the identity provider's answer has no ID token, so the broker cannot tell who signed in", { cause: error });
    return new SignInRefused("refused", `the identity provider's answer did not pass the broker's checks (${said(detail)})`, { cause: error });
  }
  return new SignInRefused("unavailable", `the identity provider's answer could not be used while ${doing} (${said(message)}): try again, or tell the broker's admin`, { cause: error });
}

/**
 * The relying party: one per broker, made by {@link discoverRelyingParty}.
 *
 * @example
 * ```ts
 * const rp = await discoverRelyingParty({ issuer, clientId, clientSecret });
 * const url = rp.authorizationUrl({ redirectUri, state, nonce, codeChallenge });
 * ```
 */
export class OidcRelyingParty {
  readonly config: client.Configuration;
  readonly settings: Required<Omit<OidcSettings, "adminGroup">> & { adminGroup: string | undefined };

  constructor(config: client.Configuration, settings: OidcSettings) {
    this.config = config;
    this.settings = {
      issuer: settings.issuer,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      usernameClaim: settings.usernameClaim ?? "email",
      groupsClaim: settings.groupsClaim ?? "groups",
      adminGroup: settings.adminGroup,
      scopes: settings.scopes ?? DEFAULT_OIDC_SCOPES,
      timeoutMs: settings.timeoutMs ?? 10_000,
    };
  }

  /** The issuer's origin (where the sign-in page's form may lead). */
  get issuerOrigin(): string {
    return new URL(this.config.serverMetadata().authorization_endpoint ?? this.settings.issuer).origin;
  }

  /** A fresh PKCE verifier, its S256 challenge, a state and a nonce for one sign-in. */
  static async newChecks(): Promise<{ verifier: string; challenge: string; state: string; nonce: string }> {
    const verifier = client.randomPKCECodeVerifier();
    return { verifier, challenge: await client.calculatePKCECodeChallenge(verifier), state: client.randomState(), nonce: client.randomNonce() };
  }

  /** Where to send the browser: the provider's authorization endpoint with PKCE S256, state and nonce. */
  authorizationUrl(p: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): URL {
    return client.buildAuthorizationUrl(this.config, {
      redirect_uri: p.redirectUri,
      scope: this.settings.scopes,
      response_type: "code",
      code_challenge: p.codeChallenge,
      code_challenge_method: "S256",
      state: p.state,
      nonce: p.nonce,
    });
  }

  /**
   * The callback: exchanges the code (with the PKCE verifier) and checks the answer and its ID token
   * (signature, iss, aud, exp, nonce, state), then reads the person. `currentUrl` is the redirect URI
   * with the query the provider sent.
   */
  async signIn(currentUrl: URL, checks: { verifier: string; state: string; nonce: string }): Promise<SignedInPerson> {
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(this.config, currentUrl, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw describeOidcError(error, "the sign-in");
    }
    return this.#person(tokens, undefined);
  }

  /**
   * Asks the identity provider again with its refresh token: the person as it sees them now, or
   * {@link SignInRefused} (`refused` when it says no: the session is to end).
   */
  async refresh(idpRefreshToken: string, expectedUsername: string): Promise<SignedInPerson> {
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(this.config, idpRefreshToken);
    } catch (error) {
      throw describeOidcError(error, "the renewal");
    }
    const person = await this.#person(tokens, expectedUsername);
    // A provider that does not rotate refresh tokens keeps the old one working.
    return { ...person, idpRefreshToken: person.idpRefreshToken ?? idpRefreshToken };
  }

  async #person(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, expectedUsername: string | undefined): Promise<SignedInPerson> {
    const claims = tokens.claims();
    let info: Record<string, unknown> | undefined;
    const { usernameClaim, groupsClaim } = this.settings;
    const userinfo = async (): Promise<Record<string, unknown>> => {
      if (info !== undefined) return info;
      if (claims === undefined) throw new SignInRefused("refused", "the identity provider's answer has no ID token");
      try {
        info = (await client.fetchUserInfo(this.config, tokens.access_token, claims.sub)) as Record<string, unknown>;
      } catch (error) {
        throw describeOidcError(error, "reading the person's claims (userinfo)");
      }
      return info;
    };
    if (claims === undefined) {
      // A refresh may come without a new ID token: the claims then come from userinfo, which needs the subject.
      if (expectedUsername === undefined) throw new SignInRefused("refused", "the identity provider's answer has no ID token");
    }
    let username: unknown = claims?.[usernameClaim];
    let groups: unknown = claims?.[groupsClaim];
    if (claims === undefined) {
      const who = await this.#userinfoWithoutSubject(tokens.access_token);
      username = who[usernameClaim];
      groups = who[groupsClaim];
    } else {
      if (username === undefined) username = (await userinfo())[usernameClaim];
      if (groups === undefined) groups = (await userinfo())[groupsClaim];
    }
    if (typeof username !== "string" || username === "") {
      throw new SignInRefused("refused", `the identity provider gave no '${usernameClaim}' claim to name the person by: the admin sets --oidc-username-claim, or asks for the scope that carries it`);
    }
    if (!USER_NAME_RE.test(username)) {
      throw new SignInRefused("refused", `the '${usernameClaim}' claim is not a name the broker accepts (letters, digits, '.', '_', '@', '+', '-'): the admin picks another --oidc-username-claim`);
    }
    if (expectedUsername !== undefined && username !== expectedUsername) {
      throw new SignInRefused("refused", `the identity provider now names this session's person differently: sign in again`);
    }
    const groupList = groups === undefined || groups === null ? [] : Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string") : typeof groups === "string" ? [groups] : [];
    const adminGroup = this.settings.adminGroup;
    return {
      username,
      groups: groupList,
      role: adminGroup !== undefined && groupList.includes(adminGroup) ? "admin" : "user",
      idpRefreshToken: tokens.refresh_token,
    };
  }

  /** Userinfo after a refresh that brought no ID token (the subject is not known to compare). */
  async #userinfoWithoutSubject(accessToken: string): Promise<Record<string, unknown>> {
    try {
      return (await client.fetchUserInfo(this.config, accessToken, client.skipSubjectCheck)) as Record<string, unknown>;
    } catch (error) {
      throw describeOidcError(error, "reading the person's claims (userinfo)");
    }
  }
}

/**
 * Fetches the issuer's discovery document (its `issuer` must equal the one configured) and prepares
 * the relying party: client secret sent with HTTP Basic, signatures of ID tokens from the token
 * endpoint checked against the JWKS. Throws {@link UsageError} in one line when the provider cannot be
 * reached or its document does not fit.
 *
 * @example
 * ```ts
 * const rp = await discoverRelyingParty({ issuer: "https://accounts.example.com", clientId: "kubeiam", clientSecret });
 * ```
 */
export async function discoverRelyingParty(settings: OidcSettings): Promise<OidcRelyingParty> {
  const issuer = parseIssuer(settings.issuer);
  const timeoutMs = settings.timeoutMs ?? 10_000;
  let config: client.Configuration;
  try {
    config = await client.discovery(issuer, settings.clientId, { client_secret: settings.clientSecret }, client.ClientSecretBasic(settings.clientSecret), {
      execute: [client.enableNonRepudiationChecks, ...(issuer.protocol === "http:" ? [client.allowInsecureRequests] : [])],
      timeout: Math.ceil(timeoutMs / 1000),
    });
  } catch (cause) {
    const e = describeOidcError(cause, "reading its discovery document");
    throw new UsageError(`serve: cannot use the identity provider ${issuer.href}: ${e.message}`, { cause });
  }
  config.timeout = Math.ceil(timeoutMs / 1000);
  const metadata = config.serverMetadata();
  if (metadata.jwks_uri === undefined) throw new UsageError(`serve: the identity provider ${issuer.href} publishes no jwks_uri: the broker cannot check ID token signatures`);
  const methods = metadata.code_challenge_methods_supported;
  if (methods !== undefined && !methods.includes("S256")) {
    throw new UsageError(`serve: the identity provider ${issuer.href} does not offer PKCE S256: the broker needs it`);
  }
  return new OidcRelyingParty(config, settings);
}
