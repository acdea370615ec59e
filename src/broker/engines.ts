/**
 * The registry of cloud engines: the one file under `broker/` that imports a cloud's folder. Each
 * cloud's `engine.ts` says what its credential holds, what locates one of its clusters, how to look
 * one up and how to mint (the contract of `../cloud-engine.ts`); the broker's routes, request schemas,
 * store and CLI read them from here. Adding a cloud is its folder and one line in {@link ENGINES}.
 */
import type { CloudEngine } from "../cloud-engine.js";
import { awsEngine } from "../aws/engine.js";
import { gcpEngine } from "../gcp/engine.js";
import { ncpEngine } from "../ncp/engine.js";

/** Every cloud the broker serves, in the order help texts and errors list them. */
export const ENGINES: readonly CloudEngine[] = [ncpEngine, awsEngine, gcpEngine];

/** The provider names (`ncp`, `aws`, `gcp`), as REST bodies and flags spell them. */
export const ENGINE_IDS: readonly string[] = ENGINES.map((e) => e.id);

/**
 * The engine of a provider name, or undefined for a name no engine has.
 *
 * @example
 * ```ts
 * const engine = engineFor(credential.provider);
 * ```
 */
export function engineFor(id: string): CloudEngine | undefined {
  return ENGINES.find((e) => e.id === id);
}
