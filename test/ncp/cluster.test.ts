import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execInstallHint } from "../../src/kube/kubeconfig.js";
import { ApiError, ClusterStateError } from "../../src/lib/errors.js";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { getNcpCluster, listNcpClusters, normalizeNcpClusterStatus } from "../../src/ncp/cluster.js";
import { ncpBaseCluster, ncpKubeconfigNames } from "../../src/ncp/kubeconfig.js";
import { verifyNcpToken } from "../../src/ncp/token.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";

const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const CREATING = "0a1b2c3d-0000-4000-8000-00000000c0de";
const PEM = "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnRl\n-----END CERTIFICATE-----\n";
const CA = Buffer.from(PEM).toString("base64");

let standIn: StandIn;
let credentials: { accessKey: string; secretKey: string; apiUrl: string };
before(async () => {
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    clusters: [
      {
        uuid: UUID,
        name: "demo",
        status: "RUNNING",
        endpoint: "https://demo.kr.vnks.example",
        caData: CA,
        nodePool: [
          { instanceNo: 11, name: "pool-a", nodeCount: 2, k8sVersion: "1.32.8", status: "RUN", productCode: "SVR.A" },
          { instanceNo: 12, name: "pool-b", nodeCount: 1, status: "RUN" },
        ],
        nodes: [
          { id: 101, name: "node-a1", k8sStatus: "Ready", privateIp: "10.0.0.1", nodePoolName: "pool-a" },
          { id: 102, name: "node-a2", k8sStatus: "Ready", privateIp: "10.0.0.2", nodePoolName: "pool-a" },
          { id: 103, name: "node-b1", k8sStatus: "NotReady", privateIp: "10.0.0.3", publicIp: "203.0.113.9", nodePoolId: 12 },
        ],
      },
      { uuid: CREATING, name: "baby", status: "CREATING", endpoint: "https://baby.kr.vnks.example", caData: CA },
    ],
  });
  credentials = { accessKey: AK, secretKey: SK, apiUrl: standIn.url };
});
after(() => standIn.close());

test("status normalisation keeps NCP's word beside it", () => {
  assert.deepEqual(
    ["CREATING", "RUNNING", "WORKING", "DELETING", "RETURNED", "something"].map(normalizeNcpClusterStatus),
    ["Creating", "Active", "Updating", "Deleting", "Inactive", "Unknown"],
  );
});

test("default names per docs/formats.md §5", () => {
  assert.deepEqual(ncpKubeconfigNames({ region: "KR", clusterName: "demo", clusterUuid: UUID }), {
    cluster: `nks_kr_demo_${UUID}`,
    user: `nks_kr_demo_${UUID}`,
    context: `nks_kr_demo_${UUID}`,
  });
  assert.deepEqual(ncpKubeconfigNames({ region: "sgn", clusterName: "demo", clusterUuid: UUID, userName: "me" }), {
    cluster: `nks_sgn_demo_${UUID}`,
    user: "me",
    context: `me@nks_sgn_demo_${UUID}`,
  });
  assert.equal(ncpKubeconfigNames({ region: "KR", clusterName: "demo", clusterUuid: UUID, kubeconfigClusterName: "c" }).context, `nks_kr_demo_${UUID}@c`);
  // contextName (the CLI's --alias) names the context alone; blank means the default.
  assert.deepEqual(ncpKubeconfigNames({ region: "KR", clusterName: "demo", clusterUuid: UUID, userName: "me", contextName: "prod" }), {
    cluster: `nks_kr_demo_${UUID}`,
    user: "me",
    context: "prod",
  });
  assert.equal(ncpKubeconfigNames({ region: "KR", clusterName: "demo", clusterUuid: UUID, contextName: " " }).context, `nks_kr_demo_${UUID}`);
});

test("getNcpCluster: the shared ClusterInfo, node groups with nodes, exec kubeconfig as the official tool writes it", async () => {
  const info = await getNcpCluster({ clusterUuid: UUID, region: "KR", credentials });
  assert.equal(info.cloud, "ncp");
  assert.equal(info.name, "demo");
  assert.equal(info.id, UUID);
  assert.equal(info.region, "KR");
  assert.equal(info.zone, "KR-1");
  assert.equal(info.status, "Active");
  assert.equal(info.rawStatus, "RUNNING");
  assert.equal(info.k8sVersion, "1.32.8-nks.1");
  assert.deepEqual(info.network, { vpcId: "1001", vpcName: "test-vpc", subnetIds: ["2001", "2002"], securityGroupIds: ["3001"] });
  assert.equal(info.createdAt?.toISOString(), "2026-01-01T00:00:00.000Z");
  assert.deepEqual(
    info.nodeGroups.map((g) => [g.name, g.id, g.nodeCount, g.nodes.map((n) => n.name)]),
    [["pool-a", "11", 2, ["node-a1", "node-a2"]], ["pool-b", "12", 1, ["node-b1"]]],
  );
  assert.deepEqual(info.nodeGroups[1]?.nodes[0], { name: "node-b1", id: "103", status: "NotReady", privateIp: "10.0.0.3", publicIp: "203.0.113.9" });
  assert.equal(info.access.endpoint, "https://demo.kr.vnks.example");
  assert.equal(info.access.certificateAuthorityData, PEM);
  assert.equal(info.access.mode, "exec");
  const name = `nks_kr_demo_${UUID}`;
  assert.deepEqual(parseKubeconfig(info.access.kubeconfig ?? ""), {
    clusters: [{ name, cluster: { server: "https://demo.kr.vnks.example", certificateAuthorityData: CA } }],
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "ncp-iam-authenticator",
            args: ["token", "--clusterUuid", UUID, "--region", "KR"],
            installHint: execInstallHint("ncp-iam-authenticator"),
            provideClusterInfo: false,
          },
        },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    currentContext: name,
  });
});

test("exec options: profile, credentialConfig, command and v1", async () => {
  const info = await getNcpCluster({
    clusterUuid: UUID,
    region: "kr",
    credentials,
    kubeconfig: { profile: "prod", credentialConfig: "/etc/ncp/configure", execCommand: "/opt/bin/kubeiam", execApiVersion: "client.authentication.k8s.io/v1" },
  });
  const exec = parseKubeconfig(info.access.kubeconfig ?? "").users[0]?.user.exec;
  assert.deepEqual(exec, {
    apiVersion: "client.authentication.k8s.io/v1",
    command: "/opt/bin/kubeiam",
    args: ["token", "--clusterUuid", UUID, "--region", "KR", "--credentialConfig", "/etc/ncp/configure", "--profile", "prod"],
    interactiveMode: "Never",
    installHint: execInstallHint("/opt/bin/kubeiam"),
    provideClusterInfo: false,
  });
});

test("embed mode: a fresh token for this cluster, and when it expires", async () => {
  const now = Date.now();
  const info = await getNcpCluster({ clusterUuid: UUID, region: "KR", credentials, kubeconfig: { mode: "embed" }, now: () => now });
  assert.equal(info.access.mode, "embed");
  assert.equal(info.access.tokenExpiresAt?.getTime(), now + 5 * 60 * 1000);
  assert.equal(info.access.tokenRefreshAt?.getTime(), now + 4 * 60 * 1000);
  const token = parseKubeconfig(info.access.kubeconfig ?? "").users[0]?.user.token ?? "";
  const who = verifyNcpToken(token, { secretKeyFor: (ak) => (ak === AK ? SK : undefined), clusterUuid: UUID, region: "KR", now });
  assert.equal(who.accessKey, AK);
});

test("a cluster still being created is refused with a ClusterStateError; without a kubeconfig it is described", async () => {
  await assert.rejects(
    getNcpCluster({ clusterUuid: CREATING, region: "KR", credentials }),
    (e: unknown) =>
      e instanceof ClusterStateError &&
      e.message === `cluster baby (${CREATING}) in region KR is still being created (status CREATING): try again when its status is RUNNING`,
  );
  const info = await getNcpCluster({ clusterUuid: CREATING, region: "KR", credentials, kubeconfig: false });
  assert.equal(info.status, "Creating");
  assert.equal(info.access.kubeconfig, undefined);
});

test("listNcpClusters: every cluster of the region", async () => {
  const list = await listNcpClusters({ region: "KR", credentials });
  assert.deepEqual(list.map((c) => [c.name, c.status, c.rawStatus, c.access.endpoint]), [
    ["demo", "Active", "RUNNING", "https://demo.kr.vnks.example"],
    ["baby", "Creating", "CREATING", "https://baby.kr.vnks.example"],
  ]);
  assert.deepEqual(list[0]?.nodeGroups.map((g) => g.name), ["pool-a", "pool-b"]);
});

test("the NKS API's kubeconfig is checked, naming the missing field", () => {
  const base = (cluster: string) => `apiVersion: v1\nclusters:\n- name: kubernetes\n  cluster:\n${cluster}`;
  assert.throws(
    () => ncpBaseCluster(base("    server: https://x\n"), UUID),
    (e: unknown) => e instanceof ApiError && e.message === `the NKS API's kubeconfig for cluster ${UUID} is not usable: clusters[0].cluster.certificate-authority-data is missing`,
  );
  assert.throws(
    () => ncpBaseCluster(base(`    certificate-authority-data: ${CA}\n`), UUID),
    (e: unknown) => e instanceof ApiError && /clusters\[0\]\.cluster\.server is missing$/.test(e.message),
  );
  assert.throws(
    () => ncpBaseCluster(base("    server: https://x\n    certificate-authority-data: bm90IGEgcGVt\n"), UUID),
    (e: unknown) => e instanceof ApiError && /certificate-authority-data is not a Base64 PEM certificate$/.test(e.message),
  );
  assert.deepEqual(ncpBaseCluster(base(`    server: https://x\n    certificate-authority-data: ${CA}\n`), UUID), { server: "https://x", certificateAuthorityData: CA });
});
