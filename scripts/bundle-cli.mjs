#!/usr/bin/env node
// Builds the CLI's installed entry point, dist/cli/kubeiam.js (package.json "bin"), from the compiled
// dist/cli/main.js, and one bundle for each other exec plugin's command (`broker`, `eks`, `gke`), which
// kubeiam.js imports in place of the compiled module: `node scripts/bundle-cli.mjs` (run by `npm run
// build`, after tsc).
//
// Why: an exec plugin runs on every kubectl call, and on Node.js 20 each ES module it loads costs about
// a millisecond of resolving and reading. kubeiam.js holds main.js and the `token` command's whole path
// (14 modules) in one file, so `kubeiam token` loads 3 files of ours instead of 16 (`npm run bench --
// --only startup`). Every other command and verb still loads from dist/ on first use, as from main.js.
//
// What stays outside, so that the process has one copy of each: npm packages, Node's built-ins, every
// module reached only through a dynamic import (the other commands) and the SHARED modules below, whose
// identity or state matters (error classes that main.js tests with instanceof, the exit-cleanup
// registry). The build refuses to inline a module that exports a class or holds top-level `let`/`var`
// state: a second copy of it, loaded later by another command from dist/, would not be the same.
import { chmodSync, readFileSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { build } from "esbuild";

const DIST = resolve("dist");
const OUT_DIR = resolve(DIST, "cli");

/** The bundles, by output name (dist/cli/NAME.js), and the compiled module each starts from. */
const BUNDLES = { kubeiam: "main.js", "kubeiam-broker": "broker.js", "kubeiam-eks": "eks.js", "kubeiam-gke": "gke.js" };
/** An entry of another bundle, imported dynamically: the import goes to that bundle instead. */
const BUNDLED = new Map(Object.entries(BUNDLES).map(([name, entry]) => [resolve(OUT_DIR, entry), `./${name}.js`]));
/** Loaded by a dynamic import, yet inlined: the exec plugins' commands (`token`, `broker token`). */
const INLINE_DYNAMIC = new Set(["token.js", "broker/token.js"].map((f) => resolve(OUT_DIR, f)));
/** Never inlined: one instance per process. */
const SHARED = new Set(
  [
    "lib/errors.js", // the error classes main.js reports by
    "lib/exit-cleanup.js", // the cleanups a signal runs
    "broker/errors.js", // BrokerRefusal
    "lib/http.js", // the proxy-aware fetch, made once per process
    "lib/tty.js", // NoTerminalError, which eks.js tests for
    "aws/cache.js", // AwsCredentialMemory, the assumed roles kept for the process
  ].map((f) => resolve(DIST, f)),
);
/** A module's own state or classes, which a second copy would split. */
const STATEFUL = /^(?:export\s+(?:default\s+)?(?:abstract\s+)?class\s|(?:export\s+)?(?:let|var)\s)/m;

/** Which of dist's modules go into a bundle, and how the others are imported from it. */
const hotPath = {
  name: "kubeiam-hot-path",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      if (!args.path.startsWith(".")) return { path: args.path, external: true };
      const file = resolve(args.resolveDir, args.path);
      const bundle = BUNDLED.get(file);
      if (bundle !== undefined) return { path: bundle, external: true };
      const inline = !SHARED.has(file) && (args.kind === "import-statement" || INLINE_DYNAMIC.has(file));
      if (inline) return { path: file };
      const fromBundle = relative(OUT_DIR, file).split(sep).join("/");
      return { path: fromBundle.startsWith(".") ? fromBundle : `./${fromBundle}`, external: true };
    });
  },
};

const result = await build({
  entryPoints: Object.fromEntries(Object.entries(BUNDLES).map(([name, entry]) => [name, resolve(OUT_DIR, entry)])),
  outdir: OUT_DIR,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  metafile: true,
  logLevel: "warning",
  plugins: [hotPath],
});

const entries = new Set(BUNDLED.keys());
const inlined = Object.keys(result.metafile.inputs).map((p) => resolve(p));
const stateful = inlined.filter((file) => !entries.has(file) && STATEFUL.test(readFileSync(file, "utf8")));
if (stateful.length > 0) {
  console.error(
    `scripts/bundle-cli.mjs: ${stateful.map((f) => relative(DIST, f)).join(", ")} would be inlined into a bundle in dist/cli/, ` +
      "but exports a class or keeps module state, so a command loading it from dist/ would get a second copy: add it to SHARED",
  );
  process.exit(1);
}
chmodSync(resolve(OUT_DIR, "kubeiam.js"), 0o755);
