/**
 * A sandbox cluster's HTTPS endpoint: tokens are built here by hand (node:crypto, docs/formats.md §1),
 * independently of src/ncp/token.ts, and each failure kind is refused with 401 and a Kubernetes
 * Status body, its precise reason going to the sandbox's log only.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { request } from "node:https";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";

const CREATOR = { accessKey: "NCPTESTACCESSKEY0001", secretKey: randomBytes(30).toString("base64"), subAccountIdNo: "100001", name: "cluster-creator" };
const BY_ID_NO = { accessKey: "NCPTESTACCESSKEY0002", secretKey: randomBytes(30).toString("base64"), subAccountIdNo: "100002" };
const BY_KEY = { accessKey: "NCPTESTACCESSKEY0003", secretKey: randomBytes(30).toString("base64"), subAccountIdNo: "100003" };
const UNMAPPED = { accessKey: "NCPTESTACCESSKEY0004", secretKey: randomBytes(30).toString("base64"), subAccountIdNo: "100004" };
const KR_UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const SGN_UUID = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";

const UNAUTHORIZED = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 };

let sandbox: Sandbox;
let clockOffset = 0;
const lines: string[] = [];

before(async () => {
  sandbox = await startSandbox({
    keys: [CREATOR, BY_ID_NO, BY_KEY, UNMAPPED],
    mapping: {
      mapSubAccounts: [
        { subAccountIdNo: "100002", username: "alice", groups: ["developers"] },
        { accessKey: BY_KEY.accessKey, username: "bob", groups: ["viewers", "auditors"] },
      ],
    },
    clusters: [
      { name: "kr-one", region: "KR", status: "RUNNING", uuid: KR_UUID },
      { name: "sgn-one", region: "SGN", status: "RUNNING", uuid: SGN_UUID },
    ],
    now: () => Date.now() + clockOffset,
    log: (line) => lines.push(line),
  });
});
after(async () => {
  await sandbox.close();
});

/** docs/formats.md §1, by hand. */
function token(o: { key: { accessKey: string; secretKey: string }; uuid: string; stage: string; ms?: number; signature?: string }): string {
  const timestamp = String(o.ms ?? Date.now());
  const path = `/iam/${o.stage}/user?clusterUuid=${o.uuid}`;
  const signature =
    o.signature ?? createHmac("sha256", o.key.secretKey).update(`GET ${path}\n${timestamp}\n${o.key.accessKey}`).digest("base64");
  // Go's encoding/json also escapes <, > and & (and U+2028/2029): the canonical claim bytes.
  const claim = JSON.stringify({ timestamp, accessKey: o.key.accessKey, signature, path }).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `k8s-ncp-v1.${Buffer.from(claim).toString("base64")}`;
}

const krToken = (key: { accessKey: string; secretKey: string } = CREATOR, extra: { ms?: number; signature?: string } = {}): string => token({ key, uuid: KR_UUID, stage: "v1", ...extra });

function endpoint(uuid: string): string {
  const c = sandbox.clusters.find((x) => x.uuid === uuid);
  assert.ok(c?.endpoint);
  return c.endpoint;
}

async function get(path: string, auth?: string, o: { method?: string; accept?: string; uuid?: string } = {}): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, endpoint(o.uuid ?? KR_UUID));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method ?? "GET",
        ca: sandbox.caCertPem,
        headers: { ...(auth === undefined ? {} : { authorization: auth }), accept: o.accept ?? "application/json", "content-type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      },
    );
    req.on("error", reject);
    req.end(o.method === "POST" ? JSON.stringify({ kind: "SelfSubjectReview", apiVersion: "authentication.k8s.io/v1" }) : undefined);
  });
}

async function refused(auth: string | undefined, reason: RegExp, uuid = KR_UUID): Promise<void> {
  const before = lines.length;
  const { status, body } = await get("/version", auth, { uuid });
  assert.equal(status, 401);
  assert.deepEqual(body, UNAUTHORIZED);
  const line = lines.slice(before).join("\n");
  assert.match(line, /-> 401 \(/);
  assert.match(line, reason);
}

test("the endpoint's certificate chains to the sandbox CA (TLS is verified, not skipped)", async () => {
  const { status } = await get("/version", `Bearer ${krToken()}`);
  assert.equal(status, 200);
});

test("a valid token of the creator is served: version, discovery, namespaces", async () => {
  const auth = `Bearer ${krToken()}`;
  const version = await get("/version", auth);
  assert.equal((version.body as { gitVersion: string }).gitVersion, "v1.32.8");
  assert.deepEqual(((await get("/api", auth)).body as { versions: string[] }).versions, ["v1"]);
  const v1 = (await get("/api/v1", auth)).body as { resources: { name: string }[] };
  assert.ok(v1.resources.some((r) => r.name === "namespaces"));
  const groups = (await get("/apis", auth)).body as { groups: { name: string }[] };
  assert.ok(groups.groups.some((g) => g.name === "authentication.k8s.io"));
  const list = (await get("/api/v1/namespaces", auth)).body as { kind: string; items: { metadata: { name: string } }[] };
  assert.equal(list.kind, "NamespaceList");
  assert.ok(["default", "kube-system", "kube-public", "kube-node-lease"].every((n) => list.items.some((i) => i.metadata.name === n)));
  const table = (await get("/api/v1/namespaces", auth, { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" })).body as {
    kind: string;
    rows: { cells: string[] }[];
  };
  assert.equal(table.kind, "Table");
  assert.ok(table.rows.some((r) => r.cells[0] === "kube-system" && r.cells[1] === "Active"));
  const one = await get("/api/v1/namespaces/kube-system", auth);
  assert.equal(one.status, 200);
  assert.equal((one.body as { metadata: { name: string } }).metadata.name, "kube-system");
  const missing = await get("/api/v1/namespaces/nope", auth);
  assert.equal(missing.status, 404);
  assert.equal((missing.body as { reason: string }).reason, "NotFound");
  assert.equal((await get("/api/v1/services", auth)).status, 404);
  assert.equal((await get("/api/v1/namespaces/nope/pods", auth)).status, 404);
  assert.equal((await get("/api/v1/nodes/nope", auth)).status, 404);
  // Nodes: the worker nodes of the node pool, as the NKS API lists them; pods: system pods in kube-system only.
  const nodes = (await get("/api/v1/nodes", auth)).body as { kind: string; items: { metadata: { name: string; labels: Record<string, string> } }[] };
  assert.equal(nodes.kind, "NodeList");
  assert.equal(nodes.items.length, 2);
  assert.ok(nodes.items.every((n) => n.metadata.labels["ncloud.com/nks-nodepool"]?.endsWith("-pool")));
  const pods = (await get("/api/v1/pods", auth)).body as { kind: string; items: { metadata: { namespace: string } }[] };
  assert.equal(pods.kind, "PodList");
  assert.ok(pods.items.length >= 4 && pods.items.every((p) => p.metadata.namespace === "kube-system"));
  assert.deepEqual(((await get("/api/v1/namespaces/default/pods", auth)).body as { items: unknown[] }).items, []);
  const podTable = (await get("/api/v1/namespaces/kube-system/pods", auth, { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" })).body as { kind: string; rows: { cells: unknown[] }[] };
  assert.equal(podTable.kind, "Table");
  assert.ok(podTable.rows.some((r) => String(r.cells[0]).startsWith("coredns-") && r.cells[2] === "Running"));
  assert.equal((await get("/api/v1/nodes", auth, { method: "DELETE" })).status, 405);
  assert.equal((await get("/api/v1/namespaces", auth, { method: "DELETE" })).status, 405);
});

test("selfsubjectreviews: the creator is in system:masters", async () => {
  const { status, body } = await get("/apis/authentication.k8s.io/v1/selfsubjectreviews", `Bearer ${krToken()}`, { method: "POST" });
  assert.equal(status, 201);
  const review = body as { kind: string; status: { userInfo: { username: string; uid: string; groups: string[] } } };
  assert.equal(review.kind, "SelfSubjectReview");
  assert.deepEqual(review.status.userInfo, { username: "cluster-creator", uid: "100001", groups: ["system:masters", "system:authenticated"] });
});

test("mapSubAccounts maps a sub account number and an access key to their user and groups", async () => {
  const alice = await get("/apis/authentication.k8s.io/v1/selfsubjectreviews", `Bearer ${krToken(BY_ID_NO)}`, { method: "POST" });
  assert.deepEqual((alice.body as { status: { userInfo: unknown } }).status.userInfo, {
    username: "alice",
    uid: "100002",
    groups: ["developers", "system:authenticated"],
  });
  const bob = await get("/apis/authentication.k8s.io/v1/selfsubjectreviews", `Bearer ${krToken(BY_KEY)}`, { method: "POST" });
  assert.deepEqual((bob.body as { status: { userInfo: { groups: string[] } } }).status.userInfo.groups, ["viewers", "auditors", "system:authenticated"]);
});

test("a known key that is not mapped is refused", async () => {
  await refused(`Bearer ${krToken(UNMAPPED)}`, /NCPTESTACCESSKEY0004 \(sub account 100004\) is not in mapSubAccounts/);
});

test("no token, or not a bearer token, is refused", async () => {
  await refused(undefined, /no Authorization header/);
  await refused("Basic dXNlcjpwYXNz", /not a bearer token/);
  await refused("Bearer k8s-ncp-v1.!!!", /ERR_TOKEN_MALFORMED/);
  await refused("Bearer k8s-aws-v1.aHR0cHM6Ly9zdHM", /ERR_TOKEN_MALFORMED/);
});

test("as NCP's gateway: a token 6 minutes old is refused (so is one of 14); one of 4 minutes is served", async () => {
  await refused(`Bearer ${krToken(CREATOR, { ms: Date.now() - 6 * 60_000 })}`, /ERR_TOKEN_EXPIRED/);
  await refused(`Bearer ${krToken(CREATOR, { ms: Date.now() - 14 * 60_000 })}`, /ERR_TOKEN_EXPIRED/);
  assert.equal((await get("/version", `Bearer ${krToken(CREATOR, { ms: Date.now() - 4 * 60_000 })}`)).status, 200);
});

test("a token more than 1 minute in the future is refused; 30 s ahead is served", async () => {
  await refused(`Bearer ${krToken(CREATOR, { ms: Date.now() + 2 * 60_000 })}`, /ERR_TOKEN_FUTURE/);
  assert.equal((await get("/version", `Bearer ${krToken(CREATOR, { ms: Date.now() + 30_000 })}`)).status, 200);
});

test("the injected clock decides: a fresh token is expired on a sandbox 20 minutes ahead", async () => {
  clockOffset = 20 * 60_000;
  try {
    await refused(`Bearer ${krToken()}`, /ERR_TOKEN_EXPIRED/);
  } finally {
    clockOffset = 0;
  }
});

test("a token for another cluster is refused", async () => {
  await refused(`Bearer ${token({ key: CREATOR, uuid: SGN_UUID, stage: "sgn-v1" })}`, /ERR_TOKEN_CLUSTER: the token is for cluster 9a8b7c6d/);
  // …and the other cluster serves it.
  assert.equal((await get("/version", `Bearer ${token({ key: CREATOR, uuid: SGN_UUID, stage: "sgn-v1" })}`, { uuid: SGN_UUID })).status, 200);
});

test("a token naming another region's IAM stage is refused", async () => {
  await refused(`Bearer ${token({ key: CREATOR, uuid: KR_UUID, stage: "sgn-v1" })}`, /ERR_TOKEN_CLUSTER: the token names IAM stage sgn-v1/);
  await refused(`Bearer ${token({ key: CREATOR, uuid: SGN_UUID, stage: "v1" })}`, /IAM stage v1/, SGN_UUID);
});

test("a tampered signature is refused", async () => {
  const good = createHmac("sha256", CREATOR.secretKey).update("tamper").digest("base64");
  await refused(`Bearer ${krToken(CREATOR, { signature: good })}`, /ERR_TOKEN_SIGNATURE/);
  // Signed with another key's secret under the creator's access key.
  const ms = Date.now();
  const path = `/iam/v1/user?clusterUuid=${KR_UUID}`;
  const forged = createHmac("sha256", BY_KEY.secretKey).update(`GET ${path}\n${ms}\n${CREATOR.accessKey}`).digest("base64");
  await refused(`Bearer ${krToken(CREATOR, { ms, signature: forged })}`, /ERR_TOKEN_SIGNATURE/);
});

test("a token of an unknown access key is refused", async () => {
  await refused(`Bearer ${krToken({ accessKey: "NCPUNKNOWNACCESSKEY9", secretKey: "whatever-secret" })}`, /ERR_TOKEN_UNKNOWN_KEY/);
});

test("the log names the user of served requests and holds no token or secret", async () => {
  const t = krToken(BY_ID_NO);
  await get("/api/v1/namespaces", `Bearer ${t}`);
  assert.match(lines.at(-1) ?? "", /^cluster kr-one GET \/api\/v1\/namespaces user=alice -> 200$/);
  const all = lines.join("\n");
  assert.ok(!all.includes(t.slice(11, 60)), "no token in the log");
  for (const k of [CREATOR, BY_ID_NO, BY_KEY, UNMAPPED]) assert.ok(!all.includes(k.secretKey), "no secret in the log");
});

test("a correctly signed token with an absurd timestamp is refused as malformed", async () => {
  for (const ms of [9999999999999999, 8.64e15]) {
    await refused(`Bearer ${krToken(CREATOR, { ms })}`, /ERR_TOKEN_MALFORMED: the token's timestamp .* is not milliseconds since the epoch/);
  }
});

test("a correctly signed token whose claim is not canonical is refused", async () => {
  const timestamp = String(Date.now());
  const path = `/iam/v1/user?clusterUuid=${KR_UUID}`;
  const signature = createHmac("sha256", CREATOR.secretKey).update(`GET ${path}\n${timestamp}\n${CREATOR.accessKey}`).digest("base64");
  const spaced = JSON.stringify({ timestamp, accessKey: CREATOR.accessKey, signature, path }, null, 1);
  await refused(`Bearer k8s-ncp-v1.${Buffer.from(spaced).toString("base64")}`, /ERR_TOKEN_MALFORMED: the token is not in its canonical form/);
});

test("a malformed percent-escape in a served path answers 400, and the endpoint stays up", async () => {
  const auth = `Bearer ${krToken()}`;
  for (const path of ["/api/v1/namespaces/%E0%A4%A", "/api/v1/nodes/%ZZ", "/api/v1/namespaces/%/pods", "/api/v1/namespaces/default/pods/%E0"]) {
    const bad = await get(path, auth);
    assert.equal(bad.status, 400, path);
    assert.equal((bad.body as { reason: string }).reason, "BadRequest", path);
  }
  assert.equal((await get("/version", auth)).status, 200);
});

test("log lines stay one line each and bounded: an access key with line breaks, a %0A in the path", async () => {
  const before = lines.length;
  const forgedKey = { accessKey: `NCPX\n cluster kr-one GET /version user=admin -> 200\r\u001b[2J\u202e${"k".repeat(4000)}`, secretKey: "whatever" };
  await refused(`Bearer ${krToken(forgedKey)}`, /ERR_TOKEN_UNKNOWN_KEY/);
  const auth = `Bearer ${krToken()}`;
  assert.equal((await get("/api/v1/namespaces/x%0Acluster%20kr-one%20GET%20%2Fversion%20user=admin%20-%3E%20200", auth)).status, 404);
  const added = lines.slice(before);
  assert.equal(added.length, 2, added.join("\n"));
  for (const line of added) {
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u, line);
    assert.ok(line.length <= 1100, `a log line of ${line.length} characters`);
  }
});
