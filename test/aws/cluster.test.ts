import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execInstallHint } from "../../src/kube/kubeconfig.js";
import { randomBytes } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { describeEksCluster, eksKubeconfigEntries, getEksCluster, listEksClusters } from "../../src/aws/cluster.js";
import { ApiError, ClusterStateError, CredentialsError } from "../../src/lib/errors.js";
import { startEksApi, verifyEksTokenByHand, type StandInEksCluster } from "./stand-ins.js";

const AK = "AKIDEKSAPITEST000001";
const secret = randomBytes(24).toString("hex");
const caPem = "-----BEGIN CERTIFICATE-----\nMIIBdummyForTests\n-----END CERTIFICATE-----\n";
const caData = Buffer.from(caPem).toString("base64");
const ARN = "arn:aws:eks:eu-west-1:123456789012:cluster/prod-eks";

const clusters: StandInEksCluster[] = [
  {
    name: "prod-eks",
    arn: ARN,
    status: "ACTIVE",
    endpoint: "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
    certificateAuthority: { data: caData },
    version: "1.31",
    createdAt: 1767225600,
    resourcesVpcConfig: { vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-1"], clusterSecurityGroupId: "sg-c" },
  },
  { name: "new-eks", arn: "arn:aws:eks:eu-west-1:123456789012:cluster/new-eks", status: "CREATING" },
];

const api = await startEksApi({
  keys: { [AK]: secret },
  clusters,
  nodegroups: {
    "prod-eks": [
      { nodegroupName: "ng-1", nodegroupArn: "arn:aws:eks:eu-west-1:123456789012:nodegroup/prod-eks/ng-1/x", status: "ACTIVE", scalingConfig: { desiredSize: 3 }, version: "1.31", instanceTypes: ["m6i.large"] },
    ],
  },
});
after(() => api.close());

const credentials = { accessKeyId: AK, secretAccessKey: secret };
const region = "eu-west-1";

test("describeEksCluster: DescribeCluster against a local endpoint that checks the SigV4 header by hand", async () => {
  const c = await describeEksCluster({ name: "prod-eks", region, credentials, endpoint: api.url });
  assert.equal(c.arn, ARN);
  assert.equal(c.endpoint, "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com");
  assert.equal(c.certificateAuthorityData, caData);
  assert.deepEqual(c.securityGroupIds, ["sg-1", "sg-c"]);
  assert.equal(c.createdAt?.toISOString(), "2026-01-01T00:00:00.000Z");
  assert.ok(api.requests.every((r) => r.rejected === undefined), JSON.stringify(api.requests));
});

test("describeEksCluster: the endpoint also comes from AWS_ENDPOINT_URL_EKS, as the SDK reads it", async () => {
  process.env.AWS_ENDPOINT_URL_EKS = api.url;
  try {
    const c = await describeEksCluster({ name: "prod-eks", region, credentials });
    assert.equal(c.name, "prod-eks");
  } finally {
    delete process.env.AWS_ENDPOINT_URL_EKS;
  }
});

test("describeEksCluster: unknown cluster is an ApiError naming the region; a wrong secret a CredentialsError", async () => {
  await assert.rejects(
    describeEksCluster({ name: "nope", region, credentials, endpoint: api.url }),
    (e: unknown) => e instanceof ApiError && e.status === 404 && /check the name and the region/.test(e.message) && e.field === "name",
  );
  await assert.rejects(
    describeEksCluster({ name: "prod-eks", region, credentials: { accessKeyId: AK, secretAccessKey: "wrong" }, endpoint: api.url }),
    (e: unknown) => e instanceof CredentialsError && !e.message.includes("wrong"),
  );
});

test("getEksCluster: the shared ClusterInfo with node groups and a kubeconfig as the AWS CLI writes it", async () => {
  const info = await getEksCluster({ name: "prod-eks", region, credentials, endpoint: api.url, kubeconfig: { profile: "prod", roleArn: "arn:aws:iam::123456789012:role/eks-admin" } });
  assert.equal(info.cloud, "aws");
  assert.equal(info.id, ARN);
  assert.equal(info.status, "Active");
  assert.equal(info.rawStatus, "ACTIVE");
  assert.equal(info.k8sVersion, "1.31");
  assert.deepEqual(info.network, { vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-1", "sg-c"] });
  assert.deepEqual(info.nodeGroups.map((g) => [g.name, g.nodeCount, g.instanceType]), [["ng-1", 3, "m6i.large"]]);
  assert.equal(info.access.certificateAuthorityData, caPem);
  const kc = parseYaml(info.access.kubeconfig ?? "") as { "current-context": string; clusters: unknown[]; users: { user: { exec: unknown } }[] };
  assert.equal(kc["current-context"], ARN);
  assert.deepEqual(kc.clusters[0], { cluster: { "certificate-authority-data": caData, server: "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com" }, name: ARN });
  assert.deepEqual(kc.users[0]?.user.exec, {
    apiVersion: "client.authentication.k8s.io/v1beta1",
    args: ["eks", "token", "--cluster-name", "prod-eks", "--region", "eu-west-1", "--role-arn", "arn:aws:iam::123456789012:role/eks-admin"],
    command: "kubeiam",
    env: [{ name: "AWS_PROFILE", value: "prod" }],
    installHint: execInstallHint("kubeiam"),
    provideClusterInfo: false,
  });
});

test("eksKubeconfigEntries: aliases name the context and user; embed mode holds a token that verifies", async () => {
  const cluster = await describeEksCluster({ name: "prod-eks", region, credentials, endpoint: api.url });
  const { entries } = await eksKubeconfigEntries({ cluster, region, options: { alias: "prod", userAlias: "me" } });
  assert.equal(entries.context.name, "prod");
  assert.deepEqual(entries.context.context, { cluster: ARN, user: "me" });
  assert.equal(entries.user.user.exec?.env, undefined, "no profile, no env");
  const now = Date.UTC(2026, 4, 5, 6, 7, 8);
  const embedded = await eksKubeconfigEntries({ cluster, region, options: { mode: "embed" }, credentials, now });
  const token = embedded.entries.user.user.token ?? "";
  verifyEksTokenByHand(token, { secretFor: () => secret, clusterName: "prod-eks", now });
  assert.equal(embedded.tokenExpiresAt?.toISOString(), "2026-05-05T06:22:08.000Z");
  assert.equal(embedded.tokenRefreshAt?.toISOString(), "2026-05-05T06:21:08.000Z");
});

test("a cluster still being created gets no kubeconfig: ClusterStateError", async () => {
  await assert.rejects(getEksCluster({ name: "new-eks", region, credentials, endpoint: api.url, nodeGroups: false }), ClusterStateError);
});

test("listEksClusters: every cluster of the region, described", async () => {
  const list = await listEksClusters({ region, credentials, endpoint: api.url });
  assert.deepEqual(list.map((c) => [c.name, c.status]), [["prod-eks", "Active"], ["new-eks", "Creating"]]);
});
