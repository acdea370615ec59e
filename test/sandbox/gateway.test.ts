/**
 * The sandbox's NCP API gateway: every request is signed here by hand with node:crypto (not with
 * src/ncp/sign.ts), so a wrong signature check in the sandbox cannot pass unnoticed.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { createNcpApiClient } from "../../src/ncp/api.js";

const AK = "NCPTESTACCESSKEY0001";
const SK = randomBytes(30).toString("base64");
const AK2 = "NCPTESTACCESSKEY0002";
const SK2 = randomBytes(30).toString("base64");
const FKR_UUID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

let sandbox: Sandbox;
const lines: string[] = [];
let clockOffset = 0;
const sentSignatures: string[] = [];

before(async () => {
  sandbox = await startSandbox({
    keys: [
      { accessKey: AK, secretKey: SK, subAccountIdNo: "100001", name: "creator" },
      { accessKey: AK2, secretKey: SK2 },
    ],
    clusters: [
      { name: "kr-one", region: "KR", status: "RUNNING" },
      { name: "kr-two", region: "KR", status: "CREATING" },
      { name: "sgn-one", region: "SGN", status: "RUNNING" },
      { name: "fkr-one", region: "FKR", status: "RUNNING", uuid: FKR_UUID },
    ],
    now: () => Date.now() + clockOffset,
    log: (line) => lines.push(line),
  });
});
after(async () => {
  await sandbox.close();
});

interface Call {
  uri: string;
  method?: string;
  accessKey?: string;
  secretKey?: string;
  timestamp?: number;
  region?: string | null;
  signedUri?: string;
  omit?: string[];
}

async function call(c: Call): Promise<{ status: number; body: unknown }> {
  const method = c.method ?? "GET";
  const ts = String(c.timestamp ?? Date.now());
  const ak = c.accessKey ?? AK;
  const sig = createHmac("sha256", c.secretKey ?? SK)
    .update(`${method} ${c.signedUri ?? c.uri}\n${ts}\n${ak}`)
    .digest("base64");
  sentSignatures.push(sig);
  const headers: Record<string, string> = {
    "x-ncp-apigw-timestamp": ts,
    "x-ncp-iam-access-key": ak,
    "x-ncp-apigw-signature-v2": sig,
  };
  if (c.region !== null) headers["x-ncp-region_code"] = c.region ?? "KR";
  for (const h of c.omit ?? []) delete headers[h];
  const res = await fetch(sandbox.apiUrl + c.uri, { method, headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json() };
}

const byName = (name: string) => {
  const c = sandbox.clusters.find((x) => x.name === name);
  assert.ok(c);
  return c;
};

function authFailed(body: unknown): void {
  const e = (body as { error: { errorCode: string; message: string; details: string } }).error;
  assert.equal(e.errorCode, "200");
  assert.equal(e.message, "Authentication Failed");
  assert.equal(typeof e.details, "string");
}

test("a signed list of KR clusters answers the KR clusters with the fields of the NKS REST API (docs/formats.md §3)", async () => {
  const { status, body } = await call({ uri: "/vnks/v2/clusters" });
  assert.equal(status, 200);
  const clusters = (body as { clusters: Record<string, unknown>[] }).clusters;
  assert.deepEqual(clusters.map((c) => c.name).sort(), ["kr-one", "kr-two"]);
  for (const c of clusters) {
    for (const f of ["uuid", "name", "status", "endpoint", "k8sVersion", "regionCode", "zoneCode", "vpcNo", "vpcName", "subnetNoList", "createdAt", "authType", "nodePool"]) {
      assert.ok(f in c, `cluster has ${f}`);
    }
    assert.equal(c.regionCode, "KR");
    assert.ok(Array.isArray(c.subnetNoList) && Array.isArray(c.nodePool));
    assert.ok(!Number.isNaN(Date.parse(c.createdAt as string)));
  }
  assert.equal(clusters.find((c) => c.name === "kr-one")?.endpoint, byName("kr-one").endpoint);
});

test("each region has its own prefix: /vnks/sgn-v2 for SGN, /nks/v2 for FKR", async () => {
  const sgn = await call({ uri: "/vnks/sgn-v2/clusters", region: "SGN" });
  assert.equal(sgn.status, 200);
  assert.deepEqual((sgn.body as { clusters: { name: string }[] }).clusters.map((c) => c.name), ["sgn-one"]);
  const fkr = await call({ uri: `/nks/v2/clusters/${FKR_UUID}`, region: "FKR" });
  assert.equal(fkr.status, 200);
  assert.equal((fkr.body as { cluster: { regionCode: string } }).cluster.regionCode, "FKR");
  // Without the region header, /vnks/v2 is KR.
  const bare = await call({ uri: "/vnks/v2/clusters", region: null });
  assert.equal(bare.status, 200);
  assert.equal((bare.body as { clusters: unknown[] }).clusters.length, 2);
});

test("cluster, nodes and node pools of a cluster", async () => {
  const kr = byName("kr-one");
  const one = await call({ uri: `/vnks/v2/clusters/${kr.uuid}` });
  assert.equal(one.status, 200);
  assert.equal((one.body as { cluster: { uuid: string; status: string } }).cluster.uuid, kr.uuid);
  const nodes = await call({ uri: `/vnks/v2/clusters/${kr.uuid}/nodes` });
  assert.equal(nodes.status, 200);
  const list = (nodes.body as { nodes: { name: string; k8sStatus: string }[] }).nodes;
  assert.ok(list.length > 0 && list.every((n) => n.k8sStatus === "Ready"));
  const pools = await call({ uri: `/vnks/v2/clusters/${kr.uuid}/node-pool` });
  assert.equal(pools.status, 200);
  assert.ok((pools.body as { nodePool: { name: string }[] }).nodePool[0]?.name);
});

test("the kubeconfig call answers YAML with the endpoint and the sandbox CA, and no usable user", async () => {
  const kr = byName("kr-one");
  const { status, body } = await call({ uri: `/vnks/v2/clusters/${kr.uuid}/kubeconfig` });
  assert.equal(status, 200);
  const doc = parseYaml((body as { kubeconfig: string }).kubeconfig) as Record<string, unknown>;
  const clusters = doc.clusters as { name: string; cluster: Record<string, string> }[];
  assert.equal(clusters.length, 1);
  assert.equal(clusters[0]?.name, "kubernetes");
  assert.equal(clusters[0]?.cluster.server, kr.endpoint);
  assert.equal(Buffer.from(clusters[0]?.cluster["certificate-authority-data"] ?? "", "base64").toString(), sandbox.caCertPem);
  assert.ok(Array.isArray(doc.contexts) && doc.contexts.length === 1);
  assert.equal(doc.users, undefined);
});

test("the kubeconfig of a CREATING cluster answers 409", async () => {
  const { status, body } = await call({ uri: `/vnks/v2/clusters/${byName("kr-two").uuid}/kubeconfig` });
  assert.equal(status, 409);
  assert.equal((body as { error: { errorCode: string } }).error.errorCode, "409");
});

test("an unknown cluster, or one of another region, answers 404", async () => {
  const unknown = await call({ uri: "/vnks/v2/clusters/11111111-2222-4333-8444-555555555555" });
  assert.equal(unknown.status, 404);
  assert.match((unknown.body as { error: { details: string } }).error.details, /not found in region KR/);
  const other = await call({ uri: `/vnks/v2/clusters/${byName("sgn-one").uuid}` });
  assert.equal(other.status, 404);
  const notUuid = await call({ uri: "/vnks/v2/clusters/not-a-uuid" });
  assert.equal(notUuid.status, 404);
});

test("a signature made with the wrong secret answers 401 Authentication Failed", async () => {
  const { status, body } = await call({ uri: "/vnks/v2/clusters", secretKey: SK2 });
  assert.equal(status, 401);
  authFailed(body);
  assert.match((body as { error: { details: string } }).error.details, /Signature mismatch/);
});

test("a signature over another URI (query added after signing) answers 401", async () => {
  const { status } = await call({ uri: "/vnks/v2/clusters?x=1", signedUri: "/vnks/v2/clusters" });
  assert.equal(status, 401);
  const signedWithQuery = await call({ uri: "/vnks/v2/clusters?x=1" });
  assert.equal(signedWithQuery.status, 200);
});

test("the 5-minute window holds both ways", async () => {
  const now = Date.now();
  assert.equal((await call({ uri: "/vnks/v2/clusters", timestamp: now - 4 * 60_000 })).status, 200);
  assert.equal((await call({ uri: "/vnks/v2/clusters", timestamp: now + 4 * 60_000 })).status, 200);
  const stale = await call({ uri: "/vnks/v2/clusters", timestamp: now - 6 * 60_000 });
  assert.equal(stale.status, 401);
  authFailed(stale.body);
  assert.match((stale.body as { error: { details: string } }).error.details, /old, outside the 5-minute window/);
  const ahead = await call({ uri: "/vnks/v2/clusters", timestamp: now + 6 * 60_000 });
  assert.equal(ahead.status, 401);
  assert.match((ahead.body as { error: { details: string } }).error.details, /in the future/);
});

test("the window follows the injected clock", async () => {
  clockOffset = 10 * 60_000;
  try {
    assert.equal((await call({ uri: "/vnks/v2/clusters" })).status, 401);
    assert.equal((await call({ uri: "/vnks/v2/clusters", timestamp: Date.now() + 10 * 60_000 })).status, 200);
  } finally {
    clockOffset = 0;
  }
});

test("an unknown access key answers 401", async () => {
  const { status, body } = await call({ uri: "/vnks/v2/clusters", accessKey: "NCPUNKNOWNACCESSKEY9" });
  assert.equal(status, 401);
  authFailed(body);
  assert.match((body as { error: { details: string } }).error.details, /not a known key/);
});

test("the second key of the ring is accepted by the gateway", async () => {
  assert.equal((await call({ uri: "/vnks/v2/clusters", accessKey: AK2, secretKey: SK2 })).status, 200);
});

test("missing gateway headers answer 401 naming them", async () => {
  const { status, body } = await call({ uri: "/vnks/v2/clusters", omit: ["x-ncp-apigw-signature-v2", "x-ncp-apigw-timestamp"] });
  assert.equal(status, 401);
  assert.match((body as { error: { details: string } }).error.details, /x-ncp-apigw-timestamp, x-ncp-apigw-signature-v2/);
});

test("x-ncp-region_code must match the path prefix", async () => {
  const { status, body } = await call({ uri: "/vnks/v2/clusters", region: "SGN" });
  assert.equal(status, 400);
  assert.equal((body as { error: { errorCode: string } }).error.errorCode, "100");
  assert.equal((await call({ uri: "/vnks/sgn-v2/clusters", region: "KR" })).status, 400);
  assert.equal((await call({ uri: "/vnks/v2/clusters", region: "K R" })).status, 400);
});

test("unknown APIs answer 404 and other methods 405", async () => {
  const unknown = await call({ uri: "/vnks/v2/servers" });
  assert.equal(unknown.status, 404);
  assert.equal((unknown.body as { error: { errorCode: string } }).error.errorCode, "300");
  assert.equal((await call({ uri: "/elsewhere" })).status, 404);
  assert.equal((await call({ uri: "/vnks/v2/clusters", method: "POST" })).status, 405);
});

test("kubeiam's own NKS client reads the sandbox", async () => {
  const api = createNcpApiClient({ credentials: { accessKey: AK, secretKey: SK, apiUrl: sandbox.apiUrl }, region: "SGN" });
  const [c] = await api.listClusters();
  assert.ok(c);
  assert.equal(c.name, "sgn-one");
  assert.equal((await api.listNodes(c.uuid)).length, 2);
});

test("the log has one line a request and never a secret or a signature", async () => {
  const before = lines.length;
  await call({ uri: "/vnks/v2/clusters", secretKey: SK2 });
  assert.equal(lines.length, before + 1);
  assert.match(lines.at(-1) ?? "", /^api GET \/vnks\/v2\/clusters key=NCPTESTACCESSKEY0001 -> 401 \(Signature mismatch/);
  const all = lines.join("\n");
  assert.ok(!all.includes(SK) && !all.includes(SK2), "no secret key in the log");
  assert.ok(sentSignatures.length > 10);
  assert.ok(sentSignatures.every((sig) => !all.includes(sig)), "no signature in the log");
});

test("a signed path with a malformed percent-escape answers 400, and the gateway stays up", async () => {
  for (const uri of ["/vnks/v2/clusters/%E0%A4%A", "/vnks/v2/clusters/%ZZ/nodes", "/vnks/v2/clusters/%"]) {
    const { status, body } = await call({ uri });
    assert.equal(status, 400, uri);
    assert.equal((body as { error: { errorCode: string } }).error.errorCode, "100");
    assert.match((body as { error: { details: string } }).error.details, /malformed percent-escape/);
  }
  assert.equal((await call({ uri: "/vnks/v2/clusters" })).status, 200);
});

test("log lines stay one line each and bounded, whatever a signed path or a header holds", async () => {
  const before = lines.length;
  // As fetch sends it (already percent-encoded), so that the signature covers the same bytes.
  const forged = "kr-one%0Aapi%20GET%20%2Fvnks%2Fv2%2Fclusters%20key=NCPTESTACCESSKEY0001%20-%3E%20200%0D%1B%5B2J%E2%80%AE";
  assert.equal((await call({ uri: `/vnks/v2/clusters/${forged}` })).status, 404);
  assert.equal((await call({ uri: `/vnks/v2/clusters/${"%0A".repeat(5000)}` })).status, 404);
  // HTTP carries no C0 control in a header; a C1 one (CSI, U+009B) comes through as a Latin-1 byte.
  assert.equal((await call({ uri: "/vnks/v2/clusters", accessKey: `NCPUNKNOWN\u009b2J${"x".repeat(5000)}` })).status, 401);
  const added = lines.slice(before);
  assert.equal(added.length, 3);
  for (const line of added) {
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u, line);
    assert.ok(line.length <= 1100, `a log line of ${line.length} characters`);
  }
  assert.match(added[0] ?? "", /Cluster kr-one\\napi GET/);
});
