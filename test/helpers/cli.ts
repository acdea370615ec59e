/**
 * What every CLI refusal must look like, for tests that run commands in-process or as children.
 */
import assert from "node:assert/strict";
import { runCli } from "../../src/cli/main.js";
import type { CliContext } from "../../src/cli/context.js";

/** A finished command: exit status and what it wrote. */
export interface CliRun {
  status: number;
  out: string;
  err: string;
}

/** What {@link runInProcess} puts in the command's {@link CliContext}; each field has a quiet default. */
export interface InProcessOptions {
  /** The whole environment the command sees (not merged with process.env); `{}` when omitted. */
  env?: Record<string, string | undefined>;
  /** The command's clock; `Date.now` when omitted. */
  now?: () => number;
  /** All of standard input; empty when omitted. */
  stdin?: string;
  /** Left out of the context when omitted, as a caller that does not know would. */
  stdinIsTTY?: boolean;
  /** Left out of the context when omitted. */
  stderrIsTTY?: boolean;
  /** `kubeiam` when omitted. */
  programName?: string;
  /** A signal that never aborts when omitted. */
  signal?: AbortSignal;
}

/**
 * Runs the CLI in this process (through `runCli`, as `main.ts` does) with stdout and stderr
 * collected, so that tests see the exit status and output without starting a child.
 *
 * @example
 * const r = await runInProcess(["token", "--clusterUuid", uuid, "--region", "KR"], { env: { HOME: home } });
 * assert.equal(r.status, 0, r.err);
 */
export async function runInProcess(args: string[], options: InProcessOptions = {}): Promise<CliRun> {
  let out = "";
  let err = "";
  const ctx: CliContext = {
    programName: options.programName ?? "kubeiam",
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: options.env ?? {},
    readStdin: async () => options.stdin ?? "",
    now: options.now ?? (() => Date.now()),
    signal: options.signal ?? new AbortController().signal,
  };
  if (options.stdinIsTTY !== undefined) ctx.stdinIsTTY = options.stdinIsTTY;
  if (options.stderrIsTTY !== undefined) ctx.stderrIsTTY = options.stderrIsTTY;
  const status = await runCli(args, ctx);
  return { status, out, err };
}

/**
 * Asserts a refusal: the exit status, nothing on stdout, exactly one line on stderr matching
 * `pattern`, no stack trace, and none of `secrets` anywhere.
 */
export function assertOneLine(r: CliRun, status: number, pattern: RegExp, secrets: readonly string[] = []): void {
  assert.equal(r.status, status, r.err);
  assert.equal(r.out, "");
  assert.equal(r.err.split("\n").length, 2, `one line expected, got: ${r.err}`);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.match(r.err, pattern);
  for (const secret of secrets) assert.ok(!r.err.includes(secret), "stderr must not hold a secret");
}
