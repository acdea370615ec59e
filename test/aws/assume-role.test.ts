/**
 * assumeAwsRole at the local STS (signature checked by hand there), its refusals in one line without
 * a secret, and the in-memory credential cache a server keeps: one resolution in flight per key,
 * fresh until 5 minutes before expiry, failures not kept.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { assumeAwsRole } from "../../src/aws/assume-role.js";
import { AWS_CACHE_MARGIN_MS, AwsCredentialMemory, awsCredentialsFresh } from "../../src/aws/cache.js";
import type { AwsCredentials } from "../../src/aws/token.js";
import { CredentialsError, InvalidInputError, NetworkError } from "../../src/lib/errors.js";
import { startSts, type LocalServer } from "./stand-ins.js";

const BASE = { accessKeyId: "AKIDASSUMETEST000001", secretAccessKey: randomBytes(24).toString("hex") };
const ROLE = "arn:aws:iam::123456789012:role/deployer";
const ISSUED = { accessKeyId: "ASIAASSUMED000000001", secretAccessKey: randomBytes(24).toString("hex"), sessionToken: `st-${randomBytes(12).toString("hex")}`, expiration: "2099-01-01T00:00:00Z" };
let sts: LocalServer & { assumed: Record<string, string>[] };

before(async () => {
  sts = await startSts({ keys: { [BASE.accessKeyId]: BASE.secretAccessKey }, roles: { [ROLE]: { externalId: "ext-123" } }, issue: ISSUED });
});
after(() => sts.close());

const input = (extra: Partial<Parameters<typeof assumeAwsRole>[0]> = {}) => ({
  credentials: BASE,
  roleArn: ROLE,
  sessionName: "unit-session",
  externalId: "ext-123",
  region: "eu-central-1",
  stsEndpoint: sts.url,
  env: {},
  ...extra,
});

test("assumeAwsRole: AssumeRole with role, session name and external id, signed by the base keys; the role's four fields back", async () => {
  const role = await assumeAwsRole(input());
  assert.deepEqual(role, { accessKeyId: ISSUED.accessKeyId, secretAccessKey: ISSUED.secretAccessKey, sessionToken: ISSUED.sessionToken, expiration: new Date(ISSUED.expiration) });
  const form = sts.assumed.at(-1);
  assert.equal(form?.RoleArn, ROLE);
  assert.equal(form?.RoleSessionName, "unit-session");
  assert.equal(form?.ExternalId, "ext-123");
  assert.equal(sts.requests.at(-1)?.rejected, undefined);
});

test("assumeAwsRole: refused by STS is a CredentialsError in one line, naming the role and STS's code, no secret", async () => {
  await assert.rejects(assumeAwsRole(input({ externalId: "wrong-one" })), (e: unknown) => {
    assert.ok(e instanceof CredentialsError);
    assert.match(e.message, /^cannot assume role arn:aws:iam::123456789012:role\/deployer \(AccessDenied: /);
    assert.ok(!e.message.includes("\n") && !e.message.includes(BASE.secretAccessKey) && !e.message.includes("wrong-one"));
    return true;
  });
});

test("assumeAwsRole: STS unreachable is a NetworkError in one line", async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(assumeAwsRole(input({ stsEndpoint: `http://127.0.0.1:${port}` })), (e: unknown) => {
    assert.ok(e instanceof NetworkError, String(e));
    assert.match(e.message, /^cannot assume role .*: STS could not be reached \(.*ECONNREFUSED/);
    assert.ok(!e.message.includes("\n") && !e.message.includes(BASE.secretAccessKey));
    return true;
  });
});

test("assumeAwsRole: a bad role ARN, session name or external id is refused before any call", async () => {
  const calls = sts.requests.length;
  await assert.rejects(assumeAwsRole(input({ roleArn: "deployer" })), (e: unknown) => e instanceof InvalidInputError && e.field === "roleArn");
  await assert.rejects(assumeAwsRole(input({ sessionName: "a b" })), (e: unknown) => e instanceof InvalidInputError && e.field === "sessionName");
  await assert.rejects(assumeAwsRole(input({ externalId: "x" })), (e: unknown) => e instanceof InvalidInputError && e.field === "externalId");
  assert.equal(sts.requests.length, calls);
});

test("AwsCredentialMemory: concurrent callers share one resolution; fresh until 5 minutes before expiry, then resolved again", async () => {
  let now = Date.UTC(2030, 0, 1);
  const memory = new AwsCredentialMemory(() => now);
  let calls = 0;
  const resolve = async (): Promise<AwsCredentials> => {
    calls++;
    await new Promise((r) => setTimeout(r, 20));
    return { accessKeyId: `ASIA${calls}`, secretAccessKey: "s", sessionToken: "t", expiration: new Date(now + 3_600_000) };
  };
  const got = await Promise.all(Array.from({ length: 10 }, () => memory.get("k", resolve)));
  assert.equal(calls, 1);
  assert.ok(got.every((c) => c === got[0]));
  const end = Date.UTC(2030, 0, 1) + 3_600_000;
  now = end - AWS_CACHE_MARGIN_MS - 1;
  assert.equal((await memory.get("k", resolve)).accessKeyId, "ASIA1");
  now = end - AWS_CACHE_MARGIN_MS;
  assert.equal((await memory.get("k", resolve)).accessKeyId, "ASIA2");
  assert.equal(calls, 2);
  assert.equal((await memory.get("other", resolve)).accessKeyId, "ASIA3", "keys do not share");
});

test("AwsCredentialMemory: a failed resolution is not kept; the next caller tries again", async () => {
  const memory = new AwsCredentialMemory(() => 0);
  let calls = 0;
  const failing = async (): Promise<AwsCredentials> => {
    calls++;
    throw new Error("sts down");
  };
  const results = await Promise.allSettled([memory.get("k", failing), memory.get("k", failing)]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  assert.equal(calls, 1, "one call in flight, shared by both");
  assert.equal((await memory.get("k", async () => ({ accessKeyId: "AK", secretAccessKey: "s" }))).accessKeyId, "AK");
  assert.equal(memory.size, 1);
});

test("awsCredentialsFresh: long-lived keys are always fresh; temporary ones until the 5-minute margin", () => {
  assert.equal(awsCredentialsFresh({ accessKeyId: "a", secretAccessKey: "s" }, 0), true);
  const c = { accessKeyId: "a", secretAccessKey: "s", expiration: new Date(1_000_000_000) };
  assert.equal(awsCredentialsFresh(c, 1_000_000_000 - AWS_CACHE_MARGIN_MS - 1), true);
  assert.equal(awsCredentialsFresh(c, 1_000_000_000 - AWS_CACHE_MARGIN_MS), false);
});
