#!/usr/bin/env node
// Copies the files that ship beside the compiled code (the web console's stylesheet, script and icon)
// from src/ to an output tree: `node scripts/copy-assets.mjs dist` (the package) or
// `node scripts/copy-assets.mjs .test-build/src` (the tests' build).
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2];
if (out === undefined) {
  console.error("scripts/copy-assets.mjs: give the output folder (dist, or .test-build/src)");
  process.exit(2);
}
const FOLDERS = ["broker/console/assets"];
for (const folder of FOLDERS) {
  mkdirSync(join(out, folder), { recursive: true });
  cpSync(join("src", folder), join(out, folder), { recursive: true });
}
