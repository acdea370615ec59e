/**
 * `npm run demo` (the built dist/demo.js): exits 0 after every step, with kubectl and without it,
 * and leaves no temporary file behind.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const DEMO = fileURLToPath(new URL("../../../dist/demo.js", import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeiam-e2e-demo-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runDemo(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEMO], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function cleanEnv(tmp: string, path: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, HOME: tmp, NO_PROXY: "127.0.0.1,localhost" };
  for (const k of ["NCLOUD_ACCESS_KEY_ID", "NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_API_GW", "KUBECONFIG"]) delete env[k];
  if (path !== undefined) env.PATH = path;
  return env;
}

test("the demo runs every step and exits 0, leaving no temporary file", async (t) => {
  const tmp = await mkdtemp(join(dir, "with-"));
  const r = await runDemo(cleanEnv(tmp, undefined));
  assert.equal(r.code, 0, r.stderr);
  // Act three: a person signs in through the identity provider with no token and reaches a cluster.
  assert.match(r.stdout, /the broker's page: "You are signed in to the kubeiam broker as carol@example\.com/);
  assert.match(r.stdout, /carol@example\.com\s+token\.issue\s+bars-kr\s+issued/);
  for (const region of ["KR", "SGN"]) assert.match(r.stdout, new RegExp(`kubeiam update-kubeconfig --clusterUuid [0-9a-f-]{36} --region ${region}\\n\\s+kubeconfig updated successfully\\.`));
  assert.match(r.stdout, /ncp-iam-authenticator token --clusterUuid [0-9a-f-]{36} --region KR \| kubeiam inspect --verify\n/);
  // The user entry exactly as an installed kubeiam writes it: the official command name, from PATH.
  assert.match(r.stdout, /\n\s+users:\n\s+- name: nks_kr_demo-kr_[0-9a-f-]{36}\n\s+user:\n\s+exec:\n\s+apiVersion: client\.authentication\.k8s\.io\/v1beta1\n\s+args:\n\s+- token\n(?:\s+- \S+\n){4}\s+command: ncp-iam-authenticator\n/);
  assert.match(r.stdout, /stage: +v1\n.*access key: +SBX/s);
  assert.match(r.stdout, /valid: +yes \(expires in (?:4m\d+s|5m0s)\)\n\s+signature: +verified with your credentials/);
  assert.match(r.stdout, /@kubernetes\/client-node with ncpKubeConfig \(demo-kr, KR/);
  assert.match(r.stdout, /namespaces: default, kube-node-lease, kube-public, kube-system, demo-sgn-apps/);
  assert.match(r.stdout, /whoami: sandbox-admin \(uid \d+\), groups \["system:masters","system:authenticated"\]/);
  assert.match(r.stdout, /ERR_TOKEN_CLUSTER: the token is for cluster/);
  // One closing line that says what was proved.
  assert.match(
    r.stdout,
    /\n\nproved: kubeconfigs written through the signed NKS API let .*stopped at the revoke, with no cloud key on the user's side, (?:two people through one broker were two identities in the cluster, whose RBAC refused the viewer's delete, )?and a person signed in through the identity provider, holding no token at all, and reached a cluster\.\n$/,
  );
  if (r.stdout.includes("kubectl is not on PATH")) {
    t.diagnostic("kubectl is not on PATH here: its steps were skipped");
  } else {
    assert.match(r.stdout, /kubectl get namespaces {3}\(demo-kr, KR/);
    assert.match(r.stdout, /Username\s+sandbox-admin/);
    assert.match(r.stdout, /Groups\s+\[system:masters system:authenticated\]/);
    // What kubectl 1.32 really prints for a 401 (not "(Unauthorized)").
    assert.match(r.stdout, /kubectl says: error: You must be logged in to the server \(the server has asked for the client to provide credentials\)/);
    assertIdentitiesScene(r.stdout);
  }
  assertBrokerAct(r.stdout);
  assert.deepEqual(await readdir(tmp), []);
  assert.ok(!r.stdout.includes("k8s-ncp-v1."), "no token printed");
});

/** Act two: the broker holds the key, alice holds a broker token, the revoke refuses her, the audit shows it. */
function assertBrokerAct(stdout: string): void {
  assert.match(stdout, /act two: a broker holds the key/);
  assert.match(stdout, /kubeiam broker cluster add kr-demo .*\n\s+NAME\s+PROVIDER\s+REGION\s+STATUS\s+ENDPOINT\n\s+kr-demo\s+ncp\s+KR\s+Active\s+https:\/\/127\.0\.0\.1:\d+\n/);
  assert.match(stdout, /refused cluster "kr-demo" \(403: user alice has no grant for cluster kr-demo/);
  assert.match(stdout, /\salice\s+token\.issue\s+kr-demo\s+denied\s+-\s+127\.0\.0\.1\s+no_grant\n/);
  assert.match(stdout, /\salice\s+token\.issue\s+kr-demo\s+issued\s+sandbox\s+127\.0\.0\.1/);
  assert.ok(!/kbi_[A-Za-z0-9_-]{43}/.test(stdout), "no broker token printed");
}

/**
 * The broker act's scene with kubectl: bob, granted kr-demo as the viewer credential for 2 hours, is
 * another identity than alice in the cluster; the cluster's RBAC refuses his delete and does alice's.
 */
function assertIdentitiesScene(stdout: string): void {
  assert.match(stdout, /kubeiam broker grant bob kr-demo --as sandbox-viewer --for 2h\n\s+CLUSTER\s+AS\s+EXPIRES\n\s+kr-demo\s+sandbox-viewer\s+\d{4}-\d\d-\d\dT/);
  assert.match(stdout, /\n {6}alice +sandbox-admin, groups \[system:masters system:authenticated\]\n {6}bob +sandbox-viewer, groups \[viewers system:authenticated\]\n/);
  const refused = /bob: kubectl delete pod\/(coredns-\S+) -n kube-system .*\n\s+(.*)\n/.exec(stdout);
  assert.ok(refused, "bob's delete is shown");
  const pod = refused[1] ?? "";
  // Kubernetes' own words for an RBAC refusal: the cluster said no, not the broker.
  assert.equal(refused[2], `Error from server (Forbidden): pods "${pod}" is forbidden: User "sandbox-viewer" cannot delete resource "pods" in API group "" in the namespace "kube-system"`);
  assert.match(stdout, new RegExp(`alice: kubectl delete pod/${pod} -n kube-system .*\\n\\s+pod "${pod}" deleted\\n`));
  assert.match(stdout, /\sbob\s+token\.issue\s+kr-demo\s+issued\s+sandbox-viewer\s+127\.0\.0\.1/);
  assert.ok(!/\sbob\s+token\.issue\s+kr-demo\s+issued\s+sandbox\s/.test(stdout), "no token of bob's minted with the cluster's own key");
  assert.match(stdout, /proved: .*, two people through one broker were two identities in the cluster, whose RBAC refused the viewer's delete, /);
}

test("without kubectl on PATH the demo says so, runs the client-node steps and exits 0", async () => {
  const tmp = await mkdtemp(join(dir, "without-"));
  // A PATH with node only (kubectl may live beside node, in /usr/bin).
  const bin = join(dir, "bin-node-only");
  await mkdir(bin, { recursive: true });
  await symlink(process.execPath, join(bin, "node"));
  const r = await runDemo(cleanEnv(tmp, bin));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kubectl is not on PATH: skipping the kubectl steps/);
  assert.match(r.stdout, /whoami: sandbox-admin/);
  assert.match(r.stdout, /alice: kubeiam broker token --cluster kr-demo/);
  assert.ok(!r.stdout.includes("bob:"), "the identities scene needs kubectl");
  assertBrokerAct(r.stdout);
  assert.deepEqual(await readdir(tmp), []);
});
