import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { resolveAwsCredentials, resolveAwsProfile, resolveAwsRegion } from "../../src/aws/credentials.js";
import { CredentialsError, InvalidInputError, UsageError } from "../../src/lib/errors.js";
import { startSts } from "./stand-ins.js";

const dir = mkdtempSync(join(tmpdir(), "kubeiam-aws-creds-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const secretA = randomBytes(24).toString("hex");
const secretB = randomBytes(24).toString("hex");
const configFile = join(dir, "config");
const credentialsFile = join(dir, "credentials");
const expiredScript = join(dir, "expired.cjs");
writeFileSync(
  expiredScript,
  `process.stdout.write(JSON.stringify({Version:1,AccessKeyId:"ASIAEXPIREDTEST00001",SecretAccessKey:"${secretB}",SessionToken:"s",Expiration:"2020-01-01T00:00:00Z"}))`,
);
writeFileSync(
  configFile,
  [
    "[default]",
    "region = eu-north-1",
    "[profile team]",
    "region = ap-southeast-2",
    "[profile expired]",
    `credential_process = ${process.execPath} ${expiredScript}`,
    "",
  ].join("\n"),
);
writeFileSync(credentialsFile, ["[team]", "aws_access_key_id = AKIDTEAMTEST00000001", `aws_secret_access_key = ${secretA}`, ""].join("\n"));
// Only the files above: no real environment credentials, no instance metadata.
const env = { HOME: dir, AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: credentialsFile };

test("resolveAwsRegion: flag, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region", async () => {
  assert.equal(await resolveAwsRegion({ region: "us-east-2", env: { ...env, AWS_REGION: "eu-west-1" } }), "us-east-2");
  assert.equal(await resolveAwsRegion({ env: { ...env, AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-2" } }), "eu-west-1");
  assert.equal(await resolveAwsRegion({ env: { ...env, AWS_DEFAULT_REGION: "eu-west-2" } }), "eu-west-2");
  assert.equal(await resolveAwsRegion({ env, profile: "team" }), "ap-southeast-2");
  assert.equal(await resolveAwsRegion({ env }), "eu-north-1");
});

test("resolveAwsRegion: none anywhere is a usage error naming the region field; a malformed one is refused", async () => {
  const bare = { HOME: dir, AWS_CONFIG_FILE: join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "none") };
  await assert.rejects(() => resolveAwsRegion({ env: bare }), (e: unknown) => e instanceof UsageError && e.field === "region" && /no AWS region given: name one/.test(e.message));
  await assert.rejects(() => resolveAwsRegion({ region: "us-east-1/../x", env }), InvalidInputError);
});

test("resolveAwsProfile: an unknown profile is refused with the profiles that exist", async () => {
  assert.equal(await resolveAwsProfile({ profile: "team", env }), "team");
  assert.equal(await resolveAwsProfile({ env: { ...env, AWS_PROFILE: "team" } }), "team");
  assert.equal(await resolveAwsProfile({ env }), undefined);
  await assert.rejects(
    () => resolveAwsProfile({ profile: "nope", env }),
    (e: unknown) => e instanceof CredentialsError && /profile "nope"/.test(e.message) && /default, team, expired|team/.test(e.message),
  );
});

test("resolveAwsCredentials: a profile's keys through the SDK's chain", async () => {
  const { credentials, profile } = await resolveAwsCredentials({ env, profile: "team", region: "ap-southeast-2" });
  assert.equal(profile, "team");
  assert.equal(credentials.accessKeyId, "AKIDTEAMTEST00000001");
  assert.equal(credentials.secretAccessKey, secretA);
  assert.deepEqual(Object.keys(credentials).sort(), ["accessKeyId", "secretAccessKey"]);
});

test("resolveAwsCredentials: expired session credentials are refused in one line, without the secret", async () => {
  await assert.rejects(
    resolveAwsCredentials({ env, profile: "expired", region: "us-east-1" }),
    (e: unknown) => e instanceof CredentialsError && /expired/.test(e.message) && !e.message.includes(secretB) && !e.message.includes("\n"),
  );
});

test("resolveAwsCredentials: --role-arn assumes the role at STS (signature checked by hand), session name EKSGetTokenAuth", async () => {
  const sts = await startSts({
    keys: { AKIDTEAMTEST00000001: secretA },
    issue: { accessKeyId: "ASIAROLETEST00000001", secretAccessKey: secretB, sessionToken: "role-session-token", expiration: "2099-01-01T00:00:00Z" },
  });
  after(() => sts.close());
  const resolved = await resolveAwsCredentials({
    env,
    profile: "team",
    region: "ap-southeast-2",
    roleArn: "arn:aws:iam::123456789012:role/eks-admin",
    stsEndpoint: sts.url,
  });
  assert.equal(resolved.roleArn, "arn:aws:iam::123456789012:role/eks-admin");
  assert.equal(resolved.credentials.accessKeyId, "ASIAROLETEST00000001");
  assert.equal(resolved.credentials.sessionToken, "role-session-token");
  assert.equal(resolved.credentials.expiration?.toISOString(), "2099-01-01T00:00:00.000Z");
  assert.deepEqual(sts.requests.map((r) => r.rejected), [undefined]);
  assert.equal(sts.assumed[0]?.Action, "AssumeRole");
  assert.equal(sts.assumed[0]?.RoleSessionName, "EKSGetTokenAuth");
});

test("resolveAwsCredentials: a malformed role ARN or session name is refused before any call", async () => {
  await assert.rejects(resolveAwsCredentials({ env, profile: "team", region: "us-east-1", roleArn: "eks-admin" }), InvalidInputError);
  await assert.rejects(
    resolveAwsCredentials({ env, profile: "team", region: "us-east-1", roleArn: "arn:aws:iam::123456789012:role/x", sessionName: "has space" }),
    InvalidInputError,
  );
});
