/**
 * End to end for EKS: the built CLI against the AWS CLI (same bytes), against a local EKS API that
 * checks SigV4 by hand, and the real kubectl running `kubeiam eks token` as its exec plugin against a
 * TLS cluster endpoint that verifies the presigned URL's signature with the test secret.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";
import { startBearerCluster, startEksApi, startSts, verifyEksTokenByHand, type LocalServer } from "../aws/stand-ins.js";
import { requireTools } from "../helpers/tools.js";
import { runInProcess, type CliRun } from "../helpers/cli.js";

// The real tools, or one line saying what to install (test/helpers/tools.ts).
before(() => requireTools("kubectl", "aws"));

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const AK = "AKIDE2ETEST000000001";
const TEAM_AK = "AKIDE2ETEAM000000001";
const SECRET = randomBytes(24).toString("base64").replace(/[^A-Za-z0-9]/g, "q") + "/+";
const TEAM_SECRET = randomBytes(24).toString("hex");
const REGION = "eu-west-1";
const ARN = "arn:aws:eks:eu-west-1:123456789012:cluster/e2e-eks";

let root: string;
let env: Record<string, string>;
let eksApi: LocalServer;
let cluster: LocalServer & { caData: string; seen: { accepted: boolean; reason?: string }[] };

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-eks-"));
  const keys: Record<string, string> = { [AK]: SECRET, [TEAM_AK]: TEAM_SECRET };
  cluster = await startBearerCluster((token) => {
    try {
      verifyEksTokenByHand(token, { secretFor: (ak) => keys[ak], clusterName: "e2e-eks", now: Date.now() });
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  });
  eksApi = await startEksApi({
    keys,
    clusters: [
      { name: "e2e-eks", arn: ARN, status: "ACTIVE", endpoint: cluster.url, certificateAuthority: { data: cluster.caData }, version: "1.31" },
      { name: "baby-eks", arn: "arn:aws:eks:eu-west-1:123456789012:cluster/baby-eks", status: "CREATING" },
    ],
  });
  const aws = join(root, "aws");
  await mkdir(aws);
  await writeFile(join(aws, "config"), "[profile team]\nregion = eu-west-1\n");
  await writeFile(join(aws, "credentials"), `[team]\naws_access_key_id = ${TEAM_AK}\naws_secret_access_key = ${TEAM_SECRET}\n`);
  // `kubeiam` on PATH, as an installed package puts it there.
  const bin = join(root, "bin");
  await mkdir(bin);
  await writeFile(join(bin, "kubeiam"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  await chmod(join(bin, "kubeiam"), 0o755);
  env = {
    PATH: [bin, process.env.PATH ?? ""].join(delimiter),
    HOME: join(root, "home"),
    AWS_CONFIG_FILE: join(aws, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(aws, "credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: AK,
    AWS_SECRET_ACCESS_KEY: SECRET,
  };
});
after(async () => {
  await eksApi.close();
  await cluster.close();
  await rm(root, { recursive: true, force: true });
});

/** Runs a child without blocking: the stand-in servers live in this process and must keep answering. */
function run(cmd: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<{ status: number; out: string; err: string }> {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...env, ...extra })) if (v !== undefined) merged[k] = v;
  return new Promise((resolve) => {
    execFile(cmd, args, { env: merged, cwd: root, encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ status: code, out: stdout, err: stderr });
    });
  });
}
const kubeiam = (args: string[], extra: Record<string, string | undefined> = {}) => run(process.execPath, [CLI, ...args], extra);

test("'kubeiam eks token' prints what 'aws eks get-token' prints, byte for byte (session token, exec info v1)", async () => {
  const extra = {
    AWS_SESSION_TOKEN: `FwoGZXIvYXdzE${randomBytes(40).toString("base64")}`,
    KUBERNETES_EXEC_INFO: JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1", spec: { interactive: false } }),
  };
  const args = ["--cluster-name", "e2e-eks", "--region", "ap-south-1"];
  // The AWS CLI signs with the current second; kubeiam then runs the same command in-process with its
  // clock set to that second (CliContext.now), so the comparison cannot depend on how fast either
  // starts on a loaded machine. The AWS CLI reads its clock once more for the expiry, before it signs:
  // when a second ticked between the two readings, that try is not comparable and is run again.
  const signedAt = (out: string): number => {
    const url = Buffer.from((JSON.parse(out) as { status: { token: string } }).status.token.slice("k8s-aws-v1.".length), "base64url").toString("utf8");
    const d = /X-Amz-Date=(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/.exec(url);
    assert.ok(d !== null, "the AWS CLI's token holds X-Amz-Date");
    return Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!);
  };
  const expiry = (out: string): string => (JSON.parse(out) as { status: { expirationTimestamp: string } }).status.expirationTimestamp;
  for (let attempt = 0; attempt < 5; attempt++) {
    const theirs = await run("aws", ["eks", "get-token", ...args], extra);
    assert.equal(theirs.status, 0, theirs.err);
    const at = signedAt(theirs.out);
    const ctxEnv = { ...env, ...extra };
    // The AWS SDK's credential chain reads process.env itself (the CLI's ctx.env is process.env), so
    // this process takes the child's environment for the call, and gets its own back after it.
    const saved = new Map(Object.keys(ctxEnv).map((k) => [k, process.env[k]] as const));
    Object.assign(process.env, ctxEnv);
    let ours: CliRun;
    try {
      ours = await runInProcess(["eks", "token", ...args], { env: ctxEnv, now: () => at });
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const { status, out, err } = ours;
    assert.equal(status, 0, err);
    assert.equal(err, "");
    if (out !== theirs.out && expiry(theirs.out) !== expiry(out)) continue;
    assert.equal(out, theirs.out);
    assert.equal(JSON.parse(out).apiVersion, "client.authentication.k8s.io/v1");
    return;
  }
  assert.fail("a second ticked between the AWS CLI's expiry and its signature in every try");
});

test("eks update-kubeconfig → kubectl runs 'kubeiam eks token' (profile from the exec env) against a SigV4-checking endpoint", async () => {
  const kubeconfig = join(root, "home", ".kube", "config");
  await mkdir(join(root, "home", ".kube"), { recursive: true });
  await writeFile(kubeconfig, "# kept\napiVersion: v1\nkind: Config\nclusters:\n- name: keep\n  cluster:\n    server: https://keep.example\nusers: []\ncontexts: []\n", { mode: 0o600 });
  const r = await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--profile", "team", "--endpoint-url", eksApi.url]);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, new RegExp(`^Added new context ${ARN} to ${kubeconfig}`));
  const text = await readFile(kubeconfig, "utf8");
  assert.match(text, /^# kept/);
  assert.match(text, /name: keep/);
  const users = (parseYaml(text) as { users: { user: { exec: { args: string[]; env: unknown } } }[] }).users;
  assert.deepEqual(users[0]?.user.exec.env, [{ name: "AWS_PROFILE", value: "team" }]);
  assert.deepEqual(users[0]?.user.exec.args, ["eks", "token", "--cluster-name", "e2e-eks", "--region", REGION]);
  assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
  assert.ok(eksApi.requests.every((q) => q.rejected === undefined), JSON.stringify(eksApi.requests));

  // kubectl's environment holds other keys; the exec env's AWS_PROFILE=team must win, as with the AWS CLI.
  const before = cluster.seen.length;
  const v = await exec("kubectl", ["get", "--raw", "/version"], { env: { ...env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" }, cwd: root, timeout: 60_000 });
  assert.equal(JSON.parse(v.stdout).gitVersion, "v1.31.2-multicloud-test");
  const seen = cluster.seen.slice(before);
  assert.ok(seen.length >= 1 && seen.every((s) => s.accepted), JSON.stringify(seen));
});

test("eks update-kubeconfig --exec-command (the built CLI, a .js file) --namespace --alias → kubectl sees them and runs 'node main.js eks token'", async () => {
  const kubeconfig = join(root, "exec-ns.kubeconfig");
  const r = await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig, "--exec-command", CLI, "--namespace", "team-a", "--alias", "e2e-team"]);
  assert.equal(r.status, 0, r.err);
  assert.doesNotMatch(r.err, /warning/);
  const contexts = await exec("kubectl", ["--kubeconfig", kubeconfig, "config", "get-contexts", "--no-headers"], { env, cwd: root, timeout: 60_000 });
  assert.match(contexts.stdout, new RegExp(`^\\*\\s+e2e-team\\s+${ARN}\\s+${ARN}\\s+team-a\\s*$`, "m"), contexts.stdout);
  const view = JSON.parse((await exec("kubectl", ["--kubeconfig", kubeconfig, "config", "view", "--minify", "-o", "json"], { env, cwd: root, timeout: 60_000 })).stdout) as {
    users: { user: { exec: { command: string; args: string[]; installHint?: string } } }[];
  };
  assert.equal(view.users[0]?.user.exec.command, "node");
  assert.deepEqual(view.users[0]?.user.exec.args, [CLI, "eks", "token", "--cluster-name", "e2e-eks", "--region", REGION]);
  const before = cluster.seen.length;
  const v = await exec("kubectl", ["--kubeconfig", kubeconfig, "get", "--raw", "/version"], { env, cwd: root, timeout: 60_000 });
  assert.equal(JSON.parse(v.stdout).gitVersion, "v1.31.2-multicloud-test");
  assert.ok(cluster.seen.slice(before).every((s) => s.accepted));
  // A bad value is refused before any AWS call, and the file stays as it is.
  const text = await readFile(kubeconfig, "utf8");
  const calls = eksApi.requests.length;
  const bad = await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig, "--overwrite", "--namespace=Team_A"]);
  assert.equal(bad.status, 2);
  assert.equal(bad.out, "");
  assert.match(bad.err, /^kubeiam: eks update-kubeconfig: --namespace "Team_A" is not a namespace name: [^\n]+\n$/);
  assert.equal(eksApi.requests.length, calls, "no AWS call for a bad flag");
  assert.equal(await readFile(kubeconfig, "utf8"), text);
});

test("the endpoint refuses a token for another cluster: kubectl fails with Unauthorized", async () => {
  const kubeconfig = join(root, "other.kubeconfig");
  await writeFile(kubeconfig, "");
  // Point a context at the same endpoint whose plugin mints for another cluster name.
  const r = await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig]);
  assert.equal(r.status, 0, r.err);
  const text = (await readFile(kubeconfig, "utf8")).replace("- e2e-eks", "- not-this-cluster");
  await writeFile(kubeconfig, text);
  await assert.rejects(exec("kubectl", ["--kubeconfig", kubeconfig, "get", "--raw", "/version"], { env, cwd: root, timeout: 60_000 }), /Unauthorized|unauthorized|provide credentials/);
  assert.match(cluster.seen.at(-1)?.reason ?? "", /signature mismatch/);
});

test("--dry-run prints the merged kubeconfig and writes nothing; a taken name needs --overwrite", async () => {
  const kubeconfig = join(root, "dry.kubeconfig");
  const dry = await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig, "--dry-run", "--alias", "e2e"]);
  assert.equal(dry.status, 0, dry.err);
  assert.match(dry.out, /current-context: e2e/);
  assert.equal(existsSync(kubeconfig), false);

  assert.equal((await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig])).status, 0);
  const first = readFileSync(kubeconfig, "utf8");
  assert.equal(statSync(kubeconfig).mode & 0o777, 0o600, "a new kubeconfig is 0600");
  const again = await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig]);
  assert.equal(again.status, 6);
  assert.match(again.err, /already has .*--overwrite/);
  assert.equal(again.err.trim().split("\n").length, 1);
  assert.equal(readFileSync(kubeconfig, "utf8"), first);
  const over = await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig, "--overwrite"]);
  assert.equal(over.status, 0, over.err);
  assert.match(over.out, /^Updated context/);
});

test("eks token --role-arn: assumes the role at STS (AWS_ENDPOINT_URL_STS), signs with its credentials, expires with them (announced a minute before)", async () => {
  const roleSecret = randomBytes(24).toString("hex");
  const expiration = new Date(Math.floor(Date.now() / 1000) * 1000 + 5 * 60 * 1000);
  const sts = await startSts({
    keys: { [AK]: SECRET },
    issue: { accessKeyId: "ASIAE2EROLE000000001", secretAccessKey: roleSecret, sessionToken: "e2e-role-session", expiration: expiration.toISOString() },
  });
  try {
    const r = await kubeiam(
      ["eks", "token", "--cluster-name", "e2e-eks", "--region", REGION, "--role-arn", "arn:aws:iam::123456789012:role/e2e", "--session-name", "e2e-session"],
      { AWS_ENDPOINT_URL_STS: sts.url },
    );
    assert.equal(r.status, 0, r.err);
    const cred = JSON.parse(r.out) as { status: { token: string; expirationTimestamp: string } };
    const v = verifyEksTokenByHand(cred.status.token, { secretFor: (k) => (k === "ASIAE2EROLE000000001" ? roleSecret : undefined), clusterName: "e2e-eks", now: Date.now() });
    assert.equal(v.sessionToken, "e2e-role-session");
    // The token ends with the role's credentials (5 minutes on): kubectl is told a minute before.
    assert.equal(cred.status.expirationTimestamp, new Date(expiration.getTime() - 60_000).toISOString().replace(".000Z", "Z"), "the role's credentials expire before 15 minutes");
    assert.equal(sts.assumed[0]?.RoleSessionName, "e2e-session");
    assert.deepEqual(sts.requests.map((q) => q.rejected), [undefined]);
  } finally {
    await sts.close();
  }
});

test("bad input: one clear line on stderr, a non-zero exit, nothing on stdout, no file written", async () => {
  const kubeconfig = join(root, "never.kubeconfig");
  const cases: { name: string; args: string[]; extra?: Record<string, string | undefined>; status: number; message: RegExp }[] = [
    { name: "unknown profile", args: ["eks", "token", "--cluster-name", "e2e-eks", "--region", REGION, "--profile", "nope"], status: 3, message: /AWS profile "nope" is in neither .* \(they have: team\)/ },
    { name: "unknown profile (update-kubeconfig)", args: ["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--profile", "nope", "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig], status: 3, message: /AWS profile "nope"/ },
    { name: "missing region", args: ["eks", "token", "--cluster-name", "e2e-eks"], status: 2, message: /no AWS region given: name one .*\(set with --region\)/ },
    { name: "missing region (update-kubeconfig)", args: ["eks", "update-kubeconfig", "--name", "e2e-eks", "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig], status: 2, message: /no AWS region given/ },
    {
      name: "expired session credentials",
      args: ["eks", "token", "--cluster-name", "e2e-eks", "--region", REGION],
      extra: { AWS_SESSION_TOKEN: "expired-session", AWS_CREDENTIAL_EXPIRATION: "2020-01-01T00:00:00Z" },
      status: 3,
      message: /AWS credentials expired at 2020-01-01T00:00:00.000Z: refresh them/,
    },
    {
      name: "expired session credentials (update-kubeconfig)",
      args: ["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig],
      extra: { AWS_SESSION_TOKEN: "expired-session", AWS_CREDENTIAL_EXPIRATION: "2020-01-01T00:00:00Z" },
      status: 3,
      message: /expired/,
    },
    { name: "missing cluster name", args: ["eks", "token", "--region", REGION], status: 2, message: /--cluster-name is required/ },
    { name: "malformed cluster name", args: ["eks", "token", "--cluster-name", "a b", "--region", REGION], status: 2, message: /EKS cluster name "a b" is not valid/ },
    { name: "malformed region", args: ["eks", "token", "--cluster-name", "c", "--region", "mars"], status: 2, message: /AWS region "mars" is not a region code/ },
    { name: "unknown cluster", args: ["eks", "update-kubeconfig", "--name", "ghost", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig], status: 5, message: /not found in region eu-west-1/ },
    { name: "cluster being created", args: ["eks", "update-kubeconfig", "--name", "baby-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig], status: 5, message: /status CREATING/ },
    { name: "unknown subcommand", args: ["eks", "tokn"], status: 2, message: /unknown subcommand "tokn"/ },
  ];
  for (const c of cases) {
    const r = await kubeiam(c.args, c.extra);
    assert.equal(r.status, c.status, `${c.name}: ${r.err}`);
    assert.equal(r.out, "", c.name);
    const lines = r.err.trim().split("\n");
    assert.equal(lines.length, 1, `${c.name}: ${r.err}`);
    assert.match(lines[0] ?? "", /^kubeiam: /, c.name);
    assert.match(lines[0] ?? "", c.message, c.name);
    assert.doesNotMatch(r.err, /\n\s+at /, `${c.name}: no stack trace`);
    assert.ok(!r.err.includes(SECRET) && !r.err.includes(TEAM_SECRET), `${c.name}: no secret`);
    assert.equal(existsSync(kubeconfig), false, `${c.name}: nothing written`);
  }
});
