/**
 * The broker's HTTP server on Fastify: body limit, timeouts, JSON logs with a request id (never a
 * token or key), one error shape (`{"error":{"code","message"}}`) for every refusal, one access hook
 * (`access.ts`: routes are closed unless they say they are public), the OpenAPI document
 * (`openapi.ts`) and the route groups of `routes/`. Listening and TLS are `serve.ts`'s job.
 */
import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import { AccessCache } from "./access-cache.js";
import { AuditWriter } from "./audit.js";
import { auditActionOf, installAccessHook, auditClusterOf } from "./access.js";
import { trustedPeers } from "./client-address.js";
import { FailedAuthLimiter, TokenRateLimiter, parseAuthorization, tokenDigestOf } from "./auth.js";
import { CloudGateway, type CloudGatewayOptions } from "./cloud.js";
import { ClusterLocatorCache } from "./cluster-locator.js";
import type { BrokerContext } from "./context.js";
import { BrokerReason, BrokerRefusal } from "./errors.js";
import { createBrokerMetrics } from "./metrics.js";
import { registerOpenApi } from "./openapi.js";
import { StoreOutageLog, logServerRefusal } from "./outage-log.js";
import { MAX_PARAM_LENGTH, answerClientError, frameworkRefusal, isSpiderUrl, noRouteRefusal, refuseWithoutHost, sendRefusal } from "./refusals.js";
import { ROUTE_GROUPS } from "./routes/index.js";
import type { OidcRelyingParty } from "./oidc.js";
import { SessionService } from "./sessions.js";
import { retiredTokenDigest } from "./tokens.js";
import type { BrokerStore, StoredUser } from "./store/store.js";

/** The largest request body: 64 KiB. */
export const BODY_LIMIT = 64 * 1024;

/** Options of {@link createBrokerApp}. */
export interface BrokerAppOptions {
  store: BrokerStore;
  /** The sealing key. */
  masterKey: Buffer;
  /** Keys that only open (a rotation's old keys), after the sealing one in the keyring. */
  retiredKeys?: readonly Buffer[];
  /** This instance's name in audit rows; a random one by default. */
  instance?: string;
  /** The URL users reach the broker at, perhaps per request; a function since the port is known only after listen. */
  publicUrl: (req?: FastifyRequest) => string;
  /** Token requests per user per second; unlimited when absent. */
  rateLimit?: number;
  /** The clock; `Date.now` by default. */
  now?: () => number;
  /** TLS key and certificate (PEM) for HTTPS; plain HTTP when absent. */
  https?: { key: Buffer; cert: Buffer };
  /** Where the JSON log lines go; stderr by default. `false` for none. */
  logStream?: NodeJS.WritableStream | false;
  /** Log level; `info` by default. */
  logLevel?: string;
  /** Cloud endpoints for tests and private clouds. */
  cloud?: Omit<CloudGatewayOptions, "now">;
  /** Lifetime of a session's access token, ms (`--session-ttl`); 10 minutes by default. */
  sessionTtlMs?: number;
  /** A session's hard end, ms (`--session-max`); 12 hours by default. */
  sessionMaxMs?: number;
  /** The identity provider people sign in with (`--oidc-issuer`), discovered before the app is built. */
  oidc?: OidcRelyingParty;
  /**
   * Proxies whose `X-Forwarded-For` names the client (`--trust-proxy`: addresses and CIDR blocks,
   * checked by `parseTrustProxy`); the socket's peer is the client when absent.
   */
  trustProxy?: readonly string[];
  /**
   * The longest a granted token request's access is kept, ms (access-cache.ts), when the store
   * announces changes; BROKER.md's second by default. Tests lengthen it to tell the announcements'
   * work from expiry.
   */
  accessCacheMs?: number;
}

/** A broker app and its context (tests and `serve` reach the audit writer through it). */
export interface BrokerApp {
  app: FastifyInstance;
  ctx: BrokerContext;
}

/**
 * Builds the broker's Fastify app with every route group registered. Call `app.listen` (or use
 * `startBroker`) to serve.
 *
 * @example
 * ```ts
 * const { app } = await createBrokerApp({ store, masterKey, publicUrl: () => "https://broker.example" });
 * await app.listen({ host: "127.0.0.1", port: 0 });
 * ```
 */
export async function createBrokerApp(options: BrokerAppOptions): Promise<BrokerApp> {
  const now = options.now ?? Date.now;
  const metrics = createBrokerMetrics();
  const store = options.store;
  const instance = options.instance ?? randomUUID().slice(0, 8);
  const audit = new AuditWriter(
    (rows) => store.insertAudit(rows),
    (_rows, seconds) => metrics.store.observe({ op: "audit_commit" }, seconds),
  );
  // Kept access, only where the store announces every change of it (PostgreSQL); see access-cache.ts.
  const accessCache =
    store.accessFeed === undefined
      ? undefined
      : new AccessCache(now, {
          ...(options.accessCacheMs === undefined ? {} : { maxAgeMs: options.accessCacheMs }),
          onRead: (kept) => metrics.accessCache.inc({ result: kept ? "hit" : "miss" }),
          onLive: (keeping) => {
            metrics.accessCacheLive.set(keeping ? 1 : 0);
            if (keeping) app.log.info("the store's announcements of access changes are heard: granted access is kept for up to a second");
            else app.log.warn("the store's announcements of access changes are not heard (its connection is gone): every token request reads the store until they are again");
          },
        });
  const failedAuth = new FailedAuthLimiter();
  const tokenRate = options.rateLimit === undefined ? undefined : new TokenRateLimiter(options.rateLimit);

  const logStream = options.logStream ?? process.stderr;
  const app = Fastify({
    logger: logStream === false ? false : { level: options.logLevel ?? "info", stream: logStream },
    // Node's own answer to a request without Host is an empty 400; refuseWithoutHost gives the broker's.
    http: { requireHostHeader: false },
    ...(options.https === undefined ? {} : { https: { key: options.https.key, cert: options.https.cert, requireHostHeader: false } }),
    bodyLimit: BODY_LIMIT,
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    // While closing, new requests get the broker's 503 (the hook below), not Fastify's own shape.
    return503OnClosing: false,
    // The client's X-Request-Id is not trusted; each instance makes its own.
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    // One line per request, written by the onResponse hook below with the caller's name.
    logController: new LogController({ disableRequestLogging: true }),
    // The client's address (req.ip: audit rows, the failed-authentication limit, /metrics from
    // loopback) is the rightmost X-Forwarded-For hop that is not a trusted proxy (client-address.ts).
    trustProxy: options.trustProxy === undefined || options.trustProxy.length === 0 ? false : [...options.trustProxy],
    // Every refusal in the broker's shape, also the ones Fastify's router and Node's parser make (refusals.ts).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (error, req, reply) => sendRefusal(req, reply, frameworkRefusal(error)),
    clientErrorHandler: answerClientError,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
  });

  // After the app (the feed may announce at once, and its announcements are logged).
  if (accessCache !== undefined) store.accessFeed?.subscribe(accessCache);

  /** Requests that wrote their audit row already (a refusal of theirs writes no second one). */
  const audited = new WeakSet<FastifyRequest>();
  const record: BrokerContext["record"] = (req, row) => {
    audited.add(req);
    return audit.record({ ...row, time: new Date(now()).toISOString(), instance, remote: req.ip });
  };

  /**
   * Who is calling: the presented token's digest looked up with `lookup` (which may read more in the
   * same query), or a refusal: 401 (audited, counted by the failed-auth limiter), 429 while blocked.
   */
  const sessions = new SessionService(store.db, {
    masterKey: options.masterKey,
    ...(options.retiredKeys === undefined ? {} : { retiredKeys: options.retiredKeys }),
    now,
    ...(options.sessionTtlMs === undefined ? {} : { ttlMs: options.sessionTtlMs }),
    ...(options.sessionMaxMs === undefined ? {} : { maxMs: options.sessionMaxMs }),
  });

  /** Runs a store read, observed in the store-latency histogram as `op`. */
  const timed = async <T>(op: string, read: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await read();
    metrics.store.observe({ op }, (performance.now() - started) / 1000);
    return result;
  };

  const identify = async <T extends { user: StoredUser }>(
    req: FastifyRequest,
    lookup: (tokenHash: string, session: boolean) => Promise<T | undefined>,
  ): Promise<T> => {
    // Verify first, throttle only failures: a valid token is never refused for others' failures from
    // the same address (a NAT, a proxy). A blocked address's guesses are still answered 429, and one
    // it already made, or one without a well-formed token, without asking the store.
    const address = req.ip;
    const blocked = failedAuth.blocked(address, now());
    const presented = parseAuthorization(req.headers.authorization);
    const digest = tokenDigestOf(presented, isSpiderUrl(req.url) ? "basic" : "bearer");
    const guess = "hash" in digest ? `${digest.hash}:${presented.kind === "basic" ? presented.user : ""}` : undefined;
    if (blocked !== undefined && (guess === undefined || failedAuth.knownBad(guess, now()))) {
      failedAuth.fail(address, now());
      throw blocked;
    }
    let found: T | undefined;
    let why: string;
    if ("hash" in digest) {
      found = await lookup(digest.hash, digest.session);
      why = digest.session
        ? "the session has ended or its access token ran out: renew it, or sign in again with 'kubeiam broker login'"
        : "the broker token is not known (revoked, rotated or mistyped): ask an admin for a new one";
      if (found !== undefined && presented.kind === "basic" && presented.user !== found.user.name) {
        found = undefined;
        why = "the user name does not match the broker token: send the token's own user name";
      }
    } else {
      why = digest.why;
    }
    if (found !== undefined) {
      req.caller = found.user;
      return found;
    }
    const counted = failedAuth.fail(address, now(), guess);
    // The limited answer writes one row; the refusals after it write none, so they cannot flood the table.
    if (counted === "blocked") throw failedAuth.refusal(address, now());
    // A token that worked once (rotated away, or its user deleted) names its former owner: the row
    // says whose token is still out there. Only the digest of its digest is kept (tokens.ts).
    let owner: { name: string; why: string; retiredAt: string } | undefined;
    if ("hash" in digest && !digest.session && found === undefined) {
      owner = await store.retiredTokenOwner(retiredTokenDigest(digest.hash));
      if (owner !== undefined) why = `this broker token of ${owner.name} stopped working at ${owner.retiredAt} (${retiredWhy(owner.why)}): ask an admin for the current one`;
    }
    await record(req, {
      // The former owner, else the claimed name, unless it looks like a pasted token: no token is ever written to a row.
      actor: owner !== undefined ? owner.name : presented.kind === "basic" && !presented.user.includes("kbi_") ? `?${presented.user.slice(0, 64)}` : "?",
      action: "auth",
      outcome: counted === "limited" ? "limited" : "denied",
      reason: owner !== undefined ? `retired_token: ${owner.why} at ${owner.retiredAt}` : presented.kind === "none" ? "no_token" : "bad_token",
    });
    if (counted === "limited") throw failedAuth.refusal(address, now());
    throw new BrokerRefusal(401, BrokerReason.UNAUTHENTICATED, why);
  };

  const authenticate = async (req: FastifyRequest): Promise<StoredUser> => {
    if (req.caller !== undefined) return req.caller;
    const { user } = await identify(req, async (hash, session) => {
      const u = await timed("auth_lookup", () => (session ? sessions.callerByAccessHash(hash) : store.userByTokenHash(hash)));
      return u === undefined ? undefined : { user: u };
    });
    return user;
  };

  const outage = new StoreOutageLog(app.log, now);
  const ctx: BrokerContext = {
    store,
    audit,
    cloud: new CloudGateway({ ...options.cloud, now }),
    accessCache,
    locators: new ClusterLocatorCache(),
    masterKey: options.masterKey,
    masterKeys: [options.masterKey, ...(options.retiredKeys ?? [])],
    metrics,
    failedAuth,
    outage,
    isTrustedProxy: trustedPeers(options.trustProxy ?? []),
    tokenRate,
    instance,
    publicUrl: options.publicUrl,
    now,
    authenticate,
    sessions,
    oidc: options.oidc,
    authenticateForToken: (req, clusterName) =>
      identify(req, async (hash, session) => {
        if (!session) {
          const read = () => timed("token_access_lookup", () => store.tokenAccess(hash, clusterName, new Date(now())));
          return accessCache === undefined ? read() : accessCache.read(`${hash}\u0000${clusterName}`, read);
        }
        // A session's access token is renewed every few minutes, and the CLI keeps the cluster token it
        // gets: nothing to gain from keeping its access here.
        return timed("token_access_lookup", async () => {
          const user = await sessions.callerByAccessHash(hash);
          if (user === undefined) return undefined;
          const access = await store.clusterAccess(user, clusterName, new Date(now()));
          // The session's role (the admin group at sign-in), not the users row's, decides an admin's reach.
          if (access !== undefined && !access.granted && user.role === "admin") return { user, access: { cluster: access.cluster, credential: access.credential, granted: true } };
          return { user, access };
        });
      }),
    requireAdmin: async (req, user, action, doing) => {
      if (user.role === "admin") return;
      await record(req, { actor: user.name, action, outcome: "denied", reason: "not_admin" });
      throw new BrokerRefusal(403, BrokerReason.FORBIDDEN, `${doing} is for admins, and user ${user.name} is not one: ask an admin`);
    },
    record,
  };

  // This instance's own changes are dropped from what it keeps before they are answered, so the
  // caller who revoked a grant here sees it refused here on their next request (other instances
  // hear of it from the store's announcement).
  if (accessCache !== undefined) {
    app.addHook("onSend", async (req) => {
      if (req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS") accessCache.changed();
    });
  }
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "(none)";
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    // A caller was looked up in the store and the answer is not a server error: the store answers.
    if (req.caller !== undefined && reply.statusCode < 500) outage.answered();
    req.log.info(
      { method: req.method, route, status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 10) / 10, user: req.caller?.name },
      "request",
    );
  });

  app.setErrorHandler((error: FastifyError | BrokerRefusal, req, reply) => {
    const refusal = toRefusal(error);
    logServerRefusal(req, error, refusal, outage);
    return sendRefusal(req, reply, refusal);
  });
  app.setNotFoundHandler((req, reply) => sendRefusal(req, reply, noRouteRefusal(app, req)));

  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (req, reply) => {
    if (closing) {
      void reply.header("connection", "close");
      throw new BrokerRefusal(503, BrokerReason.SHUTTING_DOWN, "this broker instance is shutting down: send the request again (to another instance)", { retryAfter: 1 });
    }
    await refuseWithoutHost(req);
  });
  installAccessHook(app, ctx);
  // A refused or failed action is audited like a done one (BROKER.md: the audit trail; issue 18):
  // after the caller is known, any route that names an audit action writes one row for its refusal
  // (a 409, a cloud's 4xx or 502, a 404, a bad body), unless the route wrote its own. Runs before
  // every scope's error handler, so the row is committed before the answer leaves.
  app.addHook("onError", async (req, _reply, error) => {
    const action = auditActionOf(req);
    if (action === undefined || req.caller === undefined || audited.has(req)) return;
    const refusal = toRefusal(error as FastifyError);
    const statusCode = (error as FastifyError).statusCode;
    const status = error instanceof BrokerRefusal || statusCode === undefined || statusCode < 400 ? refusal.status : statusCode;
    // Without the store there is no row to write (and no answer but 503 to give).
    if (refusal.reason === BrokerReason.STORE_UNAVAILABLE) return;
    const code = error instanceof BrokerRefusal || status === refusal.status ? refusal.reason : String((error as FastifyError).code ?? status);
    try {
      const cluster = auditClusterOf(req);
      await record(req, { actor: req.caller.name, action, ...(cluster === undefined ? {} : { cluster }), outcome: status >= 500 ? "error" : "denied", reason: `${status} ${code}: ${refusal.status === status ? refusal.message : (error as Error).message}`.slice(0, 300) });
    } catch (cause) {
      req.log.error({ err: { type: (cause as Error).name, message: (cause as Error).message } }, "the refusal's audit row was not written");
    }
  });
  await registerOpenApi(app);
  for (const group of ROUTE_GROUPS) await group(app, ctx);
  return { app, ctx };
}

/**
 * The refusal for anything a handler threw: its own, Fastify's (validation, body size, JSON), or a 500.
 *
 * @example
 * ```ts
 * const refusal = toRefusal(error); // reply.code(refusal.status)
 * ```
 */
export function toRefusal(error: FastifyError | BrokerRefusal): BrokerRefusal {
  if (error instanceof BrokerRefusal) return error;
  const e = error as FastifyError;
  if (e.validation !== undefined && e.validation.length > 0) {
    return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, validationMessage(e));
  }
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new BrokerRefusal(413, BrokerReason.BODY_TOO_LARGE, `the request body is over ${BODY_LIMIT / 1024} KiB: send less`);
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "the request body is not valid JSON: send one JSON object");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "the request body is empty but its Content-Type says JSON: send a JSON object, or no Content-Type");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "the request body is not JSON: send it with 'Content-Type: application/json'");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "the request body is not as long as its Content-Length says: send the whole body, or the right length");
    default:
      break;
  }
  if (e instanceof SyntaxError || e.statusCode === 400) {
    return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "the request body is not valid JSON: send one JSON object");
  }
  if (isStoreUnreachable(e)) {
    return new BrokerRefusal(503, BrokerReason.STORE_UNAVAILABLE, "the broker's store does not answer: retry in a moment, and tell the operator if it lasts");
  }
  if (e.statusCode === 413) return new BrokerRefusal(413, BrokerReason.BODY_TOO_LARGE, `the request body is over ${BODY_LIMIT / 1024} KiB: send less`);
  // Any other refusal of Fastify's (a client error by its own account) keeps its status, in our words.
  if (typeof e.code === "string" && e.code.startsWith("FST_") && typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return new BrokerRefusal(e.statusCode, BrokerReason.BAD_REQUEST, "the request is not one the broker can read: check its method, headers and body against GET /openapi.json");
  }
  return new BrokerRefusal(500, BrokerReason.INTERNAL, "the broker failed to answer: see its log for the request id, and retry");
}

/** Why a retired token stopped, for its 401's sentence. */
function retiredWhy(why: string): string {
  switch (why) {
    case "deleted":
      return "the user was deleted";
    case "replaced":
      return "replaced on the server host with 'kubeiam serve admin-token'";
    default:
      return "an admin rotated it";
  }
}

/** Connection-level failures of PostgreSQL (or a busy SQLite file): the store, not the request, is at fault. */
const STORE_DOWN_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P02", "57P03", "08000", "08001", "08003", "08006", "53300", "SQLITE_BUSY", "SQLITE_IOERR", "SQLITE_FULL"]);

function isStoreUnreachable(error: { code?: unknown; message?: unknown }): boolean {
  if (typeof error.code === "string" && STORE_DOWN_CODES.has(error.code)) return true;
  return typeof error.message === "string" && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(error.message);
}

/** One sentence from Ajv's first error: where, what, and the fix. */
function validationMessage(e: FastifyError): string {
  const first = e.validation?.[0];
  const where = e.validationContext === "querystring" ? "query" : e.validationContext === "params" ? "path" : (e.validationContext ?? "request");
  if (first === undefined) return `the ${where} is not valid`;
  const path = first.instancePath
    .split("/")
    .filter((p) => p !== "")
    .join(".");
  const at = (field: string): string => (path === "" ? field : `${path}.${field}`);
  const params = first.params as Record<string, unknown>;
  switch (first.keyword) {
    case "required":
      return `${where} field ${at(String(params.missingProperty))} is missing: add it`;
    case "additionalProperties":
      return `${where} field ${at(String(params.additionalProperty))} is not known: remove it`;
    case "type":
      return path === "" ? `the ${where} must be a JSON ${String(params.type)}` : `${where} field ${path} must be a ${String(params.type)}`;
    case "enum":
      return `${where} field ${path} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "pattern":
      return `${where} field ${path} has characters it may not have: use letters, digits, '.', '_' and '-', starting with a letter or digit`;
    case "minLength":
      return `${where} field ${path} is empty: give a value`;
    case "maxLength":
      return `${where} field ${path} is longer than ${String(params.limit)} characters: shorten it`;
    case "minimum":
    case "maximum":
      return `${where} field ${path} must be ${first.keyword === "minimum" ? "at least" : "at most"} ${String(params.limit)}`;
    default:
      return `${where} field ${path === "" ? "(body)" : path} ${first.message ?? "is not valid"}`;
  }
}
