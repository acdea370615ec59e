/**
 * The disk cache of GKE access tokens, so that kubectl's every call does not cost a token exchange:
 * one file per identity fingerprint (never the key), mode 0600 in a 0700 folder, written atomically,
 * used until 5 minutes before the token expires. It lives beside the EKS credential cache, under
 * `~/.kube/cache/kubeiam/gcp`.
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { kubeiamCacheRoot } from "../lib/cache-file.js";
import { InvalidInputError } from "../lib/errors.js";
import { toEpochMs, type TimeInput } from "../lib/time.js";
import { mintedToken } from "../kube/exec-credential.js";
import type { GkeToken } from "./token.js";

/** A cached token is used until this long before it expires: 5 minutes. */
export const GKE_CACHE_MARGIN_MS = 5 * 60 * 1000;

const FINGERPRINT_RE = /^[0-9a-f]{64}$/;

/**
 * The cache folder: `~/.kube/cache/kubeiam/gcp`, under the one root of kubeiam's caches (the EKS
 * credential cache is its sibling `aws`).
 *
 * @example
 * ```ts
 * defaultGkeCacheDir({ HOME: "/home/me" }); // "/home/me/.kube/cache/kubeiam/gcp"
 * ```
 */
export function defaultGkeCacheDir(env: Record<string, string | undefined>): string {
  return join(kubeiamCacheRoot(env), "gcp");
}

/**
 * Where kubeiam 0.1 kept GKE tokens: `$XDG_CACHE_HOME/kubeiam/gke`, else `~/.cache/kubeiam/gke`.
 * Never read now (its tokens live an hour at most, so moving them would save one exchange);
 * `kubeiam cache clear` still deletes its token files so that none is left behind.
 *
 * @example
 * ```ts
 * legacyGkeCacheDir({ HOME: "/home/me" }); // "/home/me/.cache/kubeiam/gke"
 * ```
 */
export function legacyGkeCacheDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_CACHE_HOME?.trim() || join(env.HOME || homedir(), ".cache");
  return join(base, "kubeiam", "gke");
}

/**
 * The cache file of one identity fingerprint.
 *
 * @example
 * ```ts
 * gkeCacheFile("/home/me/.kube/cache/kubeiam/gcp", fingerprint); // ".../token-<fingerprint>.json"
 * ```
 */
export function gkeCacheFile(dir: string, fingerprint: string): string {
  if (!FINGERPRINT_RE.test(fingerprint)) {
    throw new InvalidInputError("fingerprint", "a token cache fingerprint is 64 lower-case hex characters (see gkeIdentityFingerprint)");
  }
  return join(dir, `token-${fingerprint}.json`);
}

/**
 * The cached token of a fingerprint, when there is one that stays valid for more than the margin.
 * A missing, unreadable, malformed, foreign or loosely-permitted file counts as a miss, never an error.
 *
 * @example
 * ```ts
 * const hit = await readGkeCachedToken(dir, fingerprint, Date.now());
 * if (hit) return hit;
 * ```
 */
export async function readGkeCachedToken(dir: string, fingerprint: string, now?: TimeInput): Promise<GkeToken | undefined> {
  const path = gkeCacheFile(dir, fingerprint);
  let text: string;
  try {
    const info = await stat(path);
    // Someone else could have read or planted it: do not trust it.
    if (!info.isFile() || (info.mode & 0o077) !== 0 || (typeof process.getuid === "function" && info.uid !== process.getuid())) return undefined;
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const rec = parsed as Record<string, unknown>;
  if (rec.version !== 1 || rec.fingerprint !== fingerprint) return undefined;
  if (typeof rec.token !== "string" || rec.token === "" || typeof rec.expiresAt !== "string") return undefined;
  const expiresAt = new Date(rec.expiresAt);
  if (Number.isNaN(expiresAt.getTime())) return undefined;
  if (toEpochMs(now) >= expiresAt.getTime() - GKE_CACHE_MARGIN_MS) return undefined;
  return mintedToken(rec.token, expiresAt);
}

/**
 * Stores a token under its fingerprint: temporary file (0600) then rename, in a 0700 folder.
 * Failures are returned, not thrown: a cache that cannot be written must not fail kubectl.
 *
 * @example
 * ```ts
 * const problem = await writeGkeCachedToken(dir, fingerprint, token);
 * if (problem) console.error(`warning: ${problem}`);
 * ```
 */
export async function writeGkeCachedToken(dir: string, fingerprint: string, token: Pick<GkeToken, "token" | "expiresAt">): Promise<string | undefined> {
  const path = gkeCacheFile(dir, fingerprint);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const text = JSON.stringify({ version: 1, fingerprint, token: token.token, expiresAt: token.expiresAt.toISOString() });
    // No fsync: a cache entry lost in a crash costs one token exchange, and kubectl waits on this.
    // The atomic write loads here, not with import("kubeiam").
    const { writeFileAtomic } = await import("../lib/fs.js");
    await writeFileAtomic(path, text, { mode: 0o600, sync: false });
    return undefined;
  } catch (cause) {
    return `cannot write the token cache in ${dir} (${(cause as NodeJS.ErrnoException).code ?? "error"}): tokens will not be cached`;
  }
}
