/**
 * One duration parser for every command-line duration (lib/duration.ts): what it reads, and the one
 * line each refusal gives, zero included (`serve --session-ttl 0s` used to be called "not a duration").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { durationFlag, parseDuration } from "../../src/lib/duration.js";
import { parseDurationFlag } from "../../src/cli/serve.js";
import { parseRetention } from "../../src/broker/audit-retention.js";
import { parseGrantDuration } from "../../src/cli/broker/grant.js";
import { UsageError } from "../../src/lib/errors.js";

test("parseDuration: whole numbers each with s, m, h or d, one after another; anything else undefined", () => {
  const cases: [string, number | undefined][] = [
    ["45s", 45_000],
    ["10m", 600_000],
    ["12h", 43_200_000],
    ["90d", 7_776_000_000],
    ["1h30m", 5_400_000],
    ["1d12h", 129_600_000],
    [" 2h ", 7_200_000],
    ["0s", 0],
    ["", undefined],
    ["2", undefined],
    ["h", undefined],
    ["2 h", undefined],
    ["-2h", undefined],
    ["2.5h", undefined],
    ["2w", undefined],
    ["1h-30m", undefined],
    ["2H", undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, JSON.stringify(text));
});

test("every duration flag reads the same durations: --for, --session-ttl, --session-max, --audit-retention", () => {
  for (const text of ["90s", "30m", "2h", "1h30m", "7d"]) {
    const ms = parseDuration(text);
    assert.equal(parseGrantDuration(text), ms, text);
    assert.equal(parseDurationFlag("session-ttl", text), ms, text);
    assert.equal(parseDurationFlag("session-max", text), ms, text);
    assert.equal(parseRetention(text), ms, text);
  }
});

test("--session-ttl 0s is refused as no time at all, a non-duration as not a duration: one line each, naming the flag and an example", () => {
  const refused = (f: () => unknown): string => {
    try {
      f();
    } catch (error) {
      assert.ok(error instanceof UsageError);
      return error.message;
    }
    assert.fail("not refused");
  };
  assert.equal(refused(() => parseDurationFlag("session-ttl", "0s")), "serve: --session-ttl 0s is no time at all: give a length, for example 10m");
  assert.equal(refused(() => parseDurationFlag("session-max", "0h0m")), "serve: --session-max 0h0m is no time at all: give a length, for example 10m");
  assert.equal(refused(() => parseDurationFlag("session-ttl", "ten minutes")), 'serve: --session-ttl "ten minutes" is not a duration: write whole numbers with s, m, h or d, for example 10m (or 1h30m)');
  assert.equal(refused(() => durationFlag("broker grant", "for", "0m", "2h")), "broker grant: --for 0m is no time at all: give a length, for example 2h");
  assert.equal(parseGrantDuration("0s"), undefined);
});
