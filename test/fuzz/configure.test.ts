/**
 * Fuzz: the NCP configure-file reader over thousands of generated and mutated files (properties in
 * props/configure.ts, run in a worker so that a hang is caught and stopped).
 */
import { test } from "node:test";
import { assertFuzz } from "../helpers/fuzz-assert.js";

test("fuzz the configure reader: credentials or a one-line typed error for every file, never the secret, never a hang", async (t) => {
  await assertFuzz(t, new URL("./props/configure.js", import.meta.url), [{ name: "readerNeverThrowsUntyped", numRuns: 3000, timeLimitMs: 2500 }]);
});
