/**
 * Records every module a child node process loads, by the specifier it was asked for: ES imports
 * through a module-resolution hook (registered with `--import`), and CommonJS `require()` calls
 * (a package's own files, and kubeiam's lazy `createRequire(import.meta.url)("yaml")`), which that
 * hook never sees, through a `--require` preload that wraps `Module._load`. Both append to one file,
 * named by the child's `KUBEIAM_TRACE_FILE`, one specifier a line. The ES hook also writes the URL
 * each import resolved to, to the same name plus `.urls`: a relative specifier (`./kubeconfig.js`)
 * does not say which folder's module it is.
 *
 * A `require()` of a built-in without its scheme (`require("fs")`) is recorded as `node:fs`, the way
 * ES imports name built-ins, so that a filter on `node:` covers both.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** A tracer's files in its own temp folder. */
export interface ModuleTracer {
  /** The node options that load both hooks; put them before the script. */
  nodeArgs: string[];
  /** A new, empty trace file and the environment variable that points the child at it. */
  newTrace(name: string): Promise<{ file: string; env: { KUBEIAM_TRACE_FILE: string } }>;
  /** The specifiers recorded in a trace file, in load order, without blanks. */
  read(file: string): Promise<string[]>;
  /** The URLs the trace's ES imports resolved to, in load order, once each. */
  readUrls(file: string): Promise<string[]>;
  /** Deletes the tracer's folder. */
  remove(): Promise<void>;
}

const ESM_HOOK = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  appendFileSync(process.env.KUBEIAM_TRACE_FILE, specifier + "\\n");
  const resolved = await next(specifier, context);
  appendFileSync(process.env.KUBEIAM_TRACE_FILE + ".urls", resolved.url + "\\n");
  return resolved;
}
`;

// Module._load is what every require() goes through (Module.prototype.require calls it), whether the
// require function is a CommonJS module's own or one made by createRequire().
const CJS_HOOK = `"use strict";
const { appendFileSync } = require("node:fs");
const Module = require("node:module");
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const file = process.env.KUBEIAM_TRACE_FILE;
  if (file) appendFileSync(file, (Module.isBuiltin(request) && !request.startsWith("node:") ? "node:" + request : request) + "\\n");
  return load.apply(this, arguments);
};
`;

/**
 * Writes the two hooks into a fresh temp folder.
 *
 * @example
 * ```ts
 * const tracer = await createModuleTracer();
 * const { file, env } = await tracer.newTrace("root");
 * await exec(process.execPath, [...tracer.nodeArgs, "-e", "require('yaml')"], { env: { ...env, PATH } });
 * assert.ok((await tracer.read(file)).includes("yaml"));
 * ```
 */
export async function createModuleTracer(): Promise<ModuleTracer> {
  const dir = await mkdtemp(join(tmpdir(), "kubeiam-trace-"));
  const hooks = join(dir, "hooks.mjs");
  const register = join(dir, "register.mjs");
  const cjs = join(dir, "cjs-trace.cjs");
  await writeFile(hooks, ESM_HOOK);
  await writeFile(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  await writeFile(cjs, CJS_HOOK);
  let traces = 0;
  return {
    nodeArgs: ["--require", cjs, "--import", pathToFileURL(register).href],
    async newTrace(name) {
      const file = join(dir, `${++traces}-${name}.trace`);
      await writeFile(file, "");
      await writeFile(`${file}.urls`, "");
      return { file, env: { KUBEIAM_TRACE_FILE: file } };
    },
    async read(file) {
      return (await readFile(file, "utf8")).split("\n").filter((line) => line !== "");
    },
    async readUrls(file) {
      return [...new Set((await readFile(`${file}.urls`, "utf8")).split("\n").filter((line) => line !== ""))];
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
