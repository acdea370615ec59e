/**
 * The broker end to end, as people use it: an operator runs `kubeiam serve` and the admin commands
 * (the built CLI), a user who holds no cloud key reaches a sandbox cluster with the real kubectl,
 * through an embedded-token kubeconfig and through the exec plugin; the admin revokes and the next
 * kubectl call is refused with the broker's reason; the audit trail shows it all.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startSandbox, type Sandbox, type SandboxClusterSummary } from "../../src/sandbox/index.js";
import { assertOneLine } from "../helpers/cli.js";
import { call } from "../broker/helpers.js";
import { CLI, childEnv, runCliChild, startServe, type ServeChild } from "../broker/serve-helpers.js";
import { requireTools } from "../helpers/tools.js";

// The real tools, or one line saying what to install (test/helpers/tools.ts).
before(() => requireTools("kubectl"));

let dir: string;
let bin: string;
let sandbox: Sandbox;
let broker: ServeChild;
let admin: string;
let alice = "";
let cluster: SandboxClusterSummary;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-e2e-broker-"));
  bin = join(dir, "bin");
  mkdirSync(bin);
  // The exec plugin runs `kubeiam` from PATH, as an installed package would provide it.
  symlinkSync(CLI, join(bin, "kubeiam"));
  sandbox = await startSandbox();
  const c = sandbox.clusters.find((x) => x.status === "RUNNING");
  assert.ok(c);
  cluster = c;
  broker = await startServe(["--db", `sqlite:${join(dir, "broker.db")}`, "--listen", "127.0.0.1:0"], childEnv(join(dir, "operator"), { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") }));
  admin = broker.ready.adminToken ?? "";
  assert.match(admin, /^kbi_/);
});
after(async () => {
  await broker?.stop();
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

const pathEnv = (): string => `${bin}:${process.env.PATH ?? ""}`;
/** The operator: the admin token, the sandbox's key in the environment (as `credential add` reads it). */
const adminEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  childEnv(join(dir, "admin"), { KUBEIAM_BROKER_TOKEN: admin, PATH: pathEnv(), ...extra });
/** The user: a home of their own, no cloud key anywhere. */
const userEnv = (): NodeJS.ProcessEnv => childEnv(join(dir, "alice"), { PATH: pathEnv() });
const kubeiam = (args: string[], env: NodeJS.ProcessEnv, input?: string) => runCliChild(args, env, input);

function kubectl(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("kubectl", ["--request-timeout", "20s", "--cache-dir", join(dir, "kube-cache"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", () => resolve({ code: null, stdout, stderr: "kubectl could not start: is it on PATH?" }));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("the operator's three steps with the admin CLI: credential (keys from the environment), cluster, user and grant", async () => {
  const server = broker.ready.url;
  const cred = await kubeiam(["broker", "credential", "add", "sandbox", "--provider", "ncp", "--server", server], adminEnv({
    NCLOUD_ACCESS_KEY_ID: sandbox.accessKey,
    NCLOUD_SECRET_ACCESS_KEY: sandbox.secretKey,
    NCLOUD_API_GW: sandbox.apiUrl,
  }));
  assert.equal(cred.status, 0, cred.err);
  assert.equal(cred.out, "");
  assert.ok(!cred.err.includes(sandbox.secretKey));
  const add = await kubeiam(["broker", "cluster", "add", "kr-demo", "--credential", "sandbox", "--region", cluster.region, "--cluster-uuid", cluster.uuid, "--server", server], adminEnv());
  assert.equal(add.status, 0, add.err);
  assert.match(add.out, new RegExp(`^kr-demo\\s+ncp\\s+${cluster.region}\\s+Active\\s+${cluster.endpoint}$`, "m"));
  const user = await kubeiam(["broker", "user", "add", "alice", "--server", server], adminEnv());
  assert.equal(user.status, 0, user.err);
  assert.match(user.out, /^kbi_[A-Za-z0-9_-]{43}\n$/);
  alice = user.out.trim();
  assert.match(user.err, /shown only now/);
  const grant = await kubeiam(["broker", "grant", "alice", "kr-demo", "--server", server], adminEnv());
  assert.equal(grant.status, 0, grant.err);
  const list = await kubeiam(["broker", "grant", "--list", "alice", "--server", server], adminEnv());
  assert.match(list.out, /^CLUSTER\s+AS\s+EXPIRES\nkr-demo\s+-\s+never\n$/);
  const creds = await kubeiam(["broker", "credential", "list", "--server", server], adminEnv());
  assert.match(creds.out, /^sandbox\s+ncp\s+/m);
  assert.ok(!creds.out.includes(sandbox.accessKey) && !creds.out.includes(sandbox.secretKey));
});

test("a user holding only a broker token: kubectl through an embedded-token kubeconfig from the broker", async () => {
  assert.ok(alice !== "");
  const r = await call(broker.ready.url, "GET", "/v1/clusters/kr-demo/kubeconfig?mode=embed", { token: alice });
  assert.equal(r.status, 200, r.text);
  const file = join(dir, "embed-config");
  writeFileSync(file, r.text, { mode: 0o600 });
  const ns = await kubectl(["--kubeconfig", file, "get", "namespaces"], userEnv());
  assert.equal(ns.code, 0, ns.stderr);
  assert.match(ns.stdout, /^default\s+Active/m);
});

test("…and through the exec plugin: broker login, broker update-kubeconfig, then plain kubectl", async () => {
  const env = userEnv();
  const login = await kubeiam(["broker", "login", "--server", broker.ready.url], env, alice);
  assert.equal(login.status, 0, login.err);
  const file = join(dir, "alice-config");
  const up = await kubeiam(["broker", "update-kubeconfig", "--server", broker.ready.url, "--cluster", "kr-demo", "--kubeconfig", file], env);
  assert.equal(up.status, 0, up.err);
  const who = await kubectl(["--kubeconfig", file, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], env);
  assert.equal(who.code, 0, who.stderr);
  assert.ok(who.stdout.length > 0);
  const ns = await kubectl(["--kubeconfig", file, "get", "namespace", "kube-system", "-o", "jsonpath={.status.phase}"], env);
  assert.equal(ns.stdout, "Active", ns.stderr);
});

test("the admin revokes: the next kubectl call is refused with the broker's reason; the audit trail shows it", async () => {
  const server = broker.ready.url;
  const revoke = await kubeiam(["broker", "grant", "--revoke", "alice", "kr-demo", "--server", server], adminEnv());
  assert.equal(revoke.status, 0, revoke.err);
  const env = userEnv();
  const ns = await kubectl(["--kubeconfig", join(dir, "alice-config"), "get", "namespaces"], env);
  assert.notEqual(ns.code, 0);
  assert.match(ns.stderr, /no grant for cluster kr-demo/);
  assert.ok(!ns.stderr.includes(alice));
  const audit = await kubeiam(["broker", "audit", "--user", "alice", "--server", server], adminEnv());
  assert.equal(audit.status, 0, audit.err);
  const lines = audit.out.trim().split("\n");
  assert.match(lines[0] ?? "", /^ID\s+TIME\s+ACTOR\s+ACTION\s+CLUSTER\s+OUTCOME\s+CREDENTIAL\s+REMOTE\s+REASON$/);
  assert.match(lines[1] ?? "", /\salice\s+token\.issue\s+kr-demo\s+denied\s+-\s+127\.0\.0\.1\s+no_grant$/);
  assert.ok(lines.some((l) => /\salice\s+token\.issue\s+kr-demo\s+issued\s+sandbox\s/.test(l)));
  assert.ok(lines.some((l) => /\salice\s+token\.issue\.kubeconfig\s+kr-demo\s+issued\s/.test(l)));
  const json = JSON.parse((await kubeiam(["broker", "audit", "--user", "alice", "--limit", "1", "-o", "json", "--server", server], adminEnv())).out);
  assert.equal(json.entries.length, 1);
  assert.equal(json.entries[0].reason, "no_grant");
});

test("admin CLI refusals: one line each, the broker's reason, no secret", async () => {
  const server = broker.ready.url;
  assertOneLine(await kubeiam(["broker", "credential", "add", "x", "--provider", "ncp", "--server", server], adminEnv()), 2, /NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY are not set: .*--stdin/);
  assertOneLine(await kubeiam(["broker", "credential", "add", "x", "--provider", "azure", "--server", server], adminEnv()), 2, /--provider "azure"/);
  assertOneLine(await kubeiam(["broker", "credential", "add", "x", "--provider", "ncp", "--role-arn", "arn:aws:iam::123456789012:role/r", "--server", server], adminEnv()), 2, /--role-arn, --external-id and --session-name are for aws credentials/);
  const awsKeys = { AWS_ACCESS_KEY_ID: "AKIDCLIROLETEST00001", AWS_SECRET_ACCESS_KEY: "cli-role-secret-0001" };
  assertOneLine(
    await kubeiam(["broker", "credential", "add", "x", "--provider", "aws", "--role-arn", "eks-admin", "--server", server], adminEnv(awsKeys)),
    8,
    /400 bad_request\): body field aws\.roleArn: role ARN "eks-admin" is not an IAM role ARN/,
    ["cli-role-secret-0001"],
  );
  const role = await kubeiam(["broker", "credential", "add", "aws-role", "--provider", "aws", "--role-arn", "arn:aws:iam::123456789012:role/eks-admin", "--external-id", "ext-42", "--server", server], adminEnv(awsKeys));
  assert.equal(role.status, 0, role.err);
  assert.match(role.err, /credential aws-role \(aws\) added/);
  const listed = await kubeiam(["broker", "credential", "list", "-o", "json", "--server", server], adminEnv());
  assert.ok(JSON.parse(listed.out).credentials.some((c: { name: string; provider: string }) => c.name === "aws-role" && c.provider === "aws"));
  assert.ok(!listed.out.includes("cli-role-secret-0001") && !listed.out.includes("ext-42"));
  assert.equal((await kubeiam(["broker", "credential", "delete", "aws-role", "--server", server], adminEnv())).status, 0);
  assertOneLine(await kubeiam(["broker", "credential", "add", "x", "--provider", "ncp", "--stdin", "--server", server], adminEnv(), "not json"), 2, /stdin is not JSON/);
  assertOneLine(
    await kubeiam(["broker", "credential", "add", "sandbox", "--provider", "ncp", "--stdin", "--server", server], adminEnv(), JSON.stringify({ accessKey: "AK", secretKey: "sekrit" })),
    8,
    /the broker refused \(409 conflict\): credential sandbox already exists/,
    ["sekrit"],
  );
  assertOneLine(await kubeiam(["broker", "credential", "delete", "sandbox", "--server", server], adminEnv()), 8, /409 in_use\): credential sandbox is still used by cluster kr-demo/);
  assertOneLine(await kubeiam(["broker", "cluster", "add", "c", "--credential", "ghost", "--region", "KR", "--cluster-uuid", cluster.uuid, "--server", server], adminEnv()), 8, /404 not_found\): credential ghost does not exist/);
  assertOneLine(await kubeiam(["broker", "cluster", "add", "c", "--credential", "sandbox", "--region", "KR", "--server", server], adminEnv()), 2, /exactly one of --cluster-uuid/);
  const aliceEnv = childEnv(join(dir, "alice2"), { KUBEIAM_BROKER_TOKEN: alice });
  assertOneLine(await kubeiam(["broker", "user", "add", "mallory", "--server", server], aliceEnv), 8, /403 forbidden\): adding users is for admins/, [alice]);
  assertOneLine(await kubeiam(["broker", "user", "frobnicate", "--server", server], adminEnv()), 2, /unknown action "frobnicate"/);
  assertOneLine(await kubeiam(["broker", "audit", "--limit", "many", "--server", server], adminEnv()), 2, /--limit "many" is not a whole number/);
  assertOneLine(await kubeiam(["broker", "user", "list", "--server", "http://127.0.0.1:1"], adminEnv()), 5, /unreachable/, [admin]);
});
