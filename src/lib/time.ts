/**
 * Time as every clock-reading function of kubeiam takes it: an optional `now`, a `Date` or
 * milliseconds, so that tests and cross-checks are exact.
 */
import { InvalidInputError } from "./errors.js";

/** A point in time: a `Date` or milliseconds since the Unix epoch. */
export type TimeInput = Date | number;

/**
 * Milliseconds since the epoch, whole, from a {@link TimeInput} (the current time when absent).
 * Throws {@link InvalidInputError} (field `now`) for an invalid date or a non-finite number.
 *
 * @example
 * ```ts
 * toEpochMs(new Date("2026-01-01T00:00:00Z")); // 1767225600000
 * toEpochMs(1767225600000.7);                  // 1767225600000
 * ```
 */
export function toEpochMs(now?: TimeInput): number {
  const ms = now === undefined ? Date.now() : typeof now === "number" ? now : now.getTime();
  if (!Number.isFinite(ms)) throw new InvalidInputError("now", "now is not a valid time");
  return Math.floor(ms);
}
