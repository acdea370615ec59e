/**
 * `kubeiam broker credential add|update|list` against a broker on the embedded store with the sandbox
 * as the cloud: `--api-url` chooses the NCP gateway, `NCLOUD_API_GW` is used only said out loud, the
 * list shows where each key points, and `update` replaces the key in place (the next token is signed
 * with the new key), reading it the same ways as `add` (environment or stdin, never argv).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { DEFAULT_NCP_API_URL } from "../../src/ncp/credentials.js";
import { verifyNcpToken } from "../../src/ncp/token.js";
import { generateSandboxKey } from "../../src/sandbox/keys.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { assertOneLine, runInProcess } from "../helpers/cli.js";
import { call, captureLines } from "./helpers.js";

let dir: string;
let sandbox: Sandbox;
let broker: RunningBroker;
let admin: string;
const secondKey = generateSandboxKey("second-admin");
const log = captureLines();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-credential-cli-"));
  sandbox = await startSandbox({ keys: [generateSandboxKey("sandbox-admin"), secondKey] });
  broker = await startBroker({ db: `sqlite:${join(dir, "b.db")}`, listen: "127.0.0.1:0", masterKey: randomBytes(32).toString("base64"), home: dir, cwd: dir, logStream: log.stream });
  admin = broker.adminToken ?? "";
  assert.match(admin, /^kbi_/);
});
after(async () => {
  await broker?.close();
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

const keysEnv = (k: { accessKey: string; secretKey: string }, extra: Record<string, string> = {}) => ({
  HOME: dir,
  KUBEIAM_BROKER_TOKEN: admin,
  NCLOUD_ACCESS_KEY_ID: k.accessKey,
  NCLOUD_SECRET_ACCESS_KEY: k.secretKey,
  ...extra,
});
const cred = (args: string[], env: Record<string, string>, stdin?: string) =>
  runInProcess(["broker", "credential", ...args, "--server", broker.url], { env, ...(stdin === undefined ? {} : { stdin, stdinIsTTY: false }) });
const listed = async () => {
  const r = await cred(["list", "-o", "json"], { HOME: dir, KUBEIAM_BROKER_TOKEN: admin });
  assert.equal(r.status, 0, r.err);
  return new Map((JSON.parse(r.out).credentials as { name: string; apiUrl?: string }[]).map((c) => [c.name, c]));
};

test("credential add --api-url points the key at that gateway; NCLOUD_API_GW is used only said out loud; list shows where each key points", async () => {
  const flag = await cred(["add", "by-flag", "--provider", "ncp", "--api-url", sandbox.apiUrl], keysEnv(sandbox, { NCLOUD_API_GW: "https://elsewhere.example" }));
  assert.equal(flag.status, 0, flag.err);
  assert.doesNotMatch(flag.err, /NCLOUD_API_GW|elsewhere/, "the flag wins, and nothing is said about a variable not used");
  const env = await cred(["add", "by-env", "--provider", "ncp"], keysEnv(sandbox, { NCLOUD_API_GW: sandbox.apiUrl }));
  assert.equal(env.status, 0, env.err);
  assert.match(env.err, new RegExp(`ncp\\.apiUrl: ${sandbox.apiUrl.replace(/[.]/g, "\\.")}, taken from NCLOUD_API_GW \\(give --api-url`));
  const plain = await cred(["add", "by-default", "--provider", "ncp"], keysEnv(sandbox));
  assert.equal(plain.status, 0, plain.err);
  assert.match(plain.err, /ncp\.apiUrl: the default gateway https:\/\/ncloud\.apigw\.ntruss\.com/);
  for (const r of [flag, env, plain]) assert.ok(!r.err.includes(sandbox.secretKey) && r.out === "");
  const list = await listed();
  assert.equal(list.get("by-flag")?.apiUrl, sandbox.apiUrl);
  assert.equal(list.get("by-env")?.apiUrl, sandbox.apiUrl);
  assert.equal(list.get("by-default")?.apiUrl, DEFAULT_NCP_API_URL);
  const table = await cred(["list"], { HOME: dir, KUBEIAM_BROKER_TOKEN: admin });
  assert.match(table.out, /^NAME\s+PROVIDER\s+API URL\s+ACTS AS\s+CREATED\n/);
  assert.match(table.out, new RegExp(`by-flag\\s+ncp\\s+${sandbox.apiUrl.replace(/[.]/g, "\\.")}\\s`));
});

test("credential update replaces the key in place, from the environment or stdin: the next token is signed with the new key", async () => {
  const running = sandbox.clusters.find((c) => c.status === "RUNNING");
  assert.ok(running);
  assert.equal((await call(broker.url, "POST", "/v1/clusters", { token: admin, body: { name: "c1", credential: "by-flag", region: running.region, ncp: { clusterUuid: running.uuid } } })).status, 201);
  const keys = new Map([[sandbox.accessKey, sandbox.secretKey], [secondKey.accessKey, secondKey.secretKey]]);
  const signedBy = async () => {
    const r = await call(broker.url, "GET", "/v1/clusters/c1/token", { token: admin });
    assert.equal(r.status, 200, r.text);
    return verifyNcpToken(r.json.status.token, { secretKeyFor: (ak) => keys.get(ak), clusterUuid: running.uuid, region: running.region }).accessKey;
  };
  assert.equal(await signedBy(), sandbox.accessKey);
  const env = await cred(["update", "by-flag", "--provider", "ncp", "--api-url", sandbox.apiUrl], keysEnv(secondKey));
  assert.equal(env.status, 0, env.err);
  assert.match(env.err, /credential by-flag \(ncp\) updated in place/);
  assert.ok(!env.err.includes(secondKey.secretKey));
  assert.equal(await signedBy(), secondKey.accessKey);
  const stdin = await cred(["update", "by-flag", "--provider", "ncp", "--stdin"], { HOME: dir, KUBEIAM_BROKER_TOKEN: admin }, JSON.stringify({ accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl }));
  assert.equal(stdin.status, 0, stdin.err);
  assert.equal(await signedBy(), sandbox.accessKey);
  assert.equal((await listed()).get("by-flag")?.apiUrl, sandbox.apiUrl);
});

test("credential update refusals: one line, nothing changed", async () => {
  const before = await broker.ctx.store.credentialByName("by-flag");
  assertOneLine(await cred(["update", "ghost", "--provider", "ncp"], keysEnv(secondKey)), 8, /404 not_found\): credential ghost does not exist/, [secondKey.secretKey]);
  assertOneLine(await cred(["update", "by-flag", "--provider", "aws"], keysEnv(secondKey, { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "aws-secret-x" })), 8, /400 bad_request\): credential by-flag is for ncp, not aws/, ["aws-secret-x"]);
  assertOneLine(await cred(["update", "by-flag", "--provider", "ncp"], { HOME: dir, KUBEIAM_BROKER_TOKEN: admin }), 2, /broker credential update: NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY are not set/);
  assertOneLine(await cred(["update", "--provider", "ncp"], keysEnv(secondKey)), 2, /broker credential update: name the credential/);
  assertOneLine(await cred(["update", "by-flag"], keysEnv(secondKey)), 2, /broker credential update: --provider is required/);
  assert.deepEqual(await broker.ctx.store.credentialByName("by-flag"), before);
});
