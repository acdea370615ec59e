/**
 * A Kysely query built and compiled once, run many times with new parameter values. The broker's two
 * queries that run on every token request (the caller by token digest, the cluster with its grant)
 * would otherwise be rebuilt and recompiled each time, which costs more than running them. The query
 * stays written once in Kysely for both dialects; only its compilation is kept.
 */
import type { CompiledQuery, Compilable } from "kysely";

/**
 * Builds `build(p0, p1, …)` (`arity` parameters, by default as many as `build` declares) with unique stand-in values, compiles it, and returns a function that
 * gives the compiled query with the stand-ins replaced by real values, wherever (and however often)
 * the compiler placed them among the parameters.
 *
 * @example
 * ```ts
 * const byHash = reusableQuery((hash) => db.selectFrom("users").selectAll().where("token_hash", "=", hash));
 * const { rows } = await db.executeQuery(byHash(digest));
 * ```
 */
export function reusableQuery<R>(build: (...params: string[]) => Compilable<R>, arity = build.length): (...values: unknown[]) => CompiledQuery<R> {
  const standIns = Array.from({ length: arity }, (_, i) => `\u0000kubeiam-param-${i}-${Math.random().toString(36).slice(2)}`);
  const compiled = build(...standIns).compile();
  const slots = compiled.parameters.map((p) => standIns.indexOf(p as string));
  if (standIns.some((_, i) => !slots.includes(i))) throw new Error("reusableQuery: a parameter does not reach the compiled query");
  return (...values: unknown[]) => {
    if (values.length !== arity) throw new Error(`reusableQuery: ${arity} values expected, got ${values.length}`);
    return { ...compiled, parameters: slots.map((slot, i) => (slot >= 0 ? values[slot] : compiled.parameters[i])) };
  };
}
