/**
 * The kubeconfig flow that every cloud's update-kubeconfig shares (src/cli/kubeconfig-flow.ts): each
 * command takes every spelling of the current-context switch, refuses a contradiction in one line,
 * and `--debug` shows request lines, timings and the credential source, never a secret. In-process,
 * against stand-ins that check each cloud's signatures.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { assertOneLine, runInProcess, type CliRun } from "../helpers/cli.js";
import { requireTools } from "../helpers/tools.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";
import { startEksApi, type LocalServer } from "../aws/stand-ins.js";
import { keyFileJson, makeServiceAccount, startContainerApi, startOAuth, type OAuthStandIn } from "../gcp/stand-ins.js";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { call } from "../broker/helpers.js";

const AK = "NCPTESTACCESSKEY0001";
const SK = randomBytes(20).toString("hex");
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBflow\n-----END CERTIFICATE-----\n").toString("base64");
const AWS_AK = "AKIDFLOWTEST00000001";
const AWS_SK = randomBytes(20).toString("hex");
const PROJECT = "flow-project";
const execFileAsync = promisify(execFile);
const SEED = "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n- name: keep\n  context:\n    cluster: x\n    user: y\ncurrent-context: keep\n";

let root: string;
let ncp: StandIn;
let eks: LocalServer;
let oauth: OAuthStandIn;
let gke: { url: string; close(): Promise<void> };
let keyFile: string;
let privateKeyPem: string;
/** A broker (embedded store) holding the NKS stand-in's key: broker update-kubeconfig takes the same flow. */
let broker: RunningBroker;
let brokerUser: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-flow-"));
  ncp = await startNcpApiStandIn({ accessKey: AK, secretKey: SK, region: "KR", clusters: [{ uuid: UUID, name: "demo", status: "RUNNING", endpoint: "https://demo.example", caData: CA }] });
  eks = await startEksApi({
    keys: { [AWS_AK]: AWS_SK },
    clusters: [{ name: "flow-eks", arn: "arn:aws:eks:eu-west-1:123456789012:cluster/flow-eks", status: "ACTIVE", endpoint: "https://eks.example", certificateAuthority: { data: CA } }],
  });
  const sa = makeServiceAccount();
  privateKeyPem = sa.privateKeyPem;
  oauth = await startOAuth({ accounts: [sa] });
  gke = await startContainerApi({
    project: PROJECT,
    acceptToken: (t) => oauth.issued.includes(t),
    clusters: [{ name: "flow", location: "europe-west1", status: "RUNNING", endpoint: "34.1.2.3", masterAuth: { clusterCaCertificate: CA } }],
  });
  keyFile = join(root, "sa.json");
  await writeFile(keyFile, keyFileJson(sa, oauth.tokenUri, PROJECT), { mode: 0o600 });
  await mkdir(join(root, "aws"));
  await writeFile(join(root, "aws", "credentials"), `[flow]\naws_access_key_id = ${AWS_AK}\naws_secret_access_key = ${AWS_SK}\n`);
  broker = await startBroker({ db: `sqlite:${join(root, "broker.db")}`, listen: "127.0.0.1:0", masterKey: randomBytes(32).toString("base64"), home: root, cwd: root, logStream: false });
  const admin = broker.adminToken ?? "";
  const ok = async (r: Promise<{ status: number; text: string }>, status: number) => assert.equal((await r).status, status, (await r).text);
  await ok(call(broker.url, "POST", "/v1/credentials", { token: admin, body: { name: "ncp", provider: "ncp", ncp: { accessKey: AK, secretKey: SK, apiUrl: ncp.url } } }), 201);
  await ok(call(broker.url, "POST", "/v1/clusters", { token: admin, body: { name: "flow-broker", credential: "ncp", region: "KR", ncp: { clusterUuid: UUID } } }), 201);
  const user = await call(broker.url, "POST", "/v1/users", { token: admin, body: { name: "flow" } });
  brokerUser = user.json.token as string;
  await ok(call(broker.url, "PUT", "/v1/grants/flow/flow-broker", { token: admin }), 204);
});
after(async () => {
  await broker?.close();
  await Promise.all([ncp.close(), eks.close(), oauth.close(), gke.close()]);
  await rm(root, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runInProcess(args, {
    // Frozen: a command that writes to its environment fails here instead of changing process.env.
    env: Object.freeze({
      HOME: join(root, "home"),
      NCLOUD_ACCESS_KEY_ID: AK,
      NCLOUD_SECRET_ACCESS_KEY: SK,
      NCLOUD_API_GW: ncp.url,
      AWS_CONFIG_FILE: join(root, "aws", "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(root, "aws", "credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      XDG_CACHE_HOME: join(root, "cache"),
      KUBEIAM_BROKER_TOKEN: brokerUser,
      ...env,
    }),
  });

/** One update-kubeconfig per cloud, writing into `file`. */
const clouds = (file: string): [string, string[]][] => [
  ["nks", ["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", file]],
  ["eks", ["eks", "update-kubeconfig", "--name", "flow-eks", "--region", "eu-west-1", "--profile", "flow", "--endpoint-url", eks.url, "--kubeconfig", file]],
  ["gke", ["gke", "update-kubeconfig", "--cluster", "flow", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile, "--endpoint-url", gke.url, "--kubeconfig", file]],
];

/** The clouds and the broker: every update-kubeconfig that writes through the shared flow. */
const withBroker = (file: string): [string, string[]][] => [
  ...clouds(file),
  ["broker", ["broker", "update-kubeconfig", "--server", broker.url, "--cluster", "flow-broker", "--kubeconfig", file]],
];

test("every cloud's update-kubeconfig (and the broker's) takes every spelling of 'leave current-context alone', and switches by default", async () => {
  const spellings = [["--no-set-current"], ["--currentContext", "false"], ["--currentContext=false"], ["--current-context", "false"], ["--no-set-current=true"]];
  for (const [cloud, args] of withBroker(join(root, "unused"))) {
    for (const spelling of spellings) {
      const file = join(root, `${cloud}-${spelling.join("")}.yaml`);
      await writeFile(file, SEED);
      const r = await run([...args.slice(0, -1), file, ...spelling]);
      assert.equal(r.status, 0, `${cloud} ${spelling.join(" ")}: ${r.err}`);
      const kc = parseKubeconfig(await readFile(file, "utf8"));
      assert.equal(kc.currentContext, "keep", `${cloud} ${spelling.join(" ")}`);
      assert.equal(kc.contexts.length, 2);
      assert.match(r.err, /updated .* \(context [^,)]+\)\n$/);
    }
    const file = join(root, `${cloud}-default.yaml`);
    await writeFile(file, SEED);
    const r = await run([...args.slice(0, -1), file]);
    assert.equal(r.status, 0, r.err);
    assert.notEqual(parseKubeconfig(await readFile(file, "utf8")).currentContext, "keep");
    assert.match(r.err, /, now current\)\n$/);
  }
});

test("each cloud and the broker: --dry-run and --overwrite in every tool's form; a taken name and a contradiction are one line each, the file unchanged", async () => {
  for (const [cloud, args] of withBroker(join(root, "unused"))) {
    const file = join(root, `${cloud}-rules.yaml`);
    await writeFile(file, SEED);
    const dry = await run([...args.slice(0, -1), file, "--dry-run", "true"]);
    assert.equal(dry.status, 0, dry.err);
    assert.match(dry.out, /current-context: /);
    assert.equal(await readFile(file, "utf8"), SEED, `${cloud}: a dry run writes nothing`);
    assert.equal((await run([...args.slice(0, -1), file])).status, 0);
    const written = await readFile(file, "utf8");
    const again = await run([...args.slice(0, -1), file]);
    assertOneLine(again, 6, /the kubeconfig already has .*: pass --overwrite to replace (it|them), or choose other names with --.*was left unchanged/);
    assert.equal(await readFile(file, "utf8"), written);
    assert.equal((await run([...args.slice(0, -1), file, "--overwrite=true"])).status, 0);
    assertOneLine(await run([...args.slice(0, -1), file, "--currentContext=true", "--no-set-current"]), 2, /--currentContext=true and --no-set-current contradict each other/);
    assertOneLine(await run([...args.slice(0, -1), file, "--currentContext=maybe"]), 2, /--currentContext takes true or false/);
  }
});

test("--debug on every cloud: request lines, timings and the credential source on stderr; never a secret; stdout unchanged", async () => {
  for (const [cloud, args] of clouds(join(root, "unused"))) {
    const file = join(root, `${cloud}-debug.yaml`);
    const r = await run(["--debug", ...args.slice(0, -1), file]);
    assert.equal(r.status, 0, r.err);
    assert.match(r.err, /^kubeiam: debug: credentials: .+\(\d+ ms\)$/m, cloud);
    assert.match(r.err, /^kubeiam: debug: (GET|POST) http:\/\/127\.0\.0\.1:\d+\/\S* -> 200 \(\d+ ms\)$/m, cloud);
    assert.match(r.err, /^kubeiam: debug: (update-kubeconfig|eks|gke): exit status 0 after \d+ ms$/m, cloud);
    for (const secret of [SK, AWS_SK, ...oauth.issued, privateKeyPem.split("\n")[1] ?? "x"]) assert.ok(!r.err.includes(secret), `${cloud}: a secret in the debug lines`);
    const plain = await run([...args.slice(0, -1), join(root, `${cloud}-plain.yaml`)]);
    assert.equal(r.out.replace(/-debug\.yaml/g, "-plain.yaml"), plain.out, `${cloud}: --debug changes only stderr`);
    assert.doesNotMatch(plain.err, /debug:/);
  }
  // And on the exec plugin: stdout stays the bare ExecCredential.
  const token = await run(["token", "--clusterUuid", UUID, "--region", "KR", "--debug"]);
  assert.equal(token.status, 0, token.err);
  assert.equal(JSON.parse(token.out).kind, "ExecCredential");
  assert.match(token.err, /debug: credentials: the environment \(NCLOUD_ACCESS_KEY_ID\), access key NCPTESTACCESSKEY0001 \(\d+ ms\)/);
  assert.ok(!token.err.includes(SK) && !token.err.includes(JSON.parse(token.out).status.token));
});

test("a library error names its input; the CLI adds the command's own flag for it", async () => {
  assertOneLine(await run(["token", "--clusterUuid", "not-a-uuid", "--region", "KR"]), 2, /cluster UUID "not-a-uuid" is not a UUID: .* \(set with --clusterUuid\)$/m);
  assertOneLine(await run(["gke", "token", "--credentials", join(root, "missing.json")]), 3, /GCP credentials file .*missing\.json does not exist: give the right path, or fix GOOGLE_APPLICATION_CREDENTIALS \(set with --credentials\)$/m);
  assertOneLine(await run(["eks", "token", "--cluster-name", "flow-eks", "--profile", "flow"]), 2, /no AWS region given: .* \(set with --region\)$/m);
});

/** The built CLI, as a `.js` file for --exec-command (kubectl would run it with node). */
const BUILT_CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));

// Plain names: kubectl reads the seed's `user: y` as YAML 1.1's boolean true.
const KUBECTL_SEED = SEED.replace("cluster: x\n    user: y", "cluster: keep-cluster\n    user: keep-user");

async function kubectl(file: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("kubectl", ["--kubeconfig", file, ...args], { env: { PATH: process.env.PATH ?? "", HOME: join(root, "home") }, timeout: 30_000 });
  return stdout;
}

test("--namespace, --exec-command (a .js file) and the context's name on every cloud, as the real kubectl reads them", async () => {
  requireTools("kubectl");
  // Each cloud's own flag for the context's name, and the plugin's own arguments after the script.
  const cases: [string, string[], string, string[]][] = [
    ["nks", ["--alias", "nks-team-a"], "nks-team-a", ["token", "--clusterUuid", UUID, "--region", "KR"]],
    ["eks", ["--alias", "eks-team-a"], "eks-team-a", ["eks", "token", "--cluster-name", "flow-eks", "--region", "eu-west-1"]],
    ["gke", ["--alias", "gke-team-a"], "gke-team-a", ["gke", "token", "--credentials", keyFile]],
  ];
  for (const [cloud, args] of clouds(join(root, "unused"))) {
    const [, nameFlags, context, pluginArgs] = cases.find((c) => c[0] === cloud) ?? assert.fail(cloud);
    const file = join(root, `${cloud}-ns.yaml`);
    await writeFile(file, KUBECTL_SEED);
    const r = await run([...args.slice(0, -1), file, "--namespace", "team-a", "--exec-command", BUILT_CLI, ...nameFlags], { PATH: process.env.PATH ?? "" });
    assert.equal(r.status, 0, `${cloud}: ${r.err}`);
    assert.doesNotMatch(r.err, /warning/, `${cloud}: node and the script are there`);
    const contexts = await kubectl(file, ["config", "get-contexts", "--no-headers"]);
    assert.match(contexts, new RegExp(`^\\*\\s+${context}\\s+\\S+\\s+\\S+\\s+team-a\\s*$`, "m"), `${cloud}: ${contexts}`);
    assert.match(contexts, /^\s+keep\s+keep-cluster\s+keep-user\s*$/m, `${cloud}: the other context stays, without a namespace`);
    const view = JSON.parse(await kubectl(file, ["config", "view", "--minify", "-o", "json"])) as {
      contexts: { name: string; context: { namespace?: string } }[];
      users: { user: { exec: { command: string; args: string[] } } }[];
    };
    assert.equal(view.contexts[0]?.name, context, cloud);
    assert.equal(view.contexts[0]?.context.namespace, "team-a", cloud);
    assert.equal(view.users[0]?.user.exec.command, "node", cloud);
    assert.deepEqual(view.users[0]?.user.exec.args.slice(0, pluginArgs.length + 1), [BUILT_CLI, ...pluginArgs], cloud);
    assert.equal(await kubectl(file, ["config", "view", "--minify", "-o", "jsonpath={.contexts[0].context.namespace}"]), "team-a");
  }
});

test("create-kubeconfig takes --namespace and --alias too; --dry-run shows them and writes nothing", async () => {
  requireTools("kubectl");
  const file = join(root, "created.yaml");
  const r = await run(["create-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "-o", file, "--namespace", "apps", "--alias", "demo-apps", "--userName", "me"]);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, "kubeconfig created successfully.\n");
  const contexts = await kubectl(file, ["config", "get-contexts", "--no-headers"]);
  assert.match(contexts, new RegExp(`^\\*\\s+demo-apps\\s+nks_kr_demo_${UUID}\\s+me\\s+apps\\s*$`, "m"), contexts);
  const seed = join(root, "dry-ns.yaml");
  await writeFile(seed, SEED);
  const dry = await run(["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", seed, "--namespace", "apps", "--dry-run"]);
  assert.equal(dry.status, 0, dry.err);
  const printed = parseKubeconfig(dry.out);
  assert.equal(printed.contexts.find((c) => c.name === `nks_kr_demo_${UUID}`)?.context.namespace, "apps");
  assert.equal(await readFile(seed, "utf8"), SEED);
});

test("bad --namespace, --exec-command and --alias values: one line, exit 2, the file unchanged, no cloud call", async () => {
  const bad: [string[], RegExp][] = [
    [["--namespace", ""], /--namespace is empty: name a namespace/],
    [["--namespace", "Team_A"], /--namespace "Team_A" is not a namespace name: use at most 63 lower-case letters, digits and '-'/],
    [["--namespace=-team"], /--namespace "-team" is not a namespace name/],
    [["--namespace", "a".repeat(64)], /--namespace "a{64}" is not a namespace name/],
    [["--namespace", "team\u001b[2Ja"], /--namespace "team\\u001b\[2Ja" is not a namespace name/],
    [["--exec-command", ""], /--exec-command is empty or holds control characters: name a command or a path/],
    [["--exec-command", " "], /--exec-command is empty or holds control characters/],
    [["--exec-command", "kubeiam\nrm"], /--exec-command is empty or holds control characters/],
    [["--alias", ""], /--alias is empty or holds control characters: pass a plain name/],
    [["--alias", "a\tb"], /--alias is empty or holds control characters/],
  ];
  for (const [cloud, args] of clouds(join(root, "unused"))) {
    const file = join(root, `${cloud}-bad.yaml`);
    await writeFile(file, SEED);
    for (const [flags, pattern] of bad) {
      const calls = ncp.requests.length + eks.requests.length + oauth.seen.length;
      const extra = cloud === "gke" ? ["--no-cache"] : [];
      const r = await run([...args.slice(0, -1), file, ...extra, ...flags]);
      assertOneLine(r, 2, new RegExp(`^kubeiam: (update-kubeconfig|eks update-kubeconfig|gke update-kubeconfig): ${pattern.source}`));
      assert.equal(await readFile(file, "utf8"), SEED, `${cloud} ${JSON.stringify(flags)}: the file is unchanged`);
      assert.equal(ncp.requests.length + eks.requests.length + oauth.seen.length, calls, `${cloud} ${JSON.stringify(flags)}: no cloud call`);
    }
  }
  const never = join(root, "never-created.yaml");
  assertOneLine(await run(["create-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "-o", never, "--namespace", "UPPER"]), 2, /^kubeiam: create-kubeconfig: --namespace "UPPER" is not a namespace name/);
  await assert.rejects(readFile(never), { code: "ENOENT" });
});

test("the kubeconfig is parsed once when nothing changed it during the API call, and read again under the lock when another writer did (its entry kept)", async () => {
  const file = join(root, "parse-once", "config");
  await mkdir(join(root, "parse-once"), { recursive: true });
  await writeFile(file, SEED);
  const quiet = await run(["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", file, "--debug"]);
  assert.equal(quiet.status, 0, quiet.err);
  assert.match(quiet.err, /kubeconfig: unchanged under the lock, parsed once/);
  assert.doesNotMatch(quiet.err, /parsed again/);

  // A relay in front of the NKS stand-in that, before it passes the API call on, has another writer
  // (the real kubectl, as a user at another terminal) add a context to the same file.
  // (kubectl reads YAML 1.1, where the seed's "user: y" is a boolean.)
  await writeFile(file, SEED.replace("user: y", "user: someone"));
  const relay = createServer((req, res) => {
    execFileAsync("kubectl", ["config", "set-context", "written-meanwhile", "--cluster=x", "--user=someone", "--kubeconfig", file])
      .then(() => {
        const up = request(new URL(req.url ?? "/", ncp.url), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(up);
      })
      .catch((e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      });
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const busy = await run(["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", file, "--debug"], { NCLOUD_API_GW: url });
    assert.equal(busy.status, 0, busy.err);
    assert.match(busy.err, /kubeconfig: changed since it was read, parsed again under the lock/);
    const names = parseKubeconfig(await readFile(file, "utf8")).contexts.map((c) => c.name);
    assert.ok(names.includes("keep") && names.includes("written-meanwhile") && names.some((n) => n.startsWith("nks_kr_demo_")), names.join(", "));
  } finally {
    relay.closeAllConnections();
    await new Promise<void>((resolve) => relay.close(() => resolve()));
  }
});

// As kubectl (go-yaml) rewrites a kubeconfig: flush lists, quoted words, a long value folded over
// lines in single quotes; then commented by hand.
const KUBECTL_WRITTEN = `# work clusters (do not share)
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0FEQVRB
    server: https://a.example:6443 # via the VPN
  name: a
contexts:
- context:
    cluster: a
    namespace: ns
    user: a
  name: a
current-context: a
kind: Config
preferences: {}
users:
# the team's plugin
- name: a
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - token
      command: ncp-iam-authenticator
      env:
      - name: "Y"
        value: 'a: b #c'
      installHint: 'ncp-iam-authenticator mints this cluster''s credentials. It comes
        with kubeiam: install it with ''npm install -g kubeiam'' (Node.js 20 or later),
        which puts kubeiam and ncp-iam-authenticator on PATH.'
      interactiveMode: IfAvailable
      provideClusterInfo: false
- name: weird
  user:
    token: 'it''s: a #token'
`;

/** Whether `lines` appear in `within` in order (others may stand between them). */
function inOrder(lines: string[], within: string[]): boolean {
  let at = 0;
  for (const line of within) if (at < lines.length && line === lines[at]) at++;
  return at === lines.length;
}

test("update-kubeconfig on a kubectl-written, commented file (every cloud and the broker): every other byte kept, CRLF kept, kubectl reads it", async () => {
  requireTools("kubectl");
  for (const crlf of [false, true]) {
    const seed = crlf ? KUBECTL_WRITTEN.replaceAll("\n", "\r\n") : KUBECTL_WRITTEN;
    for (const [cloud, args] of withBroker(join(root, "placeholder"))) {
      const file = join(root, `kubectl-written-${cloud}${crlf ? "-crlf" : ""}`);
      args[args.length - 1] = file;
      await writeFile(file, seed);
      const r = await run(args);
      assert.equal(r.status, 0, `${cloud}: ${r.err}`);
      const out = await readFile(file, "utf8");
      if (crlf) assert.ok(!/[^\r]\n/.test(out), `${cloud}: a line without its CR:\n${out}`);
      const before = seed.split(crlf ? "\r\n" : "\n").filter((l) => !l.startsWith("current-context: "));
      assert.ok(inOrder(before, out.split(crlf ? "\r\n" : "\n")), `${cloud}: a line of the file was changed or moved:\n${out}`);
      const current = (await kubectl(file, ["config", "current-context"])).trim();
      assert.notEqual(current, "a", cloud);
      assert.ok((await kubectl(file, ["config", "get-contexts", "-o", "name"])).split("\n").includes(current), cloud);
      assert.equal(await kubectl(file, ["config", "view", "--raw", "-o", "jsonpath={.users[?(@.name==\"weird\")].user.token}"]), "it's: a #token", cloud);
    }
  }
});

test("update-kubeconfig on a flow-style file (outside the splice's subset) goes through the full parse; kubectl reads it", async () => {
  requireTools("kubectl");
  const file = join(root, "flow-style");
  await writeFile(file, "apiVersion: v1\nkind: Config\nclusters: [{name: a, cluster: {server: 'https://a'}}]\ncontexts: [{name: a, context: {cluster: a, user: a}}]\nusers: [{name: a, user: {token: t}}]\ncurrent-context: a\n");
  const r = await run(["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", file, "--debug"]);
  assert.equal(r.status, 0, r.err);
  assert.match(r.err, /not in kubectl's block style, parsed in full/);
  assert.deepEqual((await kubectl(file, ["config", "get-contexts", "-o", "name"])).trim().split("\n").sort(), ["a", `nks_kr_demo_${UUID}`]);
});
