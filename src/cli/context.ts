/**
 * What every CLI command receives (its I/O, passed in so that only main.ts touches the process),
 * and the flag parsing that all commands share.
 */
import type { ParseArgsConfig } from "node:util";
import { builtin } from "../lib/builtin.js";
import { UsageError } from "../lib/errors.js";
import type { HttpAttempt, HttpOptions } from "../lib/http.js";
import { closestMatch } from "../lib/suggest.js";
import { unknownNcpRegionWarning, type NcpRegion } from "../ncp/region.js";

// Not `import`: this is on the exec-plugin path (lib/builtin.ts says why).
const { parseArgs } = builtin("node:util");

/** The world as a command sees it. Commands never touch `process` directly. */
export interface CliContext {
  /** The name the program was called by: `kubeiam` or `ncp-iam-authenticator`. */
  programName: string;
  /** Writes to standard output (only the command's result goes here). */
  out(text: string): void;
  /** Writes to standard error (progress, warnings; never a secret). */
  err(text: string): void;
  /**
   * Standard error as a stream, for a server's log (`serve`): the process's, with a closed pipe
   * ending the process quietly as for `err`. Absent in tests, which give the server their own.
   */
  errStream?: () => NodeJS.WritableStream;
  /** The environment. */
  env: Record<string, string | undefined>;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  /** Whether standard input is a terminal (nothing piped in); commands that read stdin refuse to wait on one. */
  stdinIsTTY?: boolean;
  /** Whether standard error is a terminal: progress lines (such as retries) show there, or with `--debug`. */
  stderrIsTTY?: boolean;
  /** The current time in milliseconds since the epoch (`Date.now` in main.ts; tests pass their own clock). */
  now(): number;
  /** Resolves when the command should stop (SIGINT/SIGTERM); used by long-running commands. */
  signal: AbortSignal;
  /**
   * Set with `--debug`: takes one line for stderr (request lines, timings, the credential source
   * chosen), never a secret. Absent otherwise.
   */
  debug?: (message: string) => void;
}

/** One command of the CLI. */
export interface Command {
  /** One line for the command list. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  /**
   * The `--help` text for these arguments, when it depends on them: a group's subcommand or verb
   * (`broker user add --help`) has its own. `help` when omitted.
   */
  helpFor?(args: string[]): Promise<string>;
  /**
   * How long the command may take to stop by itself after SIGINT/SIGTERM (its signal aborts) before
   * the process is ended for it; half a second when omitted. Servers that drain their connections
   * and flush their logs ask for more; a second signal always ends the process at once.
   */
  stopGraceMs?: number;
  /** Runs the command; returns the exit status (0 when omitted). */
  run(args: string[], ctx: CliContext): Promise<number | void>;
  /**
   * The flag that sets each library input, by the `field` a library error names (`clusterUuid` →
   * `--clusterUuid`): main.ts adds it to the error's line, so library messages need no CLI words.
   */
  flags?: Readonly<Record<string, string>>;
  /**
   * The flag tables that `run` hands to {@link parseFlags}, by subcommand (`""` for the command's own):
   * the same objects, so that `kubeiam completion` offers exactly what the parser accepts.
   */
  options?: Readonly<Record<string, Options>>;
  /** A command group's subcommands (`broker login`, …), each a command of its own. */
  subcommands?: Readonly<Record<string, () => Promise<Command>>>;
}

/**
 * Writes a `--debug` line, when `--debug` was given.
 *
 * @example
 * ```ts
 * debug(ctx, `credentials: environment (${ms} ms)`);
 * ```
 */
export function debug(ctx: CliContext, message: string): void {
  ctx.debug?.(message);
}

/**
 * Times `fn` and writes `label (N ms)` as a `--debug` line, when `--debug` was given.
 *
 * @example
 * ```ts
 * const credentials = await timed(ctx, "credentials", () => resolveNcpCredentials({ env: ctx.env }));
 * ```
 */
export async function timed<T>(ctx: CliContext, label: string | ((value: T) => string), fn: () => T | Promise<T>): Promise<T> {
  if (ctx.debug === undefined) return fn();
  const started = performance.now();
  const value = await fn();
  ctx.debug(`${typeof label === "string" ? label : label(value)} (${Math.round(performance.now() - started)} ms)`);
  return value;
}

/** A `--debug` line for one HTTP try: method, URL without query, status or error, time. */
export function attemptLine(a: HttpAttempt): string {
  return `${a.method} ${a.url} -> ${a.status ?? a.error ?? "?"} (${a.ms} ms${a.attempt > 1 ? `, try ${a.attempt}` : ""})`;
}

/**
 * The HTTP options every command passes to a cloud API: Ctrl-C cancels, a retry says so on stderr
 * (on a terminal or with `--debug`), and `--debug` shows each try.
 *
 * @example
 * ```ts
 * await listNcpClusters({ region, credentials, ...cliHttp(ctx, "NCP API") });
 * ```
 */
export function cliHttp(ctx: CliContext, service: string): Pick<HttpOptions, "signal" | "onRetry" | "onAttempt"> {
  const log = ctx.debug;
  return {
    signal: ctx.signal,
    ...(retryProgress(ctx, service, log !== undefined) === undefined ? {} : { onRetry: retryProgress(ctx, service, log !== undefined) }),
    ...(log === undefined ? {} : { onAttempt: (a: HttpAttempt) => log(attemptLine(a)) }),
  };
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Flags shared by every NCP command, as the official tool defines them on its root. */
export const NCP_GLOBAL_FLAGS = {
  profile: { type: "string" },
  credentialConfig: { type: "string" },
  "credential-config": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/**
 * The flags of the kubeconfig write options, by the field a kubeconfig error names (a read-only file
 * refused names `force`; a FIFO that cannot be updated names `dryRun`), for every command that writes one.
 */
export const KUBECONFIG_WRITE_FLAG_HINTS: Readonly<Record<string, string>> = {
  force: "--force",
  dryRun: "--dry-run",
};

/** The flags of the NCP credential and cluster inputs, by the library field they set. */
export const NCP_FLAG_HINTS: Readonly<Record<string, string>> = {
  clusterUuid: "--clusterUuid",
  region: "--region",
  configFile: "--credentialConfig",
  profile: "--profile",
};

/**
 * Parses flags with `node:util.parseArgs` (strict), turning its errors into one-line usage errors
 * that name the command and point at `--help`.
 *
 * @example
 * ```ts
 * const { values } = parseFlags("token", args, { region: { type: "string" } });
 * ```
 */
export function parseFlags<O extends Options>(
  command: string,
  args: string[],
  options: O,
  allowPositionals = false,
): { values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>["values"]; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    if (!allowPositionals && parsed.positionals.length > 0) {
      throw new UsageError(`${command}: unexpected argument ${JSON.stringify(parsed.positionals[0])}`, { help: command });
    }
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    const message = cause instanceof Error ? cause.message.split("\n")[0] ?? "" : String(cause);
    const unknown = /^Unknown option '(-{1,2}[^'=]*)'/.exec(message)?.[1];
    if (unknown !== undefined) {
      // The flag table is data: the same names that --help lists and completion offers.
      const names = Object.keys(options).filter((n) => n !== "help");
      const guess = closestMatch(unknown.replace(/^-+/, ""), names);
      const hint = guess === undefined ? "" : `: did you mean --${guess}?`;
      throw new UsageError(`${command}: unknown flag ${JSON.stringify(unknown)}${hint}`, { cause, help: command });
    }
    // parseArgs calls a value that starts with '-' ambiguous (a forgotten value, or a value like -x):
    // say how to pass such a value rather than only that it is ambiguous.
    const ambiguous = /^Option '(-{1,2}[^' ]+)[^']*' argument is ambiguous/.exec(message)?.[1];
    if (ambiguous !== undefined) {
      throw new UsageError(`${command}: ${ambiguous} is followed by something that starts with '-': give ${ambiguous} its value, or write a value that starts with '-' as ${ambiguous}=-VALUE`, { cause, help: command });
    }
    // parseArgs says "Option '--region <value>' argument missing" of a flag given last, with no value.
    const missing = /^Option '(?:-\w, )?(--([^' ]+))[^']*' argument missing/.exec(message);
    if (missing?.[1] !== undefined && missing[2] !== undefined) {
      const placeholder = (options[missing[2]] as { value?: unknown } | undefined)?.value;
      const value = typeof placeholder === "string" ? placeholder : "VALUE";
      throw new UsageError(`${command}: ${missing[1]} needs a value (${missing[1]} ${value})`, { cause, help: command });
    }
    const first = message.split(". ")[0]?.replace(/\.$/, "") ?? message;
    throw new UsageError(`${command}: ${first}`, { cause, help: command });
  }
}

/**
 * The value of a flag that has a camelCase (official) and a kebab-case (ours) spelling.
 * Giving both with different values is a usage error.
 */
export function eitherFlag(
  command: string,
  values: Record<string, unknown>,
  camel: string,
  kebab: string,
): string | undefined {
  const a = values[camel];
  const b = values[kebab];
  const sa = typeof a === "string" ? a : undefined;
  const sb = typeof b === "string" ? b : undefined;
  if (sa !== undefined && sb !== undefined && sa !== sb) {
    throw new UsageError(`${command}: --${camel} and --${kebab} are the same flag with different values: give it once`);
  }
  return sa ?? sb;
}

/** A required string flag, or a usage error naming it. */
export function requireFlag(command: string, value: string | undefined, flag: string, hint: string): string {
  if (value === undefined || value.trim() === "") {
    throw new UsageError(`${command}: --${flag} is required: ${hint}`);
  }
  return value;
}

const BOOL_WORDS = new Set(["true", "false", "1", "0", "t", "f", "yes", "no"]);

/**
 * Rewrites a boolean flag so that it can be parsed as a string: a bare `--overwrite` becomes
 * `--overwrite=true`, and `--currentContext false` (the value as the next word) becomes
 * `--currentContext=false`; `--flag=value` stays. So each of these flags takes every spelling
 * the official tools accept, and `--flag false` as well.
 *
 * @example
 * ```ts
 * normalizeBoolArgs(["--overwrite", "--currentContext", "false"], ["overwrite", "currentContext"]);
 * // ["--overwrite=true", "--currentContext=false"]
 * ```
 */
export function normalizeBoolArgs(args: string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (flags.some((f) => a === `--${f}`)) {
      const next = args[i + 1];
      if (next !== undefined && BOOL_WORDS.has(next.toLowerCase())) {
        out.push(`${a}=${next}`);
        i++;
      } else {
        out.push(`${a}=true`);
      }
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Reads a boolean flag that the official tool (Go's pflag) also accepts as `--flag=false`.
 * Declare it as a string option with no default, and pass `args` so a bare `--flag` counts as true.
 */
export function parseBoolValue(command: string, flag: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (["", "true", "1", "t", "yes"].includes(v)) return true;
  if (["false", "0", "f", "no"].includes(v)) return false;
  throw new UsageError(`${command}: --${flag} takes true or false, not ${JSON.stringify(value)}`);
}

/**
 * The retry progress of a cloud API client, for `onRetry`: one stderr line per retry, but only with
 * `--debug` or when stderr is a terminal (someone is watching). Otherwise retries are silent and a
 * failure reads as the one line of its final error.
 *
 * @example
 * ```ts
 * const api = createNcpApiClient({ credentials, region, onRetry: retryProgress(ctx, "NCP API", values.debug === true) });
 * ```
 */
export function retryProgress(ctx: CliContext, service: string, debug: boolean): HttpOptions["onRetry"] {
  if (!debug && ctx.stderrIsTTY !== true) return undefined;
  return ({ attempt, delayMs, status, error }) =>
    ctx.err(`${ctx.programName}: ${service} try ${attempt} failed (${status ?? error}); retrying in ${(delayMs / 1000).toFixed(1)} s\n`);
}

/**
 * Warns once on stderr when a region code is outside the known list (it is still used: NCP adds
 * regions), naming the stage it will use. Call it once per run, where the region flag is read.
 *
 * @example
 * ```ts
 * warnUnknownNcpRegion(ctx, values.region);
 * ```
 */
export function warnUnknownNcpRegion(ctx: CliContext, region: string | NcpRegion): void {
  const warning = unknownNcpRegionWarning(region);
  if (warning !== undefined) ctx.err(`${ctx.programName}: warning: ${warning}\n`);
}
