import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VersionApi } from "@kubernetes/client-node";
import { createTokenCache, selfRefreshingKubeConfig } from "../../src/kube/client.js";
import { ncpKubeConfig } from "../../src/ncp/client.js";
import { mintFor } from "../helpers/ncp-mint.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";
import { startTlsCluster, VERSION_BODY, type TlsCluster } from "../helpers/tls-cluster.js";

const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";

// One clock for the client and the cluster, moved by the tests.
let clock = Date.now();
const now = () => clock;

let cluster: TlsCluster;
let standIn: StandIn;
before(async () => {
  cluster = await startTlsCluster({ clusterUuid: UUID, region: "KR", keys: { [AK]: SK }, now });
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    now,
    clusters: [{ uuid: UUID, name: "demo", status: "RUNNING", endpoint: cluster.server, caData: cluster.caData }],
  });
});
after(async () => {
  await cluster.close();
  await standIn.close();
});

test("createTokenCache: one mint for concurrent callers, cached until the token's refreshAt, failures not cached", async () => {
  let t = 0;
  let mints = 0;
  let fail = false;
  const cache = createTokenCache(
    async () => {
      mints++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error("mint failed");
      return { token: `t${mints}`, expiresAt: new Date(t + 100_000), refreshAt: new Date(t + 90_000) };
    },
    { now: () => t },
  );
  assert.deepEqual(await Promise.all([cache.get(), cache.get(), cache.get()]), ["t1", "t1", "t1"]);
  assert.equal(mints, 1);
  t = 89_999;
  assert.equal(await cache.get(), "t1");
  t = 90_000;
  fail = true;
  await assert.rejects(cache.get(), /mint failed/);
  fail = false;
  assert.equal(await cache.get(), "t3");
  assert.equal(cache.mints, 3);
});

test("selfRefreshingKubeConfig: a long-running program keeps working past a token's life", async () => {
  let mints = 0;
  const kc = await selfRefreshingKubeConfig({
    cluster: { server: cluster.server, caData: cluster.caData },
    mintToken: () => {
      mints++;
      return mintFor({ accessKey: AK, secretKey: SK, clusterUuid: UUID, region: "KR", now: now() });
    },
    now,
  });
  const api = kc.makeApiClient(VersionApi);
  const results = await Promise.all([api.getCode(), api.getCode(), api.getCode(), api.getCode()]);
  assert.deepEqual(results.map((r) => r.gitVersion), Array(4).fill(VERSION_BODY.gitVersion));
  assert.equal(mints, 1, "concurrent requests share one mint");

  clock += 3.5 * 60 * 1000; // before the token's refreshAt (4 of its 5 minutes)
  await api.getCode();
  assert.equal(mints, 1);

  clock += 60 * 1000; // 4.5 min after minting: past refreshAt, so a new token
  await api.getCode();
  assert.equal(mints, 2);

  clock += 60 * 60 * 1000; // an hour on: the old token would be refused; a fresh one is minted
  const seenBefore = cluster.seen.length;
  assert.equal((await api.getCode()).gitVersion, VERSION_BODY.gitVersion);
  assert.equal(mints, 3);
  assert.ok(cluster.seen.slice(seenBefore).every((s) => s.accepted));
});

test("the cluster refuses an expired token: the refresh is what keeps the program working", async () => {
  const stale = mintFor({ accessKey: AK, secretKey: SK, clusterUuid: UUID, region: "KR", now: now() - 6 * 60 * 1000 });
  const kc = await selfRefreshingKubeConfig({
    cluster: { server: cluster.server, caData: cluster.caData },
    mintToken: () => stale,
    now: () => stale.refreshAt.getTime() - 60 * 1000, // the cache believes it fresh
  });
  await assert.rejects(kc.makeApiClient(VersionApi).getCode(), (e: unknown) => e instanceof Error && /401/.test(e.message));
  assert.match(cluster.seen.at(-1)?.reason ?? "", /expired/);
});

test("ncpKubeConfig: endpoint and CA from the NKS API, tokens minted in-process", async () => {
  const kc = await ncpKubeConfig({ clusterUuid: UUID, region: "kr", credentials: { accessKey: AK, secretKey: SK, apiUrl: standIn.url }, now });
  assert.equal(kc.getCurrentCluster()?.server, cluster.server);
  assert.equal(kc.getCurrentCluster()?.name, `nks_kr_${UUID}`);
  const version = await kc.makeApiClient(VersionApi).getCode();
  assert.equal(version.gitVersion, VERSION_BODY.gitVersion);
  assert.equal(kc.tokenCache.mints, 1);
  assert.ok(standIn.requests.some((r) => r.uri === `/vnks/v2/clusters/${UUID}/kubeconfig`));
});

test("ncpKubeConfig with a known endpoint makes no API call", async () => {
  const before = standIn.requests.length;
  const kc = await ncpKubeConfig({
    clusterUuid: UUID,
    region: "KR",
    credentials: { accessKey: AK, secretKey: SK, apiUrl: standIn.url },
    cluster: { server: cluster.server, caData: cluster.caData },
    now,
  });
  assert.equal((await kc.makeApiClient(VersionApi).getCode()).major, "1");
  assert.equal(standIn.requests.length, before);
});

test("a token for another cluster is refused by the endpoint", async () => {
  const kc = await selfRefreshingKubeConfig({
    cluster: { server: cluster.server, caData: cluster.caData },
    mintToken: () => mintFor({ accessKey: AK, secretKey: SK, clusterUuid: "00000000-0000-4000-8000-000000000000", region: "KR", now: now() }),
    now,
  });
  await assert.rejects(kc.makeApiClient(VersionApi).getCode());
  assert.match(cluster.seen.at(-1)?.reason ?? "", /is for cluster/);
});
