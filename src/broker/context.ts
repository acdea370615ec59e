/**
 * What every route of the broker receives: the store, the audit writer, the cloud gateway, the
 * sealing key, limits, metrics and the clock, and the two checks all routes share (who is calling;
 * may they do this).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AccessCache } from "./access-cache.js";
import type { AuditWriter } from "./audit.js";
import type { FailedAuthLimiter, TokenRateLimiter } from "./auth.js";
import type { CloudGateway } from "./cloud.js";
import type { ClusterLocatorCache } from "./cluster-locator.js";
import type { BrokerMetrics } from "./metrics.js";
import type { OidcRelyingParty } from "./oidc.js";
import type { StoreOutageLog } from "./outage-log.js";
import type { SessionService } from "./sessions.js";
import type { AuditRecord, BrokerStore, StoredUser, TokenAccess } from "./store/store.js";

/** The broker's shared state, handed to each route group. */
export interface BrokerContext {
  store: BrokerStore;
  audit: AuditWriter;
  cloud: CloudGateway;
  /** Granted token access kept for up to a second, when the store announces changes (access-cache.ts). */
  accessCache: AccessCache | undefined;
  /** Parsed locators per cluster row (checked against the row on each use). */
  locators: ClusterLocatorCache;
  /** The master key (32 bytes): seals cloud secrets, and opens them. */
  masterKey: Buffer;
  /** The whole keyring, the sealing key first: opens what any of them sealed (rotation). */
  masterKeys: readonly Buffer[];
  metrics: BrokerMetrics;
  failedAuth: FailedAuthLimiter;
  /** Store outages in the log: once when it starts, every half minute, once when it ends (outage-log.ts). */
  outage: StoreOutageLog;
  /** Whether a socket's peer is a proxy `serve --trust-proxy` trusts (client-address.ts). */
  isTrustedProxy(address: string | undefined): boolean;
  /** Present when `serve --rate-limit N` was given. */
  tokenRate: TokenRateLimiter | undefined;
  /** This instance's name in audit rows. */
  instance: string;
  /** Signed-in people's sessions (sessions.ts), shared by the device flow and the web console. */
  sessions: SessionService;
  /** The identity provider people sign in with (`serve --oidc-issuer`), when configured. */
  oidc: OidcRelyingParty | undefined;
  /**
   * The URL users reach this broker at (kubeconfigs name it): `--public-url`, else the listen URL;
   * on a wildcard listen address (0.0.0.0, ::), the Host the request came to.
   */
  publicUrl(req?: FastifyRequest): string;
  now(): number;
  /**
   * Who is calling (Bearer or Basic), or a refusal: 401 (audited, counted by the failed-auth
   * limiter) or 429 while the address is blocked.
   */
  authenticate(req: FastifyRequest): Promise<StoredUser>;
  /**
   * Who is calling and what their token request for `clusterName` needs (the cluster, its sealed
   * credential, the grant), in one store round trip; refusals as {@link BrokerContext.authenticate}.
   */
  authenticateForToken(req: FastifyRequest, clusterName: string): Promise<TokenAccess>;
  /**
   * Refuses (403, audited as `audit` with reason `not_admin`) a caller who is not an admin, for a
   * check inside a handler (a route that is for admins declares it instead: `../access.ts`).
   */
  requireAdmin(req: FastifyRequest, user: StoredUser, audit: string, doing: string): Promise<void>;
  /** Writes an audit row stamped with time, instance and remote address, and waits for its commit. */
  record(req: FastifyRequest, row: Omit<AuditRecord, "time" | "instance" | "remote">): Promise<void>;
}

/**
 * A group of routes, registered with the broker's context (one file of `routes/` each). Each route
 * declares who may call it in `config.access` (see `access.ts`); an undeclared route is for admins.
 *
 * @example
 * ```ts
 * export const pingRoutes: RouteGroup = (app, ctx) => {
 *   app.get("/v1/ping", { config: { access: { role: "user" } } }, async () => ({ instance: ctx.instance }));
 * };
 * ```
 */
export type RouteGroup = (app: import("fastify").FastifyInstance, ctx: BrokerContext) => void | Promise<void>;

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated caller, set by the access hook (`access.ts`) before a closed route's handler. */
    caller?: StoredUser;
  }
}

/**
 * Sends a 204 with no body.
 *
 * @example
 * ```ts
 * return noContent(reply);
 * ```
 */
export function noContent(reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}
