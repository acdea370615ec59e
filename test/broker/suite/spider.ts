/**
 * The broker suite's cb-spider cluster answers (`GET /spider/cluster[/{Name}]`): ClusterInfo in
 * cb-spider's shape, built from what the cloud says when asked (the clusters table keeps no copy of
 * it), and from what the broker keeps when the cloud does not answer. Expected values come from the
 * NKS API's own answer, read beside the broker with the same key.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createNcpApiClient } from "../../../src/ncp/api.js";
import { call } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/** cb-spider's ClusterInfo fields, in the order its REST API (and this broker) writes them. */
export const SPIDER_CLUSTER_KEYS = ["IId", "Version", "Network", "NodeGroupList", "AccessInfo", "Addons", "Status", "CreatedTime", "TagList", "KeyValueList"];

/** cb-spider's NodeGroupInfo fields, in order. */
const SPIDER_NODE_GROUP_KEYS = ["IId", "ImageIID", "VMSpecName", "RootDiskType", "RootDiskSize", "KeyPairIID", "OnAutoScaling", "DesiredNodeSize", "MinNodeSize", "MaxNodeSize", "Status", "Nodes", "KeyValueList"];

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts: alice
 * holds a grant for kr-main, in connection `sandbox`).
 *
 * @example
 * ```ts
 * spiderTests(brokerFixture("sqlite"));
 * ```
 */
export function spiderTests(f: BrokerFixture): void {
  describe(`cb-spider cluster answers (${f.kind})`, () => {
    const basic = (user: string, token: string) => ({ headers: { authorization: `Basic ${Buffer.from(`${user}:${token}`).toString("base64")}` } });

    test("the clusters table keeps what locates a cluster and what kubeconfigs need, no copy of its ClusterInfo", async () => {
      const tables = await f.broker.ctx.store.db.introspection.getTables();
      const clusters = tables.find((t) => t.name === "clusters");
      assert.ok(clusters, "the clusters table");
      assert.deepEqual(clusters.columns.map((c) => c.name).sort(), ["ca_data", "connection", "created_at", "credential_id", "endpoint", "id", "locator", "name", "provider", "region", "status"]);
    });

    test("GET /spider/cluster/{Name} and the list: cb-spider's ClusterInfo, field for field, from the cloud's answer now", async () => {
      const { sandbox, base, running, userToken } = f;
      const alice = userToken("alice");
      const api = createNcpApiClient({ credentials: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl }, region: running.region });
      const [cloud, pools, nodes] = await Promise.all([api.getCluster(running.uuid), api.listNodePools(running.uuid), api.listNodes(running.uuid)]);
      const one = await call(base, "GET", "/spider/cluster/kr-main?ConnectionName=sandbox", basic("alice", alice));
      assert.equal(one.status, 200, one.text);
      const info = one.json;
      assert.deepEqual(Object.keys(info), SPIDER_CLUSTER_KEYS);
      assert.deepEqual(info.IId, { NameId: "kr-main", SystemId: running.uuid });
      assert.ok(cloud.k8sVersion, "the sandbox says its version");
      assert.equal(info.Version, cloud.k8sVersion);
      assert.deepEqual(info.Network, {
        VpcIID: { NameId: cloud.vpcName ?? "", SystemId: cloud.vpcNo ?? "" },
        SubnetIIDs: cloud.subnetNoList.map((s) => ({ NameId: "", SystemId: s })),
        SecurityGroupIIDs: cloud.acgNo === undefined ? [] : [{ NameId: "", SystemId: cloud.acgNo }],
        KeyValueList: [],
      });
      assert.ok(pools.length > 0, "the sandbox cluster has a node pool");
      assert.equal(info.NodeGroupList.length, pools.length);
      for (const [i, g] of (info.NodeGroupList as any[]).entries()) {
        assert.deepEqual(Object.keys(g), SPIDER_NODE_GROUP_KEYS);
        assert.equal(g.IId.NameId, pools[i]?.name);
        assert.equal(g.DesiredNodeSize, pools[i]?.nodeCount);
        assert.equal(pools[i]?.status, "RUN", "NKS's word for a node pool that runs");
        assert.equal(g.Status, "Active");
      }
      assert.deepEqual((info.NodeGroupList as any[]).flatMap((g) => g.Nodes.map((n: any) => n.NameId)).sort(), nodes.map((n) => n.name).sort());
      assert.deepEqual(Object.keys(info.AccessInfo), ["Endpoint", "Kubeconfig"]);
      assert.equal(info.AccessInfo.Endpoint, running.endpoint);
      assert.match(info.AccessInfo.Kubeconfig, /command: sh/);
      assert.deepEqual(info.Addons, { KeyValueList: [] });
      assert.equal(info.Status, "Active");
      assert.equal(info.CreatedTime, new Date(cloud.createdAt ?? "").toISOString());
      assert.deepEqual(info.TagList, []);
      assert.deepEqual(info.KeyValueList, [
        { Key: "Provider", Value: "ncp" },
        { Key: "Region", Value: running.region },
        { Key: "ConnectionName", Value: "sandbox" },
      ]);
      const list = await call(base, "GET", "/spider/cluster?ConnectionName=sandbox", basic("alice", alice));
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(Object.keys(list.json), ["cluster"]);
      assert.deepEqual(list.json.cluster, [info]);
    });

    test("a cluster its cloud cannot describe now is answered with what the broker keeps (the locator's id, the status at registration), the rest listed as usual, the reason logged", async () => {
      const { broker, admin, base, log, secrets, running, userToken } = f;
      const alice = userToken("alice");
      const db = broker.ctx.store.db;
      const kept = await db.selectFrom("clusters").selectAll().where("name", "=", "kr-main").executeTakeFirstOrThrow();
      // Where the cloud has no such cluster (it was deleted there, say): the sandbox answers 404.
      const gone = randomUUID();
      const id = randomUUID();
      const createdAt = "2026-03-04T05:06:07.890Z";
      await db
        .insertInto("clusters")
        .values({ ...kept, id, name: "kr-gone", status: "Active", locator: JSON.stringify({ cloud: "ncp", region: running.region, clusterUuid: gone }), created_at: createdAt })
        .execute();
      try {
        assert.equal((await call(base, "PUT", "/v1/grants/alice/kr-gone", { token: admin })).status, 204);
        const marked = log.lines.length;
        const one = await call(base, "GET", "/spider/cluster/kr-gone?ConnectionName=sandbox", basic("alice", alice));
        assert.equal(one.status, 200, one.text);
        assert.deepEqual(Object.keys(one.json), SPIDER_CLUSTER_KEYS);
        assert.deepEqual(one.json.IId, { NameId: "kr-gone", SystemId: gone });
        assert.equal(one.json.Version, "");
        assert.deepEqual(one.json.Network, { VpcIID: { NameId: "", SystemId: "" }, SubnetIIDs: [], SecurityGroupIIDs: [], KeyValueList: [] });
        assert.deepEqual(one.json.NodeGroupList, []);
        assert.equal(one.json.AccessInfo.Endpoint, kept.endpoint);
        assert.equal(one.json.Status, "Active");
        assert.equal(one.json.CreatedTime, createdAt);
        const warned = log.lines.slice(marked).filter((l) => l.includes("cloud lookup failed"));
        assert.equal(warned.length, 1, log.lines.slice(marked).join("\n"));
        assert.match(warned[0] ?? "", /"cluster":"kr-gone"/);
        assert.match(warned[0] ?? "", /the cloud has no such cluster/);
        for (const s of secrets) assert.ok(!(warned[0] ?? "").includes(s), "no secret in the warning");
        const list = await call(base, "GET", "/spider/cluster?ConnectionName=sandbox", basic("alice", alice));
        assert.equal(list.status, 200, list.text);
        assert.deepEqual(list.json.cluster.map((c: any) => [c.IId.NameId, c.IId.SystemId, c.Version === ""]), [
          ["kr-gone", gone, true],
          ["kr-main", running.uuid, false],
        ]);
      } finally {
        await db.deleteFrom("clusters").where("id", "=", id).execute();
      }
    });
  });
}
