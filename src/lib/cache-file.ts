/**
 * Private cache files under `~/.kube/cache/kubeiam/`: read only when the current user alone can read
 * them, written atomically (temporary file 0600, then rename) in a 0700 folder, and a lock file so
 * that concurrent kubectl calls refresh a credential once, not once each.
 */
import { mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "./fs.js";

/**
 * The root of kubeiam's caches: `~/.kube/cache/kubeiam` (beside kubectl's own `~/.kube/cache`).
 *
 * @example
 * ```ts
 * kubeiamCacheRoot({ HOME: "/home/me" }); // "/home/me/.kube/cache/kubeiam"
 * ```
 */
export function kubeiamCacheRoot(env: Record<string, string | undefined>): string {
  return join(env.HOME || homedir(), ".kube", "cache", "kubeiam");
}

/**
 * Reads and parses a private JSON file; `undefined` when it is missing, unreadable, not JSON, not a
 * regular file, readable by others, or owned by someone else (it could have been read or planted).
 *
 * @example
 * ```ts
 * const record = await readPrivateJson("/home/me/.kube/cache/kubeiam/aws/aws-….json");
 * ```
 */
export async function readPrivateJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile() || (info.mode & 0o077) !== 0) return undefined;
    if (typeof process.getuid === "function" && info.uid !== process.getuid()) return undefined;
    const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes JSON to `dir/name` atomically with mode 0600, creating `dir` (0700). Returns a one-line
 * problem instead of throwing: a cache that cannot be written must not fail kubectl.
 *
 * @example
 * ```ts
 * const problem = await writePrivateJson(dir, "aws-….json", record);
 * if (problem) console.error(`warning: ${problem}`);
 * ```
 */
export async function writePrivateJson(dir: string, name: string, value: unknown): Promise<string | undefined> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(dir, name), JSON.stringify(value), { mode: 0o600 });
    return undefined;
  } catch (cause) {
    return `cannot write the credential cache in ${dir} (${(cause as NodeJS.ErrnoException).code ?? "error"}): credentials will not be cached`;
  }
}

/** How long a lock may be held before another process takes it over (a crashed holder). */
const STALE_LOCK_MS = 120_000;

/**
 * Runs `fn` holding the lock file `path` (created exclusively, removed after). Waits for another
 * holder up to `waitMs` (polling), takes over a lock older than two minutes, and runs `fn` without
 * the lock when the folder cannot hold one or the wait runs out: a lock only saves duplicate work here.
 *
 * @example
 * ```ts
 * const creds = await withFileLock(join(dir, "aws-….lock"), () => refresh(), { waitMs: 60_000 });
 * ```
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: { waitMs?: number; pollMs?: number } = {}): Promise<T> {
  const waitMs = options.waitMs ?? 60_000;
  const pollMs = options.pollMs ?? 100;
  const deadline = Date.now() + waitMs;
  let held = false;
  for (;;) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      held = true;
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") break; // no folder or no permission: go on unlocked
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && Date.now() - info.mtimeMs > STALE_LOCK_MS) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
  try {
    return await fn();
  } finally {
    if (held) await unlink(path).catch(() => undefined);
  }
}
