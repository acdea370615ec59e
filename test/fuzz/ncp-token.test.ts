/**
 * Fuzz: decodeNcpToken and verifyNcpToken over thousands of generated and mutated tokens
 * (properties in props/ncp-token.ts, run in a worker so that a hang is caught and stopped).
 */
import { test } from "node:test";
import { assertFuzz } from "../helpers/fuzz-assert.js";

test("fuzz NKS tokens: a typed result for every input, never a hang or an acceptance without the right signature", async (t) => {
  await assertFuzz(t, new URL("./props/ncp-token.js", import.meta.url), [
    { name: "decodeNeverThrowsUntyped", numRuns: 3000, timeLimitMs: 1500 },
    { name: "verifyGeneratedNeverAcceptsForgeries", numRuns: 2500, timeLimitMs: 1500 },
    { name: "verifyMutatedAcceptsOnlyTheOriginal", numRuns: 2500, timeLimitMs: 1500 },
  ]);
});
