/**
 * `kubeiam serve admin-token` end to end (the built CLI, as children): with a broker running on the
 * same database, it prints a fresh admin token once on stdout (nothing else there), the running
 * broker accepts it and refuses the old one on the next request (a failed authentication with the old
 * one names the admin), and the audit trail has the change; without the master key, with a wrong one
 * or without a reachable store it refuses in one line and changes nothing. SQLite, and PostgreSQL.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertOneLine } from "../helpers/cli.js";
import { NEEDS_POSTGRES } from "../helpers/postgres.js";
import { call, testStores, type TestStores } from "./helpers.js";
import { childEnv, runCliChild, startServe, type ServeChild } from "./serve-helpers.js";
import { closedPort } from "../helpers/closed-port.js";

let dir: string;
const running: ServeChild[] = [];
let pg: TestStores | undefined;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-admin-token-"));
});
after(async () => {
  for (const b of running) await b.stop();
  await pg?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TOKEN_LINE = /^kbi_[A-Za-z0-9_-]{43}\n$/;


/** The whole story on one store: a running broker, a lost token replaced, the refusals. */
async function replacesTheToken(db: string, home: string): Promise<void> {
  const key = randomBytes(32).toString("base64");
  const broker = await startServe(["--listen", "127.0.0.1:0"], childEnv(home, { KUBEIAM_DB: db, KUBEIAM_MASTER_KEY: key }));
  running.push(broker);
  const old = broker.ready.adminToken ?? "";
  assert.match(old, /^kbi_/);
  assert.equal((await call(broker.ready.url, "GET", "/v1/users", { token: old })).status, 200);

  // Refusals first: nothing changes, the old token still works.
  const noKey = await runCliChild(["serve", "admin-token", "--db", db, "--master-key-file", join(home, "absent.key")], childEnv(home));
  assertOneLine(noKey, 3, /master key/);
  const wrong = await runCliChild(["serve", "admin-token", "--db", db], childEnv(home, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") }));
  assertOneLine(wrong, 3, /the master key does not open this database: give the broker's own/);
  assert.equal((await call(broker.ready.url, "GET", "/v1/users", { token: old })).status, 200, "a refusal changes nothing");

  const r = await runCliChild(["serve", "admin-token", "--db", db], childEnv(home, { KUBEIAM_MASTER_KEY: key }));
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, TOKEN_LINE, "stdout holds the token and nothing else");
  const fresh = r.out.trim();
  assert.notEqual(fresh, old);
  assert.equal(r.err.split("\n").length, 2, r.err);
  assert.match(r.err, /a fresh token for admin, shown only now; the old one stopped working/);
  assert.ok(!r.err.includes(fresh));

  // The running broker: the new token works at once, the old one is refused and named.
  assert.equal((await call(broker.ready.url, "GET", "/v1/users", { token: fresh })).status, 200);
  const refused = await call(broker.ready.url, "GET", "/v1/users", { token: old });
  assert.equal(refused.status, 401);
  assert.match(refused.json.error.message, /this broker token of admin stopped working at .*'kubeiam serve admin-token'/);
  const rows = (await call(broker.ready.url, "GET", "/v1/audit?limit=5", { token: fresh })).json.entries as any[];
  const auth = rows.find((e) => e.action === "auth");
  assert.deepEqual([auth?.actor, auth?.reason?.split(" at ")[0]], ["admin", "retired_token: replaced"]);
  const replaced = rows.find((e) => e.action === "admin_token.replace");
  assert.ok(replaced, JSON.stringify(rows));
  assert.equal(replaced.actor, "(serve admin-token)");
  assert.equal(replaced.outcome, "ok");
  assert.match(replaced.reason, /on the server host by OS user \S+ on \S+/);
  const text = JSON.stringify(rows);
  assert.ok(!text.includes(fresh) && !text.includes(old), "no token in the audit trail");
}

test("serve admin-token on SQLite: a fresh token once, the running broker takes it and names the old one; refusals change nothing", async () => {
  const home = join(dir, "sqlite");
  await replacesTheToken(`sqlite:${join(home, "broker.db")}`, home);
  // No database there, or no broker in it: one line, no file made.
  assertOneLine(await runCliChild(["serve", "admin-token", "--db", `sqlite:${join(home, "nope.db")}`], childEnv(home, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") })), 2, /there is no database at .*nope\.db/);
  assertOneLine(await runCliChild(["serve", "admin-token", "extra"], childEnv(home)), 2, /unexpected argument "extra"/);
});

test("serve admin-token on PostgreSQL: the same; an unreachable store is one line", { skip: NEEDS_POSTGRES }, async () => {
  pg = await testStores("postgres");
  const home = join(dir, "pg");
  await replacesTheToken(await pg.newDb("admintoken"), home);
  const gone = `postgres://kubeiam@127.0.0.1:${await closedPort()}/kubeiam`;
  assertOneLine(await runCliChild(["serve", "admin-token", "--db", gone], childEnv(home, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") })), 7, /cannot reach PostgreSQL at .*ECONNREFUSED/);
});
