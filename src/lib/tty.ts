/**
 * Asking the user a question on their terminal, never on stdout (which kubectl reads as the
 * ExecCredential) nor stdin (which may be a pipe): the controlling terminal, `/dev/tty`.
 */
import { open } from "node:fs/promises";
import { lazyBuiltin } from "./builtin.js";

// Not `import`: node:tty loads node:net, and `kubeiam eks token` loads this module on every kubectl
// call but asks for a terminal only for an MFA code (builtin.ts).
const tty = lazyBuiltin("node:tty");

/** The terminal to prompt on: `KUBEIAM_TTY` when set (tests point it at a pty of their own), else `/dev/tty`. */
export function terminalPath(env: Record<string, string | undefined>): string {
  return env.KUBEIAM_TTY?.trim() || "/dev/tty";
}

/** Thrown when there is no terminal to ask on; the caller turns it into its own one-line error. */
export class NoTerminalError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`no terminal to prompt on (${path}: ${reason})`);
    this.name = "NoTerminalError";
  }
}

/**
 * Writes `question` to the terminal at `path` and reads one line back (without its line end).
 * Throws {@link NoTerminalError} when `path` cannot be opened or is not a terminal, and an
 * `AbortError` when `signal` fires first.
 *
 * @example
 * ```ts
 * const code = await promptOnTerminal("/dev/tty", "MFA code for arn:aws:iam::123456789012:mfa/me: ");
 * ```
 */
export async function promptOnTerminal(path: string, question: string, signal?: AbortSignal): Promise<string> {
  let handle;
  try {
    handle = await open(path, "r+");
  } catch (cause) {
    throw new NoTerminalError(path, (cause as NodeJS.ErrnoException).code ?? "cannot open");
  }
  try {
    if (!tty().isatty(handle.fd)) throw new NoTerminalError(path, "not a terminal");
    await handle.write(question);
    const chunks: Buffer[] = [];
    for (;;) {
      signal?.throwIfAborted();
      const buf = Buffer.alloc(256);
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      if (buf.subarray(0, bytesRead).includes(0x0a)) break;
    }
    return (Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "").trim();
  } finally {
    await handle.close();
  }
}
