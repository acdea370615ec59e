/**
 * What locates each stored cluster in its cloud (its engine's locator), parsed once per row: a token
 * request reads the cluster row every time (so a deleted or re-registered cluster shows at once, on
 * every instance), and minting needs only the locator. An entry is reused only while the row is the
 * same (same id, same locator text), so a change made anywhere is seen on the next request. Rows from
 * before locators were stored are located from their stored ClusterInfo. Also: that ClusterInfo read
 * back, for cb-spider's shapes.
 */
import type { ClusterInfo } from "../cluster-info.js";
import { engineFor } from "./engines.js";
import { BrokerReason, BrokerRefusal } from "./errors.js";
import type { StoredCluster } from "./store/store.js";

/** How many clusters to keep before starting over (each entry is one small locator). */
const MAX_ENTRIES = 1000;

/**
 * The cloud's ClusterInfo as stored with a cluster at registration, with its dates restored.
 *
 * @example
 * ```ts
 * const info = storedClusterInfo(cluster);
 * ```
 */
export function storedClusterInfo(cluster: StoredCluster): ClusterInfo {
  const raw = JSON.parse(cluster.info) as ClusterInfo & { createdAt?: string | Date };
  const { createdAt, ...rest } = raw;
  return { ...rest, ...(createdAt === undefined ? {} : { createdAt: new Date(createdAt) }) };
}

/**
 * The locator of a stored cluster, parsed by its engine.
 *
 * @example
 * ```ts
 * const locator = storedLocator(cluster);
 * ```
 */
export function storedLocator(cluster: StoredCluster): unknown {
  const engine = engineFor(cluster.provider);
  if (engine === undefined) {
    throw new BrokerRefusal(500, BrokerReason.INTERNAL, `cluster ${cluster.name} is for provider ${cluster.provider}, which this kubeiam does not serve: upgrade kubeiam or delete the cluster`);
  }
  return cluster.locator === null ? engine.locatorFromInfo(storedClusterInfo(cluster)) : engine.parseLocator(JSON.parse(cluster.locator));
}

/**
 * Parsed locators per cluster row, checked against the row on every use.
 *
 * @example
 * ```ts
 * const locators = new ClusterLocatorCache();
 * const where = locators.of(access.cluster); // parsed once while the row stays the same
 * ```
 */
export class ClusterLocatorCache {
  readonly #entries = new Map<string, { text: string; locator: unknown }>();

  /** The cluster's locator, from the cache when its row is unchanged. */
  of(cluster: StoredCluster): unknown {
    const text = cluster.locator ?? cluster.info;
    const hit = this.#entries.get(cluster.id);
    if (hit !== undefined && hit.text === text) return hit.locator;
    const locator = storedLocator(cluster);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(cluster.id, { text, locator });
    return locator;
  }
}
