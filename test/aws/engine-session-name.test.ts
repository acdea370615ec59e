import assert from "node:assert/strict";
import { test } from "node:test";
import { personRoleSessionName } from "../../src/aws/engine.js";

// STS's RoleSessionName: 2 to 64 characters of [\w+=,.@-] (AssumeRole API reference). Expected values by hand.
const STS_NAME = /^[\w+=,.@-]{2,64}$/;

test("a person's role session name is kubeiam-<user>, within STS's rules", () => {
  for (const [user, expected] of [
    ["ivy", "kubeiam-ivy"],
    ["carol@example.com", "kubeiam-carol@example.com"],
    ["a b/c:d", "kubeiam-a-b-c-d"],
    ["é", "kubeiam--"],
    ["x".repeat(80), `kubeiam-${"x".repeat(56)}`],
  ] as const) {
    const name = personRoleSessionName(user);
    assert.equal(name, expected);
    assert.match(name, STS_NAME);
  }
});
