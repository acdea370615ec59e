/**
 * GKE per-person identities (issue 20) through `kubeiam serve`, pointed at Google's stand-ins by
 * gcloud's own overrides (CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER and _IAMCREDENTIALS): a credential
 * that impersonates a service account (added with the CLI's --impersonate-service-account) mints that
 * account's tokens through IAM Credentials with the held key's token, so bob, granted as it, is another
 * Google identity than alice; refusals of IAM Credentials are one 502 line naming the account and role.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyFileJson, makeServiceAccount, startContainerApi, startIamCredentials, startOAuth, type IamCredentialsStandIn, type OAuthStandIn } from "../gcp/stand-ins.js";
import { call } from "../broker/helpers.js";
import { childEnv, runCliChild, startServe, type ServeChild } from "../broker/serve-helpers.js";

const holder = makeServiceAccount("kubeiam-broker@kubeiam-test.iam.gserviceaccount.com");
const VIEWER = "gke-viewer@kubeiam-test.iam.gserviceaccount.com";
const LOCKED = "gke-admin@kubeiam-test.iam.gserviceaccount.com";
const GHOST = "gone@kubeiam-test.iam.gserviceaccount.com";
let dir: string;
let oauth: OAuthStandIn;
let iam: IamCredentialsStandIn;
let container: Awaited<ReturnType<typeof startContainerApi>>;
let broker: ServeChild;
let admin: string;
/** The bearer tokens the container API was called with, in order. */
const lookups: string[] = [];
const tokens: Record<string, string> = {};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-e2e-gke-as-"));
  oauth = await startOAuth({ accounts: [holder] });
  // The held key's account may act as the viewer only; the admin account exists but is not its to use.
  iam = await startIamCredentials({ callerOf: (t) => oauth.issuedTo.get(t), accounts: [VIEWER, LOCKED], tokenCreators: { [VIEWER]: [holder.email] }, expiresIn: 1800 });
  container = await startContainerApi({
    project: "fleet-proj",
    acceptToken: (t) => {
      lookups.push(t);
      return oauth.issuedTo.has(t) || iam.issuedTo.has(t);
    },
    clusters: [{ name: "fleet", location: "europe-west1", status: "RUNNING", endpoint: "10.0.0.1", masterAuth: { clusterCaCertificate: Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64") } }],
  });
  broker = await startServe(
    ["--db", `sqlite:${join(dir, "b.db")}`, "--listen", "127.0.0.1:0"],
    childEnv(join(dir, "server"), { CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER: `${container.url}/`, CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS: `${iam.url}/` }),
  );
  admin = broker.ready.adminToken ?? "";
  const key = join(dir, "holder.json");
  writeFileSync(key, keyFileJson(holder, oauth.tokenUri), { mode: 0o600 });
  const adminEnv = childEnv(join(dir, "operator"), { KUBEIAM_BROKER_TOKEN: admin, GOOGLE_APPLICATION_CREDENTIALS: key });
  const add = async (name: string, as?: string) => {
    const r = await runCliChild(["broker", "credential", "add", name, "--provider", "gcp", ...(as === undefined ? [] : ["--impersonate-service-account", as]), "--server", broker.ready.url], adminEnv);
    assert.equal(r.status, 0, r.err);
  };
  await add("gcp-main");
  await add("gcp-viewer", VIEWER);
  await add("gcp-locked", LOCKED);
  await add("gcp-ghost", GHOST);
  const reg = await call(broker.ready.url, "POST", "/v1/clusters", { token: admin, body: { name: "gke-prod", credential: "gcp-main", region: "europe-west1", gcp: { project: "fleet-proj", location: "europe-west1", cluster: "fleet" } } });
  assert.equal(reg.status, 201, reg.text);
  for (const [person, as] of [["alice"], ["bob", "gcp-viewer"], ["carol", "gcp-locked"], ["dave", "gcp-ghost"]] as const) {
    tokens[person] = (await call(broker.ready.url, "POST", "/v1/users", { token: admin, body: { name: person } })).json.token;
    const g = await call(broker.ready.url, "PUT", `/v1/grants/${person}/gke-prod`, { token: admin, ...(as === undefined ? {} : { body: { as } }) });
    assert.equal(g.status, 204, g.text);
  }
});
after(async () => {
  const code = await broker?.stop();
  if (code !== 0) process.stderr.write(`the broker's log:\n${broker?.stderr()}\n`);
  await Promise.all([oauth?.close(), iam?.close(), container?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

test("bob, granted as the impersonating credential, gets the viewer account's token from IAM Credentials; alice gets the held key's own: two Google identities", async () => {
  const before = iam.calls.length;
  const bobs = await call(broker.ready.url, "GET", "/v1/clusters/gke-prod/token", { token: tokens.bob });
  assert.equal(bobs.status, 200, bobs.text);
  // The impersonated account reached the IAM Credentials call, asked with the held key's own token.
  const asked = iam.calls.slice(before);
  assert.deepEqual(
    asked.map((c) => [c.caller, c.account, c.status, c.lifetime]),
    [[holder.email, VIEWER, 200, "3600s"]],
  );
  assert.ok(Array.isArray(asked[0]?.scope) && (asked[0].scope as string[]).includes("https://www.googleapis.com/auth/cloud-platform"));
  const bobToken = bobs.json.status.token as string;
  assert.equal(iam.issuedTo.get(bobToken), VIEWER);
  // The real end of the impersonated token (30 minutes), a minute early as every answer says it.
  const exp = Date.parse(bobs.json.status.expirationTimestamp);
  assert.ok(exp > Date.now() + 27 * 60_000 && exp <= Date.now() + 29 * 60_000, bobs.json.status.expirationTimestamp);

  const alices = await call(broker.ready.url, "GET", "/v1/clusters/gke-prod/token", { token: tokens.alice });
  assert.equal(alices.status, 200, alices.text);
  assert.equal(oauth.issuedTo.get(alices.json.status.token), holder.email);
  assert.equal(iam.issuedTo.get(alices.json.status.token), undefined);
  assert.notEqual(alices.json.status.token, bobToken);
  // Reused until a minute before it ends: no second impersonation for bob's next request.
  const again = await call(broker.ready.url, "GET", "/v1/clusters/gke-prod/token", { token: tokens.bob });
  assert.equal(again.json.status.token, bobToken);
  assert.equal(iam.calls.length, before + 1);
  const rows = (await call(broker.ready.url, "GET", "/v1/audit?cluster=gke-prod&limit=100", { token: admin })).json.entries.filter((e: any) => e.outcome === "issued");
  assert.deepEqual([...new Set(rows.map((e: any) => `${e.actor} ${e.credential}`))].sort(), ["alice gcp-main", "bob gcp-viewer"]);
});

test("a cluster registered with the impersonating credential is looked up as the impersonated account", async () => {
  const reg = await call(broker.ready.url, "POST", "/v1/clusters", {
    token: admin,
    body: { name: "gke-view", credential: "gcp-viewer", region: "europe-west1", gcp: { project: "fleet-proj", location: "europe-west1", cluster: "fleet" } },
  });
  assert.equal(reg.status, 201, reg.text);
  assert.equal(iam.issuedTo.get(lookups.at(-1) ?? ""), VIEWER);
  assert.equal(oauth.issuedTo.get(lookups[0] ?? ""), holder.email, "gke-prod was looked up as the key's own account");
});

test("IAM Credentials' refusals (403 no getAccessToken, 404 no such account) are one 502 line naming the account and the role, with no secret", async () => {
  for (const [person, account, status] of [
    ["carol", LOCKED, 403],
    ["dave", GHOST, 404],
  ] as const) {
    const r = await call(broker.ready.url, "GET", "/v1/clusters/gke-prod/token", { token: tokens[person] });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, "cloud_denied");
    assert.equal(iam.calls.at(-1)?.account, account);
    assert.equal(iam.calls.at(-1)?.status, status);
    const message = r.json.error.message as string;
    assert.equal(
      message,
      `minting a token for cluster gke-prod: ${holder.email} cannot act as service account ${account} (IAM Credentials answered ${status} ${status === 403 ? "PERMISSION_DENIED" : "NOT_FOUND"}): check that ${account} exists, and grant ${holder.email} the role roles/iam.serviceAccountTokenCreator on it`,
    );
    for (const secret of [...oauth.issued, ...iam.issuedTo.keys(), "PRIVATE KEY"]) assert.ok(!r.text.includes(secret));
  }
  const rows = (await call(broker.ready.url, "GET", "/v1/audit?user=carol&limit=1", { token: admin })).json.entries;
  assert.deepEqual(rows.map((e: any) => [e.outcome, e.reason]), [["error", "cloud_denied"]]);
  assert.ok(!broker.stderr().includes(oauth.issued[0] ?? "no token"), "no token in the broker's log");
});

test("a credential whose impersonateServiceAccount is not a service account's e-mail is refused with one line, and nothing is stored", async () => {
  const r = await call(broker.ready.url, "POST", "/v1/credentials", {
    token: admin,
    body: { name: "gcp-bad", provider: "gcp", gcp: { serviceAccount: JSON.parse(keyFileJson(holder, oauth.tokenUri)), impersonateServiceAccount: "viewer/../admin" } },
  });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /^body field gcp\.impersonateServiceAccount "viewer\/\.\.\/admin" is not a service account's e-mail: give one like viewer@my-project\.iam\.gserviceaccount\.com$/);
  assert.ok(!r.text.includes("PRIVATE KEY"));
  const list = (await call(broker.ready.url, "GET", "/v1/credentials", { token: admin })).json.credentials.map((c: { name: string }) => c.name);
  assert.deepEqual(list.sort(), ["gcp-ghost", "gcp-locked", "gcp-main", "gcp-viewer"]);
  // Whom each acts as: the impersonated account, else the key's own; never a secret.
  const listed = await call(broker.ready.url, "GET", "/v1/credentials", { token: admin });
  const actsAs = Object.fromEntries(listed.json.credentials.map((c: { name: string; actsAs?: string }) => [c.name, c.actsAs]));
  assert.deepEqual(actsAs, { "gcp-ghost": GHOST, "gcp-locked": LOCKED, "gcp-main": holder.email, "gcp-viewer": VIEWER });
  assert.ok(!listed.text.includes("PRIVATE KEY"));
});
