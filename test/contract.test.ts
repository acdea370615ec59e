/**
 * The cloud contract (src/contract.ts): the three adapters answer the same four operations the same
 * way, each against a stand-in that checks its cloud's signatures (NKS gateway HMAC, SigV4, OAuth JWT).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ncpAdapter } from "../src/ncp/adapter.js";
import { eksAdapter } from "../src/aws/adapter.js";
import { gkeAdapter } from "../src/gcp/adapter.js";
import { verifyNcpToken } from "../src/ncp/token.js";
import { ClusterStateError, ErrorCode } from "../src/lib/errors.js";
import { startNcpApiStandIn } from "./helpers/ncp-api-stand-in.js";
import { startEksApi, verifyEksTokenByHand } from "./aws/stand-ins.js";
import { keyFileJson, makeServiceAccount, startContainerApi, startOAuth } from "./gcp/stand-ins.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CA_B64 = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBcontracttest\n-----END CERTIFICATE-----\n").toString("base64");
const NOW = Date.now();
const dir = mkdtempSync(join(tmpdir(), "kubeiam-contract-"));

// NKS
const AK = "NCPTESTACCESSKEY0001";
const SK = randomBytes(20).toString("hex");
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const CREATING = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const nks = await startNcpApiStandIn({
  accessKey: AK,
  secretKey: SK,
  region: "SGN",
  clusters: [
    { uuid: UUID, name: "demo", status: "RUNNING", endpoint: "https://127.0.0.1:6443", caData: CA_B64 },
    { uuid: CREATING, name: "next", status: "CREATING", endpoint: "", caData: CA_B64 },
  ],
});

// EKS
const AWS_AK = "AKIDCONTRACTTEST0001";
const AWS_SK = randomBytes(20).toString("hex");
const ARN = "arn:aws:eks:eu-west-1:123456789012:cluster/prod-eks";
const eks = await startEksApi({
  keys: { [AWS_AK]: AWS_SK },
  clusters: [{ name: "prod-eks", arn: ARN, status: "ACTIVE", endpoint: "https://eks.example.test", certificateAuthority: { data: CA_B64 } }],
});

// GKE
const sa = makeServiceAccount();
const oauth = await startOAuth({ accounts: [sa] });
const gke = await startContainerApi({
  project: "contract-proj",
  acceptToken: (t) => oauth.issued.includes(t),
  clusters: [{ name: "prod", location: "europe-west1", status: "RUNNING", endpoint: "34.1.2.3", masterAuth: { clusterCaCertificate: CA_B64 } }],
});
const keyFile = join(dir, "sa.json");
writeFileSync(keyFile, keyFileJson(sa, oauth.tokenUri, "contract-proj"));

after(async () => {
  await Promise.all([nks.close(), eks.close(), gke.close(), oauth.close()]);
  rmSync(dir, { recursive: true, force: true });
});

test("the three adapters name the same operations, and their clouds", () => {
  const ops = ["cloud", "resolveCredentials", "mintToken", "describeCluster", "getCluster", "listClusters", "kubeconfigEntries"];
  for (const adapter of [ncpAdapter, eksAdapter, gkeAdapter]) assert.deepEqual(Object.keys(adapter).sort(), [...ops].sort());
  assert.deepEqual([ncpAdapter.cloud, eksAdapter.cloud, gkeAdapter.cloud], ["ncp", "aws", "gcp"]);
});

test("NKS through the contract: credentials from the environment, a verifiable token, describe, entries in both modes", async () => {
  const credentials = await ncpAdapter.resolveCredentials({ env: { NCLOUD_ACCESS_KEY_ID: AK, NCLOUD_SECRET_ACCESS_KEY: SK, NCLOUD_API_GW: nks.url, HOME: dir } });
  assert.equal(credentials.accessKey, AK);
  const ref = { region: "sgn", clusterUuid: UUID };
  const minted = await ncpAdapter.mintToken({ credentials, cluster: ref, now: NOW });
  assert.equal(minted.expiresAt.getTime(), NOW + 5 * 60 * 1000);
  assert.equal(minted.refreshAt.getTime(), NOW + 4 * 60 * 1000);
  assert.equal(verifyNcpToken(minted.token, { secretKeyFor: (k) => (k === AK ? SK : undefined), clusterUuid: UUID, region: "SGN", now: NOW }).accessKey, AK);

  const described = await ncpAdapter.describeCluster({ credentials, cluster: ref });
  assert.equal(described.cluster.name, "demo");
  const exec = await ncpAdapter.kubeconfigEntries({ credentials, cluster: described });
  assert.equal(exec.tokenExpiresAt, undefined);
  assert.deepEqual(exec.entries.user.user.exec?.args, ["token", "--clusterUuid", UUID, "--region", "SGN"]);
  assert.equal(exec.entries.cluster.cluster.server, "https://127.0.0.1:6443");
  const embed = await ncpAdapter.kubeconfigEntries({ credentials, cluster: described, kubeconfig: { mode: "embed", userName: "me" }, now: NOW });
  assert.equal(embed.entries.user.name, "me");
  assert.ok(embed.entries.user.user.token?.startsWith("k8s-ncp-v1."));
  assert.equal(embed.tokenExpiresAt?.getTime(), NOW + 5 * 60 * 1000);
  assert.equal(embed.tokenRefreshAt?.getTime(), NOW + 4 * 60 * 1000);

  const listed = await ncpAdapter.listClusters({ credentials, scope: { region: "SGN" } });
  assert.deepEqual(listed.map((c) => [c.cloud, c.id, c.status]), [["ncp", UUID, "Active"], ["ncp", CREATING, "Creating"]]);
  const info = await ncpAdapter.getCluster({ credentials, cluster: ref, kubeconfig: { mode: "exec" } });
  assert.equal(info.access.mode, "exec");
  assert.match(info.access.kubeconfig ?? "", /command: ncp-iam-authenticator/);
});

test("NKS through the contract: a cluster still being created is described without a kubeconfig, and its entries are refused", async () => {
  const credentials = { accessKey: AK, secretKey: SK, apiUrl: nks.url };
  const described = await ncpAdapter.describeCluster({ credentials, cluster: { region: "SGN", clusterUuid: CREATING } });
  assert.equal(described.baseKubeconfig, undefined);
  await assert.rejects(ncpAdapter.kubeconfigEntries({ credentials, cluster: described }), (e: unknown) => {
    assert.ok(e instanceof ClusterStateError);
    assert.equal(e.code, ErrorCode.CLUSTER_STATE);
    return true;
  });
  // No API call asked for the kubeconfig of a cluster that has none.
  assert.ok(!nks.requests.some((r) => r.uri.includes(`${CREATING}/kubeconfig`)));
});

test("EKS through the contract: the same calls, a SigV4 token bound to the cluster", async () => {
  // A named profile in a shared credentials file of our own: the SDK's chain reads the file we name.
  const credentialsFile = join(dir, "aws-credentials");
  writeFileSync(credentialsFile, `[contract]\naws_access_key_id = ${AWS_AK}\naws_secret_access_key = ${AWS_SK}\n`);
  const credentials = await eksAdapter.resolveCredentials({
    region: "eu-west-1",
    profile: "contract",
    env: { AWS_CONFIG_FILE: join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: credentialsFile, HOME: dir },
  });
  assert.equal(credentials.accessKeyId, AWS_AK);
  const ref = { region: "eu-west-1", name: "prod-eks" };
  const minted = await eksAdapter.mintToken({ credentials, cluster: ref, now: NOW });
  assert.equal(verifyEksTokenByHand(minted.token, { secretFor: (k) => (k === AWS_AK ? AWS_SK : undefined), clusterName: "prod-eks", now: NOW }).accessKeyId, AWS_AK);
  const api = { endpoint: eks.url };
  const described = await eksAdapter.describeCluster({ credentials, cluster: ref, api });
  assert.equal(described.cluster.arn, ARN);
  const exec = await eksAdapter.kubeconfigEntries({ credentials, cluster: described });
  assert.deepEqual(exec.entries.user.user.exec?.args, ["eks", "token", "--cluster-name", "prod-eks", "--region", "eu-west-1"]);
  const embed = await eksAdapter.kubeconfigEntries({ credentials, cluster: described, kubeconfig: { mode: "embed" }, now: NOW });
  assert.ok(embed.entries.user.user.token?.startsWith("k8s-aws-v1."));
  assert.ok(embed.tokenExpiresAt !== undefined);
  const listed = await eksAdapter.listClusters({ credentials, scope: { region: "eu-west-1" }, api });
  assert.deepEqual(listed.map((c) => [c.cloud, c.id, c.status]), [["aws", ARN, "Active"]]);
  const info = await eksAdapter.getCluster({ credentials, cluster: ref, api, kubeconfig: false });
  assert.equal(info.access.kubeconfig, undefined);
});

test("GKE through the contract: the same calls, one access token reused when given, listGkeClusters as ClusterInfo", async () => {
  const credentials = await gkeAdapter.resolveCredentials({ file: keyFile, env: { HOME: dir } });
  assert.equal(credentials.kind, "serviceAccount");
  const ref = { project: "contract-proj", location: "europe-west1", cluster: "prod" };
  const minted = await gkeAdapter.mintToken({ credentials, cluster: ref });
  assert.ok(oauth.issued.includes(minted.token));
  const before = oauth.issued.length;
  const api = { apiUrl: gke.url, accessToken: minted };
  const described = await gkeAdapter.describeCluster({ credentials, cluster: ref, api });
  const exec = await gkeAdapter.kubeconfigEntries({ credentials, cluster: described, api });
  assert.deepEqual(exec.entries.user.user.exec?.args, ["gke", "token"]);
  const embed = await gkeAdapter.kubeconfigEntries({ credentials, cluster: described, kubeconfig: { mode: "embed" }, api });
  assert.equal(embed.entries.user.user.token, minted.token);
  assert.equal(embed.tokenExpiresAt, minted.expiresAt);
  const listed = await gkeAdapter.listClusters({ credentials, scope: { project: "contract-proj", location: "-" }, api });
  assert.deepEqual(listed.map((c) => [c.cloud, c.name, c.region, c.status, c.access.endpoint]), [["gcp", "prod", "europe-west1", "Active", "https://34.1.2.3"]]);
  assert.equal(oauth.issued.length, before, "the given access token served every call");
  // Without one, the adapter mints its own.
  await gkeAdapter.getCluster({ credentials, cluster: ref, api: { apiUrl: gke.url } });
  assert.equal(oauth.issued.length, before + 1);
});
