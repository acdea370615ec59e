/**
 * `kubeiam broker grant` in-process against a broker on an embedded store, with the sandbox as the
 * cloud: --as, --for, --until, --group, --list (with none, and with ends), --revoke (saying when a *
 * grant still reaches the cluster), and bad flags refused in one line with nothing stored.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { generateSandboxKey } from "../../src/sandbox/keys.js";
import { parseGrantDuration } from "../../src/cli/broker/grant.js";
import { assertOneLine, runInProcess } from "../helpers/cli.js";

let dir: string;
let sandbox: Sandbox;
let broker: RunningBroker;
let admin: string;
const NOW = Date.parse("2026-12-07T04:00:00.000Z");

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-grant-cli-"));
  const viewer = generateSandboxKey("viewer");
  sandbox = await startSandbox({ keys: [generateSandboxKey("sandbox-admin"), viewer], now: () => NOW });
  broker = await startBroker({ db: `sqlite:${join(dir, "b.db")}`, listen: "127.0.0.1:0", masterKey: randomBytes(32).toString("base64"), home: dir, cwd: dir, logStream: false, now: () => NOW });
  admin = broker.adminToken as string;
  const call = async (method: string, path: string, body: unknown) => {
    const r = await fetch(`${broker.url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.ok(r.status < 300, await r.text());
  };
  const c = sandbox.clusters.filter((x) => x.status === "RUNNING");
  await call("POST", "/v1/credentials", { name: "ncp-main", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } });
  await call("POST", "/v1/credentials", { name: "ncp-viewer", provider: "ncp", ncp: { accessKey: viewer.accessKey, secretKey: viewer.secretKey, apiUrl: sandbox.apiUrl } });
  await call("POST", "/v1/clusters", { name: "bars-kr", credential: "ncp-main", region: c[0]?.region, ncp: { clusterUuid: c[0]?.uuid } });
  await call("POST", "/v1/clusters", { name: "bars-sgn", credential: "ncp-main", region: c[1]?.region, ncp: { clusterUuid: c[1]?.uuid } });
  await call("POST", "/v1/users", { name: "bob", role: "user" });
});
after(async () => {
  await broker?.close();
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

const grant = (...args: string[]) => runInProcess(["broker", "grant", ...args, "--server", broker.url], { env: { HOME: dir, KUBEIAM_BROKER_TOKEN: admin }, now: () => NOW });

test("durations: 90s, 30m, 2h, 1h30m, 7d; anything else is not one", () => {
  assert.deepEqual(["90s", "30m", "2h", "1h30m", "7d"].map(parseGrantDuration), [90_000, 1_800_000, 7_200_000, 5_400_000, 604_800_000]);
  for (const bad of ["", "2", "h", "2 h", "-2h", "2.5h", "0s", "2w", "1h-30m"]) assert.equal(parseGrantDuration(bad), undefined, bad);
});

test("--list with no grants says so; grant --as --for exits 0 and --list shows the credential and the end", async () => {
  const none = await grant("--list", "bob");
  assert.equal(none.status, 0, none.err);
  assert.equal(none.out, "");
  assert.equal(none.err, "kubeiam: bob has no grants: grant one with 'kubeiam broker grant bob CLUSTER'\n");
  const r = await grant("bob", "bars-sgn", "--as", "ncp-viewer", "--for", "2h");
  assert.equal(r.status, 0, r.err);
  assert.equal(r.err, "kubeiam: granted bob cluster bars-sgn as ncp-viewer until 2026-12-07T06:00:00.000Z\n");
  const u = await grant("bob", "bars-kr", "--until", "2026-12-08T09:00:00+09:00");
  assert.equal(u.status, 0, u.err);
  const list = await grant("--list", "bob");
  assert.equal(list.status, 0, list.err);
  assert.match(list.out, /^CLUSTER\s+AS\s+EXPIRES\nbars-kr\s+-\s+2026-12-08T00:00:00.000Z\nbars-sgn\s+ncp-viewer\s+2026-12-07T06:00:00.000Z\n$/);
  const json = JSON.parse((await grant("--list", "bob", "-o", "json")).out);
  assert.deepEqual(json.grants.map((g: any) => [g.cluster, g.as, g.expiresAt]), [
    ["bars-kr", null, "2026-12-08T00:00:00.000Z"],
    ["bars-sgn", "ncp-viewer", "2026-12-07T06:00:00.000Z"],
  ]);
});

test("--revoke of one cluster says when a * grant still reaches it", async () => {
  assert.equal((await grant("bob", "*")).status, 0);
  const r = await grant("--revoke", "bob", "bars-kr");
  assert.equal(r.status, 0, r.err);
  assert.equal(
    r.err,
    "kubeiam: revoked bob's grant for bars-kr\nkubeiam: bob still reaches bars-kr through their grant of every cluster (*): revoke that too with 'kubeiam broker grant --revoke bob '*''\n",
  );
  assert.equal((await grant("--revoke", "bob", "*")).status, 0);
  const quiet = await grant("--revoke", "bob", "bars-sgn");
  assert.equal(quiet.err, "kubeiam: revoked bob's grant for bars-sgn\n");
});

test("--group grants, lists and revokes a group's grants", async () => {
  const r = await grant("--group", "platform", "bars-kr", "--as", "ncp-viewer");
  assert.equal(r.status, 0, r.err);
  assert.equal(r.err, "kubeiam: granted group platform cluster bars-kr as ncp-viewer\n");
  assert.match((await grant("--list", "--group", "platform")).out, /^CLUSTER\s+AS\s+EXPIRES\nbars-kr\s+ncp-viewer\s+never\n$/);
  assert.equal((await grant("--revoke", "--group", "platform", "bars-kr")).status, 0);
  assert.match((await grant("--list", "--group", "platform")).err, /group platform has no grants/);
});

test("bad flags and refused grants: one line each, nothing stored", async () => {
  assertOneLine(await grant("bob", "bars-kr", "--for", "2 hours"), 2, /broker grant: --for "2 hours" is not a duration: write whole numbers with s, m, h or d, for example 2h \(or 1h30m\)\n$/);
  assertOneLine(await grant("bob", "bars-kr", "--until", "tomorrow"), 2, /--until "tomorrow" is not an RFC 3339 time/);
  assertOneLine(await grant("bob", "bars-kr", "--for", "2h", "--until", "2026-12-08T00:00:00Z"), 2, /--for and --until both say when/);
  assertOneLine(await grant("--revoke", "bob", "bars-kr", "--as", "ncp-viewer"), 2, /--revoke takes the whole grant back/);
  assertOneLine(await grant("--group", "bad name", "bars-kr"), 2, /--group "bad name" is not a group name/);
  assertOneLine(await grant("bob", "bars-kr", "--as", "nope"), 8, /credential nope \(body field as\) does not exist/);
  assertOneLine(await grant("bob", "bars-kr", "--until", "2026-12-07T03:00:00Z"), 8, /expiresAt is not in the future/);
  assert.match((await grant("--list", "bob")).err, /bob has no grants/);
});
