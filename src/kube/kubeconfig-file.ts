/**
 * The kubeconfig file edge: which file (`--kubeconfig`, the first `KUBECONFIG` entry, `~/.kube/config`),
 * reading it, and writing it atomically (temporary file, then rename) with a safe mode.
 */
import { lstat, mkdir, readFile, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { KubeconfigError } from "../lib/errors.js";
import { writeFileAtomic } from "../lib/fs.js";
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

/** A kubeconfig file as read: its text, and its mode when it exists. */
export interface KubeconfigFile {
  path: string;
  /** The file's text; `""` when it does not exist. */
  text: string;
  exists: boolean;
  /** Permission bits of the existing file. */
  mode?: number;
}

/**
 * Reads a kubeconfig file; a missing file reads as empty. Throws {@link KubeconfigError} when the
 * path is a directory or cannot be read.
 *
 * @example
 * ```ts
 * const file = await readKubeconfigFile("/home/me/.kube/config");
 * ```
 */
export async function readKubeconfigFile(path: string): Promise<KubeconfigFile> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new KubeconfigError(`kubeconfig ${path} is a directory: pass the file itself with --kubeconfig`);
    return { path, text: await readFile(path, "utf8"), exists: true, mode: info.mode & 0o7777 };
  } catch (cause) {
    if (cause instanceof KubeconfigError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { path, text: "", exists: false };
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
  try {
    return { doc: parseKubeconfigDocument(file.text), file };
  } catch (cause) {
    if (cause instanceof KubeconfigError) {
      throw new KubeconfigError(`kubeconfig ${path} is malformed: ${cause.message}; fix it or pass another file with --kubeconfig (it was left unchanged)`, { cause });
    }
    throw cause;
  }
}

/**
 * Writes a kubeconfig atomically: the text goes to a temporary file beside the target, which is then
 * renamed over it, so a reader never sees half a file. A new file gets mode 0600, an existing one
 * keeps its mode; the parent folder is created (0700) when missing. A symbolic link is followed, so
 * the file it points at is replaced, not the link.
 *
 * @example
 * ```ts
 * await writeKubeconfigFile(path, serializeKubeconfigDocument(doc));
 * ```
 */
export async function writeKubeconfigFile(path: string, text: string): Promise<void> {
  let target = resolve(path);
  let mode = 0o600;
  try {
    const link = await lstat(target);
    if (link.isSymbolicLink()) target = await realpath(target);
    const info = await stat(target);
    if (info.isDirectory()) throw new KubeconfigError(`kubeconfig ${path} is a directory: pass a file path`);
    mode = info.mode & 0o7777;
  } catch (cause) {
    if (cause instanceof KubeconfigError) throw cause;
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new KubeconfigError(`cannot inspect kubeconfig ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
    }
  }
  const dir = dirname(target);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new KubeconfigError(`cannot create folder ${dir} for the kubeconfig (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
  }
  try {
    await writeFileAtomic(target, text, { mode });
  } catch (cause) {
    throw new KubeconfigError(`cannot write kubeconfig ${target} (${(cause as NodeJS.ErrnoException).code ?? "error"}): check the folder's permissions`, { cause });
  }
}
