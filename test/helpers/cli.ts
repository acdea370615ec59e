/**
 * What every CLI refusal must look like, for tests that run commands in-process or as children.
 */
import assert from "node:assert/strict";

/** A finished command: exit status and what it wrote. */
export interface CliRun {
  status: number;
  out: string;
  err: string;
}

/**
 * Asserts a refusal: the exit status, nothing on stdout, exactly one line on stderr matching
 * `pattern`, no stack trace, and none of `secrets` anywhere.
 */
export function assertOneLine(r: CliRun, status: number, pattern: RegExp, secrets: readonly string[] = []): void {
  assert.equal(r.status, status, r.err);
  assert.equal(r.out, "");
  assert.equal(r.err.split("\n").length, 2, `one line expected, got: ${r.err}`);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.match(r.err, pattern);
  for (const secret of secrets) assert.ok(!r.err.includes(secret), "stderr must not hold a secret");
}
