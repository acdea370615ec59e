/**
 * `kubeiam gke token --impersonate-service-account EMAIL` (and gcloud's
 * CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT), the built CLI against the OAuth and IAM Credentials
 * stand-ins: the token is the impersonated account's, asked with the key's own token; it is cached
 * apart from the key's own; a refusal is one line; update-kubeconfig writes the flag into the plugin's
 * arguments.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { keyFileJson, makeServiceAccount, startContainerApi, startIamCredentials, startOAuth, type IamCredentialsStandIn, type OAuthStandIn } from "../gcp/stand-ins.js";

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const PROJECT = "kubeiam-e2e";
const holder = makeServiceAccount("holder@kubeiam-e2e.iam.gserviceaccount.com");
const VIEWER = "viewer@kubeiam-e2e.iam.gserviceaccount.com";
const LOCKED = "admin@kubeiam-e2e.iam.gserviceaccount.com";

let root: string;
let oauth: OAuthStandIn;
let iam: IamCredentialsStandIn;
let containerApi: Awaited<ReturnType<typeof startContainerApi>>;
let keyFile: string;
let env: Record<string, string>;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-gke-as-"));
  oauth = await startOAuth({ accounts: [holder] });
  iam = await startIamCredentials({ callerOf: (t) => oauth.issuedTo.get(t), accounts: [VIEWER, LOCKED], tokenCreators: { [VIEWER]: [holder.email] }, expiresIn: 1800 });
  containerApi = await startContainerApi({
    project: PROJECT,
    acceptToken: (t) => iam.issuedTo.has(t),
    clusters: [{ name: "e2e", location: "europe-west1", status: "RUNNING", endpoint: "10.0.0.1", masterAuth: { clusterCaCertificate: Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64") } }],
  });
  keyFile = join(root, "holder.json");
  await writeFile(keyFile, keyFileJson(holder, oauth.tokenUri, PROJECT), { mode: 0o600 });
  env = {
    PATH: process.env.PATH ?? "",
    HOME: join(root, "home"),
    CLOUDSDK_CONFIG: join(root, "gcloud"),
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER: containerApi.url,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS: iam.url,
  };
});
after(async () => {
  await oauth?.close();
  await iam?.close();
  await containerApi?.close();
  await rm(root, { recursive: true, force: true });
});

/** The built CLI as a child, without blocking: the stand-ins live in this process. */
function kubeiam(args: string[], extra: Record<string, string> = {}): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...env, ...extra }, timeout: 30_000 }, (error, out, err) => {
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : 1, out, err });
    });
  });
}

test("gke token --impersonate-service-account: the viewer's token, asked with the key's own; cached apart from the key's own token", async () => {
  const before = iam.calls.length;
  const viewer = await kubeiam(["gke", "token", "--credentials", keyFile, "--impersonate-service-account", VIEWER, "--token-only"]);
  assert.equal(viewer.status, 0, viewer.err);
  assert.equal(iam.issuedTo.get(viewer.out.trim()), VIEWER, "the token is the impersonated account's");
  assert.deepEqual(iam.calls.slice(before).map((c) => [c.caller, c.account, c.status]), [[holder.email, VIEWER, 200]]);

  // A second run is a cache hit; the key's own token is another identity, cached apart.
  const again = await kubeiam(["gke", "token", "--credentials", keyFile, "--impersonate-service-account", VIEWER, "--token-only"]);
  assert.equal(again.out, viewer.out);
  assert.equal(iam.calls.length, before + 1, "no IAM Credentials call on a hit");
  const own = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only"]);
  assert.equal(own.status, 0, own.err);
  assert.notEqual(own.out, viewer.out);
  assert.equal(oauth.issuedTo.get(own.out.trim()), holder.email);
  assert.equal(readdirSync(join(root, "home", ".kube", "cache", "kubeiam", "gcp")).length, 2);

  // gcloud's variable does the same as the flag.
  const byEnv = await kubeiam(["gke", "token", "--credentials", keyFile, "--token-only"], { CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT: VIEWER });
  assert.equal(byEnv.out, viewer.out);
});

test("gke token as an account the key may not act as: one line naming the role, exit non-zero, nothing on stdout; a bad e-mail is refused before any call", async () => {
  const locked = await kubeiam(["gke", "token", "--credentials", keyFile, "--impersonate-service-account", LOCKED, "--no-cache"]);
  assert.notEqual(locked.status, 0);
  assert.equal(locked.out, "");
  assert.equal(locked.err.trim().split("\n").length, 1, locked.err);
  assert.match(locked.err, /roles\/iam\.serviceAccountTokenCreator/);
  assert.ok(!locked.err.includes("ya29."), "no token in the message");

  const calls = iam.calls.length;
  const bad = await kubeiam(["gke", "token", "--credentials", keyFile, "--impersonate-service-account", "viewer/../admin"]);
  assert.equal(bad.status, 2, bad.err);
  assert.match(bad.err, /--impersonate-service-account "viewer\/\.\.\/admin" is not a service account's e-mail: give one like/);
  assert.equal(iam.calls.length, calls);
});

test("gke update-kubeconfig --impersonate-service-account looks the cluster up as that account and writes the flag into the plugin's arguments", async () => {
  const r = await kubeiam(["gke", "update-kubeconfig", "--cluster", "e2e", "--location", "europe-west1", "--project", PROJECT, "--credentials", keyFile, "--impersonate-service-account", VIEWER, "--dry-run"]);
  assert.equal(r.status, 0, r.err);
  const doc = parseYaml(r.out) as { users: { user: { exec: { args: string[] } } }[] };
  assert.deepEqual(doc.users[0]?.user.exec.args, ["gke", "token", "--credentials", keyFile, "--impersonate-service-account", VIEWER]);
});
