/**
 * `kubeiam convert-kubeconfig`: cb-spider's exec users (the kubeconfig its NCP/AWS/GCP drivers write,
 * placeholders filled in by its runtime) and official ncp-iam-authenticator users become
 * `kubeiam broker token` users; everything else stays, byte for byte where untouched. Expected
 * texts are written out by hand here, not produced by the code under test.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSpiderTokenScript } from "../../src/broker/client/convert.js";
import { assertOneLine, runInProcess, type CliRun } from "../helpers/cli.js";
import { execInstallHint } from "../../src/kube/kubeconfig.js";

const BROKER = "https://broker.example:8750";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");

/** A kubeconfig as cb-spider's NCP driver writes it, after its runtime replaced both placeholders. */
function spiderKubeconfig(cluster: string, connection: string, user = "ncp-dynamic-token"): string {
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://${cluster}.kr.vnks.example
    certificate-authority-data: ${CA}
  name: ${cluster}
contexts:
- context:
    cluster: ${cluster}
    user: ${user}
  name: ${cluster}
current-context: ${cluster}
users:
- name: ${user}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
      command: sh
      args:
      - -c
      - ". ~/.cb-spider/.spider-credential && curl -s -u \\"$SPIDER_USERNAME:$SPIDER_PASSWORD\\" \\"http://spider.example:1024/spider/cluster/${cluster}/token?ConnectionName=${connection}\\""
`;
}

let root: string;
let files = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-convert-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fileWith(text: string, mode = 0o600): Promise<string> {
  const path = join(root, `kubeconfig-${++files}.yaml`);
  await writeFile(path, text);
  await chmod(path, mode);
  return path;
}

const run = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runInProcess(args, { env: { HOME: join(root, "home"), ...env } });

test("parseSpiderTokenScript reads cb-spider's script, and refuses look-alikes", () => {
  const script = '. ~/.cb-spider/.spider-credential && curl -s -u "$SPIDER_USERNAME:$SPIDER_PASSWORD" "http://localhost:1024/spider/cluster/my%20c/token?ConnectionName=ncp-kr-config"';
  assert.deepEqual(parseSpiderTokenScript(script), { kind: "cb-spider", spiderServer: "http://localhost:1024", cluster: "my c", connection: "ncp-kr-config" });
  assert.equal(parseSpiderTokenScript(script.replace("spider-credential", "other")), undefined);
  assert.equal(parseSpiderTokenScript(`${script}; rm -rf ~`), undefined);
  assert.equal(parseSpiderTokenScript(script.replace("/token?", "/kubeconfig?")), undefined);
});

test("a cb-spider kubeconfig: the user now runs kubeiam broker token; clusters, contexts, order and comments stay", async () => {
  const original = `# team clusters\n${spiderKubeconfig("nks-prod", "ncp-kr")}- name: other # keep me\n  user:\n    token: abc\n`;
  const path = await fileWith(original, 0o640);
  const r = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path]);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, "");
  assert.match(r.err, /user "ncp-dynamic-token" \(cb-spider cluster "nks-prod", connection "ncp-kr" at http:\/\/spider\.example:1024\) now runs 'kubeiam broker token --server https:\/\/broker\.example:8750 --cluster nks-prod'/);
  const expected = `# team clusters
apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://nks-prod.kr.vnks.example
    certificate-authority-data: ${CA}
  name: nks-prod
contexts:
- context:
    cluster: nks-prod
    user: ncp-dynamic-token
  name: nks-prod
current-context: nks-prod
users:
- name: ncp-dynamic-token
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      args:
      - broker
      - token
      - --server
      - https://broker.example:8750
      - --cluster
      - nks-prod
      command: kubeiam
      installHint: ${JSON.stringify(execInstallHint("kubeiam"))}
      interactiveMode: Never
      provideClusterInfo: false
- name: other # keep me
  user:
    token: abc
`;
  assert.equal(await readFile(path, "utf8"), expected);
  assert.equal((await stat(path)).mode & 0o777, 0o640, "an existing file keeps its mode");
  // A second run finds nothing left to convert and changes nothing.
  const again = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path]);
  assert.equal(again.status, 0);
  assert.match(again.err, /nothing to convert/);
  assert.equal(await readFile(path, "utf8"), expected);
});

test("--dry-run prints the converted kubeconfig and leaves the file byte for byte", async () => {
  const original = spiderKubeconfig("eks-dev", "aws-us-east-1", "aws-dynamic-token");
  const path = await fileWith(original);
  const r = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--dry-run", "--ca-file", "/dev/null"]);
  // /dev/null holds no certificate: refused before anything is read.
  assertOneLine(r, 3, /--ca-file \/dev\/null holds no PEM certificate/);
  const caFile = join(root, "ca.pem");
  await writeFile(caFile, Buffer.from(CA, "base64"));
  const d = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--dry-run", "--ca-file", caFile]);
  assert.equal(d.status, 0, d.err);
  assert.match(d.out, /- --cluster\n\s+- eks-dev\n\s+- --ca-file\n\s+- .*ca\.pem\n\s+command: kubeiam/);
  assert.match(d.err, /dry run: .* was not changed/);
  assert.equal(await readFile(path, "utf8"), original);
});

test("--exec-command takes what the other kubeconfig commands take: a .js file runs with node; an empty or control-character value is refused", async () => {
  const original = spiderKubeconfig("gke-dev", "gcp-asia", "gcp-dynamic-token");
  const path = await fileWith(original);
  const d = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--dry-run", "--exec-command", "/opt/kubeiam/dist/cli/main.js"]);
  assert.equal(d.status, 0, d.err);
  assert.match(d.out, /args:\n\s+- \/opt\/kubeiam\/dist\/cli\/main\.js\n\s+- broker\n\s+- token\n[\s\S]*command: node\n/);
  for (const bad of ["", " ", "kubeiam\nrm"]) {
    const r = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--exec-command", bad]);
    assertOneLine(r, 2, /--exec-command is empty or holds control characters/);
  }
  assert.equal(await readFile(path, "utf8"), original);
});

test("an official ncp-iam-authenticator user, with --cluster naming its broker cluster", async () => {
  const original = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${CA}
    server: https://abc.kr.vnks.example
  name: nks_kr_demo_3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b
contexts:
- context:
    cluster: nks_kr_demo_3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b
    user: nks_kr_demo_3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b
  name: nks_kr_demo_3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b
current-context: nks_kr_demo_3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b
kind: Config
preferences: {}
users:
- name: nks_kr_demo_3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - token
      - --clusterUuid
      - 3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b
      - --region
      - KR
      command: ncp-iam-authenticator
      env: null
      provideClusterInfo: false
`;
  const path = await fileWith(original);
  const r = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--cluster", "demo-kr"]);
  assert.equal(r.status, 0, r.err);
  assert.match(r.err, /ncp-iam-authenticator, cluster 3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b in KR\) now runs 'kubeiam broker token --server https:\/\/broker\.example:8750 --cluster demo-kr'/);
  const after = await readFile(path, "utf8");
  assert.equal(
    after,
    original.replace(
      /    exec:\n[\s\S]*$/,
      `    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - broker
      - token
      - --server
      - https://broker.example:8750
      - --cluster
      - demo-kr
      command: kubeiam
      installHint: ${JSON.stringify(execInstallHint("kubeiam"))}
      provideClusterInfo: false
`,
    ),
  );
});

test("refusals leave the file byte for byte: unparsable, not a kubeconfig, --cluster for several users, an unknown --user", async () => {
  const cases: [string, RegExp][] = [
    ["users: [\n  - name: a\n", /is malformed: not valid YAML/],
    ["kind: Pod\nmetadata: {}\n", /is malformed: kind is "Pod", not "Config"/],
    ["users:\n- user: {}\n", /is malformed: users\[0\]\.name is missing/],
    ["\u0000\u0001binary", /is malformed/],
  ];
  for (const [text, pattern] of cases) {
    const path = await fileWith(text);
    const r = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path]);
    assertOneLine(r, 6, pattern);
    assert.equal(await readFile(path, "utf8"), text);
  }
  const two = spiderKubeconfig("a", "c1", "ua") + spiderKubeconfig("b", "c2", "ub").split("users:\n")[1];
  const path = await fileWith(two);
  assertOneLine(await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--cluster", "x"]), 2, /--cluster names the broker cluster of one user, but 2 users match: add --user NAME/);
  assertOneLine(await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--user", "nobody"]), 2, /has no cb-spider or ncp-iam-authenticator user named "nobody"/);
  assertOneLine(await run(["convert-kubeconfig", "--kubeconfig", path]), 2, /--server is required/);
  assertOneLine(await run(["convert-kubeconfig", "--server", "http://broker.example", "--kubeconfig", path]), 2, /plain HTTP to another machine/);
  assertOneLine(await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", join(root, "missing")]), 6, /does not exist/);
  assert.equal(await readFile(path, "utf8"), two);
  // With --user, the one user gets --cluster; the other stays a cb-spider user.
  const one = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--user", "ub", "--cluster", "b-on-broker"]);
  assert.equal(one.status, 0, one.err);
  const text = await readFile(path, "utf8");
  assert.match(text, /- name: ua\n  user:\n    exec:\n      apiVersion: client\.authentication\.k8s\.io\/v1\n      interactiveMode: Never\n      command: sh\n/);
  assert.match(text, /- --cluster\n\s+- b-on-broker\n/);
});

test("runs at once on one file keep each other's conversions (read, change, write under <file>.lock); read-only needs --force", async () => {
  const names = ["u1", "u2", "u3", "u4", "u5", "u6"];
  const text = spiderKubeconfig("c0", "conn", "u0") + names.map((u) => spiderKubeconfig(`c-${u}`, "conn", u).split("users:\n")[1]).join("");
  const path = await fileWith(text);
  const runs = await Promise.all(names.map((u) => run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", path, "--user", u, "--cluster", `b-${u}`])));
  for (const r of runs) assert.equal(r.status, 0, r.err);
  const after = await readFile(path, "utf8");
  for (const u of names) assert.match(after, new RegExp(`- --cluster\\n\\s+- b-${u}\\n`), `${u} kept`);
  assert.match(after, /- name: u0\n  user:\n    exec:\n      apiVersion: client\.authentication\.k8s\.io\/v1\n      interactiveMode: Never\n      command: sh\n/, "the user not named stays");
  assert.ok(!existsSync(`${path}.lock`), "the lock is released");

  const readOnly = await fileWith(spiderKubeconfig("ro", "conn"), 0o400);
  assertOneLine(await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", readOnly]), 6, /is read-only \(mode 0400\).*--force/);
  assert.match(await readFile(readOnly, "utf8"), /command: sh/, "left as it was");
  const forced = await run(["convert-kubeconfig", "--server", BROKER, "--kubeconfig", readOnly, "--force"]);
  assert.equal(forced.status, 0, forced.err);
  assert.match(await readFile(readOnly, "utf8"), /command: kubeiam/);
});
