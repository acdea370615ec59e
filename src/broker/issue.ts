/**
 * Issuing a cluster token to a caller: the one path every token answer takes (`/v1/…/token`,
 * embedded kubeconfigs, cb-spider's `/spider/cluster/{Name}/token`). Rate limit, cluster and grant
 * check, minting through the cluster's provider, and the audit row committed before the caller
 * gets anything back, whether the answer is a token or a refusal.
 */
import type { FastifyRequest } from "fastify";
import type { MintedToken } from "../cluster-info.js";
import { ApiError, CloudPermissionError, KubeiamError, NetworkError } from "../lib/errors.js";
import type { BrokerContext } from "./context.js";
import { openCredential } from "./credential-secrets.js";
import { BrokerReason, BrokerRefusal } from "./errors.js";
import type { ClusterAccess, StoredCluster, StoredUser } from "./store/store.js";

/** A token issued to a caller. */
export interface IssuedToken {
  token: string;
  /** When the token really stops working. */
  expiresAt: Date;
  /** When to replace it: what an answer's `expirationTimestamp` says (a minute before `expiresAt`). */
  refreshAt: Date;
  cluster: StoredCluster;
}

/**
 * Issues a token for `clusterName` to `user`, or throws the refusal (403 no grant, 404 unknown
 * cluster, 429 rate limit, 502 cloud error); in every case the audit row is committed first.
 * `via` names the route in the audit row (`v1`, `kubeconfig`, `spider`). `prefetched` is the
 * cluster access already read with the caller ({@link BrokerContext.authenticateForToken}: the token
 * routes' one query); without it, it is read here.
 *
 * @example
 * ```ts
 * const { user, access } = await ctx.authenticateForToken(req, "prod-kr");
 * const { token, expiresAt } = await issueClusterToken(ctx, req, user, "prod-kr", "v1", { access });
 * ```
 */
export async function issueClusterToken(
  ctx: BrokerContext,
  req: FastifyRequest,
  user: StoredUser,
  clusterName: string,
  via: string,
  prefetched?: { access: ClusterAccess | undefined },
): Promise<IssuedToken> {
  const action = via === "v1" ? "token.issue" : `token.issue.${via}`;
  const deny = async (refusal: BrokerRefusal, provider: string): Promise<never> => {
    ctx.metrics.tokens.inc({ provider, outcome: refusal.status >= 500 ? "error" : "denied" });
    await ctx.record(req, { actor: user.name, action, cluster: clusterName, outcome: refusal.status >= 500 ? "error" : "denied", reason: refusal.reason });
    throw refusal;
  };
  try {
    ctx.tokenRate?.take(user.id, ctx.now());
  } catch (error) {
    if (error instanceof BrokerRefusal) return deny(error, "-");
    throw error;
  }
  let access = prefetched?.access;
  if (prefetched === undefined) {
    const started = performance.now();
    access = await ctx.store.clusterAccess(user, clusterName, new Date(ctx.now()));
    ctx.metrics.store.observe({ op: "access_lookup" }, (performance.now() - started) / 1000);
  }
  if (access === undefined) {
    return deny(new BrokerRefusal(404, BrokerReason.NOT_FOUND, `cluster ${clusterName} is not known to this broker: list yours with 'kubeiam broker clusters'`), "-");
  }
  const provider = access.cluster.provider;
  if (!access.granted) return deny(noGrantRefusal(user, clusterName, access), provider);
  let minted: MintedToken;
  try {
    // The opened secrets are kept per credential row and its sealed bytes, and the parsed locator per
    // cluster row: both are checked against the rows read for this very request.
    const cred = access.credential;
    minted = await ctx.cloud.mint({ provider, cacheKey: `${cred.id}|${cred.sealed}`, open: () => openCredential(ctx.masterKeys, cred).secrets, person: user.name }, ctx.locators.of(access.cluster));
  } catch (error) {
    req.log.warn({ err: { type: (error as Error).name, code: (error as KubeiamError).code, message: (error as Error).message } }, "mint failed");
    return deny(cloudRefusal(error, `minting a token for cluster ${clusterName}`), provider);
  }
  ctx.metrics.tokens.inc({ provider, outcome: "issued" });
  // No token leaves before its row is committed: if this throws, the caller gets a 503 and no token.
  try {
    await ctx.record(req, { actor: user.name, action, cluster: clusterName, outcome: "issued", credential: access.credential.name });
  } catch (cause) {
    // Logged by the error handler, with the cause, as part of the store's outage (outage-log.ts).
    throw new BrokerRefusal(503, BrokerReason.STORE_UNAVAILABLE, "the broker could not record the request in its audit trail, so it sent no token: retry, and tell the operator", { cause });
  }
  return { token: minted.token, expiresAt: minted.expiresAt, refreshAt: minted.refreshAt, cluster: access.cluster };
}

/**
 * The 403 for a caller without a grant in force: `grant_ended` when a grant that covered the cluster
 * has ended (saying when), else `no_grant`.
 *
 * @example
 * ```ts
 * if (!access.granted) throw noGrantRefusal(user, "prod-kr", access);
 * ```
 */
export function noGrantRefusal(user: StoredUser, clusterName: string, access: ClusterAccess): BrokerRefusal {
  const ask = `ask an admin to run 'kubeiam broker grant ${user.name} ${clusterName}'`;
  if (access.endedAt !== undefined) {
    return new BrokerRefusal(403, BrokerReason.GRANT_ENDED, `user ${user.name}'s grant for cluster ${clusterName} ended at ${access.endedAt}: ${ask} again`);
  }
  return new BrokerRefusal(403, BrokerReason.NO_GRANT, `user ${user.name} has no grant for cluster ${clusterName}: ${ask}`);
}

/**
 * The refusal for a cloud failure: the cloud's own reason, with the status it deserves (404 for a
 * cluster the cloud does not have, 400 for what it refused, 502 when it could not be reached or
 * refused the broker's own identity a permission it needs).
 *
 * @example
 * ```ts
 * throw cloudRefusal(error, "looking up cluster prod");
 * ```
 */
export function cloudRefusal(error: unknown, doing: string): BrokerRefusal {
  if (error instanceof BrokerRefusal) return error;
  // The cloud refused the broker's own identity (a role missing): the operator's to fix, not the caller's.
  if (error instanceof CloudPermissionError) return new BrokerRefusal(502, BrokerReason.CLOUD_DENIED, `${doing}: ${error.message}`, { cause: error });
  if (error instanceof ApiError) {
    if (error.status === 404) return new BrokerRefusal(404, BrokerReason.NOT_FOUND, `${doing}: the cloud has no such cluster (${error.message})`, { cause: error });
    if (error.status >= 500 || error.status === 429) return new BrokerRefusal(502, BrokerReason.CLOUD_UNREACHABLE, `${doing}: the cloud failed (${error.message}); retry later`, { cause: error });
    return new BrokerRefusal(400, BrokerReason.CLOUD_REJECTED, `${doing}: the cloud refused (${error.message})`, { cause: error });
  }
  if (error instanceof NetworkError) return new BrokerRefusal(502, BrokerReason.CLOUD_UNREACHABLE, `${doing}: the cloud could not be reached (${error.message})`, { cause: error });
  if (error instanceof KubeiamError) return new BrokerRefusal(400, BrokerReason.CLOUD_REJECTED, `${doing}: ${error.message}`, { cause: error });
  return new BrokerRefusal(502, BrokerReason.CLOUD_UNREACHABLE, `${doing}: the cloud call failed unexpectedly; see the broker's log`, { cause: error });
}
