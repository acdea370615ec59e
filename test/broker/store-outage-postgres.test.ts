/**
 * A PostgreSQL restart under load (BROKER.md "Keeping it trustworthy", "The database going away"):
 * `kubeiam serve` (the built CLI, a child) on the test's own PostgreSQL, token requests from many
 * clients, the server stopped for 4 s as an operator's restart does (sessions end with 57P01) and
 * started again. While it is gone every answer is a 503 `store_unavailable` and /healthz is 503; the
 * process never exits; tokens flow again within 5 s of the return; every token received is audited.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pgClient from "pg";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { call } from "./helpers.js";
import { childEnv, startServe, type ServeChild } from "./serve-helpers.js";

let dir: string;
let sandbox: Sandbox;
let pg: TestPostgres;
let serve: ServeChild | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-outage-"));
  sandbox = await startSandbox();
  pg = await startTestPostgres();
});
after(async () => {
  await serve?.stop();
  await pg?.stop();
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  start: number;
  end: number;
  status: number;
  code?: string;
  error?: string;
}

test("a 4 s PostgreSQL outage under load: 503 store_unavailable only, /healthz 503, 200s within 5 s of its return, every token audited, the process never exits", async () => {
  const db = await pg.newDatabase("outage");
  serve = await startServe(["--db", db, "--listen", "127.0.0.1:0"], childEnv(dir, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") }));
  const s = serve;
  let exitedWith: string | undefined;
  s.child.once("exit", (code, signal) => (exitedWith = `${code ?? signal}`));
  const url = s.ready.url;
  const admin = s.ready.adminToken;
  const c = sandbox.clusters.find((x) => x.status === "RUNNING");
  assert.ok(c);
  const cred = await call(url, "POST", "/v1/credentials", { token: admin, body: { name: "sb", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } } });
  assert.equal(cred.status, 201, cred.text);
  assert.equal((await call(url, "POST", "/v1/clusters", { token: admin, body: { name: "kr", credential: "sb", region: c.region, ncp: { clusterUuid: c.uuid } } })).status, 201);
  const user = await call(url, "POST", "/v1/users", { token: admin, body: { name: "loader" } });
  assert.equal((await call(url, "PUT", "/v1/grants/loader/kr", { token: admin })).status, 204);

  const outcomes: Outcome[] = [];
  let received = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const start = Date.now();
      try {
        const r = await fetch(`${url}/v1/clusters/kr/token`, { headers: { authorization: `Bearer ${user.json.token}` }, signal: AbortSignal.timeout(15_000) });
        const text = await r.text();
        const o: Outcome = { start, end: Date.now(), status: r.status };
        if (r.status === 200) {
          assert.ok((JSON.parse(text) as { status: { token: string } }).status.token.length > 0);
          received++;
        } else {
          o.code = (JSON.parse(text) as { error: { code: string } }).error.code;
        }
        outcomes.push(o);
      } catch (error) {
        outcomes.push({ start, end: Date.now(), status: 0, error: (error as Error).message });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    const warm = Date.now() + 20_000;
    while (received < 50 && Date.now() < warm) await sleep(20);
    assert.ok(received >= 50, `tokens before the outage: ${received}`);

    await pg.pause();
    const down = Date.now();
    await sleep(500);
    const health = await call(url, "GET", "/healthz");
    assert.equal(health.status, 503, health.text);
    assert.equal(health.json.error.code, "store_unavailable");
    await sleep(3500);
    const back = Date.now();
    await pg.resume();
    const resumed = Date.now();
    // Tokens again within 5 s of the server's return.
    let firstOk: number | undefined;
    while (firstOk === undefined && Date.now() < resumed + 5_000) {
      await sleep(50);
      firstOk = outcomes.find((o) => o.status === 200 && o.start >= resumed)?.end;
    }
    assert.ok(firstOk !== undefined, `no token within 5 s of PostgreSQL's return; outcomes since: ${JSON.stringify(outcomes.filter((o) => o.start >= resumed).slice(0, 5))}; log: ${s.stderr().slice(-1500)}`);
    await sleep(300);
    assert.equal((await call(url, "GET", "/healthz")).status, 200);
    stop = true;
    await Promise.all(workers);

    assert.equal(exitedWith, undefined, `the broker exited (${exitedWith}): ${s.stderr().slice(-2000)}`);
    // The log tells the outage as one story, not an error line per refused request.
    const logged = s.stderr().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg?: string; refused?: number; err?: { message?: string } });
    const started = logged.filter((l) => l.msg?.startsWith("the store does not answer"));
    const ended = logged.filter((l) => l.msg === "the store answers again");
    assert.ok(started.length >= 1 && started.length <= 3, `the outage's start, logged once (or again if it flapped): ${started.length}`);
    assert.ok(ended.length >= 1 && (ended[0]?.refused ?? 0) > 0, `its end, with the count refused: ${JSON.stringify(ended)}`);
    assert.equal(logged.filter((l) => l.msg === "failed").length, 0, "no error line per refused request");
    const failures = outcomes.filter((o) => o.status !== 200);
    const odd = failures.filter((o) => o.status !== 503 || o.code !== "store_unavailable");
    assert.deepEqual(odd.slice(0, 5), [], `only 503 store_unavailable refusals (${odd.length} others)`);
    const during = outcomes.filter((o) => o.start >= down && o.end <= back);
    assert.ok(during.length > 0, "requests were answered during the outage");
    assert.ok(
      during.every((o) => o.status === 503),
      "no token while the store is gone",
    );
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  const client = new pgClient.Client({ connectionString: db });
  await client.connect();
  try {
    const rows = Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM audit WHERE actor = 'loader' AND action = 'token.issue' AND outcome = 'issued'")).rows[0]?.n);
    assert.ok(rows >= received, `audit rows ${rows} < tokens received ${received}`);
  } finally {
    await client.end();
  }
  assert.equal(await s.stop(), 0, s.stderr().slice(-1000));
  serve = undefined;
});
