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
import { runCli } from "../../src/cli/main.js";
import type { CliContext } from "../../src/cli/context.js";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { assertOneLine } from "../helpers/cli.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";
import { startEksApi, type LocalServer } from "../aws/stand-ins.js";
import { keyFileJson, makeServiceAccount, startContainerApi, startOAuth, type OAuthStandIn } from "../gcp/stand-ins.js";

const AK = "NCPTESTACCESSKEY0001";
const SK = randomBytes(20).toString("hex");
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBflow\n-----END CERTIFICATE-----\n").toString("base64");
const AWS_AK = "AKIDFLOWTEST00000001";
const AWS_SK = randomBytes(20).toString("hex");
const PROJECT = "flow-project";
const SEED = "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n- name: keep\n  context:\n    cluster: x\n    user: y\ncurrent-context: keep\n";

let root: string;
let ncp: StandIn;
let eks: LocalServer;
let oauth: OAuthStandIn;
let gke: { url: string; close(): Promise<void> };
let keyFile: string;
let privateKeyPem: string;

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
});
after(async () => {
  await Promise.all([ncp.close(), eks.close(), oauth.close(), gke.close()]);
  await rm(root, { recursive: true, force: true });
});

interface Run { status: number; out: string; err: string }
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let out = "";
  let err = "";
  const ctx: CliContext = {
    programName: "kubeiam",
    out: (t) => void (out += t),
    err: (t) => void (err += t),
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
      ...env,
    }),
    readStdin: async () => "",
    now: () => Date.now(),
    signal: new AbortController().signal,
  };
  const status = await runCli(args, ctx);
  return { status, out, err };
}

/** One update-kubeconfig per cloud, writing into `file`. */
const clouds = (file: string): [string, string[]][] => [
  ["nks", ["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", file]],
  ["eks", ["eks", "update-kubeconfig", "--name", "flow-eks", "--region", "eu-west-1", "--profile", "flow", "--endpoint-url", eks.url, "--kubeconfig", file]],
  ["gke", ["gke", "update-kubeconfig", "--cluster", "flow", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile, "--endpoint-url", gke.url, "--kubeconfig", file]],
];

test("every cloud's update-kubeconfig takes every spelling of 'leave current-context alone', and switches by default", async () => {
  const spellings = [["--no-set-current"], ["--currentContext", "false"], ["--currentContext=false"], ["--current-context", "false"], ["--no-set-current=true"]];
  for (const [cloud, args] of clouds(join(root, "unused"))) {
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

test("each cloud: --dry-run and --overwrite in every tool's form; a taken name and a contradiction are one line each, the file unchanged", async () => {
  for (const [cloud, args] of clouds(join(root, "unused"))) {
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
