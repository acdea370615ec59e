#!/usr/bin/env node
// Runs the compiled test files (`*.test.js` under .test-build/test) with node's test runner. Helper
// modules are not test files, so they are never run as empty ones. `--unit` is the fast lane: it
// leaves out the end-to-end tests, PostgreSQL, the fuzzers and the browser, which `npm test` runs.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";

const root = join(".test-build", "test");
const unit = process.argv.includes("--unit");
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
/**
 * Slow or service-bound folders and files the fast lane leaves to `npm test`: end-to-end runs,
 * fuzzers, the browser, PostgreSQL, the CLI as processes, and compiling a consumer with tsc.
 */
const SLOW = [/^e2e\//, /^fuzz\//, /^console\//, /postgres/, /^cli\/process\.test\.js$/, /^consumer-types\.test\.js$/];

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith(".test.js")) yield path;
  }
}

const files = [...walk(root)]
  .filter((f) => {
    const rel = relative(root, f).split(sep).join("/");
    if (unit && SLOW.some((re) => re.test(rel))) return false;
    return only.length === 0 || only.some((o) => rel.includes(o));
  })
  .sort();
if (files.length === 0) {
  console.error("scripts/test.mjs: no test file matched: build the tests first (npm run build:test), or check the filter");
  process.exit(2);
}
// The fast lane also skips the PostgreSQL cases of files that test both stores (test/helpers/postgres.ts).
const env = unit ? { ...process.env, KUBEIAM_TEST_LANE: "unit" } : process.env;
const child = spawn(process.execPath, ["--test", "--test-concurrency=2", ...files], { stdio: "inherit", env });
child.on("exit", (code, signal) => process.exit(signal === null ? (code ?? 1) : 1));
