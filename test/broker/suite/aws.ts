/**
 * The broker suite's AWS credentials with a role: AssumeRole once, tokens signed with the role's keys.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call } from "../helpers.js";
import { verifyEksTokenByHand } from "../../aws/stand-ins.js";
import { AWS_BASE_AK, AWS_BASE_SECRET, AWS_ROLE_ARN, AWS_EXTERNAL_ID, AWS_ROLE_KEYS, clusterVersionStatus, type BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * awsTests(brokerFixture("sqlite"));
 * ```
 */
export function awsTests(f: BrokerFixture): void {
  describe(`aws (${f.kind})`, () => {
    test("aws.roleArn: the broker assumes the role at STS with the held keys (external id, session name), once for many token requests, and signs with the role's keys", async () => {
      const { broker, admin, base, secrets, sts, eksApi, eksCluster, roleKeysIssued, roleSecrets, addUser, auditOf } = f;
      const before = sts.assumed.length;
      const cred = await call(base, "POST", "/v1/credentials", {
        token: admin,
        body: { name: "aws-role", provider: "aws", aws: { accessKeyId: AWS_BASE_AK, secretAccessKey: AWS_BASE_SECRET, roleArn: AWS_ROLE_ARN, externalId: AWS_EXTERNAL_ID } },
      });
      assert.equal(cred.status, 201, cred.text);
      assert.deepEqual(cred.json, { name: "aws-role", provider: "aws" });
      const listed = await call(base, "GET", "/v1/credentials", { token: admin });
      assert.equal(listed.json.credentials.find((c: { name: string }) => c.name === "aws-role")?.actsAs, AWS_ROLE_ARN, "the listing names the role it assumes");
      assert.ok(!listed.text.includes(AWS_BASE_SECRET) && !listed.text.includes(AWS_EXTERNAL_ID));
      const row = await broker.ctx.store.credentialByName("aws-role");
      assert.ok(row && !row.sealed.includes(AWS_BASE_SECRET) && !row.sealed.includes(AWS_EXTERNAL_ID));
      // Registration looks the cluster up at the EKS API, which knows only the role's keys.
      const add = await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "eks-role", credential: "aws-role", region: "us-east-2", aws: { clusterName: "fleet-eks" } } });
      assert.equal(add.status, 201, add.text);
      assert.deepEqual(add.json, { name: "eks-role", provider: "aws", region: "us-east-2", endpoint: eksCluster.url, status: "Active" });
      assert.equal(sts.assumed.length, before + 1);
      const asked = sts.assumed[before];
      assert.equal(asked?.Action, "AssumeRole");
      assert.equal(asked?.RoleArn, AWS_ROLE_ARN);
      assert.equal(asked?.ExternalId, AWS_EXTERNAL_ID);
      assert.equal(asked?.RoleSessionName, "kubeiam-broker");
      assert.ok(sts.requests.every((r) => r.path !== "AssumeRole" || r.rejected === undefined), "signed with the held base keys");

      const ivy = await addUser("ivy");
      assert.equal((await call(base, "PUT", "/v1/grants/ivy/eks-role", { token: admin })).status, 204);
      const answers = await Promise.all(Array.from({ length: 16 }, () => call(base, "GET", "/v1/clusters/eks-role/token", { token: ivy })));
      // ivy's tokens come from a role session named after her, apart from the registration's.
      const role = roleKeysIssued[1];
      assert.ok(role);
      assert.equal(sts.assumed[before + 1]?.RoleSessionName, "kubeiam-ivy");
      for (const a of answers) {
        assert.equal(a.status, 200, a.text);
        const token = a.json.status.token as string;
        secrets.push(token);
        const who = verifyEksTokenByHand(token, { secretFor: (k) => roleSecrets[k], clusterName: "fleet-eks", now: Date.now() });
        assert.equal(who.accessKeyId, role.accessKeyId, "signed with the role's key, not the held one");
        assert.equal(who.sessionToken, role.sessionToken, "the role's session token is in the presigned URL");
        assert.equal(who.region, "us-east-2");
        assert.ok(Date.parse(a.json.status.expirationTimestamp) <= Date.parse(role.expiration));
      }
      assert.equal(sts.assumed.length, before + 2, "one AssumeRole for the registration, one for ivy's sixteen concurrent token requests");
      assert.ok(eksApi.requests.length > 0 && eksApi.requests.every((r) => r.rejected === undefined));
      // The cluster itself accepts the token (its stand-in verifies it by hand with the role's keys).
      const seen = eksCluster.seen.length;
      assert.equal(await clusterVersionStatus(eksCluster.url, eksCluster.caData, answers[0]?.json.status.token), 200);
      assert.deepEqual(eksCluster.seen.slice(seen), [{ accepted: true }]);

      // Renewed 5 minutes before the role's keys expire, not earlier.
      const end = Date.parse(role.expiration);
      for (const [at, assumedSoFar, key] of [
        [end - 5 * 60_000 - 1000, before + 2, role.accessKeyId],
        [end - 5 * 60_000, before + 3, AWS_ROLE_KEYS[2]?.accessKeyId],
      ] as const) {
        f.frozen = at;
        let r;
        try {
          r = await call(base, "GET", "/v1/clusters/eks-role/token", { token: ivy });
        } finally {
          f.frozen = undefined;
        }
        assert.equal(r.status, 200, r.text);
        secrets.push(r.json.status.token);
        assert.equal(sts.assumed.length, assumedSoFar);
        assert.equal(verifyEksTokenByHand(r.json.status.token, { secretFor: (k) => roleSecrets[k], clusterName: "fleet-eks", now: at }).accessKeyId, key);
      }
      const rows = await auditOf("user=ivy&limit=100");
      assert.equal(rows.filter((e) => e.action === "token.issue" && e.outcome === "issued").length, 18);
    });

    test("aws.roleArn refused by STS (wrong external id): the registration is a 400 naming the role and STS's reason, nothing stored, no secret shown", async () => {
      const { admin, base, sts, assertError } = f;
      const cred = await call(base, "POST", "/v1/credentials", {
        token: admin,
        body: { name: "aws-wrong-id", provider: "aws", aws: { accessKeyId: AWS_BASE_AK, secretAccessKey: AWS_BASE_SECRET, roleArn: AWS_ROLE_ARN, externalId: "not-the-right-one" } },
      });
      assert.equal(cred.status, 201, cred.text);
      const before = sts.assumed.length;
      const r = await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "eks-refused", credential: "aws-wrong-id", region: "us-east-2", aws: { clusterName: "fleet-eks" } } });
      assertError(r, 400, "cloud_rejected", /cannot assume role arn:aws:iam::123456789012:role\/eks-fleet \(AccessDenied: .*not authorized to perform: sts:AssumeRole/);
      assert.ok(!r.text.includes("not-the-right-one"), "the external id is not repeated");
      assert.equal(sts.assumed.length, before);
      assert.ok(!(await call(base, "GET", "/v1/clusters", { token: admin })).json.clusters.some((c: any) => c.name === "eks-refused"));
      assert.equal((await call(base, "DELETE", "/v1/credentials/aws-wrong-id", { token: admin })).status, 204);
    });
  });
}
