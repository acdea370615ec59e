/**
 * What locates each stored cluster in its cloud (its engine's locator), parsed once per row: a token
 * request reads the cluster row every time (so a deleted or re-registered cluster shows at once, on
 * every instance), and minting needs only the locator. An entry is reused only while the row is the
 * same (same id, same locator text), so a change made anywhere is seen on the next request.
 */
import type { CloudEngine } from "../cloud-engine.js";
import { engineFor } from "./engines.js";
import { BrokerReason, BrokerRefusal } from "./errors.js";
import type { StoredCluster } from "./store/store.js";

/** How many clusters to keep before starting over (each entry is one small locator). */
const MAX_ENTRIES = 1000;

/**
 * The engine of a stored cluster's provider; a 500 naming the fix when this kubeiam has none.
 *
 * @example
 * ```ts
 * const engine = storedEngine(cluster);
 * ```
 */
export function storedEngine(cluster: StoredCluster): CloudEngine {
  const engine = engineFor(cluster.provider);
  if (engine === undefined) {
    throw new BrokerRefusal(500, BrokerReason.INTERNAL, `cluster ${cluster.name} is for provider ${cluster.provider}, which this kubeiam does not serve: upgrade kubeiam or delete the cluster`);
  }
  return engine;
}

/**
 * The locator of a stored cluster, parsed by its engine. A row without a usable one (only a row from
 * before schema 4 whose stored ClusterInfo did not say where the cluster is) is a 500 naming the fix.
 *
 * @example
 * ```ts
 * const locator = storedLocator(cluster);
 * ```
 */
export function storedLocator(cluster: StoredCluster): unknown {
  const engine = storedEngine(cluster);
  try {
    if (cluster.locator === null) throw new Error("no locator");
    return engine.parseLocator(JSON.parse(cluster.locator));
  } catch (cause) {
    throw new BrokerRefusal(
      500,
      BrokerReason.INTERNAL,
      `cluster ${cluster.name} has no usable record of where it is in its cloud: an admin deletes it and registers it again (POST /v1/clusters)`,
      { cause },
    );
  }
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
  readonly #entries = new Map<string, { text: string | null; locator: unknown }>();

  /** The cluster's locator, from the cache when its row is unchanged. */
  of(cluster: StoredCluster): unknown {
    const text = cluster.locator;
    const hit = this.#entries.get(cluster.id);
    if (hit !== undefined && hit.text === text) return hit.locator;
    const locator = storedLocator(cluster);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(cluster.id, { text, locator });
    return locator;
  }
}
