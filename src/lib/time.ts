/**
 * Time as every clock-reading function of kubeiam takes it: an optional `now`, a `Date` or
 * milliseconds, so that tests and cross-checks are exact; and the one rule for which times a
 * `Date` can hold, so that no time from outside turns into `Invalid Date` and a RangeError later.
 */
import { InvalidInputError } from "./errors.js";

/** A point in time: a `Date` or milliseconds since the Unix epoch. */
export type TimeInput = Date | number;

/**
 * The furthest a `Date` reaches either side of the epoch: 8.64e15 ms (ECMA-262, time values).
 *
 * @example
 * ```ts
 * new Date(MAX_DATE_MS).toISOString();     // "+275760-09-13T00:00:00.000Z"
 * new Date(MAX_DATE_MS + 1).getTime();     // NaN
 * ```
 */
export const MAX_DATE_MS = 8.64e15;

/**
 * Whether a number of milliseconds since the epoch is a time a `Date` can hold.
 *
 * @example
 * ```ts
 * isEpochMs(1767225600000); // true
 * isEpochMs(1e300);         // false
 * ```
 */
export function isEpochMs(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}

/**
 * A `Date` for milliseconds since the epoch, or `undefined` when no `Date` can hold them (NaN,
 * infinities, beyond ±8.64e15). Callers turn `undefined` into their own domain's typed error
 * (an expiry from a token endpoint is an API error, a token's timestamp a token error).
 *
 * @example
 * ```ts
 * const expiresAt = dateFromEpochMs(sentAt + expiresIn * 1000);
 * if (expiresAt === undefined) throw new ApiError("expires_in is beyond any date", { status });
 * ```
 */
export function dateFromEpochMs(ms: number): Date | undefined {
  return isEpochMs(ms) ? new Date(ms) : undefined;
}

/**
 * Milliseconds since the epoch, whole, from a {@link TimeInput} (the current time when absent).
 * Throws {@link InvalidInputError} (field `now`) for an invalid date, a non-finite number or a
 * time no `Date` can hold, so that nothing built from it later throws a RangeError.
 *
 * @example
 * ```ts
 * toEpochMs(new Date("2026-01-01T00:00:00Z")); // 1767225600000
 * toEpochMs(1767225600000.7);                  // 1767225600000
 * ```
 */
export function toEpochMs(now?: TimeInput): number {
  const ms = now === undefined ? Date.now() : typeof now === "number" ? now : now.getTime();
  if (!isEpochMs(ms)) throw new InvalidInputError("now", "now is not a valid time");
  return Math.floor(ms);
}

/**
 * Waits `ms` milliseconds, or rejects with the signal's reason as soon as it aborts (a Ctrl-C while
 * a retry or a lock waits).
 *
 * @example
 * ```ts
 * await sleep(250, ctx.signal);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
