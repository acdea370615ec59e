import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { VersionApi } from "@kubernetes/client-node";
import { createEksProvider, createGkeProvider, createNcpProvider, kubeConfigFor } from "../src/provider.js";
import { parseGcpCredentialsFile } from "../src/gcp/token.js";
import { startBearerCluster, startEksApi, verifyEksTokenByHand } from "./aws/stand-ins.js";
import { keyFileJson, makeServiceAccount, startContainerApi, startOAuth } from "./gcp/stand-ins.js";
import { startTlsCluster } from "./helpers/tls-cluster.js";
import { startNcpApiStandIn } from "./helpers/ncp-api-stand-in.js";

test("EKS: getCluster → kubeConfigFor → client-node reaches a SigV4-checking endpoint; the token is reused", async () => {
  const ak = "AKIDPROVIDERTEST0001";
  const secret = randomBytes(24).toString("hex");
  const cluster = await startBearerCluster((token) => {
    try {
      verifyEksTokenByHand(token, { secretFor: (k) => (k === ak ? secret : undefined), clusterName: "fleet-eks", now: Date.now() });
      return undefined;
    } catch (e) {
      return String(e);
    }
  });
  const api = await startEksApi({
    keys: { [ak]: secret },
    clusters: [{ name: "fleet-eks", arn: "arn:aws:eks:us-east-2:123456789012:cluster/fleet-eks", status: "ACTIVE", endpoint: cluster.url, certificateAuthority: { data: cluster.caData } }],
  });
  after(async () => {
    await api.close();
    await cluster.close();
  });
  const eks = createEksProvider({ region: "us-east-2", credentials: { accessKeyId: ak, secretAccessKey: secret }, endpoint: api.url });
  const [listed] = await eks.listClusters();
  assert.equal(listed?.name, "fleet-eks");
  // The listing has no CA: kubeConfigFor fetches the cluster once, then mints in-process.
  const kc = await kubeConfigFor(eks, listed!);
  const v1 = await kc.makeApiClient(VersionApi).getCode();
  const v2 = await kc.makeApiClient(VersionApi).getCode();
  assert.equal(v1.gitVersion, "v1.31.2-multicloud-test");
  assert.equal(v2.major, "1");
  assert.equal(kc.tokenCache.mints, 1);
  assert.ok(cluster.seen.every((s) => s.accepted));
});

test("GKE: getCluster → kubeConfigFor → client-node reaches an endpoint that accepts only the issued token", async () => {
  const sa = makeServiceAccount();
  const oauth = await startOAuth({ accounts: [sa] });
  const cluster = await startBearerCluster((t) => (oauth.issued.includes(t) ? undefined : "unknown token"));
  const api = await startContainerApi({
    project: "fleet-proj",
    acceptToken: (t) => oauth.issued.includes(t),
    clusters: [{ name: "fleet", location: "us-central1-a", status: "RUNNING", endpoint: new URL(cluster.url).host, masterAuth: { clusterCaCertificate: cluster.caData } }],
  });
  after(async () => {
    await api.close();
    await cluster.close();
    await oauth.close();
  });
  const gke = createGkeProvider({ project: "fleet-proj", location: "us-central1-a", apiUrl: api.url, credentials: parseGcpCredentialsFile(keyFileJson(sa, oauth.tokenUri), "/mem/sa.json") });
  const info = await gke.getCluster("fleet");
  assert.equal(info.zone, "us-central1-a");
  assert.equal(info.region, "us-central1");
  const kc = await kubeConfigFor(gke, info);
  assert.equal((await kc.makeApiClient(VersionApi).getCode()).gitVersion, "v1.31.2-multicloud-test");
  assert.equal(oauth.issued.length, 1, "one token serves the container API and the cluster");
});

test("NCP: the same interface over the NKS API", async () => {
  const AK = "NCPTESTACCESSKEY0001";
  const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
  const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
  const cluster = await startTlsCluster({ clusterUuid: UUID, region: "KR", keys: { [AK]: SK } });
  const standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    clusters: [{ uuid: UUID, name: "demo", status: "RUNNING", endpoint: cluster.server, caData: cluster.caData }],
  });
  after(async () => {
    await standIn.close();
    await cluster.close();
  });
  const nks = createNcpProvider({ region: "KR", credentials: { accessKey: AK, secretKey: SK, apiUrl: standIn.url } });
  const [listed] = await nks.listClusters();
  assert.equal(listed?.id, UUID);
  // The listing has no CA: kubeConfigFor fetches the cluster once.
  const kc = await kubeConfigFor(nks, listed!);
  assert.equal((await kc.makeApiClient(VersionApi).getCode()).major, "1");
});
