/**
 * `kubeiam serve` and `kubeiam sandbox` as child processes of the built CLI, as operators run them:
 * each prints one JSON line when ready; the helpers wait for it (bounded), keep the stderr tail for
 * failures, and stop the child (SIGTERM, then SIGKILL after a bound). Also a small admin client for
 * the broker's REST API (fetch with the admin token), for tests that set a broker up.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));

/** A child that printed its ready line. */
export interface ReadyChild<T> {
  line: T;
  child: ChildProcess;
  /** The last 4 KiB of its stderr. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the built CLI with `args` and waits (at most `timeoutMs`) for its first stdout line, parsed as JSON. */
export function startCliChild<T>(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ReadyChild<T>> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let errTail = "";
  child.stderr?.on("data", (c: Buffer) => (errTail = (errTail + c.toString()).slice(-4096)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`kubeiam ${args[0]} printed no ready line within ${timeoutMs} ms: ${errTail}`));
    }, timeoutMs);
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve({ line: JSON.parse(out.slice(0, nl)) as T, child, stderr: () => errTail, stop });
      } catch (e) {
        void stop();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kubeiam ${args[0]} exited (${code}) before its ready line: ${errTail}`));
    });
  });
}

/** `kubeiam serve`'s ready line (BROKER.md "Running it"). */
export interface ServeLine {
  url: string;
  db: string;
  adminToken?: string;
}

/** `kubeiam sandbox`'s start line. */
export interface SandboxLine {
  apiUrl: string;
  accessKey: string;
  secretKey: string;
  region: string;
  clusters: { uuid: string; name: string; region: string; status: string; endpoint: string | null }[];
}

/** A fresh master key, as `KUBEIAM_MASTER_KEY` takes it (32 bytes, Base64). */
export function newMasterKey(): string {
  return randomBytes(32).toString("base64");
}

/** An answer of the broker's REST API. */
export interface RestAnswer {
  status: number;
  body: unknown;
  text: string;
}

/**
 * Calls the broker's REST API with a bearer token (or none); JSON in, JSON (or text) out.
 *
 * @example
 * ```ts
 * const r = await rest(url, admin, "POST", "/v1/users", { name: "alice", role: "user" });
 * ```
 */
export async function rest(base: string, token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RestAnswer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (YAML, metrics): the text stays.
  }
  return { status: res.status, body: parsed, text };
}

/** Like {@link rest}, but throws unless the status is the one expected. */
export async function restOk(base: string, token: string, method: string, path: string, body: unknown, expected: number): Promise<RestAnswer> {
  const r = await rest(base, token, method, path, body);
  if (r.status !== expected) throw new Error(`${method} ${path} answered ${r.status}, not ${expected}: ${r.text.slice(0, 300)}`);
  return r;
}
