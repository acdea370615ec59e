/**
 * Test stand-ins for Google, written from RFC 7523 / RFC 7519 with node:crypto only: a local OAuth
 * token endpoint that checks the RS256 JWT assertion with the service account's public key and
 * answers an access token, a service-account key maker, a local container API, and IAM Credentials'
 * generateAccessToken (service-account impersonation) that checks the caller's token and permission.
 */
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface TestServiceAccount {
  email: string;
  keyId: string;
  privateKeyPem: string;
  publicKey: KeyObject;
}

/** A fresh RSA key pair and an account e-mail, made in the test. */
export function makeServiceAccount(email = "deployer@kubeiam-test.iam.gserviceaccount.com"): TestServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { email, keyId: randomBytes(20).toString("hex"), privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKey };
}

/** A service-account key file's JSON for an account and a token URI. */
export function keyFileJson(sa: TestServiceAccount, tokenUri: string, projectId = "kubeiam-test"): string {
  return JSON.stringify({
    type: "service_account",
    project_id: projectId,
    private_key_id: sa.keyId,
    private_key: sa.privateKeyPem,
    client_email: sa.email,
    client_id: "100000000000000000001",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: tokenUri,
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let b = "";
    req.on("data", (d: Buffer) => (b += d.toString("utf8")));
    req.on("end", () => resolve(b));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export interface OAuthStandIn {
  /** The token URI to put in key files. */
  tokenUri: string;
  /** Access tokens issued, in order. */
  issued: string[];
  /** Whose each issued token is: the account's e-mail. */
  issuedTo: Map<string, string>;
  /** Every assertion seen, with why it was refused. */
  seen: { claims?: Record<string, unknown>; header?: Record<string, unknown>; rejected?: string }[];
  close(): Promise<void>;
}

/**
 * An OAuth 2.0 token endpoint (RFC 7523 JWT bearer grant) at `/token` that accepts only assertions
 * signed RS256 by the known accounts' keys, with `aud` its own URL, `iss` the account, the scope
 * asked for, and `iat`/`exp` at most an hour apart around its clock.
 */
export async function startOAuth(options: {
  accounts: TestServiceAccount[];
  expiresIn?: number;
  now?: () => number;
  requiredScope?: string;
}): Promise<OAuthStandIn> {
  const issued: string[] = [];
  const issuedTo = new Map<string, string>();
  const seen: OAuthStandIn["seen"] = [];
  let tokenUri = "";
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const refuse = (why: string, entry: OAuthStandIn["seen"][number] = {}): void => {
      seen.push({ ...entry, rejected: why });
      json(res, 400, { error: "invalid_grant", error_description: why });
    };
    if (req.method !== "POST" || req.url !== "/token") return refuse("wrong method or path");
    if (!String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) return refuse("not a form");
    const form = new URLSearchParams(body);
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return refuse("wrong grant_type");
    const parts = (form.get("assertion") ?? "").split(".");
    if (parts.length !== 3) return refuse("assertion is not a JWS");
    const [h, c, s] = parts as [string, string, string];
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(c, "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
      return refuse("assertion parts are not JSON");
    }
    const entry = { header, claims };
    if (header.alg !== "RS256") return refuse("alg is not RS256", entry);
    const account = options.accounts.find((a) => a.email === claims.iss);
    if (account === undefined) return refuse("unknown iss", entry);
    if (header.kid !== undefined && header.kid !== account.keyId) return refuse("unknown kid", entry);
    if (!verify("sha256", Buffer.from(`${h}.${c}`), account.publicKey, Buffer.from(s, "base64url"))) return refuse("bad signature", entry);
    if (claims.aud !== tokenUri) return refuse(`aud is ${String(claims.aud)}, not ${tokenUri}`, entry);
    const now = Math.floor((options.now ?? Date.now)() / 1000);
    if (typeof claims.iat !== "number" || typeof claims.exp !== "number") return refuse("iat/exp missing", entry);
    if (claims.exp - claims.iat > 3600 || claims.exp <= now || claims.iat > now + 300) return refuse("iat/exp out of range", entry);
    const scope = options.requiredScope ?? "https://www.googleapis.com/auth/cloud-platform";
    if (typeof claims.scope !== "string" || !claims.scope.split(" ").includes(scope)) return refuse("scope missing", entry);
    const token = `ya29.test-${randomBytes(24).toString("base64url")}`;
    issued.push(token);
    issuedTo.set(token, account.email);
    seen.push(entry);
    json(res, 200, { access_token: token, expires_in: options.expiresIn ?? 3599, token_type: "Bearer" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  tokenUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return { tokenUri, issued, issuedTo, seen, close: () => new Promise((r) => server.close(() => r())) };
}

/** A container API stand-in: clusters.get and clusters.list for one project, for known tokens only. */
export async function startContainerApi(options: {
  project: string;
  clusters: (Record<string, unknown> & { name: string; location: string })[];
  acceptToken: (token: string) => boolean;
}): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Bearer ") || !options.acceptToken(auth.slice(7))) {
      return json(res, 401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } });
    }
    const m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters(?:\/([^/?]+))?$/.exec(req.url ?? "");
    if (!m || m[1] !== options.project) return json(res, 404, { error: { code: 404, message: "Not found", status: "NOT_FOUND" } });
    const location = m[2];
    const inLocation = options.clusters.filter((c) => location === "-" || c.location === location);
    if (m[3] === undefined) return json(res, 200, { clusters: inLocation });
    const cluster = inLocation.find((c) => c.name === m[3]);
    if (cluster === undefined) {
      return json(res, 404, { error: { code: 404, message: `Not found: projects/${options.project}/locations/${location}/clusters/${m[3]}.`, status: "NOT_FOUND" } });
    }
    return json(res, 200, cluster);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** One generateAccessToken call as the IAM Credentials stand-in saw it. */
export interface ImpersonationCall {
  /** Whose bearer token came with it (undefined: a token nobody issued). */
  caller: string | undefined;
  /** The service account in the path. */
  account: string;
  scope: unknown;
  lifetime: unknown;
  /** The status answered. */
  status: number;
}

export interface IamCredentialsStandIn {
  /** The base URL, for the broker's iamCredentialsUrl (CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS). */
  url: string;
  calls: ImpersonationCall[];
  /** Whose each issued token is: the impersonated account's e-mail. */
  issuedTo: Map<string, string>;
  close(): Promise<void>;
}

/**
 * IAM Credentials' `POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken`, as Google
 * answers it: 401 for a bearer token `callerOf` does not know, 404 NOT_FOUND for an account not in
 * `accounts`, 403 PERMISSION_DENIED unless `tokenCreators[account]` lists the caller (the role Service
 * Account Token Creator), 400 for a body without the cloud-platform scope or a lifetime over an hour;
 * else a fresh token of the account and its `expireTime`, `expiresIn` seconds on (1800 by default).
 */
export async function startIamCredentials(options: {
  callerOf: (token: string) => string | undefined;
  accounts: string[];
  tokenCreators: Record<string, string[]>;
  expiresIn?: number;
}): Promise<IamCredentialsStandIn> {
  const calls: ImpersonationCall[] = [];
  const issuedTo = new Map<string, string>();
  const google = (res: ServerResponse, status: number, code: string, message: string): void => json(res, status, { error: { code: status, message, status: code } });
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const m = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(req.url ?? "");
    if (req.method !== "POST" || m === null) return google(res, 404, "NOT_FOUND", "The requested URL was not found on this server.");
    const account = decodeURIComponent(m[1] as string);
    const auth = req.headers.authorization ?? "";
    const caller = auth.startsWith("Bearer ") ? options.callerOf(auth.slice(7)) : undefined;
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      // refused below
    }
    const call: ImpersonationCall = { caller, account, scope: parsed.scope, lifetime: parsed.lifetime, status: 0 };
    calls.push(call);
    const answer = (status: number, code: string, message: string): void => {
      call.status = status;
      google(res, status, code, message);
    };
    if (caller === undefined) return answer(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.");
    if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) return answer(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    if (!options.accounts.includes(account)) return answer(404, "NOT_FOUND", `Not found; Gaia id not found for email ${account}`);
    if (!(options.tokenCreators[account] ?? []).includes(caller)) {
      return answer(403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).");
    }
    const scope = parsed.scope;
    if (!Array.isArray(scope) || !scope.includes("https://www.googleapis.com/auth/cloud-platform")) return answer(400, "INVALID_ARGUMENT", "Scope is required.");
    const lifetime = /^(\d+)s$/.exec(String(parsed.lifetime ?? "3600s"));
    if (lifetime === null || Number(lifetime[1]) > 3600 || Number(lifetime[1]) < 1) return answer(400, "INVALID_ARGUMENT", "The lifetime must be at most 3600s.");
    const token = `ya29.impersonated-${randomBytes(24).toString("base64url")}`;
    issuedTo.set(token, account);
    call.status = 200;
    // Google's expireTime: RFC 3339 in UTC, whole seconds.
    const expireTime = new Date(Math.floor(Date.now() / 1000) * 1000 + (options.expiresIn ?? 1800) * 1000).toISOString().replace(".000Z", "Z");
    json(res, 200, { accessToken: token, expireTime });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, issuedTo, close: () => new Promise((r) => server.close(() => r())) };
}
