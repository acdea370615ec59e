/**
 * The demo flow end to end against the sandbox, for KR and SGN: the built CLI's update-kubeconfig
 * through the signed NKS API, then the real kubectl and @kubernetes/client-node through the exec
 * plugin (and kubeiam's in-process client), the embedded-token mode, and every refusal as the user
 * sees it: kubectl's own message, the CLI's one line, and the sandbox's precise reason.
 */
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuthenticationV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml, stringify } from "yaml";
import { ncpKubeConfig } from "../../src/ncp/client.js";
import { startSandbox, type Sandbox, type SandboxClusterSummary } from "../../src/sandbox/index.js";
import { requireTools } from "../helpers/tools.js";

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));

let sandbox: Sandbox;
let dir: string;
let clockOffset = 0;
const lines: string[] = [];

before(async () => {
  sandbox = await startSandbox({ now: () => Date.now() + clockOffset, log: (line) => lines.push(line) });
  dir = await mkdtemp(join(tmpdir(), "kubeiam-e2e-sandbox-kubectl-"));
});
after(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program asynchronously: the sandbox answers from this process, so nothing may block it. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", () => resolve({ code: null, stdout, stderr }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** An environment with no NCP keys, no user files and no proxy for loopback. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir ?? tmpdir(), NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };
  for (const k of ["NCLOUD_ACCESS_KEY_ID", "NCLOUD_ACCESS_KEY", "NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_SECRET_KEY", "NCLOUD_API_GW", "NCLOUD_PROFILE", "KUBECONFIG"]) delete env[k];
  return { ...env, ...extra };
}

function keyEnv(over: Record<string, string> = {}): NodeJS.ProcessEnv {
  return baseEnv({
    NCLOUD_ACCESS_KEY_ID: sandbox.accessKey,
    NCLOUD_SECRET_ACCESS_KEY: sandbox.secretKey,
    NCLOUD_API_GW: sandbox.apiUrl,
    ...over,
  });
}

function cluster(region: string): SandboxClusterSummary {
  const c = sandbox.clusters.find((x) => x.region === region && x.status === "RUNNING");
  assert.ok(c, `a running ${region} cluster`);
  return c;
}

const contextOf = (c: SandboxClusterSummary): string => `nks_${c.region.toLowerCase()}_${c.name}_${c.uuid}`;

async function updateKubeconfig(file: string, c: SandboxClusterSummary, extra: string[] = [], env = keyEnv()): Promise<RunResult> {
  return run(process.execPath, [CLI, "update-kubeconfig", "--clusterUuid", c.uuid, "--region", c.region, "--kubeconfig", file, ...extra], env);
}

async function kubectl(file: string, args: string[], env = keyEnv()): Promise<RunResult> {
  return run("kubectl", ["--kubeconfig", file, "--cache-dir", join(dir, "kube-cache"), "--request-timeout", "20s", ...args], env);
}

/** The tests that drive kubectl fail with one line saying what to install when it is missing (test/helpers/tools.ts). */
function needKubectl(_t: TestContext): boolean {
  requireTools("kubectl");
  return true;
}

/** Asserts kubectl was refused with 401 and the sandbox logged the given reason. */
function assertRefused(r: RunResult, since: number, reason: RegExp): void {
  assert.notEqual(r.code, 0, "kubectl fails");
  assert.match(r.stderr, /You must be logged in to the server \(Unauthorized\)/);
  const logged = lines.slice(since).filter((l) => l.includes("-> 401"));
  assert.ok(logged.length > 0, "the sandbox logged a refusal");
  assert.match(logged.join("\n"), reason);
}

for (const region of ["KR", "SGN"]) {
  test(`${region}: update-kubeconfig, then kubectl get namespaces and auth whoami through the exec plugin`, async (t) => {
    if (!needKubectl(t)) return;
    const c = cluster(region);
    const file = join(dir, `config-${region}`);
    const up = await updateKubeconfig(file, c, ["--exec-command", CLI]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout, "kubeconfig updated successfully.\n");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const ns = await kubectl(file, ["get", "namespaces"]);
    assert.equal(ns.code, 0, ns.stderr);
    assert.match(ns.stdout, /^NAME\s+STATUS\s+AGE$/m);
    for (const name of ["default", "kube-system", `${c.name}-apps`]) assert.match(ns.stdout, new RegExp(`^${name}\\s+Active\\s+\\d+d$`, "m"));
    const one = await kubectl(file, ["get", "namespace", "kube-public", "-o", "jsonpath={.metadata.name} {.status.phase}"]);
    assert.equal(one.stdout, "kube-public Active");
    const who = await kubectl(file, ["auth", "whoami", "-o", "json"]);
    assert.equal(who.code, 0, who.stderr);
    const info = (JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    assert.equal(info.username, "sandbox-admin");
    assert.deepEqual(info.groups, ["system:masters", "system:authenticated"]);
    const version = await kubectl(file, ["version", "-o", "json"]);
    assert.equal((JSON.parse(version.stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion, "v1.32.8");
    // Nodes come from the cluster's node pool (as the NKS API lists its worker nodes); pods from kube-system.
    const nodes = await kubectl(file, ["get", "nodes"]);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
    const nodeLines = nodes.stdout.trim().split("\n").slice(1);
    assert.equal(nodeLines.length, 2, nodes.stdout);
    for (const line of nodeLines) assert.match(line, new RegExp(`^${c.name}-pool-w-\\S+\\s+Ready\\s+<none>\\s+\\d+d\\s+v1\\.32\\.8$`));
    const wide = await kubectl(file, ["get", "nodes", "-o", "wide"]);
    assert.match(wide.stdout, /10\.0\.1\.11/);
    const pods = await kubectl(file, ["get", "pods", "-n", "kube-system"]);
    assert.equal(pods.code, 0, pods.stderr);
    assert.match(pods.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    assert.match(pods.stdout, /^coredns-\S+\s+1\/1\s+Running\s+0\s+\d+d$/m);
    const all = await kubectl(file, ["get", "pods", "-A", "-o", "jsonpath={range .items[*]}{.metadata.namespace}/{.spec.nodeName}{\"\\n\"}{end}"]);
    assert.equal(all.code, 0, all.stderr);
    const placed = all.stdout.trim().split("\n");
    assert.ok(placed.length >= 4 && placed.every((l) => l.startsWith(`kube-system/${c.name}-pool-w-`)), all.stdout);
    const none = await kubectl(file, ["get", "pods"]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /No resources found in default namespace/);
  });

  test(`${region}: @kubernetes/client-node through the exec plugin of that kubeconfig, and through ncpKubeConfig`, async () => {
    const c = cluster(region);
    const file = join(dir, `config-cn-${region}`);
    const up = await updateKubeconfig(file, c, ["--exec-command", CLI]);
    assert.equal(up.code, 0, up.stderr);
    // client-node runs the exec plugin with this process's environment.
    const saved = { ...process.env };
    Object.assign(process.env, keyEnv());
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      assert.equal(kc.getCurrentContext(), contextOf(c));
      const core = kc.makeApiClient(CoreV1Api);
      const list = await core.listNamespace();
      assert.ok(list.items.some((n) => n.metadata?.name === `${c.name}-apps`));
      // The README's example, against the sandbox.
      const pods = await core.listNamespacedPod({ namespace: "kube-system" });
      assert.ok(pods.items.length >= 4);
      assert.ok(pods.items.every((p) => p.status?.phase === "Running" && p.spec?.nodeName?.startsWith(`${c.name}-pool-w-`)));
      const nodes = await core.listNode();
      assert.deepEqual(nodes.items.map((n) => n.status?.conditions?.find((x) => x.type === "Ready")?.status), ["True", "True"]);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    const own = await ncpKubeConfig({
      clusterUuid: c.uuid,
      region: c.region,
      credentials: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl },
    });
    const review = await own.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    assert.equal(review.status?.userInfo?.username, "sandbox-admin");
    assert.equal(own.tokenCache.mints, 1);
  });
}

test("--exec-command (the built CLI, a .js file run with node), --namespace and --alias: kubectl selects the context by its alias and lists the namespace's pods without -n", async (t) => {
  if (!needKubectl(t)) return;
  const c = cluster("KR");
  const file = join(dir, "config-ns-alias");
  const up = await updateKubeconfig(file, c, ["--exec-command", CLI, "--namespace", "kube-system", "--alias", "kr-system"]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /\(context kr-system, now current\)\n$/);
  const contexts = await kubectl(file, ["config", "get-contexts", "--no-headers"]);
  assert.match(contexts.stdout, new RegExp(`^\\*\\s+kr-system\\s+${contextOf(c)}\\s+${contextOf(c)}\\s+kube-system\\s*$`, "m"), contexts.stdout);
  const view = JSON.parse((await kubectl(file, ["config", "view", "--minify", "-o", "json"])).stdout) as {
    users: { user: { exec: { command: string; args: string[] } } }[];
  };
  assert.equal(view.users[0]?.user.exec.command, "node");
  assert.deepEqual(view.users[0]?.user.exec.args, [CLI, "token", "--clusterUuid", c.uuid, "--region", c.region]);
  // No -n: the context's namespace is used, through a token that node running the .js file minted.
  const pods = await kubectl(file, ["get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.namespace}{\"\\n\"}{end}"]);
  assert.equal(pods.code, 0, pods.stderr);
  const namespaces = pods.stdout.trim().split("\n");
  assert.ok(namespaces.length >= 4 && namespaces.every((n) => n === "kube-system"), pods.stdout);
  const created = join(dir, "config-created-ns");
  const made = await run(process.execPath, [CLI, "create-kubeconfig", "--clusterUuid", c.uuid, "--region", c.region, "-o", created, "--exec-command", CLI, "--namespace", "kube-system", "--alias", "kr-made"], keyEnv());
  assert.equal(made.code, 0, made.stderr);
  const coredns = await kubectl(created, ["--context", "kr-made", "get", "pods", "-o", "name"]);
  assert.equal(coredns.code, 0, coredns.stderr);
  assert.match(coredns.stdout, /^pod\/coredns-/m);
});

test("embedded-token mode: kubectl works with no NCP key in its environment", async (t) => {
  if (!needKubectl(t)) return;
  const c = cluster("SGN");
  const file = join(dir, "config-embed");
  const up = await updateKubeconfig(file, c, ["--embed-token"]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /the embedded token is good until .* \(in 4 minutes\)/);
  const doc = parseYaml(await readFile(file, "utf8")) as { users: { user: { token?: string; exec?: unknown } }[] };
  assert.match(doc.users[0]?.user.token ?? "", /^k8s-ncp-v1\./);
  assert.equal(doc.users[0]?.user.exec, undefined);
  const ns = await kubectl(file, ["get", "namespaces"], baseEnv());
  assert.equal(ns.code, 0, ns.stderr);
  assert.match(ns.stdout, /demo-sgn-apps/);
});

test("refused through kubectl: an expired token (the sandbox's clock 20 minutes ahead)", async (t) => {
  if (!needKubectl(t)) return;
  const file = join(dir, "config-expired");
  assert.equal((await updateKubeconfig(file, cluster("KR"), ["--embed-token"])).code, 0);
  const since = lines.length;
  clockOffset = 20 * 60_000;
  try {
    assertRefused(await kubectl(file, ["get", "namespaces"], baseEnv()), since, /ERR_TOKEN_EXPIRED: the token expired at/);
  } finally {
    clockOffset = 0;
  }
});

test("refused through kubectl: a token for another cluster", async (t) => {
  if (!needKubectl(t)) return;
  const kr = cluster("KR");
  const sgn = cluster("SGN");
  const file = join(dir, "config-other");
  assert.equal((await updateKubeconfig(file, kr, ["--exec-command", CLI])).code, 0);
  assert.equal((await updateKubeconfig(file, sgn, ["--exec-command", CLI])).code, 0);
  // The KR cluster with the SGN cluster's user: the plugin mints a token for the SGN cluster.
  const set = await kubectl(file, ["config", "set-context", "mixed", `--cluster=${contextOf(kr)}`, `--user=${contextOf(sgn)}`]);
  assert.equal(set.code, 0, set.stderr);
  const since = lines.length;
  assertRefused(await kubectl(file, ["--context", "mixed", "get", "namespaces"]), since, new RegExp(`ERR_TOKEN_CLUSTER: the token is for cluster ${sgn.uuid}, not ${kr.uuid}`));
});

test("refused through kubectl: a tampered signature", async (t) => {
  if (!needKubectl(t)) return;
  const file = join(dir, "config-tampered");
  assert.equal((await updateKubeconfig(file, cluster("KR"), ["--embed-token"])).code, 0);
  const doc = parseYaml(await readFile(file, "utf8")) as { users: { user: { token: string } }[] };
  const user = doc.users[0]?.user;
  assert.ok(user);
  const claim = JSON.parse(Buffer.from(user.token.slice("k8s-ncp-v1.".length), "base64").toString("utf8")) as { signature: string };
  claim.signature = (claim.signature[0] === "A" ? "B" : "A") + claim.signature.slice(1);
  user.token = `k8s-ncp-v1.${Buffer.from(JSON.stringify(claim)).toString("base64")}`;
  await writeFile(file, stringify(doc), { mode: 0o600 });
  const since = lines.length;
  assertRefused(await kubectl(file, ["get", "namespaces"], baseEnv()), since, /ERR_TOKEN_SIGNATURE/);
});

test("refused through kubectl: a token signed by an unknown access key", async (t) => {
  if (!needKubectl(t)) return;
  const file = join(dir, "config-unknown-key");
  assert.equal((await updateKubeconfig(file, cluster("KR"), ["--exec-command", CLI])).code, 0);
  const since = lines.length;
  const env = keyEnv({ NCLOUD_ACCESS_KEY_ID: "NCPUNKNOWNACCESSKEY9", NCLOUD_SECRET_ACCESS_KEY: "not-the-sandbox-secret-0123456789" });
  assertRefused(await kubectl(file, ["get", "namespaces"], env), since, /ERR_TOKEN_UNKNOWN_KEY: the token is signed by access key NCPUNKNOWNACCESSKEY9/);
});

test("refused at the gateway: update-kubeconfig signed with the wrong secret; the kubeconfig is left as it was", async () => {
  const file = join(dir, "config-wrong-secret");
  await writeFile(file, "apiVersion: v1\nkind: Config\n# keep me\nclusters: []\n", { mode: 0o600 });
  const before = await readFile(file, "utf8");
  const since = lines.length;
  const r = await updateKubeconfig(file, cluster("KR"), [], keyEnv({ NCLOUD_SECRET_ACCESS_KEY: "a-wrong-secret-key-0123456789abcdef" }));
  assert.equal(r.code, 5);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^kubeiam: NCP API rejected access key ${sandbox.accessKey}: HTTP 401, NCP error code 200 \\(Authentication Failed: Signature mismatch.*\\): the secret key is likely wrong`));
  assert.ok(!r.stderr.includes("a-wrong-secret") && !r.stderr.includes(sandbox.secretKey), "no secret in the message");
  assert.equal(await readFile(file, "utf8"), before);
  assert.match(lines.slice(since).join("\n"), /-> 401 \(Signature mismatch/);
});

test("refused at the gateway: a stale timestamp (the sandbox's clock 10 minutes ahead)", async () => {
  const file = join(dir, "config-stale");
  clockOffset = 10 * 60_000;
  let r: RunResult;
  try {
    r = await updateKubeconfig(file, cluster("SGN"));
  } finally {
    clockOffset = 0;
  }
  assert.equal(r.code, 5);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /rejected access key .*NCP error code 200 .*Timestamp is 6\d\d s old, outside the 5-minute window.*this machine's clock is likely wrong/);
  await assert.rejects(stat(file), { code: "ENOENT" });
});

test("refused at the gateway: the kubeconfig of a cluster still being created", async () => {
  const creating = sandbox.clusters.find((c) => c.status === "CREATING");
  assert.ok(creating);
  const file = join(dir, "config-creating");
  const r = await updateKubeconfig(file, creating);
  assert.equal(r.code, 5);
  assert.match(r.stderr, /still being created/);
  await assert.rejects(stat(file), { code: "ENOENT" });
});
