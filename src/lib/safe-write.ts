/**
 * Writing a file whose path the user gave, without ever replacing what is not a plain file: only a
 * regular file (after following symbolic links) is replaced by an atomic rename; a character device
 * (`/dev/null`) or a FIFO is written in place; a dangling symbolic link writes through to its target;
 * a directory, block device or socket, and a read-only file unless forced, are refused.
 */
import { constants } from "node:fs";
import { access, lstat, mkdir, open, readlink, realpath, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileKind } from "./read-file.js";
import { FileError } from "./errors.js";
import { writeFileAtomic } from "./fs.js";

/** Where and how a path would be written (see {@link resolveWriteTarget}). */
export type WriteTarget =
  /** Nothing there yet (or a dangling link): `target` is the file to create, links followed. */
  | { how: "create"; path: string; target: string }
  /** A regular file, replaced by rename at `target` (links followed); its mode is kept. */
  | { how: "replace"; path: string; target: string; mode: number; readOnly: boolean }
  /** A character device or FIFO (directly or through a link), opened and written where it is. */
  | { how: "in-place"; path: string; target: string; kind: "character device" | "FIFO" };

/** Options of {@link writeFileSafely}. */
export interface SafeWriteOptions {
  /** The mode of a file created new; 0600 by default. A replaced file keeps its own mode. */
  mode?: number;
  /** Replace a regular file even when its permission bits say read-only. */
  force?: boolean;
  /** Stops waiting on a slow reader of a FIFO or device. */
  signal?: AbortSignal;
}

const MAX_LINKS = 40; // as Linux's own limit on links followed in one lookup

/**
 * Says where `path` would be written and how, refusing (with {@link FileError}) a directory, a block
 * device, a socket, or a chain of links that loops. Touches nothing.
 *
 * @example
 * ```ts
 * const t = await resolveWriteTarget("/home/me/.kube/config");
 * if (t.how === "replace" && t.readOnly) console.error("read-only");
 * ```
 */
export async function resolveWriteTarget(path: string): Promise<WriteTarget> {
  const abs = resolve(path);
  let info: Stats;
  try {
    info = await stat(abs); // follows links, /proc's magic ones included
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { how: "create", path, target: await danglingTarget(path, abs) };
    if (code === "ELOOP") throw new FileError(path, "kind", `${path} is a loop of symbolic links: point it at a file`, { cause });
    throw new FileError(path, "io", `cannot look at ${path} (${code ?? "error"}): check its permissions`, { cause });
  }
  if (info.isFile()) {
    const target = await realpath(abs).catch(() => abs);
    // Not compared by inode: a parallel run may rename a new file over it between the two looks.
    const real = await stat(target).catch(() => undefined);
    if (real === undefined || !real.isFile()) {
      // A /proc link to a deleted or unreachable file: there is no path to rename over.
      throw new FileError(path, "kind", `${path} leads to a file that has no name to replace: pass a file path`);
    }
    const writable = await access(target, constants.W_OK).then(
      () => true,
      () => false,
    );
    return { how: "replace", path, target, mode: info.mode & 0o7777, readOnly: (info.mode & 0o222) === 0 || !writable };
  }
  if (info.isCharacterDevice() || info.isFIFO()) {
    return { how: "in-place", path, target: abs, kind: info.isFIFO() ? "FIFO" : "character device" };
  }
  const kind = fileKind(info);
  throw new FileError(path, kind === "directory" ? "directory" : "kind", `${path} is a ${kind}, not a file: pass a file path`);
}

/** The file that a chain of links ending nowhere points at: writing creates it, and the links stay. */
async function danglingTarget(path: string, abs: string): Promise<string> {
  let p = abs;
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    let link: Stats;
    try {
      link = await lstat(p);
    } catch {
      return p;
    }
    if (!link.isSymbolicLink()) return p;
    p = resolve(dirname(p), await readlink(p));
  }
  throw new FileError(path, "kind", `${path} is a loop of symbolic links: point it at a file`);
}

/**
 * Writes `text` to the path the user gave, by the rules in this module's summary. A regular file
 * is replaced atomically and keeps its mode; a new one is created with `mode` (0600), its folder
 * (0700) too when missing. A read-only file is refused unless `force`. A FIFO with no reader is
 * refused rather than waited on. Throws {@link FileError}; nothing is changed when it throws.
 *
 * @example
 * ```ts
 * await writeFileSafely(kubeconfigPath, yamlText);          // a file: replaced atomically
 * await writeFileSafely("/dev/null", yamlText);             // a device: written in place, never replaced
 * ```
 */
export async function writeFileSafely(path: string, text: string, options: SafeWriteOptions = {}): Promise<WriteTarget> {
  const target = await resolveWriteTarget(path);
  await writeToTarget(target, text, options);
  return target;
}

/**
 * Writes to a target found by {@link resolveWriteTarget} (for callers that look first, then lock).
 *
 * @example
 * ```ts
 * const t = await resolveWriteTarget(path);
 * await writeToTarget(t, text, { force: false });
 * ```
 */
export async function writeToTarget(target: WriteTarget, text: string, options: SafeWriteOptions = {}): Promise<void> {
  const { path } = target;
  if (target.how === "in-place") return writeInPlace(target, text, options.signal);
  if (target.how === "replace" && target.readOnly && options.force !== true) {
    throw new FileError(path, "read-only", `${path} is read-only (mode ${target.mode.toString(8).padStart(4, "0")}): make it writable, or force the write`);
  }
  if (target.how === "create") await createFolderFor(path, target.target);
  try {
    await writeFileAtomic(target.target, text, { mode: target.how === "replace" ? target.mode : (options.mode ?? 0o600) });
  } catch (cause) {
    throw new FileError(path, "io", `cannot write ${target.target} (${(cause as NodeJS.ErrnoException).code ?? "error"}): check the folder's permissions`, { cause });
  }
}

/**
 * Creates the folder that a new file `target` goes in, with its missing parents, mode 0700.
 * Throws {@link FileError} naming `path` (the path the user gave).
 *
 * @example
 * ```ts
 * await createFolderFor("~/.kube/config", "/home/me/.kube/config"); // makes /home/me/.kube
 * ```
 */
export async function createFolderFor(path: string, target: string): Promise<void> {
  const dir = dirname(target);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new FileError(path, "io", `cannot create the folder ${dir} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
  }
}

/**
 * Writes into a device or FIFO where it is: opened without blocking, so a FIFO that nobody reads is
 * refused at once instead of hanging, and written in a loop that waits (abortably) on a slow reader.
 */
async function writeInPlace(target: Extract<WriteTarget, { how: "in-place" }>, text: string, signal?: AbortSignal): Promise<void> {
  const { path } = target;
  let handle;
  try {
    handle = await open(target.target, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENXIO") throw new FileError(path, "kind", `${path} is a FIFO that nobody reads: start its reader first, or pass a file path`, { cause });
    throw new FileError(path, "io", `cannot open the ${target.kind} ${path} (${code ?? "error"})`, { cause });
  }
  try {
    const data = Buffer.from(text, "utf8");
    let offset = 0;
    while (offset < data.length) {
      if (signal?.aborted) throw new FileError(path, "io", `stopped while writing to ${path}`, { cause: signal.reason });
      try {
        offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== "EAGAIN") throw cause;
        await new Promise((r) => setTimeout(r, 10)); // the reader is slow: its buffer is full
      }
    }
  } catch (cause) {
    if (cause instanceof FileError) throw cause;
    throw new FileError(path, "io", `cannot write to the ${target.kind} ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
  } finally {
    await handle.close();
  }
}
