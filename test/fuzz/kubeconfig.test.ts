/**
 * Fuzz: the kubeconfig parsers, merge and writer over thousands of generated and mutated documents
 * (properties in props/kubeconfig.ts, run in a worker so that a hang is caught and stopped).
 */
import { test } from "node:test";
import { assertFuzz } from "../helpers/fuzz-assert.js";

test("fuzz kubeconfig: a typed model, a document or a KubeconfigError for every text, and merged documents round-trip, and the text splice agrees with the full path", async (t) => {
  await assertFuzz(t, new URL("./props/kubeconfig.js", import.meta.url), [
    { name: "parseNeverThrowsUntyped", numRuns: 3000, timeLimitMs: 2500 },
    { name: "documentRoundTrips", numRuns: 2000, timeLimitMs: 2500 },
    { name: "textSpliceAgreesWithDocument", numRuns: 3000, timeLimitMs: 4000 },
  ]);
});
