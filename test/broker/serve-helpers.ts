/**
 * Running `kubeiam serve` (the built CLI) as a child process in tests: start it and wait for the
 * ready line, or run it to its refusal. Every wait is bounded; children are killed at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));

/** A running broker child. */
export interface ServeChild {
  child: ChildProcess;
  ready: { url: string; db: string; adminToken?: string };
  /** The whole stdout so far (the ready line only, if all is well). */
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait for the exit status (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

/** An environment for a child: HOME in the test's folder, nothing of the user's. */
export function childEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };
  for (const k of ["KUBEIAM_DB", "KUBEIAM_MASTER_KEY", "KUBEIAM_BROKER_TOKEN", "KUBECONFIG", "NCLOUD_ACCESS_KEY_ID", "NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_API_GW"]) delete env[k];
  return { ...env, ...extra };
}

/**
 * Starts `kubeiam serve ARGS` and resolves with its ready line.
 *
 * @example
 * ```ts
 * const s = await startServe(["--db", `sqlite:${dir}/b.db`, "--listen", "127.0.0.1:0"], childEnv(dir));
 * ```
 */
export function startServe(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ServeChild> {
  const child = spawn(process.execPath, [CLI, "serve", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  let exited: Promise<number | null> = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`serve did not print its ready line within ${timeoutMs} ms; stderr: ${err.slice(-500)}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before it was ready: ${err.slice(-500)}`));
    });
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      exited = new Promise((r) => {
        if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
        else child.once("exit", (code) => r(code));
      });
      resolve({
        child,
        ready: JSON.parse(out.slice(0, nl)),
        stdout: () => out,
        stderr: () => err,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
          const code = await exited;
          clearTimeout(killer);
          return code;
        },
      });
    });
  });
}

/** Runs `kubeiam ARGS` to its end (bounded) and returns status, stdout and stderr. */
export function runCliChild(args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 30_000): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, out, err });
    });
  });
}
