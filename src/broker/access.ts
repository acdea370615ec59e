/**
 * Who may call which route: one `onRequest` hook authenticates every request before validation,
 * body parsing or the handler, and enforces what the route declares. A route with no declaration is
 * closed: admins only. (Model: fastify-bearer-auth, where every route is closed unless it opts out.)
 *
 * A route declares its access in its options' `config.access`:
 *
 * ```ts
 * app.get("/healthz", { config: { access: { public: true } } }, handler);                     // anyone
 * app.get("/v1/clusters", { config: { access: { role: "user" } } }, handler);                // any caller with a token
 * app.post("/v1/users", { config: { access: { role: "admin", audit: "user.create", doing: "adding users" } } }, handler);
 * app.get("/v1/clusters/:name/token", {
 *   config: { access: { role: "user", tokenFor: (req) => (req.params as { name: string }).name } },
 * }, handler);                                                                                // one-query token path
 * ```
 *
 * - `public: true`: no authentication at all. The OpenAPI document (`/openapi.json`) marks exactly
 *   these operations `security: []`; the test walks that document and checks that every other
 *   operation answers 401 to a stranger and every admin one 403 to a user.
 * - `role: "user"`: any authenticated caller (admins included). `role: "admin"`: a user gets 403
 *   naming `doing`, audited as action `audit` with reason `not_admin`. A stranger gets 401 (audited as
 *   `auth`, counted by the failed-authentication limiter, 429 while blocked), as on every closed route.
 * - `audit`: the action this route's audit rows carry (the hook's 403 rows and the handler's own).
 * - `tokenFor`: the route mints a token for that cluster; the hook defers to
 *   {@link BrokerContext.authenticateForToken} (caller, cluster, credential and grant in one store
 *   round trip) and leaves the result for the handler ({@link tokenAccessOf}).
 * - `openFromLoopback`: a request from this machine's loopback needs no credentials (`/metrics`,
 *   for a local scraper); from anywhere else the role applies. A request a same-host proxy forwarded
 *   is judged by the address it was forwarded for, and only when the proxy is trusted
 *   (`--trust-proxy`); otherwise it is not local (client-address.ts).
 * - `authenticate`: a route group whose callers prove themselves another way (a web console's
 *   session cookie) gives its own lookup; it returns the caller or throws a `BrokerRefusal` (401). The
 *   role is still enforced here. Without it, the caller is read from `Authorization` (Bearer or Basic).
 *
 * A group of routes registered by a plugin it does not write (`@fastify/static`, say) takes one
 * declaration for all of them with {@link declareGroupAccess} inside its own `app.register` scope.
 * Inside a handler, `req.caller` is the authenticated caller ({@link callerOf} reads it typed).
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from "fastify";
import { isLocalRequest } from "./client-address.js";
import type { BrokerContext } from "./context.js";
import { BrokerReason, BrokerRefusal } from "./errors.js";
import type { StoredUser, TokenAccess } from "./store/store.js";
import { NAME_SCHEMA } from "./routes/schemas.js";

/** A cluster name as the routes' schemas take it (what may be written to an audit row's cluster). */
const CLUSTER_NAME = new RegExp(NAME_SCHEMA.pattern);

/** What a route declares about who may call it (see the file's head). */
export type RouteAccess =
  | { public: true }
  | {
      role: "user";
      /** The action of this route's audit rows. */
      audit?: string;
      /** The cluster a token route mints for: authentication and access in one store query. */
      tokenFor?: (req: FastifyRequest) => string;
      /** Requests from loopback need no credentials (checked first). */
      openFromLoopback?: true;
      /** The cluster a request concerns, for its audit rows (a refusal's included); a token route's is `tokenFor`'s. */
      cluster?: (req: FastifyRequest) => string | undefined;
      /** Another way to find the caller (a session cookie); Bearer/Basic when absent. */
      authenticate?: (req: FastifyRequest) => Promise<StoredUser>;
    }
  | {
      role: "admin";
      /** The action of this route's audit rows, a user's 403 included. */
      audit: string;
      /** What the route does, for the 403's sentence: "<doing> is for admins". */
      doing: string;
      openFromLoopback?: true;
      /** The cluster a request concerns, for its audit rows (a refusal's included). */
      cluster?: (req: FastifyRequest) => string | undefined;
      authenticate?: (req: FastifyRequest) => Promise<StoredUser>;
    };

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call this route; closed (admins only) when absent. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** What the token route's one query read with the caller (routes that declare `tokenFor`). */
    tokenAccess?: TokenAccess;
  }
}

/** What an undeclared route is: closed, for admins only. */
function closedAccess(req: FastifyRequest): RouteAccess {
  const route = `${req.method} ${req.routeOptions.url ?? "?"}`;
  return { role: "admin", audit: route, doing: route };
}

/**
 * Installs the access hook on the broker's root app: every route, the ones other groups add later
 * included. Unknown routes (404) pass through to the not-found handler.
 *
 * @example
 * ```ts
 * installAccessHook(app, ctx);
 * for (const group of ROUTE_GROUPS) await group(app, ctx);
 * ```
 */
export function installAccessHook(app: FastifyInstance, ctx: BrokerContext): void {
  app.addHook("onRequest", async (req) => {
    if (req.is404) return;
    const access = req.routeOptions.config.access ?? closedAccess(req);
    if ("public" in access) return;
    if (access.openFromLoopback === true && isLocalRequest(req, (a) => ctx.isTrustedProxy(a))) return;
    let user: StoredUser;
    if (access.role === "user" && access.tokenFor !== undefined) {
      const found = await ctx.authenticateForToken(req, access.tokenFor(req));
      req.tokenAccess = found;
      user = found.user;
    } else if (access.authenticate !== undefined) {
      user = await access.authenticate(req);
      req.caller = user;
    } else {
      user = await ctx.authenticate(req);
    }
    if (access.role === "admin" && user.role !== "admin") {
      await ctx.record(req, { actor: user.name, action: access.audit, outcome: "denied", reason: "not_admin" });
      throw new BrokerRefusal(403, BrokerReason.FORBIDDEN, `${access.doing} is for admins, and user ${user.name} is not one: ask an admin`);
    }
  });
}

/**
 * The audit action a route declares (an undeclared route's is its method and path), or undefined for
 * a public route, a console route, or one that names none: what a refusal after authentication is
 * audited as.
 *
 * @example
 * ```ts
 * auditActionOf(req); // "credential.update"
 * ```
 */
export function auditActionOf(req: FastifyRequest): string | undefined {
  if (req.is404) return undefined;
  const access = req.routeOptions.config.access ?? closedAccess(req);
  // Public routes name no caller; a route group with its own way in (the console) acts through its
  // REST twins, which audit what they refuse.
  if ("public" in access || access.authenticate !== undefined) return undefined;
  return access.audit;
}

/**
 * The cluster a request concerns, for its audit rows: what the route declares (`cluster`, or a token
 * route's `tokenFor`); undefined when it declares none.
 *
 * @example
 * ```ts
 * auditClusterOf(req); // "prod-kr"
 * ```
 */
export function auditClusterOf(req: FastifyRequest): string | undefined {
  const access = req.routeOptions.config.access;
  if (access === undefined || "public" in access) return undefined;
  const cluster = access.cluster?.(req) ?? (access.role === "user" ? access.tokenFor?.(req) : undefined);
  // A refusal may come from the name itself (a validation error): only a well-formed name is written.
  return typeof cluster === "string" && cluster.length <= NAME_SCHEMA.maxLength && CLUSTER_NAME.test(cluster) ? cluster : undefined;
}

/**
 * Gives every route registered in this scope (a plugin's own routes included) one access
 * declaration, unless a route declares its own. Call it first inside an `app.register` scope.
 *
 * @example
 * ```ts
 * await app.register(async (assets) => {
 *   declareGroupAccess(assets, { public: true });
 *   await assets.register(fastifyStatic, { root, prefix: "/assets/" });
 * });
 * ```
 */
export function declareGroupAccess(app: FastifyInstance, access: RouteAccess): void {
  app.addHook("onRoute", (route: RouteOptions) => {
    route.config = { ...route.config, access: route.config?.access ?? access };
  });
}

/**
 * The authenticated caller of a closed route (set by the access hook before the handler runs).
 *
 * @example
 * ```ts
 * const caller = callerOf(req);
 * ```
 */
export function callerOf(req: FastifyRequest): StoredUser {
  if (req.caller === undefined) throw new BrokerRefusal(500, BrokerReason.INTERNAL, "the broker failed to answer: see its log for the request id, and retry", { cause: new Error(`route ${req.routeOptions.url ?? "?"} read its caller but is public`) });
  return req.caller;
}

/**
 * What a token route's one query read (routes that declare `tokenFor`).
 *
 * @example
 * ```ts
 * const { user, access } = tokenAccessOf(req);
 * ```
 */
export function tokenAccessOf(req: FastifyRequest): TokenAccess {
  if (req.tokenAccess === undefined) throw new BrokerRefusal(500, BrokerReason.INTERNAL, "the broker failed to answer: see its log for the request id, and retry", { cause: new Error(`route ${req.routeOptions.url ?? "?"} did not declare tokenFor`) });
  return req.tokenAccess;
}
