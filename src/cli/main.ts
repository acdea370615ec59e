#!/usr/bin/env node
/**
 * The CLI's entry point: picks the command, runs it, and is the only place that turns errors into
 * stderr lines and exit statuses. Commands load lazily so that `token` (run on every kubectl call)
 * pays only for what it uses.
 */
import { basename } from "node:path";
import { builtin } from "../lib/builtin.js";
import { ErrorCode, KubeiamError, UsageError, type ErrorCodeValue } from "../lib/errors.js";
import { closestMatch } from "../lib/suggest.js";
import { printable } from "../lib/printable.js";
import { runExitCleanups } from "../lib/exit-cleanup.js";
import { NCP_GLOBAL_FLAGS, type CliContext, type Command } from "./context.js";

// Not `import`: this is on the exec-plugin path (lib/builtin.ts says why).
const { writeSync } = builtin("node:fs");

type Loader = () => Promise<Command>;

/** The commands that the official ncp-iam-authenticator has, with the same names. */
export const NCP_COMMANDS: Record<string, Loader> = {
  token: async () => (await import("./token.js")).tokenCommand,
  version: async () => (await import("./version.js")).versionCommand,
  "create-kubeconfig": async () => (await import("./create-kubeconfig.js")).createKubeconfigCommand,
  "update-kubeconfig": async () => (await import("./update-kubeconfig.js")).updateKubeconfigCommand,
};

/** kubeiam's own commands, on top of those. */
export const KUBEIAM_COMMANDS: Record<string, Loader> = {
  ...NCP_COMMANDS,
  clusters: async () => (await import("./clusters.js")).clustersCommand,
  eks: async () => (await import("./eks.js")).eksCommand,
  gke: async () => (await import("./gke.js")).gkeCommand,
  sandbox: async () => (await import("./sandbox.js")).sandboxCommand,
  inspect: async () => (await import("./inspect.js")).inspectCommand,
  broker: async () => (await import("./broker.js")).brokerCommand,
  serve: async () => (await import("./serve.js")).serveCommand,
  "convert-kubeconfig": async () => (await import("./convert-kubeconfig.js")).convertKubeconfigCommand,
  cache: async () => (await import("./cache.js")).cacheCommand,
  // Completion reads these very tables (the loaders are called only when it runs).
  completion: async () =>
    (await import("./completion.js")).completionCommand({ kubeiam: KUBEIAM_COMMANDS, "ncp-iam-authenticator": NCP_COMMANDS }),
};

/** Exit statuses by error code: 2 for usage, 3 for credentials, 4 for tokens, 5 for cloud APIs and a broker that could not be reached or could not serve (503), 6 for kubeconfig and other files, 7 for the broker's store, 8 for a broker's refusal. */
const EXIT_STATUS: Partial<Record<ErrorCodeValue, number>> = {
  [ErrorCode.USAGE]: 2,
  [ErrorCode.INVALID_INPUT]: 2,
  [ErrorCode.CREDENTIALS]: 3,
  [ErrorCode.CONFIG_FILE]: 3,
  [ErrorCode.TOKEN_MALFORMED]: 4,
  [ErrorCode.TOKEN_SIGNATURE]: 4,
  [ErrorCode.TOKEN_EXPIRED]: 4,
  [ErrorCode.TOKEN_FUTURE]: 4,
  [ErrorCode.TOKEN_CLUSTER]: 4,
  [ErrorCode.TOKEN_UNKNOWN_KEY]: 4,
  [ErrorCode.API]: 5,
  [ErrorCode.NETWORK]: 5,
  [ErrorCode.CLUSTER_STATE]: 5,
  [ErrorCode.KUBECONFIG]: 6,
  [ErrorCode.FILE]: 6,
  [ErrorCode.STORE]: 7,
  [ErrorCode.BROKER]: 8,
};

/** The exit status for an error thrown by a command. */
export function exitStatusFor(error: unknown): number {
  if (!(error instanceof KubeiamError)) return 1;
  // A broker that answers 503 (its store gone, or shutting down) could not serve: the "could not reach" status, as for the cloud APIs.
  if (error.code === ErrorCode.BROKER && (error as { status?: unknown }).status === 503) return 5;
  return EXIT_STATUS[error.code] ?? 1;
}

function commandsFor(programName: string): Record<string, Loader> {
  return programName === "ncp-iam-authenticator" ? NCP_COMMANDS : KUBEIAM_COMMANDS;
}

async function topHelp(programName: string): Promise<string> {
  const commands = commandsFor(programName);
  const lines: string[] = [];
  for (const [name, load] of Object.entries(commands)) {
    lines.push(`  ${name.padEnd(20)}${(await load()).summary}`);
  }
  const what =
    programName === "ncp-iam-authenticator"
      ? "ncloud kubernetes service iam authenticator (kubeiam, drop-in)"
      : "short-lived Kubernetes credentials for NAVER Cloud NKS, AWS EKS and GCP GKE from cloud IAM keys";
  return `${programName}: ${what}

Usage:
  ${programName} <command> [flags]

Commands:
${lines.join("\n")}

Run '${programName} <command> --help' for a command's flags.
`;
}

/**
 * Moves the official tool's root flags given before the command (`--profile p token …`, as its
 * cobra root accepts them) to just after it, where every command reads them; flags written after the
 * command come later and so win. Anything else before the command is left for the usual errors.
 *
 * @example
 * ```ts
 * hoistRootFlags(["--profile", "p", "token", "--region", "KR"]); // ["token", "--profile", "p", "--region", "KR"]
 * ```
 */
export function hoistRootFlags(argv: readonly string[]): string[] {
  const root: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const name = /^--([^=]+)/.exec(arg)?.[1];
    const spec = name === undefined || name === "help" ? undefined : (NCP_GLOBAL_FLAGS as Record<string, { type: string }>)[name];
    if (spec === undefined) break;
    root.push(arg);
    if (spec.type === "string" && !arg.includes("=")) {
      if (i + 1 >= argv.length) return [...argv];
      root.push(argv[++i] ?? "");
    }
  }
  if (root.length === 0 || i >= argv.length) return [...argv];
  const [command, ...rest] = argv.slice(i);
  return [command ?? "", ...root, ...rest];
}

/**
 * Runs the CLI with the given arguments and I/O; resolves to the exit status. Never throws.
 *
 * @example
 * ```ts
 * const status = await runCli(["token", "--clusterUuid", uuid, "--region", "KR"], ctx);
 * ```
 */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const { args, debug } = takeDebugFlag(argv);
  const [name, ...rest] = hoistRootFlags(args);
  const prog = ctx.programName;
  if (debug) ctx = { ...ctx, debug: (line) => ctx.err(`${prog}: debug: ${line}\n`) };
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const topic = name === "help" ? rest[0] : undefined;
      if (topic !== undefined) {
        const load = commandsFor(prog)[topic];
        if (load === undefined) throw unknownCommand(prog, topic);
        ctx.out(withProgramName(await helpOf(await load(), rest.slice(1)), prog, topic));
        return 0;
      }
      ctx.out(await topHelp(prog));
      return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "-v") return runCommand(prog, "version", [], ctx);
    return await runCommand(prog, name, rest, ctx);
  } catch (error) {
    return report(error, ctx);
  }
}

async function runCommand(prog: string, name: string, args: string[], ctx: CliContext): Promise<number> {
  const load = commandsFor(prog)[name];
  if (load === undefined) throw unknownCommand(prog, name);
  const command = await load();
  stopGraceMs = command.stopGraceMs ?? SIGNAL_GRACE_MS;
  if (args.includes("--help") || args.includes("-h")) {
    ctx.out(withProgramName(await helpOf(command, args), prog, name));
    return 0;
  }
  // `performance` is a lazy global whose first touch loads perf_hooks: only --debug pays for it.
  const started = ctx.debug === undefined ? 0 : performance.now();
  let status: number;
  try {
    status = (await command.run(args, ctx)) ?? 0;
  } catch (error) {
    status = report(error, ctx, command);
  }
  ctx.debug?.(`${name}: exit status ${status} after ${Math.round(performance.now() - started)} ms`);
  return status;
}

/** A command's help for these arguments: a subcommand's or verb's own (`broker user add --help`). */
function helpOf(command: Command, args: string[]): Promise<string> | string {
  return command.helpFor === undefined ? command.help : command.helpFor(args.filter((a) => a !== "--help" && a !== "-h"));
}

/**
 * The program's name before each line that starts with the bare command (`  token --clusterUuid …`),
 * as cobra prints usage: the official tool's commands are written once for both names.
 *
 * @example
 * ```ts
 * withProgramName("Usage:\n  token --clusterUuid UUID\n", "ncp-iam-authenticator", "token"); // "Usage:\n  ncp-iam-authenticator token --clusterUuid UUID\n"
 * ```
 */
export function withProgramName(help: string, programName: string, command: string): string {
  return help.replace(new RegExp(`^( {2})(${command.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")})(?= |$)`, "gm"), `$1${programName} $2`);
}

/**
 * `--debug` may stand anywhere before `--`, with every command: it is taken out here and turns on
 * `ctx.debug` (request lines, timings, the credential source; never a secret).
 */
function takeDebugFlag(argv: string[]): { args: string[]; debug: boolean } {
  const end = argv.indexOf("--");
  const head = end === -1 ? argv : argv.slice(0, end);
  let debug = false;
  const kept = head.filter((a) => {
    const m = /^--debug(?:=(true|false|1|0))?$/i.exec(a);
    if (m === null) return true;
    debug = m[1] === undefined || ["true", "1"].includes(m[1].toLowerCase());
    return false;
  });
  return { args: end === -1 ? kept : [...kept, ...argv.slice(end)], debug };
}

function unknownCommand(prog: string, name: string): KubeiamError {
  const guess = closestMatch(name, Object.keys(commandsFor(prog)));
  const hint = guess === undefined ? `run '${prog} --help' for the list` : `did you mean '${prog} ${guess}'? (run '${prog} --help' for the list)`;
  return new UsageError(`unknown command ${JSON.stringify(name)}: ${hint}`);
}

/**
 * One line on stderr for a user's mistake; a stack trace only for our own bugs, and only on request.
 * A message may quote outside input (a token's field, a file's value): escaped, it stays one line
 * and cannot drive the terminal. A library error names the input that failed (`field`); the
 * command's flag for it is added here.
 */
function report(error: unknown, ctx: CliContext, command?: Command): number {
  if (error instanceof UsageError && error.help !== undefined) {
    // The command to run, spelled with the name this program was called by.
    ctx.err(`${ctx.programName}: ${printable(error.message)}: run '${ctx.programName} ${error.help} --help'\n`);
  } else if (error instanceof KubeiamError) {
    const flag = error.field === undefined ? undefined : command?.flags?.[error.field];
    const hint = flag === undefined || error.message.includes(flag) ? "" : ` (set with ${flag})`;
    ctx.err(`${ctx.programName}: ${printable(error.message)}${hint}\n`);
  } else {
    const message = printable(error instanceof Error ? error.message : String(error));
    ctx.err(`${ctx.programName}: internal error: ${message} (set KUBEIAM_DEBUG=1 for details, and please report it)\n`);
    if (ctx.env.KUBEIAM_DEBUG && error instanceof Error && error.stack) ctx.err(`${error.stack}\n`);
  }
  return exitStatusFor(error);
}

/** The program name as installed: `ncp-iam-authenticator` speaks only the official tool's commands. */
export function programNameFrom(argv1: string | undefined): string {
  const base = basename(argv1 ?? "kubeiam").replace(/\.(c|m)?js$/, "");
  return base === "ncp-iam-authenticator" ? base : "kubeiam";
}

/** How long a command may take to stop by itself after SIGINT/SIGTERM before the process ends it. */
const SIGNAL_GRACE_MS = 500;
/** The running command's grace (see `Command.stopGraceMs`); set when the command is chosen. */
let stopGraceMs = SIGNAL_GRACE_MS;

/**
 * Ends the process as the signal would have, after the synchronous cleanups (lock and temporary
 * files). Re-raising the signal with its default action ends the process even when a thread is stuck
 * in a blocking call (an `open` on a FIFO that nobody writes to), where `process.exit` would wait forever.
 */
function endBySignal(signal: NodeJS.Signals, programName: string): void {
  runExitCleanups();
  try {
    writeSync(2, `${programName}: stopped by ${signal}\n`);
  } catch {
    // stderr is gone: nothing to tell.
  }
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // Not reached on POSIX; elsewhere, the shell's convention for "killed by a signal".
  process.exit(128 + (signal === "SIGINT" ? 2 : 15));
}

/** A closed pipe (`kubeiam … | head`) is not an error worth a trace: the reader has all it wanted. */
function endOnClosedPipe(): never {
  runExitCleanups();
  process.exit(0);
}

/** stdout and stderr as Node's streams, made on first use: making one loads Node's streams (~5 ms). */
const openedStreams = new Set<NodeJS.WriteStream>();
function streamOf(fd: 1 | 2): NodeJS.WriteStream {
  const stream = fd === 1 ? process.stdout : process.stderr;
  if (!openedStreams.has(stream)) {
    openedStreams.add(stream);
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") endOnClosedPipe();
    });
  }
  return stream;
}

/**
 * Writes to standard output synchronously, straight to fd 1, so that a command that prints one
 * ExecCredential (the exec plugin, once per kubectl call) never makes `process.stdout`. A
 * non-blocking pipe that is full (EAGAIN) or any other refusal hands the rest to the stream, and
 * every later write follows it there, so the order holds.
 */
function stdoutWriter(): (text: string) => void {
  let viaStream = false;
  return (text) => {
    if (viaStream) return void streamOf(1).write(text);
    const bytes = Buffer.from(text, "utf8");
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(1, bytes, done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EPIPE") endOnClosedPipe();
      viaStream = true;
      streamOf(1).write(bytes.subarray(done));
    }
  };
}

function processContext(): CliContext {
  const programName = programNameFrom(process.argv[1]);
  const controller = new AbortController();
  // First signal: ask the command to stop (it cancels its requests, closes its servers, releases its
  // lock) and end it anyway after a short grace. A second signal ends it at once.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return endBySignal(signal, programName);
    controller.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => endBySignal(signal, programName), stopGraceMs);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // The AWS SDK prints a six-line notice about its own future Node.js support from every client it
  // makes; kubectl would show it on each call. kubeiam states its own support, so it is silenced
  // here, at the process's edge, unless the user has set the variable themselves.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return {
    programName,
    out: stdoutWriter(),
    // stderr keeps Node's stream: the broker's log writes there too, and one writer keeps the order.
    err: (text) => void streamOf(2).write(text),
    errStream: () => streamOf(2),
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    // Getters: reading `isTTY` makes the stream, which the exec plugin never needs.
    get stdinIsTTY() {
      return process.stdin.isTTY === true;
    },
    get stderrIsTTY() {
      return process.stderr.isTTY === true;
    },
    now: () => Date.now(),
    signal: controller.signal,
  };
}

/**
 * Resolves once everything written to the stream so far has been handed to the OS. Writes to pipes
 * are asynchronous on POSIX: exiting before this cuts the output (at 64 KiB, a pipe's buffer).
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write("", () => resolve());
  });
}

// Run only when executed, not when imported (tests import runCli): as main.js, as the installed
// dist/cli/kubeiam.js (this file with the token path bundled in, scripts/bundle-cli.mjs) or through
// the bin links.
const invoked = process.argv[1] ?? "";
if (/(?:^|[\\/])(?:main\.js|kubeiam(?:\.js)?|ncp-iam-authenticator)$/.test(invoked)) {
  const status = await runCli(process.argv.slice(2), processContext());
  // Every command's output reaches its reader before the process ends, whatever stdout is.
  await Promise.all([...openedStreams].map(flushed));
  process.exit(status);
}
