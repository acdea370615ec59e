/**
 * The broker suite's upgrade of a populated store: a schema-5 database as the kubeiam before schema 6
 * left it (clusters with the ClusterInfo copy, one from before locators, users, grants, a chained audit
 * trail) is started by this kubeiam: migrated, then serving tokens and cb-spider's answers from it.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { sealCredential } from "../../../src/broker/credential-secrets.js";
import { keyCheckValue } from "../../../src/broker/sealing.js";
import { startBroker } from "../../../src/broker/serve.js";
import { migrateStore, SCHEMA_VERSION } from "../../../src/broker/store/migrations.js";
import { openStore, parseStoreLocation } from "../../../src/broker/store/open.js";
import { BrokerStore } from "../../../src/broker/store/store.js";
import { hashBrokerToken, newBrokerToken } from "../../../src/broker/tokens.js";
import { verifyNcpToken } from "../../../src/ncp/token.js";
import { call, captureLines } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (its sandbox is the cloud of the upgraded store).
 *
 * @example
 * ```ts
 * upgradeTests(brokerFixture("sqlite"));
 * ```
 */
export function upgradeTests(f: BrokerFixture): void {
  describe(`upgrading a populated store (${f.kind})`, () => {
    test("schema 6 on a schema-5 store with data: pre-v4 rows located from their copy, the copy dropped, tokens, cb-spider's answers from the cloud, the audit chain intact", async () => {
      const { stores, sandbox, masterKey, running, other, secrets } = f;
      assert.ok(SCHEMA_VERSION >= 6, "schema 6 and those after it");
      const url = await stores.newDb("v5-upgrade");
      const s = await openStore(parseStoreLocation(url, { home: stores.dir, cwd: stores.dir }));
      const [bob, carol] = [newBrokerToken(), newBrokerToken()];
      secrets.push(bob, carol);
      const t = new Date().toISOString();
      const ids = { cred: randomUUID(), bob: randomUUID(), carol: randomUUID(), fresh: randomUUID(), old: randomUUID(), lost: randomUUID() };
      try {
        await migrateStore(s.db, { dialect: s.dialect, keyCheck: keyCheckValue(masterKey), bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date(), upTo: 5 });
        // Schema 5's rows, as that kubeiam wrote them (its clusters table still has `info`).
        const db = s.db as any;
        const sealed = sealCredential(masterKey, ids.cred, { provider: "ncp", secrets: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } });
        await db.insertInto("credentials").values({ id: ids.cred, name: "old-cred", provider: "ncp", sealed, created_at: t }).execute();
        await db.insertInto("users").values([
          { id: ids.bob, name: "bob", role: "admin", token_hash: hashBrokerToken(bob), created_at: t, token_created_at: t },
          { id: ids.carol, name: "carol", role: "user", token_hash: hashBrokerToken(carol), created_at: t, token_created_at: t },
        ]).execute();
        const copy = (c: typeof running, extra: Record<string, unknown>) =>
          JSON.stringify({ cloud: "ncp", name: c.name, id: c.uuid, region: c.region, status: "Active", rawStatus: "RUNNING", network: { subnetIds: [], securityGroupIds: [] }, access: { endpoint: c.endpoint }, ...extra });
        const row = (id: string, name: string, c: typeof running, info: string, locator: string | null) => ({
          id, name, provider: "ncp", credential_id: ids.cred, region: c.region, connection: "old-cred", endpoint: c.endpoint, ca_data: null, status: "Active", info, locator, created_at: t,
        });
        await db.insertInto("clusters").values([
          // Registered at schema 4 or 5: its locator, and a copy of what the cloud said then (now stale).
          row(ids.fresh, "fresh", running, copy(running, { k8sVersion: "1.20.0-stale", nodeGroups: [{ name: "stale-pool", nodes: [] }], ref: { cloud: "ncp", region: running.region, clusterUuid: running.uuid } }), JSON.stringify({ cloud: "ncp", region: running.region, clusterUuid: running.uuid })),
          // Registered before schema 4: only the copy says where it is.
          row(ids.old, "old", other, copy(other, { k8sVersion: "1.20.0-stale", nodeGroups: [] }), null),
          // A row whose copy does not say where the cluster is.
          row(ids.lost, "lost", running, "{}", null),
        ]).execute();
        await db.insertInto("grants").values({ id: randomUUID(), user_id: ids.carol, group_name: null, cluster_id: ids.old, as_credential_id: null, expires_at: null, created_at: t }).execute();
        await new BrokerStore(s.db, s.dialect).insertAudit(
          ["cluster.create", "token.issue", "token.issue"].map((action, i) => ({ time: t, actor: i === 0 ? "bob" : "carol", action, cluster: "old", outcome: "ok", instance: "v5" })),
        );
      } finally {
        await s.close();
      }

      const log = captureLines();
      const broker = await startBroker({ db: url, listen: "127.0.0.1:0", masterKey: masterKey.toString("base64"), home: stores.dir, cwd: stores.dir, logStream: log.stream, instance: "v6", cloud: { env: {} } });
      try {
        assert.equal(broker.adminToken, undefined, "no new admin on a store that has one");
        const db = broker.ctx.store.db;
        assert.equal((await db.selectFrom("kubeiam_meta").select("value").where("key", "=", "schema_version").executeTakeFirstOrThrow()).value, String(SCHEMA_VERSION));
        const columns = (await db.introspection.getTables()).find((x) => x.name === "clusters")?.columns.map((c) => c.name) ?? [];
        assert.ok(columns.includes("locator") && !columns.includes("info"), columns.join(", "));
        const locators = Object.fromEntries((await db.selectFrom("clusters").select(["name", "locator"]).execute()).map((r) => [r.name, r.locator === null ? null : JSON.parse(r.locator)]));
        assert.deepEqual(locators, {
          fresh: { cloud: "ncp", region: running.region, clusterUuid: running.uuid },
          old: { cloud: "ncp", region: other.region, clusterUuid: other.uuid },
          lost: null,
        });

        // Tokens, from the locators: carol's grant came along; the unlocatable row says what to do.
        const base = broker.url;
        for (const [who, token, cluster, c] of [["carol", carol, "old", other], ["bob", bob, "fresh", running]] as const) {
          const r = await call(base, "GET", `/v1/clusters/${cluster}/token`, { token });
          assert.equal(r.status, 200, `${who} ${cluster}: ${r.text}`);
          secrets.push(r.json.status.token);
          verifyNcpToken(r.json.status.token, { secretKeyFor: (ak) => (ak === sandbox.accessKey ? sandbox.secretKey : undefined), clusterUuid: c.uuid, region: c.region });
        }
        assert.equal((await call(base, "GET", "/v1/clusters/fresh/token", { token: carol })).status, 403);
        const lost = await call(base, "GET", "/v1/clusters/lost/token", { token: bob });
        assert.equal(lost.status, 500, lost.text);
        assert.deepEqual(lost.json.error, { code: "internal", message: "cluster lost has no usable record of where it is in its cloud: an admin deletes it and registers it again (POST /v1/clusters)" });

        // cb-spider's answer says what the cloud says now, not the copy the old row kept.
        const spider = await call(base, "GET", "/spider/cluster/fresh?ConnectionName=old-cred", { headers: { authorization: `Basic ${Buffer.from(`bob:${bob}`).toString("base64")}` } });
        assert.equal(spider.status, 200, spider.text);
        assert.deepEqual(spider.json.IId, { NameId: "fresh", SystemId: running.uuid });
        assert.notEqual(spider.json.Version, "1.20.0-stale");
        assert.match(spider.json.Version, /^1\.\d+\.\d+/);
        assert.ok(spider.json.NodeGroupList.length > 0 && !spider.json.NodeGroupList.some((g: any) => g.IId.NameId === "stale-pool"));

        // The trail written before the upgrade and after it is one intact chain.
        const verified = await call(base, "GET", "/v1/audit/verify", { token: bob });
        assert.equal(verified.status, 200, verified.text);
        assert.equal(verified.json.ok, true, verified.text);
        assert.ok(verified.json.entries >= 3 + 4, verified.text);
        for (const line of log.lines) for (const secret of secrets) assert.ok(!line.includes(secret), "no secret in the log");
      } finally {
        await broker.close();
      }
    });
  });
}
