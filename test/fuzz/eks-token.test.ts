/**
 * Fuzz: decodeEksToken over thousands of generated and mutated tokens (properties in
 * props/eks-token.ts, run in a worker so that a hang is caught and stopped).
 */
import { test } from "node:test";
import { assertFuzz } from "../helpers/fuzz-assert.js";

test("fuzz EKS tokens: decodeEksToken gives real dates or ERR_TOKEN_MALFORMED, never an untyped error or a hang", async (t) => {
  await assertFuzz(t, new URL("./props/eks-token.js", import.meta.url), [
    { name: "seedsDecode", numRuns: 10, timeLimitMs: 1000 },
    { name: "decodeNeverThrowsUntyped", numRuns: 5000, timeLimitMs: 2500 },
  ]);
});
