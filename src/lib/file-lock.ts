/**
 * An exclusive lock around a file's read-modify-write, taken as kubectl takes it: `<file>.lock`,
 * created with O_EXCL and removed when done, so that kubeiam and kubectl runs exclude each other.
 * Unlike kubectl, a run waits (bounded) for the lock instead of failing at once, and breaks a stale
 * lock left by a run that crashed: one older than a bound, or one whose process is gone.
 *
 * Removing a lock file is the dangerous step: a run that judged a lock stale and then removed "the
 * lock" could remove a fresh one that another run took meanwhile (three runs: A breaks the stale
 * lock, B takes a new one, C, which also judged the old one stale, removes B's). So every kubeiam run
 * removes a lock file (breaking one, or releasing its own) only while holding a second, short-lived
 * lock, the breakers' mutex `<file>.lock.break`; locks are only ever created where there is none, so
 * under the mutex the file judged is the file removed. The removal itself renames the file to a name
 * of our own and checks its identity (device, inode, mtime to the nanosecond) before unlinking it.
 * kubectl knows nothing of the mutex but never breaks locks; it only removes its own, within
 * milliseconds of taking it, so it cannot hold one long enough to be judged stale.
 */
import { linkSync, renameSync, rmSync, statSync, type BigIntStats } from "node:fs";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { lazyBuiltin } from "./builtin.js";
import { FileError } from "./errors.js";
import { onAbruptExit } from "./exit-cleanup.js";
import { sleep } from "./time.js";

// Not `import`: the exec plugins' caches load this, and need node:crypto only to take a lock (lib/builtin.ts says why).
const crypto = lazyBuiltin("node:crypto");

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
    if (await breakStaleLock(lockPath, { staleMs })) continue;
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

/**
 * Creates `path` exclusively (O_EXCL), holding who made it (for the message of a run that waits in
 * vain, and for the dead-process check), and gives its identity; `EEXIST` when it is there already.
 */
async function createOwnedFile(path: string): Promise<FileIdentity> {
  const handle = await open(path, "wx", 0o600);
  try {
    await handle.writeFile(`${process.pid} ${hostname()}\n`, "utf8");
    return identityOf(await handle.stat({ bigint: true }));
  } finally {
    await handle.close();
  }
}

async function tryCreate(path: string, lockPath: string): Promise<FileLock | undefined> {
  let id: FileIdentity;
  try {
    id = await createOwnedFile(lockPath);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return undefined;
    throw new FileError(path, "io", `cannot create the lock file ${lockPath} (${code ?? "error"}): check the folder's permissions`, { cause });
  }
  const forget = onAbruptExit(() => {
    // Synchronous, at exit, with no time to wait for a breaker: removed only if it is still ours.
    try {
      removeIfSync(lockPath, id);
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
      // Under the breakers' mutex no kubeiam run can swap the lock file, so the file looked at is
      // the file removed: a run that took ours for stale, broke it and took a new one keeps its own.
      const done = await underBreakMutex(lockPath, 2_000, async () => {
        const now = await stat(lockPath, { bigint: true }).catch(() => undefined);
        if (now !== undefined && sameFile(identityOf(now), id)) await unlink(lockPath).catch(() => undefined);
        return true;
      });
      if (done === undefined) await removeIf(lockPath, id); // the mutex stayed busy: the rename-and-check way
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

/** What makes a file the same file: its inode, and its times to the nanosecond (an inode number is soon reused). */
interface FileIdentity {
  dev: bigint;
  ino: bigint;
  mtimeNs: bigint;
}

function identityOf(s: BigIntStats): FileIdentity {
  return { dev: s.dev, ino: s.ino, mtimeNs: s.mtimeNs };
}

/** Not ctime: a rename changes it on some file systems (ext4), and removal goes through a rename. */
function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.mtimeNs === b.mtimeNs;
}

/** How long a breaker may hold the breakers' mutex before it is taken for a crashed breaker's (it holds it for milliseconds). */
const BREAK_MUTEX_STALE_MS = 5_000;

/**
 * Runs `fn` holding the breakers' mutex of a lock (`<lock>.break`, created with O_EXCL), waiting up
 * to `waitMs` for it; `undefined` when it stayed busy. Every kubeiam run that removes a lock file
 * (breaking a stale one, or releasing its own) does it under this mutex, and a lock is only ever
 * created where there is none: so while the mutex is held, the lock file at the lock's path cannot
 * be swapped by kubeiam, and the file judged stale is the file removed.
 */
async function underBreakMutex<T>(lockPath: string, waitMs: number, fn: () => Promise<T>): Promise<T | undefined> {
  const mutexPath = `${lockPath}.break`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    let id: FileIdentity | undefined;
    try {
      id = await createOwnedFile(mutexPath);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== "EEXIST") return undefined;
    }
    if (id !== undefined) {
      const mine = id;
      const forget = onAbruptExit(() => removeIfSync(mutexPath, mine));
      try {
        return await fn();
      } finally {
        forget();
        await removeIf(mutexPath, mine);
      }
    }
    // A breaker that crashed while holding the mutex: its file is removed, by rename and check.
    const held = await stat(mutexPath, { bigint: true }).catch(() => undefined);
    if (held !== undefined && Date.now() - Number(held.mtimeMs) > BREAK_MUTEX_STALE_MS) await removeIf(mutexPath, identityOf(held));
    if (Date.now() >= deadline) return undefined;
    await sleep(2 + Math.floor(Math.random() * 5));
  }
}

/**
 * Removes `path` if it is still the file `id`: renamed aside to a name of our own first (atomic, so
 * what is then looked at cannot change), removed if it is that file, else linked back (it is a new
 * file that someone made after our look).
 */
async function removeIf(path: string, id: FileIdentity): Promise<void> {
  const aside = `${path}.${process.pid}-${crypto().randomBytes(4).toString("hex")}.gone`;
  try {
    await rename(path, aside);
  } catch {
    return; // gone already
  }
  const moved = await stat(aside, { bigint: true }).catch(() => undefined);
  if (moved !== undefined && !sameFile(identityOf(moved), id)) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function removeIfSync(path: string, id: FileIdentity): void {
  const aside = `${path}.${process.pid}-${crypto().randomBytes(4).toString("hex")}.gone`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  try {
    if (!sameFile(identityOf(statSync(aside, { bigint: true })), id)) linkSync(aside, path);
  } catch {
    // Put back as well as we could; the process is ending.
  }
  rmSync(aside, { force: true });
}

/** Options of {@link breakStaleLock}. */
export interface BreakStaleLockOptions {
  /** A lock file older than this (milliseconds) is stale. */
  staleMs: number;
  /** How long to wait for the breakers' mutex; a few hundred milliseconds by default. */
  mutexWaitMs?: number;
  /**
   * Called when the first look, taken before the mutex, finds the lock stale: lets a test order a
   * race deterministically (a breaker that judged a lock stale, then waits while others act).
   */
  onStaleSeen?: () => void;
}

/**
 * Breaks the lock file `lockPath` if it is stale: older than `staleMs`, or held by a process of
 * this host that is gone. The judgement and the removal happen under the breakers' mutex, and the
 * removal checks the file's identity, so a lock taken fresh by another run is never removed, however
 * many runs find the old one stale at once. Resolves `true` when the caller should try to take the
 * lock again at once (broken, or gone), `false` when it is held (or the mutex is busy).
 *
 * @example
 * ```ts
 * if (await breakStaleLock("/home/me/.kube/config.lock", { staleMs: 10_000 })) retryNow();
 * ```
 */
export async function breakStaleLock(lockPath: string, options: BreakStaleLockOptions): Promise<boolean> {
  const before = await stat(lockPath).catch(() => undefined);
  if (before === undefined) return true; // released meanwhile: try again at once
  // A cheap look first: most waits are on a live lock, and need not touch the mutex.
  if (!(await looksStale(lockPath, before.mtimeMs, options.staleMs))) return false;
  options.onStaleSeen?.();
  // Judged again under the mutex: what was seen stale may since have been broken and taken afresh.
  const result = await underBreakMutex(lockPath, options.mutexWaitMs ?? 300, async () => {
    const now = await stat(lockPath, { bigint: true }).catch(() => undefined);
    if (now === undefined) return true;
    if (!(await looksStale(lockPath, Number(now.mtimeMs), options.staleMs))) return false;
    await removeIf(lockPath, identityOf(now));
    return true;
  });
  return result ?? false;
}

async function looksStale(lockPath: string, mtimeMs: number, staleMs: number): Promise<boolean> {
  if (Date.now() - mtimeMs > staleMs) return true;
  const owner = await readOwner(lockPath);
  return owner !== undefined && owner.host === hostname() && owner.pid !== process.pid && processIsGone(owner.pid);
}

