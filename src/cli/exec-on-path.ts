/**
 * The check made when a kubeconfig with an exec user is written: can the command be found? kubectl
 * (or a GUI tool) will fail on every call if not, so say so once, in one line; the file is written anyway.
 */
import { builtin } from "../lib/builtin.js";
import { delimiter, isAbsolute, join } from "node:path";
import type { KubeconfigEntries } from "../kube/kubeconfig.js";
import type { CliContext } from "./context.js";

// Not `import`: `kubeiam eks token` loads this on every kubectl call (lib/builtin.ts says why).
const { accessSync, constants, statSync } = builtin("node:fs");

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `command` resolves under `PATH` (or itself, when it is a path), or undefined when nothing
 * executable is there.
 *
 * @example
 * ```ts
 * findExecutable("kubectl", process.env); // "/usr/local/bin/kubectl"
 * ```
 */
export function findExecutable(command: string, env: Record<string, string | undefined>): string | undefined {
  if (command.includes("/") || command.includes("\\")) return isExecutableFile(command) ? command : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Writes one warning line when the exec user of `entries` runs a command that cannot be found now
 * (or a `node` script that does not exist). Nothing for token users.
 *
 * @example
 * ```ts
 * warnIfExecMissing(ctx, entries); // "kubeiam: warning: the exec command "ncp-iam-authenticator" is not on PATH …"
 * ```
 */
export function warnIfExecMissing(ctx: CliContext, entries: KubeconfigEntries): void {
  const exec = entries.user.user.exec;
  if (exec === undefined) return;
  const where = exec.command.includes("/") ? "does not exist or is not executable" : "is not on PATH";
  if (findExecutable(exec.command, ctx.env) === undefined) {
    ctx.err(
      `${ctx.programName}: warning: the exec command ${JSON.stringify(exec.command)} ${where}, so kubectl cannot run it yet: install kubeiam with 'npm install -g kubeiam', or pass --exec-command with a full path (the kubeconfig was written anyway)\n`,
    );
    return;
  }
  const script = exec.args[0];
  if (exec.command === "node" && script !== undefined && /\.(?:c|m)?js$/.test(script) && !statSafe(script)) {
    ctx.err(`${ctx.programName}: warning: the exec script ${JSON.stringify(script)} does not exist, so kubectl cannot run it (the kubeconfig was written anyway)\n`);
  }
}

function statSafe(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

