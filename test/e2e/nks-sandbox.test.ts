/**
 * The NKS path against the sandbox (src/sandbox): the library and the built CLI talk to its API
 * gateway, and kubectl and client-node reach its cluster endpoints with the tokens they mint.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { VersionApi } from "@kubernetes/client-node";
import { ClusterStateError } from "../../src/lib/errors.js";
import { ncpKubeConfig } from "../../src/ncp/client.js";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { getNcpCluster, listNcpClusters } from "../../src/ncp/cluster.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { requireTools } from "../helpers/tools.js";

// The real tools, or one line saying what to install (test/helpers/tools.ts).
before(() => requireTools("kubectl"));

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));

let sandbox: Sandbox;
let root: string;
let credentials: { accessKey: string; secretKey: string; apiUrl: string };
before(async () => {
  sandbox = await startSandbox();
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-sandbox-"));
  credentials = { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl };
});
after(async () => {
  await sandbox.close();
  await rm(root, { recursive: true, force: true });
});

const running = () => {
  const c = sandbox.clusters.find((x) => x.status === "RUNNING");
  assert.ok(c, "the sandbox has a running cluster");
  return c;
};

test("listNcpClusters and getNcpCluster read the sandbox's clusters", async () => {
  const c = running();
  const list = await listNcpClusters({ region: c.region, credentials });
  const expected = sandbox.clusters.filter((x) => x.region === c.region);
  assert.deepEqual(list.map((x) => x.id).sort(), expected.map((x) => x.uuid).sort());
  const info = await getNcpCluster({ clusterUuid: c.uuid, region: c.region, credentials });
  assert.equal(info.name, c.name);
  assert.equal(info.status, "Active");
  assert.equal(info.access.endpoint, c.endpoint);
  assert.equal(info.access.certificateAuthorityData, sandbox.caCertPem);
  const kc = parseKubeconfig(info.access.kubeconfig ?? "");
  assert.deepEqual(kc.users[0]?.user.exec?.args, ["token", "--clusterUuid", c.uuid, "--region", c.region]);
});

test("a sandbox cluster being created is refused", async (t) => {
  const creating = sandbox.clusters.find((x) => x.status === "CREATING");
  if (creating === undefined) return t.skip("the sandbox has no cluster being created");
  await assert.rejects(getNcpCluster({ clusterUuid: creating.uuid, region: creating.region, credentials }), ClusterStateError);
});

test("ncpKubeConfig reaches the sandbox's cluster endpoint through client-node", async () => {
  const c = running();
  const kc = await ncpKubeConfig({ clusterUuid: c.uuid, region: c.region, credentials });
  const version = await kc.makeApiClient(VersionApi).getCode();
  assert.equal(version.major, "1");
});

test("update-kubeconfig (built CLI, --exec-command) then kubectl get --raw /version on the sandbox", async () => {
  const c = running();
  const kubeconfig = join(root, "config");
  const env = { PATH: process.env.PATH ?? "", HOME: root, NCLOUD_ACCESS_KEY_ID: sandbox.accessKey, NCLOUD_SECRET_ACCESS_KEY: sandbox.secretKey, NCLOUD_API_GW: sandbox.apiUrl };
  const r = await exec(process.execPath, [CLI, "update-kubeconfig", "--clusterUuid", c.uuid, "--region", c.region, "--kubeconfig", kubeconfig, "--exec-command", CLI], { env });
  assert.equal(r.stdout, "kubeconfig updated successfully.\n");
  const version = await exec("kubectl", ["--kubeconfig", kubeconfig, "get", "--raw", "/version"], { env, timeout: 60_000 });
  assert.equal((JSON.parse(version.stdout) as { major: string }).major, "1");
});
