/**
 * What a stranger can write into the broker never drives an admin's terminal: a Basic-auth user name
 * full of escapes lands in the audit trail, and `kubeiam broker audit` (table and `-o json`, the built
 * CLI) prints it with every C0, C1 and bidi control escaped; a `/spider/cluster/{Name}` path is checked
 * like a `/v1` name (400 in cb-spider's `{"message"}` shape, no audit row carrying it).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { call } from "./helpers.js";
import { childEnv, runCliChild } from "./serve-helpers.js";

let dir: string;
let broker: RunningBroker;
let admin: string;

/** ESC (a screen clear and a title), BEL, CSI as C1 (U+009B), RLO (U+202E), a line break. */
const HOSTILE = "ev\u001b[2J\u001b]0;pwned\u0007il\u009b31m\u202eosrever\nline";
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-terminal-"));
  broker = await startBroker({ db: `sqlite:${join(dir, "b.db")}`, listen: "127.0.0.1:0", home: dir, cwd: dir, masterKey: randomBytes(32).toString("base64"), logStream: false });
  admin = broker.adminToken ?? "";
});
after(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString("base64")}`;

test("a Basic user name with escapes: kept in the audit row, printed escaped by 'broker audit' (table and JSON)", async () => {
  const r = await call(broker.url, "GET", "/v1/clusters", { headers: { authorization: basic(HOSTILE, `kbi_${"B".repeat(43)}`) } });
  assert.equal(r.status, 401);
  const env = childEnv(dir, { KUBEIAM_BROKER_TOKEN: admin });
  const table = await runCliChild(["broker", "audit", "--server", broker.url], env);
  assert.equal(table.status, 0, table.err);
  assert.match(table.out, /\?ev\\u001b\[2J\\u001b\]0;pwned\\u0007il\\u009b31m\\u202eosrever\\nline/);
  assert.doesNotMatch(table.out.replace(/\n/g, ""), RAW, "no control character reaches the terminal from the table");
  const json = await runCliChild(["broker", "audit", "--server", broker.url, "-o", "json"], env);
  assert.equal(json.status, 0, json.err);
  assert.doesNotMatch(json.out.replace(/\n/g, ""), RAW, "none from -o json either");
  const entries = (JSON.parse(json.out) as { entries: { actor: string }[] }).entries;
  assert.ok(entries.some((e) => e.actor === `?${HOSTILE}`), "the JSON still carries the same value");
});

test("/spider/cluster/{Name} checks Name like /v1: a 400 in cb-spider's shape, and no audit row holds it", async () => {
  const auth = basic("admin", admin);
  for (const path of ["/spider/cluster/%1B%5B2Jx/token?ConnectionName=c", "/spider/cluster/%E2%80%AEx?ConnectionName=c", "/spider/cluster/-x/token?ConnectionName=c"]) {
    const r = await call(broker.url, "GET", path, { headers: { authorization: auth } });
    assert.equal(r.status, 400, `${path}: ${r.text}`);
    assert.deepEqual(Object.keys(r.json), ["message"]);
    assert.match(r.json.message, /Name has characters it may not have/);
  }
  const audit = await call(broker.url, "GET", "/v1/audit?limit=50", { token: admin });
  assert.doesNotMatch(JSON.stringify(audit.json.entries.map((e: { cluster: string | null }) => e.cluster)), /\\u001b|\\u202e|‮/);
  const unknown = await call(broker.url, "GET", "/spider/cluster/nope/token?ConnectionName=c", { headers: { authorization: auth } });
  assert.equal(unknown.status, 404, unknown.text);
  assert.deepEqual(Object.keys(unknown.json), ["message"]);
});
