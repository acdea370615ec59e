/**
 * Node's built-in modules for the exec plugins' paths (`kubeiam token`, `broker token`, `eks token`,
 * `gke token`: one of them runs on every kubectl call) and for what `import("kubeiam")` and its
 * subpaths load, taken through `require` instead of `import`. An `import` of a built-in builds an ES module facade that
 * reads every one of its exports, and reading wakes the lazy ones: `node:fs`'s `ReadStream` loads the
 * whole streams stack, `node:crypto`'s `webcrypto` its own, `node:util`'s `MIMEType` the MIME parser.
 * On the token path that was about 8 ms of a 100 ms process (`npm run bench -- --only startup`).
 * Even a small one (`node:os`) costs an import about half a millisecond, a module's worth.
 * Everywhere else the ordinary `import` reads better and costs nothing that matters.
 */
import { createRequire } from "node:module";

/** The built-ins the hot path takes this way, with their types. */
interface Builtins {
  "node:crypto": typeof import("node:crypto");
  "node:fs": typeof import("node:fs");
  "node:fs/promises": typeof import("node:fs/promises");
  "node:os": typeof import("node:os");
  "node:path": typeof import("node:path");
  "node:tty": typeof import("node:tty");
  "node:util": typeof import("node:util");
}

const load = createRequire(import.meta.url);

/**
 * A built-in module, without the ES module facade (see above). Its functions and classes are the
 * ones an `import` gives, so values (a `KeyObject`, an error) mix freely with those of other modules.
 *
 * @example
 * ```ts
 * const { createHmac } = builtin("node:crypto");
 * ```
 */
export function builtin<K extends keyof Builtins>(id: K): Builtins[K] {
  return load(id) as Builtins[K];
}

/**
 * A built-in loaded on first use, for modules that `import("kubeiam")` loads but that need it only
 * when called: `node:crypto` alone is about 6% of `node -e 0`. Each later call costs a closure call
 * (a `require` would cost 0.3 µs, a sixth of an HMAC).
 *
 * @example
 * ```ts
 * const crypto = lazyBuiltin("node:crypto");
 * const mac = crypto().createHmac("sha256", key);
 * ```
 */
export function lazyBuiltin<K extends keyof Builtins>(id: K): () => Builtins[K] {
  let loaded: Builtins[K] | undefined;
  return () => (loaded ??= builtin(id));
}
