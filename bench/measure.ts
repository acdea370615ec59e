/**
 * Measuring helpers for `npm run bench`: medians, alternated in-process rates, and alternated
 * whole-process wall times. The machine is small and noisy, so every figure the bench reports is a
 * ratio against a baseline measured in the same run, side by side, with medians of alternated runs.
 */
import { spawnSync } from "node:child_process";

/**
 * The median of a list of numbers (the mean of the middle two for an even count); NaN when empty.
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const hi = sorted[mid] as number;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}

/**
 * Calls `fn` in batches for at least `ms` milliseconds and returns the calls per second. The
 * results' lengths are summed and checked so that the work cannot be optimised away.
 *
 * @example
 * ```ts
 * const rate = opsPerSecond(() => createHmac("sha256", k).update(s).digest("base64"), 300);
 * ```
 */
export function opsPerSecond(fn: () => string, ms: number, batch = 200): number {
  let ops = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(ms * 1e6));
  let elapsed = 0n;
  do {
    for (let i = 0; i < batch; i++) sink += fn().length;
    ops += batch;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  if (sink === 0) throw new Error("the measured function returned only empty strings");
  return (ops * 1e9) / Number(elapsed);
}

/** What {@link compareRates} measured for two functions. */
export interface RateComparison {
  /** Median ops/s of the function under test. */
  subject: number;
  /** Median ops/s of the baseline. */
  baseline: number;
  /** `subject / baseline`, from the medians. */
  ratio: number;
  /** Each round's own ratio, to show the spread. */
  roundRatios: number[];
  rounds: number;
  roundMs: number;
}

/**
 * Measures two functions in alternated rounds (the one going first swaps every round) after a
 * warm-up of each, and compares their median rates.
 *
 * @example
 * ```ts
 * const r = compareRates(() => mint().token, () => bareHmac(), { rounds: 7, roundMs: 300, warmupMs: 500 });
 * console.log(r.ratio);
 * ```
 */
export function compareRates(
  subject: () => string,
  baseline: () => string,
  options: { rounds: number; roundMs: number; warmupMs: number },
): RateComparison {
  opsPerSecond(subject, options.warmupMs);
  opsPerSecond(baseline, options.warmupMs);
  const subjectRates: number[] = [];
  const baselineRates: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    if (round % 2 === 0) {
      subjectRates.push(opsPerSecond(subject, options.roundMs));
      baselineRates.push(opsPerSecond(baseline, options.roundMs));
    } else {
      baselineRates.push(opsPerSecond(baseline, options.roundMs));
      subjectRates.push(opsPerSecond(subject, options.roundMs));
    }
  }
  const s = median(subjectRates);
  const b = median(baselineRates);
  return {
    subject: s,
    baseline: b,
    ratio: s / b,
    roundRatios: subjectRates.map((v, i) => v / (baselineRates[i] as number)),
    rounds: options.rounds,
    roundMs: options.roundMs,
  };
}

/** One command for {@link timeCommands}. */
export interface CommandSpec {
  /** A short name for the report (`node -e 0`, `kubeiam token`). */
  name: string;
  /** The program: an absolute path, or a name looked up on PATH. */
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The working directory; the bench's own by default. */
  cwd?: string;
  /** Checks a successful run's stdout; throws when it is not what the command should print. */
  check?: (stdout: string) => void;
  /** Runs before each run, untimed (a fresh copy of the file the command edits). */
  prepare?: () => void;
}

/** Median wall time of one command over alternated runs. */
export interface CommandTiming {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
  /** Each timed run's wall time, in round order (run i of every command is in the same round). */
  timesMs: number[];
}

/** Runs a command once and returns its wall time in ms; throws unless it exited 0 and passed its check. */
export function timeOnce(cmd: CommandSpec): number {
  cmd.prepare?.();
  const start = process.hrtime.bigint();
  const res = spawnSync(cmd.file, cmd.args, { env: cmd.env, ...(cmd.cwd === undefined ? {} : { cwd: cmd.cwd }), stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.error !== undefined || res.status !== 0) {
    const why = res.error?.message ?? (res.signal !== null ? `signal ${res.signal}` : `exit status ${res.status}`);
    throw new Error(`${cmd.name} failed (${why}): ${(res.stderr ?? "").trim().slice(-500)}`);
  }
  cmd.check?.(res.stdout);
  return ms;
}

/**
 * Runs each command `runs` times, rotating which goes first every round, after `warmup` untimed
 * rounds; every run must exit 0 (a failed run throws, it never counts as a fast one).
 *
 * @example
 * ```ts
 * const [bare, token] = timeCommands([nodeE0, kubeiamToken], { runs: 21, warmup: 2 });
 * console.log(token.medianMs / bare.medianMs);
 * ```
 */
export function timeCommands(commands: readonly CommandSpec[], options: { runs: number; warmup: number }): CommandTiming[] {
  const times: number[][] = commands.map(() => []);
  for (let round = 0; round < options.warmup + options.runs; round++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (round + k) % commands.length;
      const ms = timeOnce(commands[i] as CommandSpec);
      if (round >= options.warmup) (times[i] as number[]).push(ms);
    }
  }
  return commands.map((cmd, i) => {
    const t = times[i] as number[];
    return { name: cmd.name, medianMs: median(t), minMs: Math.min(...t), maxMs: Math.max(...t), runs: t.length, timesMs: t };
  });
}

/**
 * Each round's own ratio of two commands timed together by {@link timeCommands} (run i of both
 * is in round i), to show how far a figure moves from round to round.
 *
 * @example
 * ```ts
 * roundRatios(token, bare); // [1.21, 1.34, 1.18, …]
 * ```
 */
export function roundRatios(subject: CommandTiming, baseline: CommandTiming): number[] {
  return subject.timesMs.map((t, i) => t / (baseline.timesMs[i] as number));
}

/** How a figure's rounds spread: quartiles and extremes of the per-round values. */
export interface Spread {
  rounds: number;
  min: number;
  p25: number;
  median: number;
  p75: number;
  max: number;
}

/**
 * The quartiles (nearest rank) and extremes of per-round values.
 *
 * @example
 * ```ts
 * spreadOf([1, 2, 3, 4, 5]); // { rounds: 5, min: 1, p25: 2, median: 3, p75: 4, max: 5 }
 * ```
 */
export function spreadOf(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))] ?? Number.NaN;
  return { rounds: sorted.length, min: sorted[0] ?? Number.NaN, p25: rank(0.25), median: median(sorted), p75: rank(0.75), max: sorted.at(-1) ?? Number.NaN };
}

/** A target: at most (`<=`) or at least (`>=`) a limit. */
export interface Target {
  op: "<=" | ">=";
  limit: number;
}

/** PASS, FAIL, or UNSURE when the rounds spread wider than the figure's margin to its target. */
export type Verdict = "PASS" | "FAIL" | "UNSURE";

/**
 * Judges a figure against its target, honestly for a noisy machine: the margin is how far the figure
 * lies from the limit, the spread is half the interquartile range of its per-round values; a spread
 * wider than the margin gives UNSURE (the rounds do not tell which side the figure is on), otherwise
 * PASS or FAIL by the figure.
 *
 * @example
 * ```ts
 * judge(1.2, spreadOf([1.1, 1.2, 1.3]), { op: "<=", limit: 1.5 }); // "PASS"
 * judge(1.45, spreadOf([1.2, 1.45, 1.8]), { op: "<=", limit: 1.5 }); // "UNSURE"
 * ```
 */
export function judge(value: number, spread: Spread | undefined, target: Target): Verdict {
  const meets = target.op === "<=" ? value <= target.limit : value >= target.limit;
  if (spread !== undefined && spread.rounds > 1 && (spread.p75 - spread.p25) / 2 > Math.abs(value - target.limit)) return "UNSURE";
  return meets ? "PASS" : "FAIL";
}
