/**
 * End to end for GKE: the built CLI's `gke token` (layout of gke-gcloud-auth-plugin, disk cache),
 * `gke update-kubeconfig` against a local container API, and the real kubectl running
 * `kubeiam gke token` against a TLS endpoint that accepts only the access token that a local OAuth
 * endpoint (named by the key file's token_uri, checking the RS256 assertion) issued.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { startBearerCluster, type LocalServer } from "../aws/stand-ins.js";
import { keyFileJson, makeServiceAccount, startContainerApi, startOAuth, type OAuthStandIn } from "../gcp/stand-ins.js";
import { requireTools } from "../helpers/tools.js";
import { writeAwsCachedCredentials } from "../../src/aws/cache.js";

// The real tools, or one line saying what to install (test/helpers/tools.ts).
before(() => requireTools("kubectl"));

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const PROJECT = "kubeiam-e2e";

let root: string;
let env: Record<string, string>;
let oauth: OAuthStandIn;
// Read by the OAuth stand-in on every request: a test may change what it answers.
const oauthOptions: { accounts: ReturnType<typeof makeServiceAccount>[]; expiresIn?: number } = { accounts: [] };
let cluster: LocalServer & { caData: string; seen: { accepted: boolean; reason?: string }[] };
let containerApi: { url: string; requests: string[]; close(): Promise<void> };
let keyFile: string;
let cacheDir: string;
const sa = makeServiceAccount("e2e@kubeiam-e2e.iam.gserviceaccount.com");
const stranger = makeServiceAccount("stranger@kubeiam-e2e.iam.gserviceaccount.com");

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-gke-"));
  oauthOptions.accounts.push(sa);
  oauth = await startOAuth(oauthOptions);
  cluster = await startBearerCluster((token) => (oauth.issued.includes(token) ? undefined : "not a token we issued"));
  containerApi = await startContainerApi({
    project: PROJECT,
    acceptToken: (t) => oauth.issued.includes(t),
    clusters: [
      { name: "e2e", location: "europe-west1", status: "RUNNING", endpoint: new URL(cluster.url).host, masterAuth: { clusterCaCertificate: cluster.caData } },
      { name: "baby", location: "europe-west1", status: "PROVISIONING" },
    ],
  });
  keyFile = join(root, "sa.json");
  await writeFile(keyFile, keyFileJson(sa, oauth.tokenUri, PROJECT), { mode: 0o600 });
  await writeFile(join(root, "stranger.json"), keyFileJson(stranger, oauth.tokenUri, PROJECT), { mode: 0o600 });
  const bin = join(root, "bin");
  await mkdir(bin);
  await writeFile(join(bin, "kubeiam"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  await chmod(join(bin, "kubeiam"), 0o755);
  cacheDir = join(root, "home", ".kube", "cache", "kubeiam", "gcp");
  env = {
    PATH: [bin, process.env.PATH ?? ""].join(delimiter),
    HOME: join(root, "home"),
    CLOUDSDK_CONFIG: join(root, "gcloud"),
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER: containerApi.url,
  };
});
after(async () => {
  await oauth.close();
  await cluster.close();
  await containerApi.close();
  await rm(root, { recursive: true, force: true });
});

/** Runs a child without blocking: the stand-ins live in this process and must keep answering. */
function run(cmd: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<{ status: number; out: string; err: string }> {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...env, ...extra })) if (v !== undefined) merged[k] = v;
  return new Promise((resolve) => {
    execFile(cmd, args, { env: merged, cwd: root, encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : -1, out: stdout, err: stderr });
    });
  });
}
const kubeiam = (args: string[], extra: Record<string, string | undefined> = {}) => run(process.execPath, [CLI, ...args], extra);

/** The layout with the varying parts (token, expiry) masked. */
const mask = (s: string): string => s.replace(/"token": "[^"]+"/, '"token": "T"').replace(/"expirationTimestamp": "[^"]+"/, '"expirationTimestamp": "E"');

test("'kubeiam gke token' has gke-gcloud-auth-plugin's layout, and its expiry is a minute before the token's end", async () => {
  const plugin = await run("gke-gcloud-auth-plugin", ["--use_application_default_credentials"], { GOOGLE_APPLICATION_CREDENTIALS: keyFile });
  assert.equal(plugin.status, 0, plugin.err);
  const before = Date.now();
  const ours = await kubeiam(["gke", "token", "--credentials", keyFile, "--no-cache"]);
  assert.equal(ours.status, 0, ours.err);
  assert.equal(mask(ours.out), mask(plugin.out));
  const parsed = JSON.parse(ours.out) as { status: { token: string; expirationTimestamp: string } };
  assert.equal(parsed.status.token, oauth.issued.at(-1));
  const expiry = Date.parse(parsed.status.expirationTimestamp);
  // The token's refreshAt: the one minute's margin every kubeiam ExecCredential takes (docs/formats.md §5).
  assert.ok(expiry >= Math.floor(before / 1000) * 1000 + 3538_000 && expiry <= Date.now() + 3539_000, parsed.status.expirationTimestamp);
  assert.ok(oauth.seen.every((s) => s.rejected === undefined), JSON.stringify(oauth.seen.map((s) => s.rejected)));
});

test("the disk cache: a second call reuses the token, the file is 0600 and holds no key; another identity misses; --no-cache mints", async () => {
  await rm(cacheDir, { recursive: true, force: true });
  const first = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only"]);
  assert.equal(first.status, 0, first.err);
  const issued = oauth.issued.length;
  const second = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only"]);
  assert.equal(second.out, first.out);
  assert.equal(oauth.issued.length, issued, "no exchange on a hit");
  const files = readdirSync(cacheDir);
  assert.equal(files.length, 1);
  const file = join(cacheDir, files[0]!);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const text = readFileSync(file, "utf8");
  assert.ok(!text.includes("PRIVATE KEY") && !text.includes(sa.email), "no key, no identity in clear");

  // A different identity (same token_uri, other account) is not served this token.
  const other = await kubeiam(["gke", "token", "--credentials", join(root, "stranger.json"), "--token-only"]);
  assert.equal(other.status, 3, "the stranger's key is refused by the token endpoint");
  assert.match(other.err, /refused the service-account assertion \(400 invalid_grant/);

  const fresh = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only", "--no-cache"]);
  assert.notEqual(fresh.out, first.out);
  assert.equal(oauth.issued.length, issued + 1);
});

test("gke update-kubeconfig → kubectl runs 'kubeiam gke token' against an endpoint that accepts only the issued token", async () => {
  const kubeconfig = join(root, "home", ".kube", "config");
  const r = await kubeiam(["gke", "update-kubeconfig", "--cluster", "e2e", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile]);
  assert.equal(r.status, 0, r.err);
  const name = `gke_${PROJECT}_europe-west1_e2e`;
  assert.equal(r.out, `Added new context ${name} to ${kubeconfig} (GKE cluster ${PROJECT}/europe-west1/e2e)\n`);
  assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
  const kc = parseYaml(readFileSync(kubeconfig, "utf8")) as { users: { user: { exec: { command: string; args: string[] } } }[] };
  assert.deepEqual(kc.users[0]?.user.exec.args, ["gke", "token", "--credentials", keyFile]);

  const seenBefore = cluster.seen.length;
  const v = await run("kubectl", ["get", "--raw", "/version"]);
  assert.equal(v.status, 0, v.err);
  assert.equal((JSON.parse(v.out) as { gitVersion: string }).gitVersion, "v1.31.2-multicloud-test");
  const seen = cluster.seen.slice(seenBefore);
  assert.ok(seen.length >= 1 && seen.every((s) => s.accepted), JSON.stringify(seen));

  // A bearer token the endpoint never issued is refused: the check can fail.
  const bad = await run("kubectl", ["get", "--raw", "/version", "--token", "ya29.forged"], {});
  assert.notEqual(bad.status, 0);
  assert.equal(cluster.seen.at(-1)?.accepted, false);
});

test("gke update-kubeconfig --exec-command (the built CLI, a .js file) --namespace --alias → kubectl sees them and runs 'node main.js gke token'", async () => {
  const kubeconfig = join(root, "gke-exec-ns.kubeconfig");
  const r = await kubeiam(["gke", "update-kubeconfig", "--cluster", "e2e", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile, "--kubeconfig", kubeconfig, "--exec-command", CLI, "--namespace", "apps", "--alias", "e2e-apps"]);
  assert.equal(r.status, 0, r.err);
  assert.doesNotMatch(r.err, /warning/);
  const contexts = await run("kubectl", ["--kubeconfig", kubeconfig, "config", "get-contexts", "--no-headers"]);
  assert.match(contexts.out, /^\*\s+e2e-apps\s+e2e-apps\s+e2e-apps\s+apps\s*$/m, contexts.out);
  const view = JSON.parse((await run("kubectl", ["--kubeconfig", kubeconfig, "config", "view", "--minify", "-o", "json"])).out) as {
    users: { user: { exec: { command: string; args: string[] } } }[];
  };
  assert.equal(view.users[0]?.user.exec.command, "node");
  assert.deepEqual(view.users[0]?.user.exec.args, [CLI, "gke", "token", "--credentials", keyFile]);
  const seenBefore = cluster.seen.length;
  const v = await run("kubectl", ["--kubeconfig", kubeconfig, "get", "--raw", "/version"]);
  assert.equal(v.status, 0, v.err);
  assert.equal((JSON.parse(v.out) as { gitVersion: string }).gitVersion, "v1.31.2-multicloud-test");
  assert.ok(cluster.seen.slice(seenBefore).every((s) => s.accepted));
  // A bad value is refused before any Google call, and the file stays as it is.
  const text = readFileSync(kubeconfig, "utf8");
  const assertions = oauth.seen.length;
  const bad = await kubeiam(["gke", "update-kubeconfig", "--cluster", "e2e", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile, "--kubeconfig", kubeconfig, "--no-cache", "--overwrite", "--exec-command", ""]);
  assert.equal(bad.status, 2);
  assert.equal(bad.out, "");
  assert.match(bad.err, /^kubeiam: gke update-kubeconfig: --exec-command is empty or holds control characters: [^\n]+\n$/);
  assert.equal(oauth.seen.length, assertions, "no token exchange for a bad flag");
  assert.equal(readFileSync(kubeconfig, "utf8"), text);
});

test("gke update-kubeconfig --dry-run (with --endpoint-url) writes nothing; a taken name needs --overwrite", async () => {
  const kubeconfig = join(root, "gke-dry.kubeconfig");
  const args = ["gke", "update-kubeconfig", "--cluster", "e2e", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile, "--kubeconfig", kubeconfig];
  const dry = await kubeiam([...args, "--dry-run", "--alias", "e2e-gke", "--endpoint-url", containerApi.url], { CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER: "http://127.0.0.1:9" });
  assert.equal(dry.status, 0, dry.err);
  assert.match(dry.out, /current-context: e2e-gke/);
  assert.equal(existsSync(kubeconfig), false);
  assert.equal((await kubeiam(args)).status, 0);
  const first = readFileSync(kubeconfig, "utf8");
  const again = await kubeiam(args);
  assert.equal(again.status, 6);
  assert.match(again.err, /already has .*pass --overwrite.*--alias/);
  assert.equal(readFileSync(kubeconfig, "utf8"), first);
  assert.equal((await kubeiam([...args, "--overwrite"])).status, 0);
});

test("bad input: one clear line on stderr, a non-zero exit, nothing on stdout, no file written", async () => {
  const malformed = join(root, "malformed.json");
  await writeFile(malformed, '{"type":"service_account","client_email":"x@y","private_key":"nope","token_uri":"https://oauth2.googleapis.com/token"}', { mode: 0o600 });
  const notJson = join(root, "not-json.json");
  await writeFile(notJson, "this is not json", { mode: 0o600 });
  const kubeconfig = join(root, "never.kubeconfig");
  const base = ["gke", "update-kubeconfig", "--cluster", "e2e", "--location", "europe-west1", "--project", PROJECT, "--kubeconfig", kubeconfig];
  const cases: { name: string; args: string[]; extra?: Record<string, string | undefined>; status: number; message: RegExp }[] = [
    { name: "malformed key file", args: ["gke", "token", "--credentials", malformed], status: 3, message: /service-account key .*malformed\.json has a private_key that is not a PEM RSA key/ },
    { name: "key file not JSON", args: ["gke", "token", "--credentials", notJson], status: 3, message: /is not JSON/ },
    { name: "missing key file", args: ["gke", "token", "--credentials", join(root, "nope.json")], status: 3, message: /does not exist/ },
    { name: "malformed key file (update-kubeconfig)", args: [...base, "--credentials", malformed], status: 3, message: /not a PEM RSA key/ },
    { name: "malformed key via GOOGLE_APPLICATION_CREDENTIALS", args: [...base], extra: { GOOGLE_APPLICATION_CREDENTIALS: notJson }, status: 3, message: /is not JSON/ },
    { name: "missing location", args: ["gke", "update-kubeconfig", "--cluster", "e2e", "--project", PROJECT, "--credentials", keyFile, "--kubeconfig", kubeconfig], status: 2, message: /--location is required/ },
    { name: "bad location", args: ["gke", "update-kubeconfig", "--cluster", "e2e", "--location", "mars", "--project", PROJECT, "--credentials", keyFile, "--kubeconfig", kubeconfig], status: 2, message: /GKE location "mars" is not a region or zone/ },
    { name: "unknown cluster", args: ["gke", "update-kubeconfig", "--cluster", "ghost", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile, "--kubeconfig", kubeconfig], status: 5, message: /not found .*check the project, the location and the cluster name.*\(set with --cluster\)/ },
    { name: "cluster provisioning", args: ["gke", "update-kubeconfig", "--cluster", "baby", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile, "--kubeconfig", kubeconfig], status: 5, message: /status PROVISIONING/ },
    { name: "unknown flag", args: ["gke", "token", "--bogus"], status: 2, message: /unknown flag "--bogus"/ },
  ];
  for (const c of cases) {
    const r = await kubeiam(c.args, c.extra);
    assert.equal(r.status, c.status, `${c.name}: ${r.err}`);
    assert.equal(r.out, "", c.name);
    const lines = r.err.trim().split("\n");
    assert.equal(lines.length, 1, `${c.name}: ${r.err}`);
    assert.match(lines[0] ?? "", /^kubeiam: /, c.name);
    assert.match(lines[0] ?? "", c.message, c.name);
    assert.doesNotMatch(r.err, /\n\s+at |PRIVATE KEY/, c.name);
    assert.equal(existsSync(kubeconfig), false, `${c.name}: nothing written`);
  }
});

test("gke token --force-refresh mints anew and caches the new token; 'kubeiam cache list/clear --cloud gcp' sees it without showing it", async () => {
  await rm(cacheDir, { recursive: true, force: true });
  const first = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only"]);
  const issued = oauth.issued.length;
  const forced = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only", "--force-refresh"]);
  assert.equal(forced.status, 0, forced.err);
  assert.notEqual(forced.out, first.out);
  assert.equal(oauth.issued.length, issued + 1);
  const cached = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only"]);
  assert.equal(cached.out, forced.out, "the forced token replaced the cached one");
  const list = await kubeiam(["cache", "list", "--cloud", "gcp"]);
  assert.equal(list.status, 0, list.err);
  assert.match(list.out, /^gcp +access token, identity fingerprint [0-9a-f]{12} +\d{4}-[\d-]+T[\d:]+Z +valid/m);
  assert.ok(!list.out.includes(forced.out.trim()), "the token is never listed");
  assert.equal((await kubeiam(["cache", "clear", "--cloud", "gcp"])).out, "Removed 1 cached credential(s) (gcp: 1)\n");
  assert.deepEqual(readdirSync(cacheDir), []);
});

test("one cache root for both clouds (~/.kube/cache/kubeiam/{aws,gcp}); the old GKE folder is never read, and 'cache clear' deletes its tokens", async () => {
  await rm(cacheDir, { recursive: true, force: true });
  const minted = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only"]);
  assert.equal(minted.status, 0, minted.err);
  const [name] = readdirSync(cacheDir);
  assert.match(name ?? "", /^token-[0-9a-f]{64}\.json$/);
  // The same identity's entry where kubeiam 0.1 kept it, holding a token the endpoint never issued.
  const legacy = join(root, "home", ".cache", "kubeiam", "gke");
  await mkdir(legacy, { recursive: true, mode: 0o700 });
  const planted = JSON.parse(readFileSync(join(cacheDir, name!), "utf8")) as Record<string, unknown>;
  await writeFile(join(legacy, name!), JSON.stringify({ ...planted, token: "ya29.planted-in-the-old-folder" }), { mode: 0o600 });
  await copyFile(join(legacy, name!), join(legacy, `token-${"e".repeat(64)}.json`));
  await rm(cacheDir, { recursive: true, force: true });
  const issued = oauth.issued.length;
  const fresh = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only"]);
  assert.equal(fresh.status, 0, fresh.err);
  assert.notEqual(fresh.out.trim(), "ya29.planted-in-the-old-folder", "the old folder is not read");
  assert.equal(oauth.issued.length, issued + 1);
  // An AWS entry beside it: one root, two clouds, one list.
  const awsDir = join(root, "home", ".kube", "cache", "kubeiam", "aws");
  await writeAwsCachedCredentials(awsDir, { roleArn: "arn:aws:iam::123456789012:role/one-root" }, {
    accessKeyId: "ASIAONEROOT000000001",
    secretAccessKey: "not-a-real-secret-one-root",
    sessionToken: "not-a-real-session-one-root",
    expiration: new Date(Date.now() + 3600_000),
  });
  const list = JSON.parse((await kubeiam(["cache", "list", "-o", "json"])).out) as { cloud: string; file: string }[];
  assert.deepEqual(list.map((e) => e.cloud), ["aws", "gcp"]);
  const cacheRoot = join(root, "home", ".kube", "cache", "kubeiam");
  assert.deepEqual(list.map((e) => e.file.slice(0, cacheRoot.length + 4)), [`${cacheRoot}/aws`, `${cacheRoot}/gcp`]);
  assert.equal((await kubeiam(["cache", "clear", "--cloud", "gcp"])).out, "Removed 3 cached credential(s) (gcp: 3)\n");
  assert.deepEqual(readdirSync(legacy), [], "the old folder's tokens are gone too");
  assert.deepEqual(readdirSync(cacheDir), []);
  assert.equal(readdirSync(awsDir).filter((n) => n.endsWith(".json")).length, 1, "--cloud gcp leaves the AWS cache");
  assert.equal((await kubeiam(["cache", "clear"])).out, "Removed 1 cached credential(s) (aws: 1, gcp: 0)\n");
});

test("'gke token' when the token endpoint answers expires_in 1e300: exit 5 and one line, never an internal error", async () => {
  oauthOptions.expiresIn = 1e300;
  try {
    const r = await kubeiam(["gke", "token", "--credentials", keyFile, "--no-cache"]);
    assert.equal(r.status, 5, r.err);
    assert.equal(r.out, "");
    assert.equal(r.err.split("\n").length, 2, r.err);
    assert.match(r.err, /expires_in .* is beyond any date/);
    assert.doesNotMatch(r.err, /internal error/);
  } finally {
    delete oauthOptions.expiresIn;
  }
});
