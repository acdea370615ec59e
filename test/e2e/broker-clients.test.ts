/**
 * The broker's clients end to end, as their users meet them: `kubeiam serve` (embedded store) holds
 * the key of a `kubeiam sandbox`, and people who hold only a broker token reach the sandbox cluster
 * with the real kubectl through `kubeiam broker token`; cb-spider users keep the kubeconfig cb-spider
 * wrote (sh, curl and a `.spider-credential` file) and point it at the broker; `convert-kubeconfig`
 * moves both kinds of old kubeconfig to the broker; a Node program uses `createBrokerProvider` with
 * `kubeConfigFor`; and every token answer is in one audit trail.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import YAML from "yaml";
import { parseSpiderTokenScript } from "../../src/broker/client/convert.js";
import { createBrokerProvider } from "../../src/broker/client/provider.js";
import { decodeNcpToken } from "../../src/ncp/token.js";
import { kubeConfigFor } from "../../src/provider.js";
import { assertOneLine, type CliRun } from "../helpers/cli.js";
import { CLI, newMasterKey, rest, restOk, startCliChild, type ReadyChild, type SandboxLine, type ServeLine } from "../helpers/serve-process.js";
import { requireTools } from "../helpers/tools.js";
import { createModuleTracer } from "../helpers/module-trace.js";

// The real tools, or one line saying what to install (test/helpers/tools.ts).
before(() => requireTools("kubectl"));

const CONNECTION = "ncp-sandbox";
let root: string;
let bin: string;
let sandbox: ReadyChild<SandboxLine>;
let broker: ReadyChild<ServeLine>;
let url: string;
let admin: string;
let uuid: string;
let endpoint: string;
const tokens: Record<string, string> = {};

function run(command: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ status: -1, out, err: err + e.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, out, err });
    });
    child.stdin.on("error", () => undefined); // a child that exits without reading its input (EPIPE)
    child.stdin.end(stdin ?? "");
  });
}

let homes = 0;
async function freshHome(): Promise<string> {
  const home = join(root, `home${++homes}`);
  await mkdir(home);
  return home;
}

/** An environment built from scratch: our bin dir (kubeiam), node, the system's tools; no cloud keys. */
function env(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: [bin, dirname(process.execPath), "/usr/local/bin:/usr/bin:/bin"].join(delimiter), HOME: home, ...extra };
}

const kubeiam = (args: string[], home: string, extra: Record<string, string> = {}, stdin?: string): Promise<CliRun> =>
  run(process.execPath, [CLI, ...args], env(home, extra), stdin);
const kubectl = (kubeconfig: string, home: string): Promise<CliRun> =>
  run("kubectl", ["--kubeconfig", kubeconfig, "--request-timeout=20s", "get", "--raw", "/version"], env(home));
const kubectlGetNodes = (kubeconfig: string, home: string): Promise<CliRun> =>
  run("kubectl", ["--kubeconfig", kubeconfig, "--request-timeout=20s", "get", "nodes", "-o", "name"], env(home));

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-broker-clients-"));
  bin = join(root, "bin");
  await mkdir(bin);
  // As `npm install -g` links it: a command named kubeiam on PATH.
  await symlink(CLI, join(bin, "kubeiam"));
  const serveHome = await freshHome();
  sandbox = await startCliChild<SandboxLine>(["sandbox"], { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: serveHome });
  broker = await startCliChild<ServeLine>(["serve", "--db", `sqlite:${join(root, "broker.db")}`, "--listen", "127.0.0.1:0"], {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: serveHome,
    KUBEIAM_MASTER_KEY: newMasterKey(),
  });
  url = broker.line.url;
  assert.ok(broker.line.adminToken, "a first start prints the admin token");
  admin = broker.line.adminToken;
  const running = sandbox.line.clusters.find((c) => c.status === "RUNNING" && c.endpoint !== null);
  assert.ok(running?.endpoint);
  uuid = running.uuid;
  endpoint = running.endpoint;
  const s = sandbox.line;
  await restOk(url, admin, "POST", "/v1/credentials", { name: "sandbox-key", provider: "ncp", ncp: { accessKey: s.accessKey, secretKey: s.secretKey, apiUrl: s.apiUrl } }, 201);
  await restOk(url, admin, "POST", "/v1/clusters", { name: "demo", credential: "sandbox-key", region: running.region, connection: CONNECTION, ncp: { clusterUuid: uuid } }, 201);
  for (const name of ["alice", "bob", "carol"]) {
    const r = await restOk(url, admin, "POST", "/v1/users", { name, role: "user" }, 201);
    tokens[name] = (r.body as { token: string }).token;
  }
  await restOk(url, admin, "PUT", "/v1/grants/alice/demo", undefined, 204);
  await restOk(url, admin, "PUT", "/v1/grants/carol/demo", undefined, 204);
});

after(async () => {
  await broker?.stop();
  await sandbox?.stop();
  await rm(root, { recursive: true, force: true });
});

const secrets = (): string[] => [...Object.values(tokens), admin];

test("broker login keeps the token (0600); broker clusters lists the grants; a bad token is refused and not kept", async () => {
  const home = await freshHome();
  const login = await kubeiam(["broker", "login", "--server", url], home, {}, `${tokens.alice}\n`);
  assert.equal(login.status, 0, login.err);
  assert.match(login.err, /logged in to http:\/\/127\.0\.0\.1:\d+ \(1 cluster granted\)/);
  const file = join(home, ".kubeiam", "credentials.json");
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(dirname(file))).mode & 0o777, 0o700);
  const clusters = await kubeiam(["broker", "clusters", "--server", url], home);
  assert.equal(clusters.status, 0, clusters.err);
  assert.match(clusters.out, /^NAME\s+PROVIDER\s+REGION\s+ENDPOINT\ndemo\s+ncp\s+\S+\s+https:\/\/127\.0\.0\.1:\d+\n$/);
  for (const s of secrets()) assert.ok(!login.err.includes(s) && !clusters.out.includes(s));

  const before = await readFile(file, "utf8");
  const bad = `kbi_${"A".repeat(43)}`;
  assertOneLine(await kubeiam(["broker", "login", "--server", url], home, {}, bad), 8, /refused the broker token \(401: .*\): run 'kubeiam broker login --server http:\/\/127\.0\.0\.1:\d+' with a valid token/, [bad]);
  assert.equal(await readFile(file, "utf8"), before);
  // KUBEIAM_BROKER_TOKEN wins over the file.
  assertOneLine(await kubeiam(["broker", "clusters", "--server", url], home, { KUBEIAM_BROKER_TOKEN: bad }), 8, /refused the broker token \(401/, [bad]);
  const bobs = await kubeiam(["broker", "clusters", "--server", url], home, { KUBEIAM_BROKER_TOKEN: tokens.bob as string });
  assert.equal(bobs.status, 0);
  assert.equal(bobs.out, "");
  assert.match(bobs.err, /grants you no clusters yet/);
});

test("kubectl through 'kubeiam broker token': update-kubeconfig, then get --raw /version with no cloud key anywhere", async () => {
  const home = await freshHome();
  const kubeconfig = join(home, "config");
  await writeFile(kubeconfig, "# mine\napiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: \"\"\n");
  const up = await kubeiam(["broker", "update-kubeconfig", "--server", url, "--cluster", "demo", "--kubeconfig", kubeconfig], home, { KUBEIAM_BROKER_TOKEN: tokens.alice as string });
  assert.equal(up.status, 0, up.err);
  assert.match(up.out, /^Added new context demo to .*config \(broker cluster demo at http:\/\/127\.0\.0\.1:\d+\)\n$/);
  const text = await readFile(kubeconfig, "utf8");
  assert.match(text, /^# mine\n/);
  assert.match(text, /command: kubeiam/);
  assert.ok(!text.includes(tokens.alice as string), "the kubeconfig holds no broker token");
  // The same names again: refused, file unchanged; --overwrite replaces.
  assertOneLine(await kubeiam(["broker", "update-kubeconfig", "--server", url, "--cluster", "demo", "--kubeconfig", kubeconfig], home, { KUBEIAM_BROKER_TOKEN: tokens.alice as string }), 6, /already has cluster "demo", user "kubeiam-broker-demo", context "demo": pass --overwrite/);
  assert.equal(await readFile(kubeconfig, "utf8"), text);

  // kubectl runs the plugin with the login file's token (no environment variable).
  const noLogin = await kubectl(kubeconfig, home);
  assert.notEqual(noLogin.status, 0);
  assert.match(noLogin.err, /no broker token for http:\/\/127\.0\.0\.1:\d+: run 'kubeiam broker login/);
  assert.equal((await kubeiam(["broker", "login", "--server", url], home, {}, tokens.alice)).status, 0);
  const ok = await kubectl(kubeconfig, home);
  assert.equal(ok.status, 0, ok.err);
  assert.equal((JSON.parse(ok.out) as { major: string }).major, "1");
});

test("broker update-kubeconfig takes the shared kubeconfig flow's flags (--currentContext=false, --current-context, --no-set-current, --dry-run, --overwrite, --namespace); the real kubectl reads each result", async () => {
  const home = await freshHome();
  const kubeconfig = join(home, "flow");
  const seed = "# keep me\napiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster:\n    server: https://other.example\nusers:\n- name: other\n  user: {}\ncontexts:\n- name: mine\n  context:\n    cluster: other\n    user: other\ncurrent-context: mine\n";
  await writeFile(kubeconfig, seed);
  const e = { KUBEIAM_BROKER_TOKEN: tokens.alice as string };
  const up = (...extra: string[]) => kubeiam(["broker", "update-kubeconfig", "--server", url, "--cluster", "demo", "--kubeconfig", kubeconfig, ...extra], home, e);
  const kc = (...args: string[]) => run("kubectl", ["--kubeconfig", kubeconfig, ...args], env(home, e));
  const current = async () => (await kc("config", "current-context")).out.trim();
  const contexts = async () => (await kc("config", "get-contexts", "-o", "name")).out.trim().split("\n").sort();

  const dry = await up("--dry-run", "--alias", "dry");
  assert.equal(dry.status, 0, dry.err);
  assert.equal(await readFile(kubeconfig, "utf8"), seed, "a dry run writes nothing");
  const dryFile = join(home, "dry");
  await writeFile(dryFile, dry.out);
  const dryView = await run("kubectl", ["--kubeconfig", dryFile, "config", "get-contexts", "-o", "name"], env(home));
  assert.deepEqual(dryView.out.trim().split("\n").sort(), ["dry", "mine"], "kubectl reads what --dry-run printed");

  const first = await up("--currentContext=false");
  assert.equal(first.status, 0, first.err);
  assert.match(first.out, /^Added new context demo to .*flow \(broker cluster demo at http:\/\/127\.0\.0\.1:\d+\)\n$/);
  assert.match(first.err, /updated .*flow \(context demo\)\n$/);
  assert.deepEqual(await contexts(), ["demo", "mine"]);
  assert.equal(await current(), "mine", "--currentContext=false leaves current-context");
  assert.match(await readFile(kubeconfig, "utf8"), /^# keep me\n/);

  assertOneLine(await up(), 6, /broker update-kubeconfig: the kubeconfig already has cluster "demo", user "kubeiam-broker-demo", context "demo": pass --overwrite to replace them, or choose other names with --alias and --user-alias; .*flow was left unchanged/);
  const over = await up("--overwrite", "--current-context", "true");
  assert.equal(over.status, 0, over.err);
  assert.match(over.out, /^Updated context demo to /);
  assert.match(over.err, /replaced cluster "demo", user "kubeiam-broker-demo", context "demo"\n/);
  assert.equal(await current(), "demo", "--current-context true switches");

  const second = await up("--no-set-current", "--overwrite", "--alias", "demo-2", "--user-alias", "alice-2", "--namespace", "team-a");
  assert.equal(second.status, 0, second.err);
  assert.equal((await kc("config", "view", "-o", "jsonpath={.contexts[?(@.name==\"demo-2\")].context.namespace}")).out, "team-a", "--namespace sets the context's namespace");
  assert.deepEqual(await contexts(), ["demo", "demo-2", "mine"]);
  assert.equal(await current(), "demo");
  // The new context works: kubectl runs the plugin it names and reaches the sandbox's cluster.
  const version = await kc("--context", "demo-2", "--request-timeout=20s", "get", "--raw", "/version");
  assert.equal(version.status, 0, version.err);
  assert.equal((JSON.parse(version.out) as { major: string }).major, "1");
  const users = await kc("config", "view", "-o", "jsonpath={.users[?(@.name==\"alice-2\")].user.exec.args}");
  assert.deepEqual(JSON.parse(users.out), ["broker", "token", "--server", url, "--cluster", "demo"]);

  // --exec-command as every other kubeconfig command takes it: a .js file runs with node, and kubectl runs it.
  const third = await up("--no-set-current", "--overwrite", "--alias", "demo-3", "--user-alias", "alice-3", "--exec-command", CLI);
  assert.equal(third.status, 0, third.err);
  const user3 = await kc("config", "view", "-o", "jsonpath={.users[?(@.name==\"alice-3\")].user.exec}");
  const exec3 = JSON.parse(user3.out) as { command: string; args: string[] };
  assert.equal(exec3.command, "node");
  assert.deepEqual(exec3.args, [CLI, "broker", "token", "--server", url, "--cluster", "demo"]);
  const version3 = await kc("--context", "demo-3", "--request-timeout=20s", "get", "--raw", "/version");
  assert.equal(version3.status, 0, version3.err);
  assertOneLine(await up("--exec-command", " "), 2, /--exec-command is empty or holds control characters/);

  assertOneLine(await up("--currentContext=true", "--no-set-current"), 2, /--currentContext=true and --no-set-current contradict each other/);
  assertOneLine(await up("--current-context=maybe"), 2, /--current-context takes true or false/);
  assertOneLine(await up("--namespace", "Team_A"), 2, /--namespace "Team_A" is not a namespace name/);
});

test("update-kubeconfig runs at once into one file keep every entry (read, change, write under <file>.lock)", async () => {
  const home = await freshHome();
  const kubeconfig = join(home, "shared");
  const aliases = ["a1", "a2", "a3", "a4", "a5", "a6"];
  const runs = await Promise.all(
    aliases.map((a) =>
      kubeiam(["broker", "update-kubeconfig", "--server", url, "--cluster", "demo", "--kubeconfig", kubeconfig, "--alias", a, "--user-alias", `u-${a}`, "--overwrite"], home, {
        KUBEIAM_BROKER_TOKEN: tokens.alice as string,
      }),
    ),
  );
  for (const r of runs) assert.equal(r.status, 0, r.err);
  const text = await readFile(kubeconfig, "utf8");
  for (const a of aliases) {
    assert.match(text, new RegExp(`name: ${a}\n`), `context ${a} kept`);
    assert.match(text, new RegExp(`name: u-${a}\n`), `user u-${a} kept`);
  }
  assert.equal(text.match(/^- cluster:/gm)?.length, 1, "one cluster entry, replaced in place");
});

test("the plugin's output: v1beta1 by default (the rule of kubeiam token), v1 from --api-version, KUBERNETES_EXEC_INFO above both, expiry a minute before the token's end", async () => {
  const home = await freshHome();
  const e = { KUBEIAM_BROKER_TOKEN: tokens.alice as string };
  const v1 = await kubeiam(["broker", "token", "--server", url, "--cluster", "demo"], home, e);
  assert.equal(v1.status, 0, v1.err);
  assert.equal(v1.err, "");
  const c1 = JSON.parse(v1.out) as { kind: string; apiVersion: string; spec: unknown; status: { token: string; expirationTimestamp: string } };
  assert.deepEqual(Object.keys(c1), ["kind", "apiVersion", "spec", "status"]);
  assert.equal(c1.apiVersion, "client.authentication.k8s.io/v1beta1", "the default of every kubeiam plugin");
  const byNcp = await kubeiam(["token", "--clusterUuid", "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", "--region", "KR"], home, { NCLOUD_ACCESS_KEY_ID: "NCPTESTACCESSKEY0001", NCLOUD_SECRET_ACCESS_KEY: "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001" });
  assert.equal((JSON.parse(byNcp.out) as { apiVersion: string }).apiVersion, c1.apiVersion, "kubeiam token prints the same apiVersion without KUBERNETES_EXEC_INFO");
  const asked = await kubeiam(["broker", "token", "--server", url, "--cluster", "demo", "--api-version", "v1"], home, e);
  assert.equal((JSON.parse(asked.out) as { apiVersion: string }).apiVersion, "client.authentication.k8s.io/v1");
  assert.match(c1.status.token, /^k8s-ncp-v1\./);
  const left = Date.parse(c1.status.expirationTimestamp) - Date.now();
  // An NKS token: announced for at most 240 s (NCP's gateway honours it for 5 minutes).
  assert.ok(left > 2 * 60_000 && left <= 4 * 60_000 + 1000, `expiry ${c1.status.expirationTimestamp}`);
  assert.ok(Date.parse(c1.status.expirationTimestamp) - Number(decodeNcpToken(c1.status.token).timestamp) <= 240_000);
  const info = JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1beta1", spec: { interactive: false } });
  const beta = await kubeiam(["broker", "token", "--server", url, "--cluster", "demo", "--api-version", "v1"], home, { ...e, KUBERNETES_EXEC_INFO: info });
  assert.equal(beta.status, 0, beta.err);
  assert.equal((JSON.parse(beta.out) as { apiVersion: string }).apiVersion, "client.authentication.k8s.io/v1beta1");
});

test("the plugin stays on the light path: only node: built-ins and our own modules, no package at all", async (t) => {
  // test/helpers/module-trace.ts records every specifier the process loads, by ES import or require().
  const tracer = await createModuleTracer();
  t.after(() => tracer.remove());
  const traced = async (name: string, args: string[], extra: Record<string, string>): Promise<{ r: CliRun; specifiers: string[] }> => {
    const { file, env: trace } = await tracer.newTrace(name);
    const r = await run(process.execPath, [...tracer.nodeArgs, CLI, ...args], env(await freshHome(), { ...trace, ...extra }));
    return { r, specifiers: (await tracer.read(file)).filter((x) => !x.startsWith("file:")) };
  };
  const { r, specifiers } = await traced("plugin", ["broker", "token", "--server", url, "--cluster", "demo"], { KUBEIAM_BROKER_TOKEN: tokens.alice as string });
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /"token":"k8s-ncp-v1\./);
  // The plugin's own modules are bundled into dist/cli/kubeiam-broker.js (scripts/bundle-cli.mjs); the error classes are not.
  assert.ok(specifiers.includes("./kubeiam-broker.js") && specifiers.some((x) => x.endsWith("/errors.js")), `the hook saw the command's own modules: ${specifiers.join(", ")}`);
  const packages = specifiers.filter((x) => !x.startsWith(".") && !x.startsWith("node:"));
  assert.deepEqual(packages, [], "no npm package on the plugin's path");
  assert.ok(!specifiers.includes("node:https"), "a loopback http:// broker does not even load TLS");
  // Positive control: the same tracer sees packages where there are some (update-kubeconfig parses
  // YAML, and kubeiam loads yaml by require() on first use).
  const home = await freshHome();
  const control = await traced("control", ["broker", "update-kubeconfig", "--server", url, "--cluster", "demo", "--kubeconfig", join(home, "k"), "--dry-run"], { KUBEIAM_BROKER_TOKEN: tokens.alice as string });
  assert.equal(control.r.status, 0, control.r.err);
  assert.ok(control.specifiers.includes("yaml"), control.specifiers.join(", "));
});

test("the broker's refusals through the plugin: no grant, unknown cluster, a deleted user; one line, no token", async () => {
  const home = await freshHome();
  const token = (who: string): Record<string, string> => ({ KUBEIAM_BROKER_TOKEN: tokens[who] as string });
  assertOneLine(await kubeiam(["broker", "token", "--server", url, "--cluster", "demo"], home, token("bob")), 8, /refused cluster "demo" \(403: user bob has no grant for cluster demo: ask an admin to run .kubeiam broker grant bob demo.\)\n$/, secrets());
  assertOneLine(await kubeiam(["broker", "token", "--server", url, "--cluster", "nope"], home, token("alice")), 8, /has no cluster "nope" \(404: .*\): 'kubeiam broker clusters --server http:\/\/127\.0\.0\.1:\d+' lists yours/, secrets());
  assert.equal((await kubeiam(["broker", "token", "--server", url, "--cluster", "demo"], home, token("carol"))).status, 0);
  await restOk(url, admin, "DELETE", "/v1/users/carol", undefined, 204);
  assertOneLine(await kubeiam(["broker", "token", "--server", url, "--cluster", "demo"], home, token("carol")), 8, /refused the broker token \(401/, secrets());
});

/** The kubeconfig cb-spider's NCP driver writes, with the server address and both placeholders filled in. */
function spiderKubeconfig(spiderHost: string, cluster: string, connection: string, server: string, caData: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: ${server}
    certificate-authority-data: ${caData}
  name: ${cluster}
contexts:
- context:
    cluster: ${cluster}
    user: ncp-dynamic-token
  name: ${cluster}
current-context: ${cluster}
users:
- name: ncp-dynamic-token
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
      command: sh
      args:
      - -c
      - ". ~/.cb-spider/.spider-credential && curl -s -u \\"$SPIDER_USERNAME:$SPIDER_PASSWORD\\" \\"http://${spiderHost}/spider/cluster/${cluster}/token?ConnectionName=${connection}\\""
`;
}

async function sandboxCaData(): Promise<string> {
  const r = await restOk(url, tokens.alice as string, "GET", "/v1/clusters/demo/kubeconfig", undefined, 200);
  const m = /certificate-authority-data: (\S+)/.exec(r.text);
  assert.ok(m?.[1]);
  return m[1];
}

test("cb-spider users: their kubeconfig, sh, curl and .spider-credential work unchanged against the broker", async () => {
  const home = await freshHome();
  await mkdir(join(home, ".cb-spider"), { mode: 0o700 });
  await writeFile(join(home, ".cb-spider", ".spider-credential"), `SPIDER_USERNAME=alice\nSPIDER_PASSWORD=${tokens.alice}\n`, { mode: 0o600 });
  const host = new URL(url).host;
  const caData = await sandboxCaData();
  const kubeconfig = join(home, "spider.yaml");
  await writeFile(kubeconfig, spiderKubeconfig(host, "demo", CONNECTION, endpoint, caData));
  const ok = await kubectl(kubeconfig, home);
  assert.equal(ok.status, 0, ok.err);
  assert.equal((JSON.parse(ok.out) as { major: string }).major, "1");

  // The token route answers cb-spider's shape, with the expiry cb-spider leaves out.
  const basic = ["-s", "-u", `alice:${tokens.alice}`];
  const tokenAnswer = await run("curl", [...basic, `${url}/spider/cluster/demo/token?ConnectionName=${CONNECTION}`], env(home));
  const cred = JSON.parse(tokenAnswer.out) as { apiVersion: string; kind: string; status: { token: string; expirationTimestamp: string } };
  assert.deepEqual(Object.keys(cred), ["apiVersion", "kind", "status"]);
  assert.deepEqual(Object.keys(cred.status), ["token", "expirationTimestamp"]);
  assert.equal(cred.kind, "ExecCredential");
  assert.match(cred.status.token, /^k8s-ncp-v1\./);

  // The list and one cluster, with cb-spider's field names.
  const list = JSON.parse((await run("curl", [...basic, `${url}/spider/cluster?ConnectionName=${CONNECTION}`], env(home))).out) as { cluster: Record<string, unknown>[] };
  assert.equal(list.cluster.length, 1);
  const one = JSON.parse((await run("curl", [...basic, `${url}/spider/cluster/demo?ConnectionName=${CONNECTION}`], env(home))).out) as Record<string, unknown>;
  assert.deepEqual(list.cluster[0], one);
  for (const field of ["IId", "Version", "Network", "NodeGroupList", "AccessInfo", "Status", "CreatedTime", "KeyValueList"]) assert.ok(field in one, field);
  assert.deepEqual(one.IId, { NameId: "demo", SystemId: uuid });
  assert.equal(one.Status, "Active");
  const access = one.AccessInfo as { Endpoint: string; Kubeconfig: string };
  assert.equal(access.Endpoint, endpoint);
  assert.match(access.Kubeconfig, /command: sh/, "cb-spider's kubeconfig by default (the next test runs it)");
  assert.ok(Array.isArray(one.NodeGroupList));

  // Refusals in cb-spider's error shape: another connection, no grant, a bad password, no ConnectionName.
  const other = await run("curl", [...basic, "-w", "\n%{http_code}", `${url}/spider/cluster/demo/token?ConnectionName=aws-x`], env(home));
  assert.match(other.out, /^\{"message":"cluster demo is not one of yours in connection aws-x: [^"]+"\}\n404$/);
  const bob = await run("curl", ["-s", "-u", `bob:${tokens.bob}`, "-w", "\n%{http_code}", `${url}/spider/cluster/demo/token?ConnectionName=${CONNECTION}`], env(home));
  assert.match(bob.out, /^\{"message":"user bob has no grant for cluster demo[^"]*"\}\n403$/);
  const wrongUser = await run("curl", ["-s", "-u", `bob:${tokens.alice}`, "-w", "\n%{http_code}", `${url}/spider/cluster?ConnectionName=${CONNECTION}`], env(home));
  assert.match(wrongUser.out, /^\{"message":"[^"]+"\}\n401$/);
  const noConn = await run("curl", [...basic, "-w", "\n%{http_code}", `${url}/spider/cluster/demo/token`], env(home));
  assert.match(noConn.out, /^\{"message":"ConnectionName is required[^"]*"\}\n400$/);
  for (const r of [other, bob, wrongUser, noConn]) for (const s of secrets()) assert.ok(!r.out.includes(s), "no token in an error");
  // kubectl with a wrong connection in the kubeconfig fails, the broker having said why.
  await writeFile(kubeconfig, spiderKubeconfig(host, "demo", "aws-x", endpoint, caData));
  assert.notEqual((await kubectl(kubeconfig, home)).status, 0);
});

/** GET a /spider path with curl as alice (HTTP Basic), answering the status and the parsed body. */
async function spiderGet(path: string, home: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await run("curl", ["-s", "-u", `alice:${tokens.alice}`, "-w", "\n%{http_code}", `${url}${path}`], env(home));
  const cut = r.out.lastIndexOf("\n");
  return { status: Number(r.out.slice(cut + 1)), body: JSON.parse(r.out.slice(0, cut)) as Record<string, unknown> };
}

const kubeconfigOfInfo = (info: Record<string, unknown>): string => (info.AccessInfo as { Kubeconfig: string }).Kubeconfig;

test("cb-spider users: AccessInfo.Kubeconfig is cb-spider's sh/curl kubeconfig at the broker, and kubectl get nodes runs it as it is", async () => {
  const home = await freshHome();
  const one = await spiderGet(`/spider/cluster/demo?ConnectionName=${CONNECTION}`, home);
  assert.equal(one.status, 200);
  const text = kubeconfigOfInfo(one.body);
  for (const s of secrets()) assert.ok(!text.includes(s), "no broker token in the kubeconfig");
  // cb-spider's shape, field for field (as its NCP driver writes it, placeholders filled in), at this broker.
  const doc = YAML.parse(text) as Record<string, unknown>;
  const caData = await sandboxCaData();
  assert.deepEqual(doc.clusters, [{ cluster: { "certificate-authority-data": caData, server: endpoint }, name: "demo" }]);
  assert.deepEqual(doc.contexts, [{ context: { cluster: "demo", user: "ncp-dynamic-token" }, name: "demo" }]);
  assert.equal(doc["current-context"], "demo");
  const users = doc.users as { name: string; user: { exec: Record<string, unknown> } }[];
  assert.equal(users.length, 1);
  assert.equal(users[0]?.name, "ncp-dynamic-token");
  const exec = users[0]?.user.exec ?? {};
  assert.equal(exec.apiVersion, "client.authentication.k8s.io/v1");
  assert.equal(exec.interactiveMode, "Never");
  assert.equal(exec.command, "sh");
  const script = `. ~/.cb-spider/.spider-credential && curl -s -u "$SPIDER_USERNAME:$SPIDER_PASSWORD" "${url}/spider/cluster/demo/token?ConnectionName=${CONNECTION}"`;
  assert.deepEqual(exec.args, ["-c", script]);
  assert.match(String(exec.installHint), /\.cb-spider\/\.spider-credential/);
  // convert-kubeconfig knows it for what it is.
  assert.deepEqual(parseSpiderTokenScript(script), { kind: "cb-spider", spiderServer: url, cluster: "demo", connection: CONNECTION });
  // The list gives the same kubeconfig.
  const list = await spiderGet(`/spider/cluster?ConnectionName=${CONNECTION}`, home);
  assert.equal(kubeconfigOfInfo((list.body.cluster as Record<string, unknown>[])[0] ?? {}), text);

  // Written as it came, with a .spider-credential naming a kubeiam user and token: the real sh, curl and kubectl.
  const kubeconfig = join(home, "from-spider.yaml");
  await writeFile(kubeconfig, text);
  const missing = await kubectlGetNodes(kubeconfig, home);
  assert.notEqual(missing.status, 0, "no credential file, no token");
  await mkdir(join(home, ".cb-spider"), { mode: 0o700 });
  await writeFile(join(home, ".cb-spider", ".spider-credential"), `SPIDER_USERNAME=alice\nSPIDER_PASSWORD=${tokens.alice}\n`, { mode: 0o600 });
  const nodes = await kubectlGetNodes(kubeconfig, home);
  assert.equal(nodes.status, 0, nodes.err);
  assert.match(nodes.out, /^(node\/\S+\n)+$/);
  // Another user's password in the file: the broker refuses, and kubectl fails.
  await writeFile(join(home, ".cb-spider", ".spider-credential"), `SPIDER_USERNAME=bob\nSPIDER_PASSWORD=${tokens.bob}\n`, { mode: 0o600 });
  assert.notEqual((await kubectlGetNodes(kubeconfig, home)).status, 0);
});

test("cb-spider's KubeconfigType: native runs 'kubeiam broker token', embed carries a token; other values are refused", async () => {
  const home = await freshHome();
  const native = await spiderGet(`/spider/cluster/demo?ConnectionName=${CONNECTION}&KubeconfigType=native`, home);
  assert.equal(native.status, 200);
  const nativeText = kubeconfigOfInfo(native.body);
  const nativeExec = ((YAML.parse(nativeText) as { users: { user: { exec: { command: string; args: string[] } } }[] }).users[0] as { user: { exec: { command: string; args: string[] } } }).user.exec;
  assert.deepEqual([nativeExec.command, ...nativeExec.args], ["kubeiam", "broker", "token", "--server", url, "--cluster", "demo"]);
  const nativeList = await spiderGet(`/spider/cluster?ConnectionName=${CONNECTION}&KubeconfigType=native`, home);
  assert.equal(kubeconfigOfInfo((nativeList.body.cluster as Record<string, unknown>[])[0] ?? {}), nativeText);
  const nativeFile = join(home, "native.yaml");
  await writeFile(nativeFile, nativeText);
  assert.equal((await kubeiam(["broker", "login", "--server", url], home, {}, tokens.alice)).status, 0);
  const viaPlugin = await kubectlGetNodes(nativeFile, home);
  assert.equal(viaPlugin.status, 0, viaPlugin.err);

  // embed: a token in the kubeconfig (an audited issue), usable from a home with nothing in it.
  const embed = await spiderGet(`/spider/cluster/demo?ConnectionName=${CONNECTION}&KubeconfigType=embed`, home);
  assert.equal(embed.status, 200);
  const embedText = kubeconfigOfInfo(embed.body);
  assert.match(embedText, /token: k8s-ncp-v1\./);
  const bare = await freshHome();
  const embedFile = join(bare, "embed.yaml");
  await writeFile(embedFile, embedText);
  const viaToken = await kubectlGetNodes(embedFile, bare);
  assert.equal(viaToken.status, 0, viaToken.err);
  const audit = await restOk(url, admin, "GET", "/v1/audit?user=alice&limit=20", undefined, 200);
  assert.ok((audit.body as { entries: { action: string; outcome: string }[] }).entries.some((e) => e.action === "token.issue.spider.kubeconfig" && e.outcome === "issued"));

  // Exact values only, in cb-spider's error shape; embed is for one cluster at a time.
  for (const [path, message] of [
    [`/spider/cluster/demo?ConnectionName=${CONNECTION}&KubeconfigType=Native`, /^KubeconfigType "Native" is not known: leave it out for cb-spider's sh\/curl kubeconfig, or give native \(runs 'kubeiam broker token'\) or embed \(carries a token\)$/],
    [`/spider/cluster?ConnectionName=${CONNECTION}&KubeconfigType=static`, /^KubeconfigType "static" is not known: /],
    [`/spider/cluster/demo?ConnectionName=${CONNECTION}&KubeconfigType=native&KubeconfigType=embed`, /^KubeconfigType given more than once is not known: /],
    [`/spider/cluster?ConnectionName=${CONNECTION}&KubeconfigType=embed`, /^KubeconfigType=embed mints a token, so it is given one cluster at a time: /],
  ] as const) {
    const r = await spiderGet(path, home);
    assert.equal(r.status, 400, path);
    assert.deepEqual(Object.keys(r.body), ["message"]);
    assert.match(String(r.body.message), message, path);
  }
  // An empty value is cb-spider's default, as there.
  const empty = await spiderGet(`/spider/cluster/demo?ConnectionName=${CONNECTION}&KubeconfigType=`, home);
  assert.equal(empty.status, 200);
  assert.match(kubeconfigOfInfo(empty.body), /command: sh/);
});

test("convert-kubeconfig moves a cb-spider kubeconfig and an ncp-iam-authenticator one to the broker; kubectl then works", async () => {
  const home = await freshHome();
  const e = { KUBEIAM_BROKER_TOKEN: tokens.alice as string };
  const caData = await sandboxCaData();
  const spider = join(home, "spider.yaml");
  await writeFile(spider, spiderKubeconfig("spider.example:1024", "demo", CONNECTION, endpoint, caData));
  const c1 = await kubeiam(["convert-kubeconfig", "--server", url, "--kubeconfig", spider], home, e);
  assert.equal(c1.status, 0, c1.err);
  assert.equal((await kubeiam(["broker", "login", "--server", url], home, {}, tokens.alice)).status, 0);
  const ok1 = await kubectl(spider, home);
  assert.equal(ok1.status, 0, ok1.err);

  // An official ncp-iam-authenticator kubeconfig: its cluster is found on the broker by endpoint.
  const nks = join(home, "nks.yaml");
  const name = `nks_kr_demo_${uuid}`;
  await writeFile(
    nks,
    `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${caData}
    server: ${endpoint}
  name: ${name}
contexts:
- context:
    cluster: ${name}
    user: ${name}
  name: ${name}
current-context: ${name}
kind: Config
preferences: {}
users:
- name: ${name}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - token
      - --clusterUuid
      - ${uuid}
      - --region
      - KR
      command: ncp-iam-authenticator
      env: null
      provideClusterInfo: false
`,
  );
  const c2 = await kubeiam(["convert-kubeconfig", "--server", url, "--kubeconfig", nks], home);
  assert.equal(c2.status, 0, c2.err);
  assert.match(c2.err, /now runs 'kubeiam broker token --server http:\/\/127\.0\.0\.1:\d+ --cluster demo'/);
  const ok2 = await kubectl(nks, home);
  assert.equal(ok2.status, 0, ok2.err);
});

test("createBrokerProvider + kubeConfigFor: a self-refreshing client-node client through the broker, no process spawned", async () => {
  const provider = createBrokerProvider({ server: url, token: tokens.alice as string });
  assert.equal(provider.cloud, "broker");
  const listed = await provider.listClusters();
  assert.deepEqual(listed.map((c) => [c.name, c.cloud]), [["demo", "ncp"]]);
  const info = await provider.getCluster("demo");
  assert.equal(info.access.endpoint, endpoint);
  assert.match(info.access.certificateAuthorityData ?? "", /-----BEGIN CERTIFICATE-----/);
  const kc = await kubeConfigFor(provider, listed[0] as (typeof listed)[number]);
  const core = kc.makeApiClient(CoreV1Api);
  const namespaces = await core.listNamespace();
  assert.ok(Array.isArray(namespaces.items));
  await core.listNamespace();
  assert.equal(kc.tokenCache.mints, 1, "one token serves both calls");
  // Refusals are typed, with the broker's reason.
  const bob = createBrokerProvider({ server: url, token: tokens.bob as string });
  await assert.rejects(bob.mintToken(info.ref), (e: Error & { code?: string; status?: number; reason?: string }) => e.code === "ERR_BROKER" && e.status === 403 && e.reason === "no_grant" && /no grant/.test(e.message));
  await assert.rejects(provider.getCluster("nope"), (e: Error & { status?: number }) => e.status === 404);
});

test("one audit trail: issued and denied answers of /v1 and /spider, with actor and cluster, no token", async () => {
  const r = await restOk(url, admin, "GET", "/v1/audit?limit=1000", undefined, 200);
  const entries = (r.body as { entries: { actor: string; action: string; cluster?: string; outcome: string }[] }).entries;
  const has = (actor: string, action: string, outcome: string): boolean => entries.some((x) => x.actor === actor && x.action === action && x.outcome === outcome && x.cluster === "demo");
  assert.ok(has("alice", "token.issue", "issued"));
  assert.ok(has("alice", "token.issue.spider", "issued"));
  assert.ok(has("bob", "token.issue", "denied"));
  assert.ok(has("bob", "token.issue.spider", "denied"));
  assert.ok(has("alice", "token.issue.spider", "denied"), "the wrong connection is a denied row too");
  for (const s of secrets()) assert.ok(!r.text.includes(s));
  const unauth = await rest(url, undefined, "GET", "/v1/audit");
  assert.equal(unauth.status, 401);
});
