/**
 * The atomic file write used for every file that holds credentials or tokens (kubeconfigs, the GKE
 * token cache): a temporary file beside the target, written and synced, given its mode, then renamed
 * over the target, so that a reader never sees half a file and a crash never leaves one.
 */
import { lazyBuiltin } from "./builtin.js";
import { chmod, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

// Not `import`: loaded by the exec plugins and the entry points, which write files rarely (builtin.ts).
const crypto = lazyBuiltin("node:crypto");

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** The file's permission bits; 0600 by default (owner only). */
  mode?: number;
  /** Whether to fsync the data before the rename; true by default. */
  sync?: boolean;
}

/**
 * Writes `text` to `path` atomically. The folder must exist. On failure the temporary file is
 * removed and the file system's own error (with its `code`) is thrown for the caller to name.
 *
 * @example
 * ```ts
 * await writeFileAtomic("/home/me/.kube/config", yamlText, { mode: 0o600 });
 * ```
 */
export async function writeFileAtomic(path: string, text: string, options: WriteFileAtomicOptions = {}): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${crypto().randomBytes(6).toString("hex")}.tmp`);
  try {
    // Created 0600 whatever the final mode: nobody else may read it while it is being written.
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      if (options.sync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    // open() applies the umask; chmod sets the exact mode wanted.
    await chmod(temp, options.mode ?? 0o600);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
