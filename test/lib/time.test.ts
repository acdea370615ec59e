/**
 * The shared clock: which times a Date can hold (ECMA-262: ±8.64e15 ms), checked at the edges.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { dateFromEpochMs, isEpochMs, MAX_DATE_MS, toEpochMs } from "../../src/lib/time.js";
import { InvalidInputError } from "../../src/lib/errors.js";

test("MAX_DATE_MS is the last time a Date holds, and one more millisecond is none", () => {
  assert.equal(new Date(MAX_DATE_MS).toISOString(), "+275760-09-13T00:00:00.000Z");
  assert.ok(Number.isNaN(new Date(MAX_DATE_MS + 1).getTime()));
});

test("isEpochMs and dateFromEpochMs: the Date range, both ways; NaN and infinities are none", () => {
  for (const ms of [0, 1767225600000, MAX_DATE_MS, -MAX_DATE_MS, 0.5]) {
    assert.equal(isEpochMs(ms), true, String(ms));
    assert.equal(dateFromEpochMs(ms)?.getTime(), new Date(ms).getTime());
  }
  for (const ms of [MAX_DATE_MS + 1, -MAX_DATE_MS - 1, 1e300, Number.NaN, Infinity, -Infinity]) {
    assert.equal(isEpochMs(ms), false, String(ms));
    assert.equal(dateFromEpochMs(ms), undefined, String(ms));
  }
});

test("toEpochMs refuses a time no Date can hold with INVALID_INPUT (field now)", () => {
  assert.equal(toEpochMs(MAX_DATE_MS), MAX_DATE_MS);
  assert.equal(toEpochMs(1767225600000.9), 1767225600000);
  for (const now of [MAX_DATE_MS + 1, 1e300, Number.NaN, new Date("not a date")]) {
    assert.throws(() => toEpochMs(now), (e: unknown) => e instanceof InvalidInputError && e.field === "now" && /not a valid time/.test(e.message));
  }
});
