/**
 * An exclusive lock around a file's read-modify-write, taken as kubectl takes it: `<file>.lock`,
 * created with O_EXCL and removed when done, so that kubeiam and kubectl runs exclude each other.
 * Unlike kubectl, a run waits (bounded) for the lock instead of failing at once, and breaks a stale
 * lock left by a run that crashed: one older than a bound, or one whose process is gone.
 */
import { randomBytes } from "node:crypto";
import { rmSync, statSync } from "node:fs";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { FileError } from "./errors.js";
import { onAbruptExit } from "./exit-cleanup.js";

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** How long to wait for another run's lock, in milliseconds; 15 000 by default. */
  waitMs?: number;
  /** A lock whose file is older than this (milliseconds) is stale and broken; 10 000 by default. */
  staleMs?: number;
  /** Stops waiting when aborted (Ctrl-C). */
  signal?: AbortSignal;
}

/** A lock held on a file; release it exactly once, on every path (use `try … finally`). */
export interface FileLock {
  /** The lock file: the locked file's path plus `.lock`. */
  readonly lockPath: string;
  /** Removes the lock file, unless another run has broken it and taken it since. */
  release(): Promise<void>;
}

/** The default wait for another run's lock. A kubeconfig read-modify-write takes milliseconds. */
export const DEFAULT_LOCK_WAIT_MS = 15_000;
/** The default age after which a lock is taken for a crashed run's. Shorter than the wait, so a wait outlives any stale lock. */
export const DEFAULT_LOCK_STALE_MS = 10_000;

/**
 * Takes the lock on `path` (the file `path + ".lock"`), waiting up to `waitMs` for another run to
 * release it and breaking a stale one. The lock file is removed by `release()`, and also if the
 * process ends first (normal exit, or the CLI's end on SIGINT/SIGTERM). Throws {@link FileError}
 * with reason `locked` when the wait runs out, `io` when the lock file cannot be created.
 *
 * @example
 * ```ts
 * const lock = await acquireFileLock("/home/me/.kube/config");
 * try {
 *   // read, change and write the file
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<FileLock> {
  const lockPath = `${path}.lock`;
  const waitMs = options.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const deadline = Date.now() + waitMs;
  let pause = 5;
  for (;;) {
    if (options.signal?.aborted) throw new FileError(path, "locked", `stopped while waiting for the lock ${lockPath}`, { cause: options.signal.reason });
    const held = await tryCreate(path, lockPath);
    if (held !== undefined) return held;
    if (await breakIfStale(lockPath, staleMs)) continue;
    if (Date.now() >= deadline) {
      const owner = await readOwner(lockPath);
      throw new FileError(
        path,
        "locked",
        `${path} is locked by another run${owner === undefined ? "" : ` (process ${owner.pid} on ${owner.host})`} for more than ${Math.round(waitMs / 1000)} s: wait for it to finish, or remove ${lockPath} if nothing is running`,
      );
    }
    // Jittered, growing pauses: parallel runs do not retry in step.
    await sleep(Math.floor(pause / 2 + Math.random() * pause), options.signal).catch((cause: unknown) => {
      throw new FileError(path, "locked", `stopped while waiting for the lock ${lockPath}`, { cause });
    });
    pause = Math.min(pause * 2, 200);
  }
}

/**
 * Runs `fn` while holding the lock on `path`, and releases it however `fn` ends.
 *
 * @example
 * ```ts
 * await withFileLock(path, async () => writeFile(path, edit(await readFile(path, "utf8"))));
 * ```
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lock = await acquireFileLock(path, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

async function tryCreate(path: string, lockPath: string): Promise<FileLock | undefined> {
  let ino: number;
  try {
    const handle = await open(lockPath, "wx", 0o600);
    try {
      // Who holds it, for the message of a run that waits in vain, and for the dead-process check.
      await handle.writeFile(`${process.pid} ${hostname()}\n`, "utf8");
      ino = (await handle.stat()).ino;
    } finally {
      await handle.close();
    }
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return undefined;
    throw new FileError(path, "io", `cannot create the lock file ${lockPath} (${code ?? "error"}): check the folder's permissions`, { cause });
  }
  const forget = onAbruptExit(() => {
    // Synchronous, at exit: remove the lock only if it is still ours.
    try {
      if ((statOrUndefined(lockPath)?.ino ?? -1) === ino) rmSync(lockPath, { force: true });
    } catch {
      // The process is ending.
    }
  });
  let released = false;
  return {
    lockPath,
    async release() {
      if (released) return;
      released = true;
      forget();
      const now = await stat(lockPath).catch(() => undefined);
      // A run that took us for stale has broken our lock and may hold a new one: leave it alone.
      if (now?.ino === ino) await unlink(lockPath).catch(() => undefined);
    },
  };
}

async function readOwner(lockPath: string): Promise<{ pid: number; host: string } | undefined> {
  const text = await readFile(lockPath, "utf8").catch(() => "");
  const m = /^(\d+) (\S+)\n?$/.exec(text);
  return m === null ? undefined : { pid: Number(m[1]), host: m[2] ?? "" };
}

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Breaks the lock if it is stale: older than `staleMs`, or held by a process of this host that is
 * gone. The lock is renamed aside first and removed only if the renamed file is the one judged
 * stale, so two runs breaking the same lock at once do not remove a third run's fresh lock.
 */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const info = await stat(lockPath).catch(() => undefined);
  if (info === undefined) return true; // released meanwhile: try again at once
  let stale = Date.now() - info.mtimeMs > staleMs;
  if (!stale) {
    const owner = await readOwner(lockPath);
    stale = owner !== undefined && owner.host === hostname() && owner.pid !== process.pid && processIsGone(owner.pid);
  }
  if (!stale) return false;
  const aside = `${lockPath}.stale-${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return true; // someone else broke it first
  }
  const moved = await stat(aside).catch(() => undefined);
  if (moved !== undefined && moved.ino !== info.ino) {
    // Between our look and the rename another run broke it and took a fresh lock: put that one back.
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

function statOrUndefined(path: string): { ino: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
