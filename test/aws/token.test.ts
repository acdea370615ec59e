import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { decodeEksToken, mintEksToken, stsHostFor, EKS_TOKEN_PREFIX } from "../../src/aws/token.js";
import { ErrorCode, InvalidInputError, TokenError } from "../../src/lib/errors.js";
import { verifyEksTokenByHand } from "./stand-ins.js";
import { requireTools } from "../helpers/tools.js";

const AK = "AKIDKUBEIAMTEST00001";
const randomSecret = (): string => randomBytes(30).toString("base64").replace(/[^A-Za-z0-9]/g, "x") + "/+Az";

/** Runs the AWS CLI, isolated from the machine's own AWS config, and returns its ExecCredential. */
function awsGetToken(env: Record<string, string>, args: string[]): { apiVersion: string; status: { expirationTimestamp: string; token: string } } {
  requireTools("aws"); // or one line saying what to install
  const dir = mkdtempSync(join(tmpdir(), "kubeiam-awscli-"));
  try {
    writeFileSync(join(dir, "config"), "");
    writeFileSync(join(dir, "credentials"), "");
    const out = execFileSync("aws", ["eks", "get-token", ...args], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        AWS_CONFIG_FILE: join(dir, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
        ...env,
      },
      encoding: "utf8",
    });
    return JSON.parse(out) as { apiVersion: string; status: { expirationTimestamp: string; token: string } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function dateOf(token: string): number {
  const url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), "base64url").toString("utf8"));
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(url.searchParams.get("X-Amz-Date") ?? "");
  assert.ok(m, "the AWS CLI's URL has an X-Amz-Date");
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

const cases = [
  { name: "long-term keys, us-west-2", region: "us-west-2", cluster: "prod-eks", session: false },
  { name: "session credentials, eu-central-1", region: "eu-central-1", cluster: "team_a-1", session: true },
  { name: "long-term keys, ap-northeast-2", region: "ap-northeast-2", cluster: "Z9", session: false },
  { name: "session credentials, cn-north-1 (other partition)", region: "cn-north-1", cluster: "cn-cluster", session: true },
];

for (const c of cases) {
  test(`mintEksToken equals 'aws eks get-token' byte for byte: ${c.name}`, async () => {
    const secret = randomSecret();
    // Session tokens hold / + = in real life: they must be percent-encoded as botocore does.
    const sessionToken = c.session ? `IQoJb3JpZ2luX2VjE${randomBytes(48).toString("base64")}/+=` : undefined;
    const env: Record<string, string> = { AWS_ACCESS_KEY_ID: AK, AWS_SECRET_ACCESS_KEY: secret };
    if (sessionToken !== undefined) env.AWS_SESSION_TOKEN = sessionToken;
    const cli = awsGetToken(env, ["--cluster-name", c.cluster, "--region", c.region]);
    const at = dateOf(cli.status.token);
    const ours = await mintEksToken({
      credentials: { accessKeyId: AK, secretAccessKey: secret, ...(sessionToken === undefined ? {} : { sessionToken }) },
      clusterName: c.cluster,
      region: c.region,
      now: at + 999, // fractions of the second are dropped, as the CLI's signer does
    });
    assert.equal(ours.token, cli.status.token);
    assert.equal(ours.signedAt.getTime(), at);
    // The CLI reads its clock again after signing; the two agree unless a second ticked in between.
    const cliExpiry = Date.parse(cli.status.expirationTimestamp);
    assert.ok(cliExpiry - ours.refreshAt.getTime() >= 0 && cliExpiry - ours.refreshAt.getTime() <= 1000);
    assert.equal(ours.refreshAt.getTime(), at + 14 * 60 * 1000);
    assert.equal(ours.expiresAt.getTime(), at + 15 * 60 * 1000);
  });
}

test("the presigned URL's parts: host, query order, scope, signed headers, session token", async () => {
  const secret = randomSecret();
  const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const { token, url } = await mintEksToken({
    credentials: { accessKeyId: AK, secretAccessKey: secret, sessionToken: "tok/with+special=chars" },
    clusterName: "prod-eks",
    region: "eu-west-1",
    now,
  });
  assert.ok(token.startsWith("k8s-aws-v1."));
  assert.doesNotMatch(token, /=/, "unpadded Base64url");
  assert.equal(Buffer.from(token.slice(11), "base64url").toString("utf8"), url);
  const u = new URL(url);
  assert.equal(u.host, "sts.eu-west-1.amazonaws.com");
  assert.equal(u.pathname, "/");
  assert.deepEqual(
    [...u.searchParams.keys()],
    ["Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"],
  );
  assert.equal(u.searchParams.get("Action"), "GetCallerIdentity");
  assert.equal(u.searchParams.get("Version"), "2011-06-15");
  assert.equal(u.searchParams.get("X-Amz-Credential"), `${AK}/20260102/eu-west-1/sts/aws4_request`);
  assert.equal(u.searchParams.get("X-Amz-Date"), "20260102T030405Z");
  assert.equal(u.searchParams.get("X-Amz-Expires"), "60");
  assert.equal(u.searchParams.get("X-Amz-SignedHeaders"), "host;x-k8s-aws-id");
  assert.match(url, /X-Amz-Security-Token=tok%2Fwith%2Bspecial%3Dchars&/);
  assert.doesNotMatch(url, /prod-eks/, "the cluster name is a signed header, not in the URL");
  // An independent SigV4 check by hand (node:crypto), and its failure on another cluster or secret.
  const v = verifyEksTokenByHand(token, { secretFor: () => secret, clusterName: "prod-eks", now });
  assert.equal(v.sessionToken, "tok/with+special=chars");
  assert.throws(() => verifyEksTokenByHand(token, { secretFor: () => secret, clusterName: "other", now }), /signature mismatch/);
  assert.throws(() => verifyEksTokenByHand(token, { secretFor: () => randomSecret(), clusterName: "prod-eks", now }), /signature mismatch/);
});

test("expiresAt: 15 minutes on, or when the credentials expire if sooner; refreshAt a minute before", async () => {
  const now = Date.UTC(2026, 5, 1, 12, 0, 0);
  const base = { accessKeyId: AK, secretAccessKey: randomSecret(), sessionToken: "t" };
  const later = await mintEksToken({ credentials: { ...base, expiration: new Date(now + 3600_000) }, clusterName: "c", region: "us-east-1", now });
  assert.equal(later.expiresAt.toISOString(), "2026-06-01T12:15:00.000Z");
  assert.equal(later.refreshAt.toISOString(), "2026-06-01T12:14:00.000Z");
  const sooner = await mintEksToken({ credentials: { ...base, expiration: new Date(now + 5 * 60_000) }, clusterName: "c", region: "us-east-1", now });
  assert.equal(sooner.expiresAt.toISOString(), "2026-06-01T12:05:00.000Z");
  assert.equal(sooner.refreshAt.toISOString(), "2026-06-01T12:04:00.000Z");
  // Credentials with less than the margin left: replace the token at once, never before it was signed.
  const last = await mintEksToken({ credentials: { ...base, expiration: new Date(now + 30_000) }, clusterName: "c", region: "us-east-1", now });
  assert.equal(last.expiresAt.toISOString(), "2026-06-01T12:00:30.000Z");
  assert.equal(last.refreshAt.toISOString(), "2026-06-01T12:00:00.000Z");
});

test("stsHostFor: the partition's DNS suffix", () => {
  assert.equal(stsHostFor("us-east-1"), "sts.us-east-1.amazonaws.com");
  assert.equal(stsHostFor("cn-northwest-1"), "sts.cn-northwest-1.amazonaws.com.cn");
  assert.equal(stsHostFor("us-gov-west-1"), "sts.us-gov-west-1.amazonaws.com");
});

test("decodeEksToken: URL, date, region, cluster binding, expiry", async () => {
  const now = Date.UTC(2026, 2, 3, 4, 5, 6);
  const { token } = await mintEksToken({ credentials: { accessKeyId: AK, secretAccessKey: randomSecret() }, clusterName: "c1", region: "sa-east-1", now });
  const claim = decodeEksToken(`  ${token}\n`);
  assert.equal(claim.host, "sts.sa-east-1.amazonaws.com");
  assert.equal(claim.region, "sa-east-1");
  assert.equal(claim.service, "sts");
  assert.equal(claim.accessKeyId, AK);
  assert.equal(claim.signedAt.toISOString(), "2026-03-03T04:05:06.000Z");
  assert.equal(claim.expiresAt.toISOString(), "2026-03-03T04:20:06.000Z");
  assert.equal(claim.presignExpiresSeconds, 60);
  assert.deepEqual(claim.signedHeaders, ["host", "x-k8s-aws-id"]);
  assert.equal(claim.clusterIdSigned, true);
  assert.equal(claim.hasSessionToken, false);
  assert.equal(claim.action, "GetCallerIdentity");
});

test("decodeEksToken refuses what is not an EKS token, saying why", () => {
  const b64 = (s: string): string => `k8s-aws-v1.${Buffer.from(s).toString("base64url")}`;
  const cases: [string, RegExp][] = [
    ["k8s-ncp-v1.abc", /must start with "k8s-aws-v1\."/],
    ["k8s-aws-v1.", /not unpadded Base64url/],
    ["k8s-aws-v1.abc=", /not unpadded Base64url/],
    [b64("not a url"), /not a URL/],
    [b64("http://sts.amazonaws.com/?Action=GetCallerIdentity"), /not https/],
    [b64("https://evil.example.com/?Action=GetCallerIdentity"), /not an STS endpoint/],
    [b64("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity"), /lacks X-Amz-Credential/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => decodeEksToken(input),
      (e: unknown) => e instanceof TokenError && e.code === ErrorCode.TOKEN_MALFORMED && message.test(e.message),
      input,
    );
  }
});

test("mintEksToken refuses inputs that would change what is signed, without echoing secrets", async () => {
  const secret = randomSecret();
  const good = { credentials: { accessKeyId: AK, secretAccessKey: secret }, clusterName: "c", region: "us-east-1" };
  const bad: [Partial<typeof good> & Record<string, unknown>, string][] = [
    [{ region: "us-east-1.evil.com/x" }, "region"],
    [{ region: "" }, "region"],
    [{ clusterName: "bad name" }, "clusterName"],
    [{ clusterName: "" }, "clusterName"],
    [{ credentials: { accessKeyId: "", secretAccessKey: secret } }, "accessKeyId"],
    [{ credentials: { accessKeyId: AK, secretAccessKey: "with space" } }, "secretAccessKey"],
  ];
  for (const [override, field] of bad) {
    await assert.rejects(
      mintEksToken({ ...good, ...override } as Parameters<typeof mintEksToken>[0]),
      (e: unknown) => e instanceof InvalidInputError && e.field === field && !e.message.includes(secret),
      field,
    );
  }
});

test("mintEksToken: a time whose expiry no Date can hold is INVALID_INPUT, never an Invalid Date", async () => {
  const good = { credentials: { accessKeyId: AK, secretAccessKey: randomSecret() }, clusterName: "c", region: "us-east-1" };
  for (const now of [8.64e15, 8.64e15 - 60_000, 1e300, Number.NaN]) {
    await assert.rejects(mintEksToken({ ...good, now }), (e: unknown) => e instanceof InvalidInputError && e.field === "now", String(now));
  }
});
