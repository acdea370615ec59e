import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { assertOneLine, runInProcess, type CliRun } from "../helpers/cli.js";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";

const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const CREATING = "0a1b2c3d-0000-4000-8000-00000000c0de";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");
const NAME = `nks_kr_demo_${UUID}`;

let standIn: StandIn;
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-cli-"));
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    clusters: [
      { uuid: UUID, name: "demo", status: "RUNNING", endpoint: "https://demo.kr.vnks.example", caData: CA, k8sVersion: "1.32.8-nks.1" },
      { uuid: CREATING, name: "baby", status: "CREATING", endpoint: "https://baby.kr.vnks.example", caData: CA },
    ],
  });
});
after(async () => {
  await standIn.close();
  await rm(root, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}, programName = "kubeiam"): Promise<CliRun> =>
  runInProcess(args, { programName, env: { HOME: join(root, "home"), NCLOUD_ACCESS_KEY_ID: AK, NCLOUD_SECRET_ACCESS_KEY: SK, NCLOUD_API_GW: standIn.url, ...env } });

const ids = ["--clusterUuid", UUID, "--region", "KR"];

test("create-kubeconfig -o FILE: the official names and exec user, mode 0600, the official success line", async () => {
  const file = join(root, "created.yaml");
  const r = await run(["create-kubeconfig", ...ids, "-o", file]);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, "kubeconfig created successfully.\n");
  assert.match(r.err, new RegExp(`wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(context ${NAME}\\)`));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const kc = parseKubeconfig(await readFile(file, "utf8"));
  assert.equal(kc.currentContext, NAME);
  assert.deepEqual(kc.clusters, [{ name: NAME, cluster: { server: "https://demo.kr.vnks.example", certificateAuthorityData: CA } }]);
  assert.deepEqual(kc.users[0]?.user.exec?.args, ["token", "--clusterUuid", UUID, "--region", "KR"]);
  assert.equal(kc.users[0]?.user.exec?.command, "ncp-iam-authenticator");
});

test("create-kubeconfig --format json, kebab-case aliases, named user and cluster", async () => {
  const file = join(root, "created.json");
  const r = await run(["create-kubeconfig", "--cluster-uuid", UUID, "--region", "kr", "--format", "json", "--output", file, "--cluster-name", "c1", "--user-name", "u1", "--exec-api-version", "v1"]);
  assert.equal(r.status, 0, r.err);
  const data = JSON.parse(await readFile(file, "utf8")) as { contexts: { name: string }[]; users: { user: { exec: { apiVersion: string; interactiveMode: string } } }[] };
  assert.equal(data.contexts[0]?.name, "u1@c1");
  assert.equal(data.users[0]?.user.exec.apiVersion, "client.authentication.k8s.io/v1");
  assert.equal(data.users[0]?.user.exec.interactiveMode, "Never");
});

test("create-kubeconfig --embed-token: a token user, and the expiry on stderr", async () => {
  const file = join(root, "embedded.yaml");
  const r = await run(["create-kubeconfig", ...ids, "-o", file, "--embed-token"]);
  assert.equal(r.status, 0, r.err);
  assert.match(r.err, /the embedded token is good until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in 4 minutes\)/);
  const user = parseKubeconfig(await readFile(file, "utf8")).users[0]?.user;
  assert.match(user?.token ?? "", /^k8s-ncp-v1\./);
  assert.equal(user?.exec, undefined);
  assert.ok(!r.err.includes(user?.token ?? "x"), "the token is never printed");
});

test("create-kubeconfig refuses a cluster still being created, writing nothing", async () => {
  const file = join(root, "never.yaml");
  const r = await run(["create-kubeconfig", "--clusterUuid", CREATING, "--region", "KR", "-o", file]);
  assertOneLine(r, 5, /cluster baby \(.+\) in region KR is still being created \(status CREATING\): try again when its status is RUNNING/);
  assert.equal(existsSync(file), false);
});

test("usage errors: one line, exit 2, nothing written", async () => {
  const cases: [string[], RegExp][] = [
    [["create-kubeconfig", "--clusterUuid", UUID], /--region is required/],
    [["create-kubeconfig", "--region", "KR"], /--clusterUuid is required/],
    [["create-kubeconfig", "--clusterUuid", "not-a-uuid", "--region", "KR"], /is not a UUID/],
    [["create-kubeconfig", ...ids, "--region", "K R"], /--region|not a region code/],
    [["create-kubeconfig", ...ids, "--format", "xml"], /--format "xml" is not supported: use yaml or json/],
    [["create-kubeconfig", ...ids, "--embed-token", "--exec-command", "x"], /--embed-token writes a token, not an exec plugin/],
    [["create-kubeconfig", ...ids, "--exec-api-version", "v2"], /--exec-api-version "v2" is not supported: use v1 or v1beta1/],
    [["update-kubeconfig", ...ids, "--overwrite=maybe"], /--overwrite takes true or false/],
    [["update-kubeconfig", ...ids, "--bogus"], /unknown flag "--bogus"/],
    [["clusters"], /--region is required/],
    [["clusters", "--region", "KR", "-o", "yaml"], /-o "yaml" is not supported: use table or json/],
  ];
  const before = standIn.requests.length;
  for (const [args, pattern] of cases) assertOneLine(await run(args), 2, pattern);
  assert.equal(standIn.requests.length, before, "no API call on a usage error");
});

test("a rejected API key: exit 5, the access key named, never the secret", async () => {
  const r = await run(["create-kubeconfig", ...ids, "-o", join(root, "x.yaml")], { NCLOUD_SECRET_ACCESS_KEY: "WRONGWRONGWRONGWRONG" });
  assertOneLine(r, 5, /NCP API rejected access key NCPTESTACCESSKEY0001/);
  assert.ok(!r.err.includes("WRONGWRONG"));
});

test("a cluster not in the region: exit 5 naming cluster and region", async () => {
  const other = "00000000-0000-4000-8000-000000000000";
  const r = await run(["create-kubeconfig", "--clusterUuid", other, "--region", "KR", "-o", join(root, "x.yaml")]);
  assertOneLine(r, 5, new RegExp(`cluster ${other} was not found in region KR`));
});

const EXISTING = `# team kubeconfig
apiVersion: v1
kind: Config
clusters:
- name: other # keep
  cluster:
    server: https://other.example
users:
- name: other
  user:
    token: other-token
contexts:
- name: other
  context:
    cluster: other
    user: other
current-context: other
`;

test("update-kubeconfig merges into the first KUBECONFIG entry, keeps the rest, leaves the second file alone", async () => {
  const dir = join(root, "multi");
  await mkdir(dir, { recursive: true });
  const first = join(dir, "first");
  const second = join(dir, "second");
  await writeFile(first, EXISTING, { mode: 0o644 });
  await writeFile(second, "apiVersion: v1\nkind: Config\n");
  const r = await run(["update-kubeconfig", ...ids], { KUBECONFIG: [first, second].join(delimiter) });
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, "kubeconfig updated successfully.\n");
  const text = await readFile(first, "utf8");
  assert.ok(text.startsWith("# team kubeconfig\napiVersion: v1\nkind: Config\nclusters:\n- name: other # keep\n  cluster:\n    server: https://other.example\n- cluster:\n"), text);
  const kc = parseKubeconfig(text);
  assert.deepEqual(kc.clusters.map((c) => c.name), ["other", NAME]);
  assert.deepEqual(kc.users.map((c) => c.name), ["other", NAME]);
  assert.equal(kc.currentContext, NAME);
  assert.equal((await stat(first)).mode & 0o777, 0o644, "the existing mode is kept");
  assert.equal(await readFile(second, "utf8"), "apiVersion: v1\nkind: Config\n");
});

test("update-kubeconfig into a missing ~/.kube/config creates it (0600, folder made)", async () => {
  const home = join(root, "fresh-home");
  const r = await run(["update-kubeconfig", ...ids], { HOME: home });
  assert.equal(r.status, 0, r.err);
  const path = join(home, ".kube", "config");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal(parseKubeconfig(await readFile(path, "utf8")).currentContext, NAME);
});

test("duplicate names: refused naming them, file unchanged; --overwrite replaces; --currentContext=false keeps current", async () => {
  const path = join(root, "dup");
  await writeFile(path, EXISTING);
  assert.equal((await run(["update-kubeconfig", ...ids, "--kubeconfig", path, "--currentContext=false"])).status, 0);
  const once = await readFile(path, "utf8");
  assert.equal(parseKubeconfig(once).currentContext, "other");

  const again = await run(["update-kubeconfig", ...ids, "--kubeconfig", path]);
  assertOneLine(again, 6, new RegExp(`the kubeconfig already has cluster "${NAME}", user "${NAME}", context "${NAME}": pass --overwrite`));
  assert.equal(await readFile(path, "utf8"), once);

  const over = await run(["update-kubeconfig", ...ids, "--kubeconfig", path, "--overwrite"]);
  assert.equal(over.status, 0, over.err);
  assert.match(over.err, /replaced cluster/);
  const kc = parseKubeconfig(await readFile(path, "utf8"));
  assert.deepEqual(kc.clusters.map((c) => c.name), ["other", NAME]);
  assert.equal(kc.currentContext, NAME);
});

test("update-kubeconfig --dry-run prints the result and writes nothing", async () => {
  const path = join(root, "dry");
  await writeFile(path, EXISTING);
  const r = await run(["update-kubeconfig", ...ids, "--kubeconfig", path, "--dry-run"]);
  assert.equal(r.status, 0, r.err);
  assert.equal(parseKubeconfig(r.out).currentContext, NAME);
  assert.match(r.out, /^# team kubeconfig\n/);
  assert.equal(await readFile(path, "utf8"), EXISTING);
});

test("a malformed kubeconfig is refused before any API call and left byte for byte", async () => {
  const path = join(root, "malformed");
  const bytes = "apiVersion: v1\nclusters:\n  - cluster: {server: https://x}\n    name: [not, a, string]\n";
  await writeFile(path, bytes);
  const before = standIn.requests.length;
  const r = await run(["update-kubeconfig", ...ids, "--kubeconfig", path]);
  assertOneLine(r, 6, /kubeconfig .+malformed is malformed: clusters\[0\]\.name is not a string; fix it or use another file \(it was left unchanged\) \(set with --kubeconfig\)/);
  assert.equal(await readFile(path, "utf8"), bytes);
  assert.equal(standIn.requests.length, before);
  const yamlBroken = join(root, "broken-yaml");
  await writeFile(yamlBroken, "clusters: [\n");
  assertOneLine(await run(["update-kubeconfig", ...ids, "--kubeconfig", yamlBroken]), 6, /is malformed: not valid YAML at line/);
  assert.equal(await readFile(yamlBroken, "utf8"), "clusters: [\n");
});

test("clusters: a table, and JSON ClusterInfo", async () => {
  const table = await run(["clusters", "--region", "KR"]);
  assert.equal(table.status, 0, table.err);
  const lines = table.out.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^NAME\s+UUID\s+STATUS\s+VERSION\s+ENDPOINT$/);
  assert.match(lines[1] ?? "", new RegExp(`^demo\\s+${UUID}\\s+Active \\(RUNNING\\)\\s+1\\.32\\.8-nks\\.1\\s+https://demo\\.kr\\.vnks\\.example$`));
  assert.match(lines[2] ?? "", /^baby\s+\S+\s+Creating\s+/);
  const json = await run(["clusters", "--region", "KR", "-o", "json"]);
  const data = JSON.parse(json.out) as { id: string; status: string; rawStatus: string; cloud: string }[];
  assert.deepEqual(data.map((c) => [c.cloud, c.id, c.status, c.rawStatus]), [["ncp", UUID, "Active", "RUNNING"], ["ncp", CREATING, "Creating", "CREATING"]]);
});

test("as ncp-iam-authenticator: the official commands are there, kubeiam's own are not", async () => {
  const r = await run(["create-kubeconfig", ...ids, "-o", join(root, "official.yaml")], {}, "ncp-iam-authenticator");
  assert.equal(r.status, 0, r.err);
  assertOneLine(await run(["clusters", "--region", "KR"], {}, "ncp-iam-authenticator"), 2, /unknown command "clusters"/);
});

test("a YAML alias bomb as the kubeconfig is refused as malformed (exit 6, one line), never an internal error", async () => {
  const path = join(root, "alias-bomb");
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 8; i++) {
    const prev = String.fromCharCode(96 + i);
    levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(", ")}]`);
  }
  const bytes = `${levels.join("\n")}\nclusters: [*h]\n`;
  await writeFile(path, bytes);
  const before = standIn.requests.length;
  const r = await run(["update-kubeconfig", ...ids, "--kubeconfig", path]);
  assertOneLine(r, 6, /alias-bomb is malformed: .*aliases/);
  assert.doesNotMatch(r.err, /internal error/);
  assert.equal(await readFile(path, "utf8"), bytes);
  assert.equal(standIn.requests.length, before);
});
