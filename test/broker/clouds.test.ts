/**
 * EKS and GKE clusters through the broker, by the same code as NKS (the ClusterProvider contract):
 * registration looks them up at local stand-ins of the clouds' APIs, tokens verify by hand, a GKE
 * access token is fetched once for many concurrent requests and reused; and the broker's answers
 * when its own parts fail: /healthz 503 without a store, 503 and no token when the audit row cannot
 * be committed. One broker for the file, on the embedded store.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBearerCluster, startEksApi, verifyEksTokenByHand, type LocalServer } from "../aws/stand-ins.js";
import { keyFileJson, makeServiceAccount, startContainerApi, startOAuth, type OAuthStandIn } from "../gcp/stand-ins.js";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { call } from "./helpers.js";

const AK = "AKIDBROKERTEST000001";
const SECRET = randomBytes(24).toString("hex");
const sa = makeServiceAccount();
let dir: string;
let broker: RunningBroker;
let admin: string;
let user: string;
let eksApi: LocalServer;
let eksCluster: Awaited<ReturnType<typeof startBearerCluster>>;
let oauth: OAuthStandIn;
let container: Awaited<ReturnType<typeof startContainerApi>>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-broker-clouds-"));
  eksCluster = await startBearerCluster((token) => {
    try {
      verifyEksTokenByHand(token, { secretFor: (k) => (k === AK ? SECRET : undefined), clusterName: "fleet-eks", now: Date.now() });
      return undefined;
    } catch (e) {
      return String(e);
    }
  });
  eksApi = await startEksApi({
    keys: { [AK]: SECRET },
    clusters: [{ name: "fleet-eks", arn: "arn:aws:eks:us-east-2:123456789012:cluster/fleet-eks", status: "ACTIVE", version: "1.32", endpoint: eksCluster.url, certificateAuthority: { data: eksCluster.caData } }],
  });
  oauth = await startOAuth({ accounts: [sa], expiresIn: 3599 });
  container = await startContainerApi({
    project: "fleet-proj",
    acceptToken: (t) => oauth.issued.includes(t),
    clusters: [{ name: "fleet", location: "us-central1-a", status: "RUNNING", endpoint: "10.0.0.1", masterAuth: { clusterCaCertificate: eksCluster.caData } }],
  });
  broker = await startBroker({
    db: `sqlite:${join(dir, "b.db")}`,
    listen: "127.0.0.1:0",
    masterKey: randomBytes(32).toString("base64"),
    home: dir,
    cwd: dir,
    logStream: false,
    cloud: { eksEndpoint: eksApi.url, gkeApiUrl: container.url },
  });
  admin = broker.adminToken ?? "";
  const u = await call(broker.url, "POST", "/v1/users", { token: admin, body: { name: "ops" } });
  user = u.json.token;
  await call(broker.url, "PUT", "/v1/grants/ops/*", { token: admin });
});
after(async () => {
  await broker?.close();
  await Promise.all([eksApi?.close(), eksCluster?.close(), oauth?.close(), container?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

test("EKS: the broker holds AWS keys, looks the cluster up at the EKS API, and mints tokens that verify by hand", async () => {
  const cred = await call(broker.url, "POST", "/v1/credentials", { token: admin, body: { name: "aws-main", provider: "aws", aws: { accessKeyId: AK, secretAccessKey: SECRET } } });
  assert.equal(cred.status, 201, cred.text);
  const add = await call(broker.url, "POST", "/v1/clusters", { token: admin, body: { name: "eks-prod", credential: "aws-main", region: "us-east-2", aws: { clusterName: "fleet-eks" } } });
  assert.equal(add.status, 201, add.text);
  assert.deepEqual(add.json, { name: "eks-prod", provider: "aws", region: "us-east-2", endpoint: eksCluster.url, status: "Active" });
  const r = await call(broker.url, "GET", "/v1/clusters/eks-prod/token", { token: user });
  assert.equal(r.status, 200, r.text);
  const who = verifyEksTokenByHand(r.json.status.token, { secretFor: (k) => (k === AK ? SECRET : undefined), clusterName: "fleet-eks", now: Date.now() });
  assert.equal(who.region, "us-east-2");
  const exp = Date.parse(r.json.status.expirationTimestamp);
  // 14 minutes on, as 'aws eks get-token' says: the margin is taken once, never twice (13 minutes).
  assert.equal(exp, who.signedAt + 14 * 60_000, r.json.status.expirationTimestamp);
  assert.ok(exp > Date.now() + 13 * 60_000 && exp <= Date.now() + 14 * 60_000, r.json.status.expirationTimestamp);
  const miss = await call(broker.url, "POST", "/v1/clusters", { token: admin, body: { name: "eks-x", credential: "aws-main", region: "us-east-2", aws: { clusterName: "nope" } } });
  assert.equal(miss.status, 404, miss.text);
  assert.match(miss.json.error.message, /No cluster found for name: nope/);
  const region = await call(broker.url, "POST", "/v1/clusters", { token: admin, body: { name: "eks-y", credential: "aws-main", region: "us east 2", aws: { clusterName: "fleet-eks" } } });
  assert.equal(region.status, 400, region.text);
  assert.ok(!miss.text.includes(SECRET) && !region.text.includes(SECRET));
  assert.deepEqual((await call(broker.url, "GET", "/v1/clusters", { token: admin })).json.clusters.map((c: { name: string }) => c.name), ["eks-prod"]);
});

test("GKE: one access token for many concurrent token requests (one refresh in flight), reused until a minute before it ends", async () => {
  const cred = await call(broker.url, "POST", "/v1/credentials", { token: admin, body: { name: "gcp-main", provider: "gcp", gcp: { serviceAccount: JSON.parse(keyFileJson(sa, oauth.tokenUri)) } } });
  assert.equal(cred.status, 201, cred.text);
  const add = await call(broker.url, "POST", "/v1/clusters", {
    token: admin,
    body: { name: "gke-prod", credential: "gcp-main", region: "us-central1", gcp: { project: "fleet-proj", location: "us-central1-a", cluster: "fleet" } },
  });
  assert.equal(add.status, 201, add.text);
  assert.equal(add.json.endpoint, "https://10.0.0.1");
  const before = oauth.issued.length;
  const answers = await Promise.all(Array.from({ length: 12 }, () => call(broker.url, "GET", "/v1/clusters/gke-prod/token", { token: user })));
  for (const a of answers) assert.equal(a.status, 200, a.text);
  assert.equal(oauth.issued.length - before, 1, "one access token fetched for twelve concurrent requests");
  const tokens = new Set(answers.map((a) => a.json.status.token as string));
  assert.deepEqual([...tokens], [oauth.issued[oauth.issued.length - 1]]);
  const again = await call(broker.url, "GET", "/v1/clusters/gke-prod/token", { token: user });
  assert.equal(again.json.status.token, oauth.issued[oauth.issued.length - 1], "reused");
  const exp = Date.parse(again.json.status.expirationTimestamp);
  assert.ok(exp > Date.now() + 55 * 60_000 && exp <= Date.now() + 59 * 60_000, "a minute before the hour ends");
  const miss = await call(broker.url, "POST", "/v1/clusters", { token: admin, body: { name: "gke-x", credential: "gcp-main", region: "us-central1", gcp: { project: "fleet-proj", location: "us-central1-a", cluster: "nope" } } });
  assert.equal(miss.status, 404, miss.text);
});

test("no token leaves when its audit row cannot be committed: 503, and the answer holds no token", async () => {
  const store = broker.ctx.store;
  const original = store.insertAudit.bind(store);
  store.insertAudit = async () => {
    throw new Error("disk full");
  };
  try {
    const r = await call(broker.url, "GET", "/v1/clusters/eks-prod/token", { token: user });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, "store_unavailable");
    assert.match(r.json.error.message, /could not record the request in its audit trail, so it sent no token/);
    assert.ok(!r.text.includes("k8s-aws-v1."));
  } finally {
    store.insertAudit = original;
  }
  assert.equal((await call(broker.url, "GET", "/v1/clusters/eks-prod/token", { token: user })).status, 200);
});

test("GET /healthz is 503 when the store does not answer", async () => {
  assert.equal((await call(broker.url, "GET", "/healthz")).status, 200);
  const store = broker.ctx.store;
  const original = store.ping.bind(store);
  store.ping = async () => {
    throw new Error("connection refused");
  };
  try {
    const r = await call(broker.url, "GET", "/healthz");
    assert.equal(r.status, 503);
    assert.equal(r.json.status, "unavailable");
  } finally {
    store.ping = original;
  }
});
