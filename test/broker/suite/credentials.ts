/**
 * The broker suite's /v1/credentials: sealed keys, bad bodies.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call } from "../helpers.js";
import { AWS_ROLE_ARN, type BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * credentialTests(brokerFixture("sqlite"));
 * ```
 */
export function credentialTests(f: BrokerFixture): void {
  describe(`credentials (${f.kind})`, () => {
    test("POST /v1/credentials seals the key; no endpoint returns it; a taken name is 409", async () => {
      const { sandbox, broker, admin, base, addCredential, assertError } = f;
      const r = await addCredential("sandbox");
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.json, { name: "sandbox", provider: "ncp" });
      const list = await call(base, "GET", "/v1/credentials", { token: admin });
      assert.equal(list.status, 200);
      assert.deepEqual(list.json.credentials.map((c: any) => [c.name, c.provider]), [["sandbox", "ncp"]]);
      assert.ok(!list.text.includes(sandbox.secretKey) && !list.text.includes(sandbox.accessKey));
      const row = await broker.ctx.store.credentialByName("sandbox");
      assert.ok(row && !row.sealed.includes(sandbox.secretKey));
      assertError(await addCredential("sandbox"), 409, "conflict", /already exists/);
    });

    test("bad credential bodies: malformed JSON, unknown field, missing secret, unknown provider, wrong block, non-object, too big", async () => {
      const { admin, base, assertError } = f;
      const post = (body: unknown) => call(base, "POST", "/v1/credentials", { token: admin, body });
      assertError(await call(base, "POST", "/v1/credentials", { token: admin, rawBody: '{"name":', headers: { "content-type": "application/json" } }), 400, "bad_request", /not valid JSON/);
      assertError(await post({ name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b" }, extra: 1 }), 400, "bad_request", /field extra is not known/);
      assertError(await post({ name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b", region: "KR" } }), 400, "bad_request", /field ncp\.region is not known/);
      assertError(await post({ name: "x", provider: "ncp", ncp: { accessKey: "a" } }), 400, "bad_request", /field ncp\.secretKey is missing/);
      assertError(await post({ name: "x", provider: "ncp" }), 400, "bad_request", /field ncp is missing/);
      assertError(await post({ name: "x", provider: "azure" }), 400, "bad_request", /provider must be one of "ncp", "aws", "gcp"/);
      assertError(await post({ name: "x", provider: "aws", ncp: { accessKey: "a", secretKey: "b" } }), 400, "bad_request", /ncp does not belong to a aws credential/);
      assertError(
        await post({ name: "x", provider: "aws", aws: { accessKeyId: "a", secretAccessKey: "b", roleArn: "arn:aws:iam::1:role/r" } }),
        400,
        "bad_request",
        /aws\.roleArn: role ARN "arn:aws:iam::1:role\/r" is not an IAM role ARN/,
      );
      assertError(await post({ name: "x", provider: "aws", aws: { accessKeyId: "a", secretAccessKey: "b", externalId: "team-1" } }), 400, "bad_request", /aws\.externalId goes with aws\.roleArn/);
      assertError(
        await post({ name: "x", provider: "aws", aws: { accessKeyId: "a", secretAccessKey: "b", roleArn: AWS_ROLE_ARN, sessionName: "has space" } }),
        400,
        "bad_request",
        /aws\.sessionName: role session name/,
      );
      assertError(await post({ name: "x", provider: "aws", aws: { accessKeyId: "a", secretAccessKey: "b", roleArn: AWS_ROLE_ARN, externalId: "x" } }), 400, "bad_request", /aws\.externalId: the external id is not valid/);
      assertError(await post({ name: "x", provider: "gcp", gcp: { serviceAccount: { type: "service_account", client_email: "a@b" } } }), 400, "bad_request", /gcp\.serviceAccount/);
      // 20,000 levels deep (40 KB, under the body limit): a 400 naming the field, not a stack overflow's 500.
      const deep = `{"name":"x","provider":"gcp","gcp":{"serviceAccount":{"type":"service_account","a":${"[".repeat(20_000)}${"]".repeat(20_000)}}}}`;
      assertError(await call(base, "POST", "/v1/credentials", { token: admin, rawBody: deep, headers: { "content-type": "application/json" } }), 400, "bad_request", /gcp\.serviceAccount\.a must be a string/);
      assertError(await post({ name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b", apiUrl: "http://example.com" } }), 400, "bad_request", /https/);
      assertError(await post({ name: "bad name!", provider: "ncp", ncp: { accessKey: "a", secretKey: "b" } }), 400, "bad_request", /field name has characters/);
      assertError(await post([1, 2]), 400, "bad_request", /must be a JSON object/);
      assertError(await call(base, "POST", "/v1/credentials", { token: admin, rawBody: "name=x", headers: { "content-type": "text/plain" } }), 400, "bad_request", /must be a JSON object/);
      assertError(await call(base, "POST", "/v1/credentials", { token: admin, rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }), 400, "bad_request", /not JSON/);
      const big = await post({ name: "x", provider: "ncp", ncp: { accessKey: "a", secretKey: "b".repeat(70 * 1024) } });
      assertError(big, 413, "body_too_large", /64 KiB/);
      const list = await call(base, "GET", "/v1/credentials", { token: admin });
      assert.deepEqual(list.json.credentials.map((c: any) => c.name), ["sandbox"], "nothing half-written");
    });
  });
}
