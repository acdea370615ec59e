import assert from "node:assert/strict";
import { test } from "node:test";
import { randomBytes } from "node:crypto";
import { awsEngine, personRoleSessionName } from "../../src/aws/engine.js";
import { startSts, verifyEksTokenByHand } from "./stand-ins.js";

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

test("the EKS engine assumes one role session per person (kubeiam-<user>) and keeps each, signing each person's tokens with their own session's keys", async () => {
  const base = { accessKeyId: "AKIDENGINEBASE000001", secretAccessKey: randomBytes(20).toString("hex") };
  const issued: Record<string, string> = {};
  const sts = await startSts({
    keys: { [base.accessKeyId]: base.secretAccessKey },
    issue: (_form, n) => {
      const keys = { accessKeyId: `ASIAENGINE${String(n).padStart(10, "0")}`, secretAccessKey: randomBytes(20).toString("hex"), sessionToken: `session-${n}`, expiration: new Date(Date.now() + 3_600_000).toISOString() };
      issued[keys.accessKeyId] = keys.secretAccessKey;
      return keys;
    },
  });
  try {
    const runtime = awsEngine.start({ now: Date.now, stsEndpoint: sts.url, env: {} });
    const secrets = { ...base, roleArn: "arn:aws:iam::123456789012:role/eks-fleet" };
    const held = (person?: string) => ({ cacheKey: "cred-1|sealed", secrets: () => secrets, ...(person === undefined ? {} : { person }) });
    const where = { cloud: "aws", region: "us-east-2", name: "fleet-eks" } as const;
    const signer = async (person?: string) => verifyEksTokenByHand((await runtime.mint(held(person), where)).token, { secretFor: (k) => issued[k], clusterName: "fleet-eks", now: Date.now() }).accessKeyId;
    const [ivy1, ivy2, jon] = await Promise.all([signer("ivy"), signer("ivy"), signer("jon@example.com")]);
    assert.equal(ivy1, ivy2, "ivy's two concurrent requests share one session");
    assert.notEqual(ivy1, jon);
    assert.equal(await signer("ivy"), ivy1, "kept");
    assert.deepEqual(sts.assumed.map((f) => f.RoleSessionName).sort(), ["kubeiam-ivy", "kubeiam-jon@example.com"]);
    // Without a person (a registration's look-up), the credential's own session name.
    await signer();
    assert.equal(sts.assumed.at(-1)?.RoleSessionName, "kubeiam-broker");
    assert.equal(sts.assumed.length, 3);
  } finally {
    await sts.close();
  }
});
