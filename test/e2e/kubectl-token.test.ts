/**
 * End to end for issue 2: the real kubectl runs the exec plugin `ncp-iam-authenticator` found on PATH
 * (a symlink to the built CLI, as `npm install` makes one) with the args of docs/formats.md §5, against a
 * loopback TLS cluster endpoint that accepts only tokens that verify for its own cluster and region.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify as toYaml } from "yaml";
import { startTlsCluster, VERSION_BODY, type TlsCluster } from "../helpers/tls-cluster.js";
import { requireTools } from "../helpers/tools.js";

// The real tools, or one line saying what to install (test/helpers/tools.ts).
before(() => requireTools("kubectl"));

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const AK = `NCPE2E${randomBytes(7).toString("hex").toUpperCase()}`;
const SK = randomBytes(20).toString("base64url");
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const OTHER = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a";
const REGION = "SGN";

let root: string;
let bin: string;
let cluster: TlsCluster;
const children = new Set<ChildProcess>();

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-kubectl-token-"));
  cluster = await startTlsCluster({ clusterUuid: UUID, region: REGION, keys: { [AK]: SK } });
  // `npm install` links the bin into PATH and makes its target executable (tsc writes it 0644).
  try {
    accessSync(CLI, constants.X_OK);
  } catch {
    await chmod(CLI, 0o755);
  }
  bin = join(root, "bin");
  await mkdir(bin);
  // A symlink, not a wrapper: node sees argv[1] = …/ncp-iam-authenticator and speaks as that program.
  await symlink(CLI, join(bin, "ncp-iam-authenticator"));
});
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await cluster.close();
  await rm(root, { recursive: true, force: true });
});

let homes = 0;
async function freshHome(): Promise<string> {
  const home = join(root, `home${++homes}`);
  await mkdir(home);
  return home;
}

/** kubectl with an environment built from scratch: our bin dir and node on PATH, a fresh HOME. */
function kubectl(kubeconfig: string, home: string): Promise<{ status: number; out: string; err: string }> {
  const env = {
    PATH: [bin, dirname(process.execPath), process.env.PATH ?? "/usr/bin:/bin"].join(delimiter),
    HOME: home,
  };
  const args = ["--kubeconfig", kubeconfig, "--request-timeout=20s", "get", "--raw", "/version"];
  return new Promise((resolve) => {
    const child = execFile("kubectl", args, { env, cwd: root, encoding: "utf8", timeout: 60_000, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      children.delete(child);
      const status = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ status, out: stdout, err: stderr });
    });
    children.add(child);
  });
}

interface ExecUser {
  apiVersion: string;
  args: string[];
  env?: { name: string; value: string }[];
  interactiveMode?: "Never" | "IfAvailable" | "Always";
}

/** Writes a kubeconfig for the test cluster with an exec user, through the YAML serializer. */
async function writeKubeconfig(name: string, exec: ExecUser): Promise<string> {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "nks", cluster: { server: cluster.server, "certificate-authority-data": cluster.caData } }],
    users: [{ name: "nks-user", user: { exec: { command: "ncp-iam-authenticator", provideClusterInfo: false, ...exec } } }],
    contexts: [{ name: "nks", context: { cluster: "nks", user: "nks-user" } }],
    "current-context": "nks",
  };
  const path = join(root, `${name}.yaml`);
  await writeFile(path, toYaml(config), { mode: 0o600 });
  return path;
}

const keyEnv = [
  { name: "NCLOUD_ACCESS_KEY_ID", value: AK },
  { name: "NCLOUD_SECRET_ACCESS_KEY", value: SK },
];
const V1BETA1 = "client.authentication.k8s.io/v1beta1";
const V1 = "client.authentication.k8s.io/v1";

test("kubectl get --raw /version through 'ncp-iam-authenticator token --clusterUuid U --region R' (v1beta1, keys in the exec env)", async () => {
  const file = await writeKubeconfig("ok", { apiVersion: V1BETA1, args: ["token", "--clusterUuid", UUID, "--region", REGION], env: keyEnv });
  const from = cluster.seen.length;
  const r = await kubectl(file, await freshHome());
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), VERSION_BODY);
  assert.equal(r.err, "");
  const seen = cluster.seen.slice(from);
  assert.ok(seen.length >= 1, "the endpoint saw a request");
  for (const s of seen) assert.deepEqual(s, { method: "GET", path: "/version", status: 200, accepted: true, accessKey: AK, clusterUuid: UUID });
});

test("a kubeconfig whose exec args name another cluster (or region) gets 401: kubectl fails", async () => {
  const cases: [string, string[], RegExp][] = [
    ["other-cluster", ["token", "--clusterUuid", OTHER, "--region", REGION], new RegExp(`the token is for cluster ${OTHER}, not ${UUID}`)],
    ["other-region", ["token", "--clusterUuid", UUID, "--region", "KR"], /the token names IAM stage v1, but this cluster's region SGN uses sgn-v1/],
  ];
  for (const [name, args, reason] of cases) {
    const file = await writeKubeconfig(name, { apiVersion: V1BETA1, args, env: keyEnv });
    const from = cluster.seen.length;
    const r = await kubectl(file, await freshHome());
    assert.notEqual(r.status, 0, `${name}: kubectl succeeded: ${r.out}`);
    assert.equal(r.out, "");
    assert.match(r.err, /Unauthorized|must be logged in/i, name);
    const seen = cluster.seen.slice(from);
    assert.ok(seen.length >= 1, `${name}: the endpoint saw no request`);
    for (const s of seen) {
      assert.equal(s.status, 401, name);
      assert.equal(s.accessKey, undefined);
      assert.match(s.reason ?? "", reason);
    }
  }
});

test("apiVersion client.authentication.k8s.io/v1 with interactiveMode Never: kubectl's KUBERNETES_EXEC_INFO is answered in v1", async () => {
  // Keys from $HOME/.ncloud/configure this time; kubectl hands its environment to the plugin.
  const home = await freshHome();
  await mkdir(join(home, ".ncloud"), { mode: 0o700 });
  const configure = join(home, ".ncloud", "configure");
  await writeFile(configure, `[DEFAULT]\nncloud_access_key_id=${AK}\nncloud_secret_access_key=${SK}\nncloud_api_url=https://ncloud.apigw.ntruss.com\n`);
  await chmod(configure, 0o600);
  const args = ["token", "--clusterUuid", UUID, "--region", REGION];
  // kubectl refuses an ExecCredential whose apiVersion is not the one it asked for, so success proves v1;
  // with --api-version v1beta1 too, it proves that KUBERNETES_EXEC_INFO wins over the flag.
  for (const [name, extra] of [["v1", []], ["v1-flag-v1beta1", ["--api-version", "v1beta1"]]] as const) {
    const file = await writeKubeconfig(name, { apiVersion: V1, args: [...args, ...extra], interactiveMode: "Never" });
    const from = cluster.seen.length;
    const r = await kubectl(file, home);
    assert.equal(r.status, 0, `${name}: ${r.err}`);
    assert.deepEqual(JSON.parse(r.out), VERSION_BODY);
    assert.equal(r.err, "", name);
    const seen = cluster.seen.slice(from);
    assert.ok(seen.length >= 1, name);
    for (const s of seen) assert.deepEqual(s, { method: "GET", path: "/version", status: 200, accepted: true, accessKey: AK, clusterUuid: UUID });
  }
  assert.equal(statSync(configure).mode & 0o777, 0o600);
});

test("without keys the plugin fails alone: one 'ncp-iam-authenticator:' line per run in kubectl's stderr, no request sent", async () => {
  const home = await freshHome();
  const file = await writeKubeconfig("no-keys", { apiVersion: V1BETA1, args: ["token", "--clusterUuid", UUID, "--region", REGION] });
  const from = cluster.seen.length;
  const r = await kubectl(file, home);
  assert.notEqual(r.status, 0);
  assert.equal(r.out, "");
  // client-go may run the plugin more than once before giving up; each run says one and the same line.
  const ours = r.err.split("\n").filter((line) => line.startsWith("ncp-iam-authenticator: "));
  assert.ok(ours.length >= 1, r.err);
  for (const line of ours) {
    assert.match(line, /^ncp-iam-authenticator: no NCP credentials found: set NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY/);
    assert.equal(line, ours[0]);
  }
  const others = r.err.split("\n").filter((line) => line !== "" && !line.startsWith("ncp-iam-authenticator: "));
  assert.equal(others.length, 1, `kubectl's own error only, got: ${r.err}`);
  assert.match(r.err, /exit (code|status) 3/);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.equal(cluster.seen.length, from, "no request reached the endpoint");
  assert.equal(existsSync(join(home, ".ncloud")), false);
});
