/**
 * The `yaml` package, loaded on first use: it is the largest part of `import("kubeiam")` when loaded
 * eagerly (some eighty CommonJS files, about as long as the rest of the package's start-up), and most
 * programs that import kubeiam never parse or write YAML. Modules name its types with `import type`
 * and reach its values only through {@link yaml}.
 */
import { createRequire } from "node:module";
import type * as Yaml from "yaml";

// The package is CommonJS under the "node" condition; an ES import of it would load the same
// module.exports through the same cache, so values from here and from a static import agree
// (isMap() and friends compare by symbol, not by class). Even createRequire() waits for the first
// call: making a require function costs start-up time of its own.
let loaded: typeof Yaml | undefined;

/**
 * The `yaml` package's exports, loaded the first time this is called and kept for later calls.
 *
 * @example
 * ```ts
 * const doc = yaml().parseDocument("a: 1\n");
 * yaml().isMap(doc.contents); // true
 * ```
 */
export function yaml(): typeof Yaml {
  // require() is typed `any`; the package's own declarations type it here.
  loaded ??= createRequire(import.meta.url)("yaml") as typeof Yaml;
  return loaded;
}
