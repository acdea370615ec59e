/**
 * The console's static files (stylesheet, script, icon), shipped in the package next to this module
 * (the build copies `src/broker/console/assets` to `dist/broker/console/assets`) and read once at start
 * for their digests (a missing file stops the start, not a page later); `@fastify/static` serves them.
 * Pages link each under a URL that carries its digest, so a new version is never a stale cache hit.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FileError } from "../../lib/errors.js";

/** One file the console serves. */
export interface ConsoleAsset {
  /** Its file name in the assets folder. */
  name: string;
  /** Its URL path, `/console/assets/NAME`. */
  path: string;
  /** Its URL with the digest as query (`?v=…`), for pages to link. */
  href: string;
  contentType: string;
}

/** The console's files by name. */
export interface ConsoleAssets {
  /** The folder they are served from (absolute). */
  dir: string;
  css: ConsoleAsset;
  js: ConsoleAsset;
  icon: ConsoleAsset;
}

const FILES = {
  css: { name: "console.css", type: "text/css; charset=utf-8" },
  js: { name: "console.js", type: "text/javascript; charset=utf-8" },
  icon: { name: "icon.svg", type: "image/svg+xml" },
} as const;

/** The URL prefix of the console's files. */
export const ASSET_PREFIX = "/console/assets/";

/**
 * Reads the console's files from `dir` (the package's own copy by default). A missing file is an
 * error at start, not a page without its stylesheet later.
 *
 * @example
 * ```ts
 * const assets = loadConsoleAssets();
 * assets.js.href; // "/console/assets/console.js?v=3f2a…"
 * ```
 */
export function loadConsoleAssets(dir: URL = new URL("./assets/", import.meta.url)): ConsoleAssets {
  const load = (file: { name: string; type: string }): ConsoleAsset => {
    let body: Buffer;
    const path = fileURLToPath(new URL(file.name, dir));
    try {
      body = readFileSync(path);
    } catch (cause) {
      throw new FileError(path, "io", `the console's file ${path} cannot be read: reinstall kubeiam, or run 'npm run build' in a checkout`, { cause });
    }
    const digest = createHash("sha256").update(body).digest("base64url").slice(0, 16);
    return { name: file.name, path: `${ASSET_PREFIX}${file.name}`, href: `${ASSET_PREFIX}${file.name}?v=${digest}`, contentType: file.type };
  };
  return { dir: fileURLToPath(dir), css: load(FILES.css), js: load(FILES.js), icon: load(FILES.icon) };
}
