import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execInstallHint } from "../../src/kube/kubeconfig.js";
import { parse as parseYaml } from "yaml";
import { getGkeCluster, getGkeClusterRaw, gkeKubeconfigEntries, listGkeClustersRaw } from "../../src/gcp/cluster.js";
import { ApiError, ClusterStateError, CredentialsError, InvalidInputError } from "../../src/lib/errors.js";
import { startContainerApi } from "./stand-ins.js";

const caPem = "-----BEGIN CERTIFICATE-----\nMIIBgkeTestOnly\n-----END CERTIFICATE-----\n";
const caB64 = Buffer.from(caPem).toString("base64");
const api = await startContainerApi({
  project: "kubeiam-test",
  acceptToken: (t) => t === "ya29.good",
  clusters: [
    {
      name: "prod",
      location: "europe-west1",
      status: "RUNNING",
      endpoint: "34.1.2.3",
      masterAuth: { clusterCaCertificate: caB64 },
      selfLink: "https://container.googleapis.com/v1/projects/kubeiam-test/locations/europe-west1/clusters/prod",
      currentMasterVersion: "1.31.1-gke.100",
      network: "default",
      subnetwork: "default",
      createTime: "2026-01-01T00:00:00+00:00",
      nodePools: [{ name: "pool-1", status: "RUNNING", initialNodeCount: 2, version: "1.31.1-gke.100", config: { machineType: "e2-standard-4" } }],
    },
    { name: "zonal", location: "europe-west1-b", status: "PROVISIONING" },
  ],
});
after(() => api.close());
const base = { accessToken: "ya29.good", apiUrl: api.url, project: "kubeiam-test" };

test("clusters.get against a local container API: mapped into the shared ClusterInfo with a kubeconfig", async () => {
  const info = await getGkeCluster({ ...base, location: "europe-west1", cluster: "prod", kubeconfig: { credentialsFile: "/keys/sa.json" } });
  assert.equal(info.cloud, "gcp");
  assert.equal(info.status, "Active");
  assert.equal(info.region, "europe-west1");
  assert.equal(info.zone, undefined);
  assert.equal(info.k8sVersion, "1.31.1-gke.100");
  assert.equal(info.access.endpoint, "https://34.1.2.3");
  assert.equal(info.access.certificateAuthorityData, caPem);
  assert.deepEqual(info.nodeGroups.map((g) => [g.name, g.nodeCount, g.instanceType]), [["pool-1", 2, "e2-standard-4"]]);
  const kc = parseYaml(info.access.kubeconfig ?? "") as { "current-context": string; users: { name: string; user: { exec: unknown } }[]; clusters: unknown[] };
  const name = "gke_kubeiam-test_europe-west1_prod";
  assert.equal(kc["current-context"], name);
  assert.deepEqual(kc.clusters[0], { cluster: { "certificate-authority-data": caB64, server: "https://34.1.2.3" }, name });
  assert.deepEqual(kc.users[0]?.user.exec, {
    apiVersion: "client.authentication.k8s.io/v1beta1",
    args: ["gke", "token", "--credentials", "/keys/sa.json"],
    command: "kubeiam",
    installHint: execInstallHint("kubeiam"),
    provideClusterInfo: false,
  });
});

test("clusters.list over every location; a zonal cluster has its region and zone", async () => {
  const list = await listGkeClustersRaw({ ...base, location: "-" });
  assert.deepEqual(list.map((c) => [c.name, c.location, c.status]), [["prod", "europe-west1", "RUNNING"], ["zonal", "europe-west1-b", "PROVISIONING"]]);
});

test("errors: unknown cluster (404), a token the API refuses (401), a cluster still provisioning, bad names", async () => {
  await assert.rejects(getGkeClusterRaw({ ...base, location: "europe-west1", cluster: "nope" }), (e: unknown) => e instanceof ApiError && e.status === 404 && /check the project, the location and the cluster name/.test(e.message) && e.field === "cluster");
  await assert.rejects(getGkeClusterRaw({ ...base, accessToken: "ya29.bad", location: "europe-west1", cluster: "prod" }), CredentialsError);
  const zonal = await getGkeClusterRaw({ ...base, location: "europe-west1-b", cluster: "zonal" });
  assert.throws(() => gkeKubeconfigEntries({ cluster: zonal }), ClusterStateError);
  await assert.rejects(getGkeClusterRaw({ ...base, location: "europe-west1", cluster: "../x" }), InvalidInputError);
  await assert.rejects(getGkeClusterRaw({ ...base, project: "Bad_Project", location: "europe-west1", cluster: "prod" }), InvalidInputError);
  assert.ok(!api.requests.some((r) => r.includes("..")), "refused names never reach the API");
});
