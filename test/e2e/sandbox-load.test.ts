/**
 * The sandbox under load, short: 50 concurrent clients for 2 seconds against a cluster endpoint of
 * `kubeiam sandbox`, each request authenticated with a real token; not one may fail. (`npm run
 * bench` runs the 10-second version and prints the figures.) No timing is asserted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatSandboxLoad, runSandboxLoad } from "../../bench/sandbox-load.js";

test("50 concurrent clients for 2 s: every request answered 200", async (t) => {
  const result = await runSandboxLoad({ clients: 50, durationMs: 2000 });
  t.diagnostic(formatSandboxLoad(result));
  assert.equal(result.failures, 0, result.failureSamples.join("; "));
  assert.ok(result.requests >= 50, `at least one request a client (${result.requests})`);
  assert.ok(result.p99Ms >= result.p50Ms && result.maxMs >= result.p99Ms);
});
