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
}

/** Median wall time of one command over alternated runs. */
export interface CommandTiming {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

/** Runs a command once and returns its wall time in ms; throws unless it exited 0 and passed its check. */
export function timeOnce(cmd: CommandSpec): number {
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
    return { name: cmd.name, medianMs: median(t), minMs: Math.min(...t), maxMs: Math.max(...t), runs: t.length };
  });
}
