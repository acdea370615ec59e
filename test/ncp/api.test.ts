import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ApiError, InvalidInputError, NetworkError } from "../../src/lib/errors.js";
import { buildNcpRequest, createNcpApiClient, ncpApiBaseUrl, parseNcpCluster, parseNcpNodeList } from "../../src/ncp/api.js";
import { startNcpApiStandIn, startScriptedServer, type StandIn } from "../helpers/ncp-api-stand-in.js";

interface Vector { name: string; apiUrl: string; region: string; path: string; url: string; timestamp: number; accessKey: string; secretKey: string; signature: string }
const vectors = JSON.parse(readFileSync(new URL("../../../test/fixtures/ncp-api-signature-vectors.json", import.meta.url), "utf8")) as Vector[];

const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const noSleep = { sleep: async () => undefined };

for (const v of vectors) {
  test(`buildNcpRequest golden vector (openssl): ${v.name}`, () => {
    const req = buildNcpRequest({
      credentials: { accessKey: v.accessKey, secretKey: v.secretKey, apiUrl: v.apiUrl },
      region: v.region,
      call: { method: "GET", path: v.path },
      now: v.timestamp,
    });
    assert.equal(req.url, v.url);
    assert.equal(req.method, "GET");
    assert.deepEqual(req.headers, {
      accept: "application/json",
      "x-ncp-apigw-timestamp": String(v.timestamp),
      "x-ncp-iam-access-key": v.accessKey,
      "x-ncp-apigw-signature-v2": v.signature,
      "x-ncp-apigw-signature-v1": v.signature,
      "x-ncp-region_code": v.region.toUpperCase(),
    });
  });
}

test("ncpApiBaseUrl: gateway rewrite and region prefixes (docs/formats.md §2, §3)", () => {
  const table: [string, string, string][] = [
    ["https://ncloud.apigw.ntruss.com", "KR", "https://nks.apigw.ntruss.com/vnks/v2"],
    ["https://ncloud.apigw.ntruss.com", "SGN", "https://nks.apigw.ntruss.com/vnks/sgn-v2"],
    ["https://ncloud.apigw.ntruss.com", "JPN", "https://nks.apigw.ntruss.com/vnks/jpn-v2"],
    ["https://ncloud.apigw.ntruss.com", "KRS", "https://nks.apigw.ntruss.com/vnks/krs-v2"],
    ["https://ncloud.apigw.ntruss.com", "PCS01", "https://nks.apigw.ntruss.com/vnks/v2"],
    ["https://fin-ncloud.apigw.fin-ntruss.com", "FKR", "https://nks.apigw.fin-ntruss.com/nks/v2"],
    ["https://ncloud.apigw.gov-ntruss.com/", "KR", "https://nks.apigw.gov-ntruss.com/vnks/v2"],
    ["http://127.0.0.1:8080/", "KR", "http://127.0.0.1:8080/vnks/v2"],
    ["https://gw.example.com/ncp", "SGN", "https://gw.example.com/ncp/vnks/sgn-v2"],
  ];
  for (const [url, region, want] of table) assert.equal(ncpApiBaseUrl(url, region), want, `${url} ${region}`);
});

test("ncpApiBaseUrl refuses plain http off loopback, non-URLs and bad regions", () => {
  assert.throws(() => ncpApiBaseUrl("http://ncloud.apigw.ntruss.com", "KR"), (e: unknown) => e instanceof InvalidInputError && /must use https/.test(e.message));
  assert.throws(() => ncpApiBaseUrl("ncloud.apigw.ntruss.com", "KR"), (e: unknown) => e instanceof InvalidInputError && /is not a URL/.test(e.message));
  assert.throws(() => ncpApiBaseUrl("https://ncloud.apigw.ntruss.com", "K-R"), (e: unknown) => e instanceof InvalidInputError && e.field === "region");
});

let standIn: StandIn;
before(async () => {
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "SGN",
    clusters: [
      {
        uuid: UUID,
        name: "demo",
        status: "RUNNING",
        endpoint: "https://demo.sgn.vnks.example",
        caData: Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64"),
        nodePool: [{ instanceNo: 11, name: "pool-a", nodeCount: 2, k8sVersion: "1.32.8", status: "RUN", productCode: "SVR.X" }],
        nodes: [{ id: 101, name: "node-1", k8sStatus: "Ready", privateIp: "10.0.0.1", nodePoolName: "pool-a" }],
      },
    ],
  });
});
after(() => standIn.close());

const client = (over: Partial<Parameters<typeof createNcpApiClient>[0]> = {}) =>
  createNcpApiClient({ credentials: { accessKey: AK, secretKey: SK, apiUrl: standIn.url }, region: "sgn", ...noSleep, ...over });

test("the client's calls pass the stand-in's signature, window and region checks", async () => {
  const api = client();
  const clusters = await api.listClusters();
  assert.deepEqual(clusters.map((c) => [c.uuid, c.name, c.status, c.vpcNo, c.subnetNoList]), [[UUID, "demo", "RUNNING", "1001", ["2001", "2002"]]]);
  const cluster = await api.getCluster(UUID);
  assert.equal(cluster.endpoint, "https://demo.sgn.vnks.example");
  assert.equal(cluster.acgNo, "3001");
  assert.deepEqual(cluster.nodePool, [{ name: "pool-a", instanceNo: "11", status: "RUN", nodeCount: 2, k8sVersion: "1.32.8", productCode: "SVR.X" }]);
  assert.match(await api.getKubeconfig(UUID), /name: kubernetes\n/);
  assert.deepEqual(await api.listNodes(UUID), [{ name: "node-1", id: "101", status: "Ready", privateIp: "10.0.0.1", nodePoolName: "pool-a" }]);
  assert.equal((await api.listNodePools(UUID))[0]?.name, "pool-a");
  const last = standIn.requests.at(-1);
  assert.equal(last?.uri, `/vnks/sgn-v2/clusters/${UUID}/node-pool`);
  assert.equal(last?.headers["x-ncp-region_code"], "SGN");
});

test("401: names the access key, never the secret", async () => {
  const api = client({ credentials: { accessKey: AK, secretKey: "WRONGSECRETWRONGSECRET", apiUrl: standIn.url } });
  await assert.rejects(api.listClusters(), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 401);
    assert.equal(e.apiCode, "200");
    assert.equal(
      e.message,
      "NCP API rejected access key NCPTESTACCESSKEY0001: HTTP 401, NCP error code 200 (Authentication Failed: Signature mismatch.): the secret key is likely wrong: NCP knows the access key, but the signature made with the secret does not match; check the secret paired with this access key (NCLOUD_ACCESS_KEY_ID/NCLOUD_SECRET_ACCESS_KEY or ~/.ncloud/configure)",
    );
    assert.ok(!e.message.includes("WRONGSECRET"));
    return true;
  });
});

test("a clock more than 5 minutes off is refused by the gateway (401)", async () => {
  const api = client({ now: () => Date.now() - 6 * 60 * 1000 });
  await assert.rejects(api.listClusters(), (e: unknown) => e instanceof ApiError && e.status === 401 && /5-minute window\.\): this machine's clock is likely wrong/.test(e.message));
});

test("401 for an access key NCP does not know: says the access key is the likely culprit, and that 200 is NCP's code", async () => {
  const api = client({ credentials: { accessKey: "NCPUNKNOWNACCESSKEY9", secretKey: SK, apiUrl: standIn.url } });
  await assert.rejects(api.listClusters(), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.match(e.message, /^NCP API rejected access key NCPUNKNOWNACCESSKEY9: HTTP 401, NCP error code 200 \(Authentication Failed: Invalid authentication information\.\): the access key is likely wrong or disabled/);
    assert.doesNotMatch(e.message, /\(200 /, "200 is not shown as if it were the HTTP status");
    return true;
  });
});

test("404: names the cluster and the region", async () => {
  const other = "00000000-0000-4000-8000-000000000000";
  await assert.rejects(client().getCluster(other), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 404);
    assert.equal(
      e.message,
      `cluster ${other} was not found in region SGN (404 Not found cluster): check the cluster UUID and the region (the NKS console lists the region's clusters with their UUIDs)`,
    );
    return true;
  });
});

test("a bad cluster UUID is refused before any request", async () => {
  const before = standIn.requests.length;
  await assert.rejects(client().getCluster("../clusters"), (e: unknown) => e instanceof InvalidInputError && e.field === "clusterUuid");
  assert.equal(standIn.requests.length, before);
});

test("409 on kubeconfig: the cluster is still being created", async () => {
  const s = await startScriptedServer([{ status: 409, body: { code: 409, message: "Cluster is being created" } }]);
  after(() => s.close());
  const api = createNcpApiClient({ credentials: { accessKey: AK, secretKey: SK, apiUrl: s.url }, region: "KR", ...noSleep });
  await assert.rejects(api.getKubeconfig(UUID), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 409);
    assert.equal(e.message, `cluster ${UUID} is still being created, so it has no kubeconfig yet (409 Cluster is being created): try again when its status is RUNNING`);
    return true;
  });
});

test("429 then success: the call succeeds", async () => {
  const s = await startScriptedServer([{ status: 429 }, { status: 200, body: { clusters: [] } }]);
  after(() => s.close());
  const api = createNcpApiClient({ credentials: { accessKey: AK, secretKey: SK, apiUrl: s.url }, region: "KR", ...noSleep });
  assert.deepEqual(await api.listClusters(), []);
  assert.equal(s.hits(), 2);
});

test("429 on every try: says to wait", async () => {
  const s = await startScriptedServer([{ status: 429 }]);
  after(() => s.close());
  const api = createNcpApiClient({ credentials: { accessKey: AK, secretKey: SK, apiUrl: s.url }, region: "KR", ...noSleep });
  await assert.rejects(api.listClusters(), (e: unknown) => e instanceof ApiError && e.message === 'NCP API kept answering 429 Too Many Requests to "list clusters" after 3 tries: wait a minute and try again');
});

test("500 three times: ApiError with the status, NCP's code and the number of tries", async () => {
  const s = await startScriptedServer([{ status: 500, body: { error: { errorCode: "900", message: "Internal Server Error" } } }]);
  after(() => s.close());
  const api = createNcpApiClient({ credentials: { accessKey: AK, secretKey: SK, apiUrl: s.url }, region: "KR", ...noSleep });
  await assert.rejects(api.getCluster(UUID), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 500);
    assert.equal(e.apiCode, "900");
    assert.equal(e.apiMessage, "Internal Server Error");
    assert.equal(e.message, `NCP API failed on "get cluster ${UUID}" with status 500 (900 Internal Server Error) after 3 tries: NCP may be having trouble; try again later`);
    return true;
  });
  assert.equal(s.hits(), 3);
});

test("a hung server: NetworkError after the timeout on each try", async () => {
  const s = await startScriptedServer(["hang"]);
  after(() => s.close());
  const api = createNcpApiClient({ credentials: { accessKey: AK, secretKey: SK, apiUrl: s.url }, region: "KR", timeoutMs: 100, ...noSleep });
  await assert.rejects(api.listClusters(), (e: unknown) => {
    assert.ok(e instanceof NetworkError);
    assert.equal(e.message, `NCP API at ${s.url}/vnks/v2/clusters did not answer within 0.1 s after 3 tries: check the network, the API URL, and HTTPS_PROXY/NO_PROXY`);
    return true;
  });
});

test("bodies are checked: a missing or mistyped field is named", async () => {
  assert.throws(() => parseNcpCluster({ cluster: { uuid: UUID, status: "RUNNING" } }), (e: unknown) => e instanceof ApiError && e.message === `NCP API's answer to "get cluster" is not what NKS sends: cluster.name is missing`);
  assert.throws(() => parseNcpCluster({ cluster: { uuid: UUID, name: "x", status: "RUNNING", subnetNoList: "1" } }), (e: unknown) => e instanceof ApiError && /cluster\.subnetNoList is not a list/.test(e.message));
  assert.throws(() => parseNcpNodeList({ nodes: [{ name: 3 }] }), (e: unknown) => e instanceof ApiError && /nodes\[0\]\.name is not a string/.test(e.message));
  const s = await startScriptedServer([{ status: 200, body: "<html>" }]);
  after(() => s.close());
  const api = createNcpApiClient({ credentials: { accessKey: AK, secretKey: SK, apiUrl: s.url }, region: "KR", ...noSleep });
  await assert.rejects(api.listClusters(), (e: unknown) => e instanceof ApiError && /body\.clusters is missing|not an object/.test(e.message));
});
