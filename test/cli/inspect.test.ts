import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHmac, randomBytes } from "node:crypto";
import { runCli } from "../../src/cli/main.js";
import { assertOneLine as assertRefusal, runInProcess, type CliRun } from "../helpers/cli.js";
import { mintFor } from "../helpers/ncp-mint.js";
import { mintEksToken } from "../../src/aws/token.js";

// The SGN golden vector (test/fixtures/ncp-token-vectors.json): its fields are known without decoding.
const SGN = {
  accessKey: "NCPTESTACCESSKEY0001",
  secretKey: "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001",
  clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b",
  timestamp: 1767225600000,
  token:
    "k8s-ncp-v1.eyJ0aW1lc3RhbXAiOiIxNzY3MjI1NjAwMDAwIiwiYWNjZXNzS2V5IjoiTkNQVEVTVEFDQ0VTU0tFWTAwMDEiLCJzaWduYXR1cmUiOiJpT3k1L0liZFhSWERoanpXSm1uWFduVDZyTEhqV25hZWdHeUx2MzBaSVN3PSIsInBhdGgiOiIvaWFtL3Nnbi12MS91c2VyP2NsdXN0ZXJVdWlkPTNmMWQyYzRiLTVhNjktNGU3Zi04YTFiLTJjM2Q0ZTVmNmE3YiJ9",
  signature: "iOy5/IbdXRXDhjzWJmnXWnT6rLHjWnaegGyLv30ZISw=",
};
const MIN = 60 * 1000;
const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-inspect-"));
  await mkdir(join(root, "home"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const run = (args: string[], options: { now?: number; stdin?: string; tty?: boolean; env?: Record<string, string> } = {}): Promise<CliRun> =>
  runInProcess(args, {
    env: { HOME: join(root, "home"), ...options.env },
    stdin: options.stdin ?? "",
    stdinIsTTY: options.tty ?? false,
    now: () => options.now ?? SGN.timestamp + 2 * MIN,
  });

const specKeys = { NCLOUD_ACCESS_KEY_ID: SGN.accessKey, NCLOUD_SECRET_ACCESS_KEY: SGN.secretKey };

/** One line on stderr naming the problem, no stack, nothing on stdout, no secret. */
function assertOneLine(r: CliRun, status: number, pattern: RegExp): void {
  assertRefusal(r, status, pattern, [SGN.secretKey, SGN.signature]);
}

const claimToken = (claim: unknown): string => `k8s-ncp-v1.${Buffer.from(JSON.stringify(claim)).toString("base64")}`;

test("inspect prints the claim of the SGN vector, its age and validity, never its signature", async () => {
  const r = await run(["inspect", SGN.token]);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.err, "");
  assert.match(r.out, /^type: +NKS token \(k8s-ncp-v1\)$/m);
  assert.match(r.out, /^cluster UUID: +3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b$/m);
  assert.match(r.out, /^stage: +sgn-v1$/m);
  assert.match(r.out, /^access key: +NCPTESTACCESSKEY0001$/m);
  assert.match(r.out, /^issued at: +2026-01-01T00:00:00\.000Z$/m);
  assert.match(r.out, /^expires at: +2026-01-01T00:05:00\.000Z$/m);
  assert.match(r.out, /^age: +2m0s$/m);
  assert.match(r.out, /^valid: +yes \(expires in 3m0s\)$/m);
  assert.match(r.out, /^signature: +not checked \(add --verify\)$/m);
  assert.ok(!r.out.includes(SGN.signature));
});

test("inspect -o json gives every field for scripts", async () => {
  const r = await run(["inspect", "-o", "json", SGN.token], { now: SGN.timestamp + 6 * MIN });
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), {
    type: "k8s-ncp-v1",
    clusterUuid: SGN.clusterUuid,
    stage: "sgn-v1",
    accessKey: SGN.accessKey,
    path: `/iam/sgn-v1/user?clusterUuid=${SGN.clusterUuid}`,
    issuedAt: "2026-01-01T00:00:00.000Z",
    expiresAt: "2026-01-01T00:05:00.000Z",
    ageSeconds: 360,
    valid: false,
    reason: "expired",
    signature: "unchecked",
    canonical: true,
  });
});

test("inspect says when a token has expired or lies in the future", async () => {
  // NCP's gateway window: 5 minutes. A 6-minute-old token is dead, a 4-minute-old one alive.
  const expired = await run(["inspect", SGN.token], { now: SGN.timestamp + 6 * MIN });
  assert.equal(expired.status, 0);
  assert.match(expired.out, /^valid: +no: expired 1m0s ago, mint a new one$/m);
  const alive = await run(["inspect", SGN.token], { now: SGN.timestamp + 4 * MIN });
  assert.match(alive.out, /^valid: +yes \(expires in 1m0s\)$/m);
  const atEdge = await run(["inspect", SGN.token], { now: SGN.timestamp + 5 * MIN });
  assert.match(atEdge.out, /^valid: +yes/m);
  const future = await run(["inspect", SGN.token], { now: SGN.timestamp - 3 * MIN });
  assert.match(future.out, /^age: +-3m0s$/m);
  assert.match(future.out, /^valid: +no: issued 3m0s in the future/m);
  const smallSkew = await run(["inspect", SGN.token], { now: SGN.timestamp - 30 * 1000 });
  assert.match(smallSkew.out, /^valid: +yes/m);
});

test("inspect reads the token from stdin: bare, after 'Bearer', or inside an ExecCredential", async () => {
  const credential = JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1beta1", spec: { interactive: false }, status: { expirationTimestamp: "2026-01-01T00:14:00Z", token: SGN.token } });
  for (const [stdin, args] of [
    [`${SGN.token}\n`, ["inspect"]],
    [`Bearer ${SGN.token}`, ["inspect", "-"]],
    [credential, ["inspect"]],
  ] as const) {
    const r = await run([...args, "-o", "json"], { stdin });
    assert.equal(r.status, 0, r.err);
    assert.equal((JSON.parse(r.out) as { accessKey: string }).accessKey, SGN.accessKey);
  }
});

test("inspect --verify checks the signature with the resolved credentials", async () => {
  const ok = await run(["inspect", "--verify", SGN.token], { env: specKeys });
  assert.equal(ok.status, 0, ok.err);
  assert.match(ok.out, /^signature: +verified with your credentials$/m);
  const json = await run(["inspect", "--verify", "--cluster-uuid", SGN.clusterUuid.toUpperCase(), "--region", "sgn", "-o", "json", SGN.token], { env: specKeys });
  assert.equal(json.status, 0, json.err);
  assert.equal((JSON.parse(json.out) as { signature: string }).signature, "verified");
});

test("inspect --verify with a profile from the configure file", async () => {
  const dir = join(root, "home", ".ncloud");
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "configure"),
    `[DEFAULT]\nncloud_access_key_id = OTHERKEY\nncloud_secret_access_key = ${randomBytes(20).toString("hex")}\n\n[spec]\nncloud_access_key_id = ${SGN.accessKey}\nncloud_secret_access_key = ${SGN.secretKey}\n`,
    { mode: 0o600 },
  );
  try {
    const ok = await run(["inspect", "--verify", "--profile", "spec", SGN.token]);
    assert.equal(ok.status, 0, ok.err);
    assert.match(ok.out, /verified/);
    const wrongKey = await run(["inspect", "--verify", SGN.token]);
    assertOneLine(wrongKey, 4, /signed by access key NCPTESTACCESSKEY0001, but the credentials from profile DEFAULT of .*configure are for OTHERKEY: pass --profile/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("inspect --verify refuses what fails a check, with exit 4 and one line", async () => {
  const wrongSecret = await run(["inspect", "--verify", SGN.token], { env: { ...specKeys, NCLOUD_SECRET_ACCESS_KEY: randomBytes(20).toString("hex") } });
  assertOneLine(wrongSecret, 4, /signature does not match/);
  const expired = await run(["inspect", "--verify", SGN.token], { env: specKeys, now: SGN.timestamp + 6 * MIN });
  assertOneLine(expired, 4, /expired at 2026-01-01T00:05:00\.000Z.*mint a new one/);
  const future = await run(["inspect", "--verify", SGN.token], { env: specKeys, now: SGN.timestamp - 2 * MIN });
  assertOneLine(future, 4, /in the future: check the clock/);
  const otherCluster = await run(["inspect", "--verify", "--clusterUuid", "00000000-0000-4000-8000-000000000000", SGN.token], { env: specKeys });
  assertOneLine(otherCluster, 4, /is for cluster 3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b, not 00000000-0000-4000-8000-000000000000/);
  const otherRegion = await run(["inspect", "--verify", "--region", "KR", SGN.token], { env: specKeys });
  assertOneLine(otherRegion, 4, /names IAM stage sgn-v1, but this cluster's region KR uses v1/);
  const noCredentials = await run(["inspect", "--verify", SGN.token]);
  assertOneLine(noCredentials, 3, /NCLOUD_ACCESS_KEY_ID/);
});

test("inspect refuses malformed tokens with one line naming the problem (exit 4)", async () => {
  const good = { timestamp: "1767225600000", accessKey: "AK", signature: "c2ln", path: `/iam/v1/user?clusterUuid=${SGN.clusterUuid}` };
  const cases: [string, RegExp][] = [
    ["k8s-gcp-v1.abcd", /must start with "k8s-ncp-v1\." \(NKS\) or "k8s-aws-v1\." \(EKS\)/],
    ["ya29.opaque-access-token", /GKE access tokens are opaque/],
    ["k8s-ncp-v1.%%%%", /not standard Base64/],
    ["k8s-ncp-v1.eyJ0aW1lc3RhbXAiOg", /not standard Base64/],
    [`k8s-ncp-v1.${Buffer.from("{not json").toString("base64")}`, /not JSON/],
    [claimToken({ ...good, extra: "1" }), /unexpected keys \("extra"\)/],
    [claimToken({ timestamp: good.timestamp, accessKey: "AK", path: good.path }), /lacks the string field "signature"/],
    [claimToken({ ...good, timestamp: 1767225600000 }), /lacks the string field "timestamp"/],
    [claimToken({ ...good, path: "/iam/v1/user?clusterUuid=abc&x=1" }), /not a cluster UUID|is not \/iam/],
    ["k8s-aws-v1.aHR0cHM6Ly9leGFtcGxlLmNvbS8", /not an STS endpoint/],
    ['{"kind":"ExecCredential"}', /no status\.token/],
    ["{broken", /starts with \{ but is not JSON/],
  ];
  for (const [token, pattern] of cases) {
    const r = await run(["inspect", token]);
    assertOneLine(r, 4, pattern);
  }
});

test("inspect: usage mistakes exit 2 with one line", async () => {
  assertOneLine(await run(["inspect"], { tty: true }), 2, /no token: pass it as an argument, or pipe it in/);
  assertOneLine(await run(["inspect"], { stdin: "  \n" }), 2, /stdin is empty/);
  assertOneLine(await run(["inspect", SGN.token, SGN.token]), 2, /give one token/);
  assertOneLine(await run(["inspect", "-o", "yaml", SGN.token]), 2, /-o "yaml" is not supported: use text or json/);
  assertOneLine(await run(["inspect", "--region", "KR", SGN.token]), 2, /only with --verify/);
  assertOneLine(await run(["inspect", "--verify", "--region", "K R", SGN.token], { env: specKeys }), 2, /region/);
  assertOneLine(await run(["inspect", "--verify", "--clusterUuid", "abc&x=1", SGN.token], { env: specKeys }), 2, /UUID/);
  assertOneLine(await run(["inspect", "--bogus", SGN.token]), 2, /unknown flag "--bogus"/);
});

test("inspect decodes an EKS token without printing its signature or session token", async () => {
  const sessionToken = `FwoG${randomBytes(24).toString("base64url")}`;
  const secretAccessKey = randomBytes(20).toString("base64url");
  const at = Date.UTC(2026, 10, 28, 12, 0, 0);
  const minted = await mintEksToken({
    credentials: { accessKeyId: "AKIAKUBEIAMTEST00001", secretAccessKey, sessionToken },
    clusterName: "prod-eks",
    region: "eu-central-1",
    now: at,
  });
  const signature = new URL(minted.url).searchParams.get("X-Amz-Signature") ?? "";
  assert.match(signature, /^[0-9a-f]{64}$/);

  const text = await run(["inspect", minted.token], { now: at + 90 * 1000 });
  assert.equal(text.status, 0, text.err);
  assert.match(text.out, /^type: +EKS token \(k8s-aws-v1\)$/m);
  assert.match(text.out, /^region: +eu-central-1$/m);
  assert.match(text.out, /^access key: +AKIAKUBEIAMTEST00001$/m);
  assert.match(text.out, /^signed at: +2026-11-28T12:00:00\.000Z$/m);
  assert.match(text.out, /^expires at: +2026-11-28T12:15:00\.000Z$/m);
  assert.match(text.out, /^age: +1m30s$/m);
  assert.match(text.out, /^cluster bound: +yes \(x-k8s-aws-id is signed\)$/m);
  assert.match(text.out, /^session token: +present \(not shown\)$/m);
  for (const secret of [signature, sessionToken, secretAccessKey]) assert.ok(!text.out.includes(secret));

  const json = await run(["inspect", "-o", "json", minted.token], { now: at + 16 * MIN });
  const parsed = JSON.parse(json.out) as Record<string, unknown>;
  assert.equal(parsed.type, "k8s-aws-v1");
  assert.equal(parsed.host, "sts.eu-central-1.amazonaws.com");
  assert.equal(parsed.valid, false);
  assert.equal(parsed.reason, "expired");
  assert.equal(parsed.clusterIdSigned, true);
  assert.equal(parsed.hasSessionToken, true);
  assert.match(String(parsed.url), /X-Amz-Signature=REDACTED/);
  assert.match(String(parsed.url), /X-Amz-Security-Token=REDACTED/);
  for (const secret of [signature, sessionToken]) assert.ok(!json.out.includes(secret));

  assertOneLine(await run(["inspect", "--verify", minted.token]), 2, /--verify on an EKS token needs --cluster-name NAME/);
  assertOneLine(await run(["inspect", "--cluster-name", "prod", minted.token]), 2, /checked only with --verify/);
});

test("inspect as a process: 'token | inspect' through a pipe, and no file appears under HOME", async () => {
  const home = await mkdtemp(join(root, "proc-home-"));
  const env = { PATH: process.env.PATH ?? "", HOME: home, ...specKeys };
  const uuid = "8c0f1b8e-2d1a-4b55-9a66-0d8f5e1c2b3a";
  const minted = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [CLI, "token", "--clusterUuid", uuid, "--region", "JPN"], { env }, (e, stdout) => (e ? reject(e) : resolve(stdout)));
  });
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [CLI, "inspect", "--verify", "--region", "JPN", "-o", "json"], { env }, (e, stdout, stderr) =>
      resolve({ code: e ? Number(e.code) : 0, stdout, stderr }),
    );
    child.stdin?.on("error", () => undefined); // a child that exits without reading its input (EPIPE)
    child.stdin?.end(minted);
  });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { clusterUuid: string; stage: string; signature: string; valid: boolean };
  assert.deepEqual([out.clusterUuid, out.stage, out.signature, out.valid], [uuid, "jpn-v1", "verified", true]);
  assert.deepEqual(await readdir(home), []);
});

test("inspect is a kubeiam command, not one of ncp-iam-authenticator's", async () => {
  let err = "";
  const status = await runCli(["inspect", SGN.token], {
    programName: "ncp-iam-authenticator",
    out: () => undefined,
    err: (t) => void (err += t),
    env: {},
    readStdin: async () => "",
    now: () => SGN.timestamp,
    signal: new AbortController().signal,
  });
  assert.equal(status, 2);
  assert.match(err, /^ncp-iam-authenticator: unknown command "inspect"/);
  // A token minted here decodes to what was minted.
  const { token } = mintFor({ accessKey: "AK1", secretKey: "sk", clusterUuid: SGN.clusterUuid, region: "FKR", now: SGN.timestamp });
  const r = await run(["inspect", "-o", "json", token]);
  assert.equal((JSON.parse(r.out) as { stage: string }).stage, "v1");
});

/** A claim signed with `secretKey` by hand (docs/formats.md §1, node:crypto), serialised by `encode`. */
function signedToken(fields: { timestamp: string; accessKey: string; path?: string }, secretKey = SGN.secretKey, encode: (c: object) => string = (c) => JSON.stringify(c)): string {
  const path = fields.path ?? `/iam/sgn-v1/user?clusterUuid=${SGN.clusterUuid}`;
  const signature = createHmac("sha256", secretKey).update(`GET ${path}\n${fields.timestamp}\n${fields.accessKey}`).digest("base64");
  return `k8s-ncp-v1.${Buffer.from(encode({ timestamp: fields.timestamp, accessKey: fields.accessKey, signature, path })).toString("base64")}`;
}

test("inspect: a signed token with an absurd timestamp is a malformed token (exit 4, one line), never an internal error", async () => {
  for (const timestamp of ["9999999999999999", "8640000000000000", "01767225600000"]) {
    const token = signedToken({ timestamp, accessKey: SGN.accessKey });
    for (const args of [["inspect", token], ["inspect", "-o", "json", token], ["inspect", "--verify", token]]) {
      const r = await run(args, { env: specKeys });
      assertOneLine(r, 4, /timestamp .* is not milliseconds since the epoch/);
      assert.doesNotMatch(r.err, /internal error/);
    }
  }
});

test("inspect decodes a claim that is not in canonical form and says so; --verify refuses it", async () => {
  const token = signedToken({ timestamp: String(SGN.timestamp), accessKey: SGN.accessKey }, SGN.secretKey, (c) => JSON.stringify(c, null, 1));
  const text = await run(["inspect", token]);
  assert.equal(text.status, 0, text.err);
  assert.match(text.out, /^access key: +NCPTESTACCESSKEY0001$/m);
  assert.match(text.out, /^canonical: +no: not the bytes minting writes for these values, so verification refuses this token$/m);
  const json = await run(["inspect", "-o", "json", token]);
  assert.equal((JSON.parse(json.out) as { canonical: boolean }).canonical, false);
  assert.doesNotMatch((await run(["inspect", SGN.token])).out, /canonical/);
  assertOneLine(await run(["inspect", "--verify", token], { env: specKeys }), 4, /not in its canonical form/);
});

// Terminal escapes, line breaks, other control characters (C0, DEL, C1) and bidi overrides.
const HOSTILE = "\u001b[2J\u001b[H\r\nvalid:        yes\u202eevil\u2066\u0085\u009b31m\u007f\u0000\u2028x";
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/u;

test("inspect escapes everything it prints from a token: one table line a field, no raw control or bidi character", async () => {
  // Written as Go's encoding/json writes it (U+2028 escaped), so the claim is canonical.
  const goJson = (c: object): string => JSON.stringify(c).replaceAll("\u2028", "\\u2028");
  const token = signedToken({ timestamp: String(SGN.timestamp), accessKey: HOSTILE }, SGN.secretKey, goJson);
  const text = await run(["inspect", token]);
  assert.equal(text.status, 0, text.err);
  assert.doesNotMatch(text.out.replaceAll("\n", ""), RAW_CONTROL);
  assert.equal(text.out.split("\n").length, 10, text.out);
  assert.equal(text.out.match(/^valid:/gm)?.length, 1);
  const accessLine = text.out.split("\n").find((l) => l.startsWith("access key:")) ?? "";
  assert.equal(accessLine.replace(/^access key: +/, ""), "\\u001b[2J\\u001b[H\\r\\nvalid:        yes\\u202eevil\\u2066\\u0085\\u009b31m\\u007f\\u0000\\u2028x");

  const json = await run(["inspect", "-o", "json", token]);
  assert.equal(json.status, 0, json.err);
  assert.doesNotMatch(json.out.replaceAll("\n", ""), RAW_CONTROL);
  assert.equal((JSON.parse(json.out) as { accessKey: string }).accessKey, HOSTILE, "JSON keeps the exact value");

  // The same key in a message: --verify names the signer in its refusal, escaped too.
  const refused = await run(["inspect", "--verify", token], { env: specKeys });
  assertOneLine(refused, 4, /signed by access key \\u001b\[2J/);
  assert.doesNotMatch(refused.err.slice(0, -1), RAW_CONTROL);
});

test("inspect escapes what an EKS token's URL carries (credential scope, action) in text and JSON", async () => {
  const q = [
    "Action=GetCallerIdentity%1B%5D0%3Btitle%07",
    "Version=2011-06-15",
    "X-Amz-Algorithm=AWS4-HMAC-SHA256",
    `X-Amz-Credential=${encodeURIComponent(`AKIA${HOSTILE}/20261128/us-east-1\u202e/sts/aws4_request`)}`,
    "X-Amz-Date=20261128T120000Z",
    "X-Amz-Expires=60",
    "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id",
    `X-Amz-Signature=${"ab".repeat(32)}`,
  ];
  const token = `k8s-aws-v1.${Buffer.from(`https://sts.us-east-1.amazonaws.com/?${q.join("&")}`).toString("base64url")}`;
  const now = Date.UTC(2026, 10, 28, 12, 1, 0);
  const text = await run(["inspect", token], { now });
  assert.equal(text.status, 0, text.err);
  assert.doesNotMatch(text.out.replaceAll("\n", ""), RAW_CONTROL);
  assert.equal(text.out.split("\n").length, 12, text.out);
  const json = await run(["inspect", "-o", "json", token], { now });
  assert.doesNotMatch(json.out.replaceAll("\n", ""), RAW_CONTROL);
  const parsed = JSON.parse(json.out) as { accessKeyId: string; action: string };
  assert.equal(parsed.accessKeyId, `AKIA${HOSTILE}`);
  assert.equal(parsed.action, "GetCallerIdentity\u001b]0;title\u0007");
});
