/**
 * Durations as people write them on the command line (`90s`, `30m`, `2h`, `1h30m`, `7d`): the one parser
 * behind `broker grant --for`, `serve --session-ttl`, `--session-max` and `--audit-retention`.
 */
import { UsageError } from "./errors.js";

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: whole numbers each with a unit, s, m, h or d, one after another
 * (`1h30m`); `undefined` when the text is not one. Zero (`0s`) is a duration: callers that need a
 * length say so ({@link durationFlag}).
 *
 * @example
 * ```ts
 * parseDuration("1h30m"); // 5400000
 * parseDuration("2 hours"); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d{1,9}[smhd])+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return ms;
}

/**
 * A command's duration flag read with {@link parseDuration}, refusing what is not a duration and a
 * zero one, each in one line that names the flag and shows one that works.
 *
 * @example
 * ```ts
 * durationFlag("serve", "session-ttl", "10m", "10m"); // 600000
 * durationFlag("serve", "session-ttl", "0s", "10m"); // throws: serve: --session-ttl 0s is no time at all: …
 * ```
 */
export function durationFlag(command: string, flag: string, text: string, example: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new UsageError(`${command}: --${flag} ${JSON.stringify(text)} is not a duration: write whole numbers with s, m, h or d, for example ${example} (or 1h30m)`);
  }
  if (ms === 0) throw new UsageError(`${command}: --${flag} ${text.trim()} is no time at all: give a length, for example ${example}`);
  return ms;
}
