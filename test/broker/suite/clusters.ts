/**
 * The broker suite's /v1/clusters: registration through the cloud, bad registrations, deletion.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * clusterTests(brokerFixture("sqlite"));
 * ```
 */
export function clusterTests(f: BrokerFixture): void {
  describe(`clusters (${f.kind})`, () => {
    test("POST /v1/clusters looks the cluster up through the cloud and keeps its endpoint and CA", async () => {
      const { admin, base, running, other, addCluster } = f;
      const r = await addCluster("kr-main", "sandbox", running);
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.json, { name: "kr-main", provider: "ncp", region: running.region, endpoint: running.endpoint, status: "Active" });
      const r2 = await addCluster("second", "sandbox", other, { connection: "conn-b" });
      assert.equal(r2.status, 201, r2.text);
      const list = await call(base, "GET", "/v1/clusters", { token: admin });
      assert.deepEqual(
        list.json.clusters.map((c: any) => [c.name, c.provider, c.region, c.endpoint, c.connection]),
        [
          ["kr-main", "ncp", running.region, running.endpoint, "sandbox"],
          ["second", "ncp", other.region, other.endpoint, "conn-b"],
        ],
      );
    });

    test("bad cluster registrations leave no row: taken name, unknown credential, unknown cluster, a region the cloud rejects, a mismatched block", async () => {
      const { admin, base, running, addCluster, assertError } = f;
      assertError(await addCluster("kr-main", "sandbox", running), 409, "conflict", /already exists/);
      assertError(await addCluster("c1", "nope", running), 404, "not_found", /credential nope does not exist/);
      assertError(await addCluster("c2", "sandbox", { ...running, uuid: "00000000-0000-4000-8000-000000000000" }), 404, "not_found", /not found/);
      assertError(await addCluster("c3", "sandbox", { ...running, region: "K-R" }), 400, "cloud_rejected", /region "K-R" is not a region code/);
      assertError(await addCluster("c4", "sandbox", { ...running, region: "ZZ" }), 404, "not_found", /region ZZ/);
      assertError(
        await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "c5", credential: "sandbox", region: "KR", aws: { clusterName: "x" } } }),
        400,
        "bad_request",
        /credential sandbox is for ncp: send ncp\.clusterUuid, not aws/,
      );
      assertError(await call(base, "POST", "/v1/clusters", { token: admin, body: { name: "c6", credential: "sandbox" } }), 400, "bad_request", /field region is missing/);
      const list = await call(base, "GET", "/v1/clusters", { token: admin });
      assert.deepEqual(list.json.clusters.map((c: any) => c.name), ["kr-main", "second"]);
    });

    test("deleting a credential still used is 409; deleting the cluster first, then the credential, works and drops its grants", async () => {
      const { admin, base, running, addCredential, addCluster, addUser, assertError } = f;
      assertError(await call(base, "DELETE", "/v1/credentials/sandbox", { token: admin }), 409, "in_use", /still used by cluster kr-main/);
      assertError(await call(base, "DELETE", "/v1/credentials/ghost", { token: admin }), 404, "not_found");
      assert.equal((await addCredential("spare")).status, 201);
      assert.equal((await call(base, "DELETE", "/v1/credentials/spare", { token: admin })).status, 204);
      assert.equal((await addCluster("temp", "sandbox", running)).status, 201);
      const fay = await addUser("fay");
      await call(base, "PUT", "/v1/grants/fay/temp", { token: admin });
      assert.equal((await call(base, "DELETE", "/v1/clusters/temp", { token: admin })).status, 204);
      assertError(await call(base, "DELETE", "/v1/clusters/temp", { token: admin }), 404, "not_found");
      assertError(await call(base, "GET", "/v1/clusters/temp/token", { token: fay }), 404, "not_found");
      assert.deepEqual((await call(base, "GET", "/v1/grants/fay", { token: admin })).json.grants, []);
    });
  });
}
