/**
 * The kubeconfig file edge: which file (`--kubeconfig`, the first `KUBECONFIG` entry, `~/.kube/config`),
 * reading it, and every command's read-modify-write of it: under kubectl's `<file>.lock`, replacing
 * only a regular file (atomically, with a safe mode) and never a device, FIFO or link.
 */
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { FileError, KubeconfigError, KubeiamError } from "../lib/errors.js";
import type { FileLock, FileLockOptions } from "../lib/file-lock.js";
import { stat } from "node:fs/promises";
import { fileStamp, readUserFile } from "../lib/read-file.js";
import { createFolderFor, resolveWriteTarget, writeToTarget, type WriteTarget } from "../lib/safe-write.js";
import { parseKubeconfigDocument, type KubeconfigDocument } from "./kubeconfig.js";

/**
 * The kubeconfig file to update, as kubectl picks the file it writes: the explicit path, else the
 * first non-empty entry of `KUBECONFIG`, else `~/.kube/config`.
 *
 * @example
 * ```ts
 * resolveKubeconfigPath({ env: { KUBECONFIG: "/a:/b" } }); // "/a"
 * ```
 */
export function resolveKubeconfigPath(options: { explicit?: string | undefined; env?: Record<string, string | undefined> } = {}): string {
  const env = options.env ?? process.env;
  if (options.explicit !== undefined && options.explicit.trim() !== "") return resolve(options.explicit);
  const first = (env.KUBECONFIG ?? "").split(delimiter).find((p) => p.trim() !== "");
  if (first !== undefined) return resolve(first);
  return join(env.HOME || homedir(), ".kube", "config");
}

/** A kubeconfig file as read: its text, and whether it exists. */
export interface KubeconfigFile {
  path: string;
  /** The file's text; `""` when it does not exist. */
  text: string;
  exists: boolean;
  /**
   * What the file was when read: `absent`, or a regular file's identity and version (device, inode,
   * size, mtime, ctime); absent for a FIFO or device. See {@link kubeconfigFileUnchanged}.
   */
  stamp?: string;
}

/**
 * Whether the file at `file.path` is still the one read into `file`: still missing, or the same
 * regular file (device, inode) at the same size, mtime and ctime. False for a FIFO or device, and
 * for anything that cannot be looked at.
 *
 * @example
 * ```ts
 * const file = await readKubeconfigFile(path);
 * // … an API call …
 * if (!(await kubeconfigFileUnchanged(file))) file = await readKubeconfigFile(path);
 * ```
 */
export async function kubeconfigFileUnchanged(file: KubeconfigFile): Promise<boolean> {
  if (file.stamp === undefined) return false;
  try {
    const info = await stat(file.path);
    return info.isFile() && fileStamp(info) === file.stamp;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" && file.stamp === "absent";
  }
}

/**
 * Reads a kubeconfig file; a missing file reads as empty, and so does `/dev/null`; a FIFO is read
 * as a stream (bounded, stoppable). Throws {@link KubeconfigError} when the path is a directory or
 * cannot be read, {@link FileError} when it is a socket or block device or a FIFO that never ends.
 *
 * @example
 * ```ts
 * const file = await readKubeconfigFile("/home/me/.kube/config");
 * ```
 */
export async function readKubeconfigFile(path: string, options: { signal?: AbortSignal } = {}): Promise<KubeconfigFile> {
  try {
    const read = await readUserFile(path, { what: "kubeconfig", ...options });
    return { path, text: read.text, exists: true, ...(read.stamp === undefined ? {} : { stamp: read.stamp }) };
  } catch (cause) {
    if (cause instanceof KubeiamError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "EISDIR") throw new KubeconfigError(`kubeconfig ${path} is a directory: name the file itself`, { cause, field: "kubeconfig", value: path });
    if (code === "ENOENT") return { path, text: "", exists: false, stamp: "absent" };
    throw new KubeconfigError(`cannot read kubeconfig ${path} (${code ?? "error"}): check its permissions`, { cause });
  }
}

/**
 * Reads and parses a kubeconfig file for editing. A malformed file is refused with an error naming
 * the file and the field, and is not touched.
 *
 * @example
 * ```ts
 * const { doc, file } = await loadKubeconfigDocument(resolveKubeconfigPath());
 * ```
 */
export async function loadKubeconfigDocument(path: string): Promise<{ doc: KubeconfigDocument; file: KubeconfigFile }> {
  const file = await readKubeconfigFile(path);
  return { doc: parseKubeconfigForEdit(file), file };
}

/** Options of {@link writeKubeconfigFile} and {@link editKubeconfigFile}. */
export interface KubeconfigWriteOptions {
  /** Replace a read-only kubeconfig anyway (a refusal without it names the field `force`). */
  force?: boolean;
  /** Stops waiting for the lock or a slow reader (Ctrl-C). */
  signal?: AbortSignal;
  /** How long to wait for another run's lock, and when a lock counts as stale (tests shorten them). */
  lock?: Pick<FileLockOptions, "waitMs" | "staleMs">;
  /**
   * The file as the caller read it before the edit (an update that parsed it to check it before an API
   * call): under the lock it is handed to `edit` as it is when {@link kubeconfigFileUnchanged} says
   * so, and read again only when it changed, so that a large kubeconfig is not read and parsed twice.
   */
  current?: KubeconfigFile;
}

/** What an edit does with the file's current content. */
export type KubeconfigEditKind =
  /** Read it, change it, write it back: a FIFO is refused (it cannot be read and written back). */
  | "update"
  /** Write a whole new kubeconfig: a device or FIFO is written without being read (it holds nothing to lose). */
  | "replace";

/** Turns the file layer's refusals into kubeconfig errors that name the flag or the fix. */
function kubeconfigFileError(error: unknown): unknown {
  if (!(error instanceof FileError)) return error;
  return new KubeconfigError(`kubeconfig ${error.message}${error.reason === "kind" || error.reason === "directory" ? " (nothing was written)" : ""}`, { cause: error });
}

/**
 * Checks, before any slow work (API calls), that the kubeconfig at `path` can be edited the way
 * `kind` says: not a directory, socket or block device; not a FIFO for an update; not read-only
 * unless `force`. Returns where the write will go. Reads nothing.
 *
 * @example
 * ```ts
 * await checkKubeconfigTarget(path, "update", { force: false }); // fails fast on a read-only file
 * ```
 */
export async function checkKubeconfigTarget(path: string, kind: KubeconfigEditKind, options: Pick<KubeconfigWriteOptions, "force"> = {}): Promise<WriteTarget> {
  try {
    const target = await resolveWriteTarget(path);
    if (target.how === "in-place" && target.kind === "FIFO" && kind === "update") {
      throw new KubeconfigError(
        `kubeconfig ${path} is a FIFO, which cannot be read and then written back: pass a regular file, or make it a dry run that prints the result (nothing was written)`,
        { field: "dryRun", value: path },
      );
    }
    if (target.how === "replace" && target.readOnly && options.force !== true) {
      throw new KubeconfigError(
        `kubeconfig ${path} is read-only (mode ${target.mode.toString(8).padStart(4, "0")}): make it writable (chmod u+w ${target.target}), or force its replacement (it was left unchanged)`,
        { field: "force", value: path },
      );
    }
    return target;
  } catch (error) {
    throw kubeconfigFileError(error);
  }
}

/**
 * Edits a kubeconfig under its lock, as kubectl does (`<file>.lock`, so that two runs, or a run and
 * kubectl, never lose each other's entries; for a symbolic link, both the link's name and its
 * target's, see the comment inside): takes the lock, reads the file as it is now, calls
 * `edit`, and writes what it returns (nothing when it returns `undefined`), then releases the lock,
 * on every path. Only a regular file is replaced (atomically, keeping its mode; 0600 when new); a
 * character device is written in place and never locked or replaced; a dangling link writes through
 * to its target. Throws {@link KubeconfigError}; the file is unchanged when it throws.
 *
 * @example
 * ```ts
 * await editKubeconfigFile(path, "update", (file) => {
 *   const doc = parseKubeconfigDocument(file.text);
 *   mergeKubeconfigEntries(doc, entries, { overwrite: false, setCurrentContext: true });
 *   return serializeKubeconfigDocument(doc);
 * });
 * ```
 */
export async function editKubeconfigFile(
  path: string,
  kind: KubeconfigEditKind,
  edit: (current: KubeconfigFile) => string | undefined | Promise<string | undefined>,
  options: KubeconfigWriteOptions = {},
): Promise<WriteTarget> {
  const first = await checkKubeconfigTarget(path, kind, options);
  if (first.how === "in-place") {
    // A device or FIFO: no lock beside it (never a /dev/null.lock), nothing to rename.
    const current = kind === "update" ? await readKubeconfigFile(path) : { path, text: "", exists: false };
    const text = await edit(current);
    if (text !== undefined) await writeToTarget(first, text, options).catch((e: unknown) => Promise.reject(kubeconfigFileError(e)));
    return first;
  }
  const locks: FileLock[] = [];
  try {
    // The lock files (and their exit-time cleanup) load with the first locked write, not with import("kubeiam").
    const { acquireFileLock } = await import("../lib/file-lock.js");
    // The lock goes beside the file, so a new file's folder is made first (0700, as kubectl does).
    if (first.how === "create") await createFolderFor(path, first.target);
    // kubectl (client-go clientcmd.ModifyConfig: lockFile(filename) creates lockName(filename) =
    // filename + ".lock") locks each path as it was given, a symbolic link's own name, never the
    // file it leads to ("this can fail w/ symlinks, but... come on"). So the name given is locked
    // first of all, which excludes a kubectl writing through the same path; the file the links lead
    // to is locked too when its name differs, which excludes a kubectl or kubeiam run that was given
    // the real path or another link. Taken in sorted order, as client-go takes its files, so two runs
    // that need the same two locks never hold one each.
    for (const name of [...new Set([resolve(path), first.target])].sort()) {
      locks.push(await acquireFileLock(name, { ...options.lock, ...(options.signal ? { signal: options.signal } : {}) }));
    }
  } catch (error) {
    await releaseAll(locks);
    throw kubeconfigFileError(error);
  }
  try {
    // Looked at again under the lock: another run may have created or replaced it meanwhile.
    const target = await checkKubeconfigTarget(path, kind, options);
    const known = options.current;
    const current = known !== undefined && known.path === path && (await kubeconfigFileUnchanged(known)) ? known : await readKubeconfigFile(path);
    const text = await edit(current);
    if (text !== undefined) await writeToTarget(target, text, options).catch((e: unknown) => Promise.reject(kubeconfigFileError(e)));
    return target;
  } finally {
    await releaseAll(locks);
  }
}

async function releaseAll(locks: FileLock[]): Promise<void> {
  for (const lock of [...locks].reverse()) await lock.release();
}

/**
 * Parses a kubeconfig read for an edit, refusing a malformed one with an error naming the file and
 * the field (the file is left unchanged).
 *
 * @example
 * ```ts
 * await editKubeconfigFile(path, "update", (file) => serializeKubeconfigDocument(parseKubeconfigForEdit(file)));
 * ```
 */
export function parseKubeconfigForEdit(file: KubeconfigFile): KubeconfigDocument {
  try {
    return parseKubeconfigDocument(file.text);
  } catch (cause) {
    if (cause instanceof KubeconfigError) {
      throw new KubeconfigError(`kubeconfig ${file.path} is malformed: ${cause.message}; fix it or use another file (it was left unchanged)`, { cause, field: "kubeconfig", value: file.path });
    }
    throw cause;
  }
}

/**
 * Writes a whole kubeconfig by the rules of {@link editKubeconfigFile} (locked, atomic for a regular
 * file, in place for a device, a read-only file refused unless `force`), whatever the file held.
 *
 * @example
 * ```ts
 * await writeKubeconfigFile(path, serializeKubeconfigDocument(doc));
 * ```
 */
export async function writeKubeconfigFile(path: string, text: string, options: KubeconfigWriteOptions = {}): Promise<void> {
  await editKubeconfigFile(path, "replace", () => text, options);
}
