/**
 * The cloud's ClusterInfo of each stored cluster, parsed once: a token request reads the cluster row
 * every time (so a deleted or re-registered cluster shows at once, on every instance), but parsing its
 * info JSON again on every request is a measurable share of the token path. An entry is reused only
 * while the row is the same (same id, same info text), so a change made anywhere is seen on the next
 * request. Entries are shared: callers must not change the object they get.
 */
import type { ClusterInfo } from "../cluster-info.js";
import type { StoredCluster } from "./store/store.js";

/** How many clusters to keep before starting over (each entry is one parsed ClusterInfo). */
const MAX_ENTRIES = 1000;

/**
 * The cloud's ClusterInfo as stored with a cluster, with its dates restored.
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
 * Parsed ClusterInfo per cluster row, checked against the row on every use.
 *
 * @example
 * ```ts
 * const infos = new ClusterInfoCache();
 * const info = infos.of(access.cluster); // parsed once while the row stays the same
 * ```
 */
export class ClusterInfoCache {
  readonly #entries = new Map<string, { text: string; info: ClusterInfo }>();

  /** The cluster's parsed info, from the cache when its row's info text is unchanged. */
  of(cluster: StoredCluster): ClusterInfo {
    const hit = this.#entries.get(cluster.id);
    if (hit !== undefined && hit.text === cluster.info) return hit.info;
    const info = storedClusterInfo(cluster);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(cluster.id, { text: cluster.info, info });
    return info;
  }
}
