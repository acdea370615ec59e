/**
 * A module loaded on first use: the light front of an entry point (a provider factory, say) imports
 * what its calls need only when one is made, so that importing the entry point stays cheap.
 */

/**
 * A function that imports with `load` once, on its first call, and hands every caller the same promise.
 *
 * @example
 * ```ts
 * const adapter = onFirstUse(async () => (await import("./adapter.js")).ncpAdapter);
 * const clusters = await (await adapter()).listClusters(query);
 * ```
 */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
