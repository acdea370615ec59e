/**
 * `kubeiam serve` as users run it (the built CLI, a child process): the ready line and files it
 * makes, the refusals before serving (one line, non-zero exit, nothing changed), TLS, graceful stop,
 * two starts racing on one empty embedded store, and SIGKILL under load: every token a client
 * received has its audit row.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pgClient from "pg";
import { NEEDS_POSTGRES, startTestPostgres } from "../helpers/postgres.js";
import { createLocalCa } from "../../src/sandbox/ca.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { assertOneLine } from "../helpers/cli.js";
import { call } from "./helpers.js";
import { childEnv, runCliChild, startServe, type ServeChild } from "./serve-helpers.js";
import { SCHEMA_VERSION } from "../../src/broker/store/migrations.js";

let dir: string;
let sandbox: Sandbox;
const children: ServeChild[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-serve-"));
  sandbox = await startSandbox();
});
after(async () => {
  for (const c of children) await c.stop();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const home = (name: string): string => {
  const h = join(dir, name);
  return h;
};

test("first start on the default embedded store: one ready line with the admin token; 0700 folder, 0600 files; a restart omits the token; SIGTERM exits 0", async () => {
  const h = home("default");
  const s = await startServe(["--listen", "127.0.0.1:0"], childEnv(h));
  children.push(s);
  assert.deepEqual(Object.keys(s.ready), ["url", "db", "adminToken"]);
  assert.match(s.ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(s.ready.db, `sqlite:${join(h, ".kubeiam", "broker.db")}`);
  assert.match(s.ready.adminToken ?? "", /^kbi_[A-Za-z0-9_-]{43}$/);
  assert.equal(statSync(join(h, ".kubeiam")).mode & 0o777, 0o700);
  assert.equal(statSync(join(h, ".kubeiam", "broker.db")).mode & 0o777, 0o600);
  assert.equal(statSync(join(h, ".kubeiam", "master.key")).mode & 0o777, 0o600);
  assert.equal(Buffer.from(readFileSync(join(h, ".kubeiam", "master.key"), "utf8").trim(), "base64").length, 32);
  const health = await call(s.ready.url, "GET", "/healthz");
  assert.equal(health.status, 200);
  assert.equal((await call(s.ready.url, "GET", "/v1/users", { token: s.ready.adminToken })).status, 200);
  assert.equal(await s.stop(), 0);
  assert.equal(s.stdout().split("\n").length, 2, "only the ready line on stdout");
  for (const line of s.stderr().trim().split("\n")) JSON.parse(line);
  assert.ok(!s.stderr().includes(s.ready.adminToken ?? "-"), "the token is not logged");
  const again = await startServe(["--listen", "127.0.0.1:0"], childEnv(h));
  children.push(again);
  assert.deepEqual(Object.keys(again.ready), ["url", "db"]);
  assert.equal((await call(again.ready.url, "GET", "/v1/users", { token: s.ready.adminToken })).status, 200, "the admin token still works");
  assert.equal(await again.stop(), 0);
});

test("refusals before serving, each one line and a non-zero exit", async () => {
  const h = home("refusals");
  const db = `sqlite:${join(h, "b.db")}`;
  const key = randomBytes(32).toString("base64");
  const run = (args: string[], extra: Record<string, string> = {}) => runCliChild(["serve", ...args], childEnv(h, extra));

  // Independent refusals, run side by side: each child starts, refuses and exits.
  const independent: [string[], Record<string, string>, number, RegExp, string[]][] = [
    [["--listen", "0.0.0.0:0", "--db", db], {}, 2, /listening on 0\.0\.0\.0 without TLS .*--tls-cert and --tls-key/, []],
    [["--db", "postgres://kubeiam:pw@127.0.0.1:1/broker", "--listen", "127.0.0.1:0"], {}, 3, /PostgreSQL store needs the master key/, ["pw@"]],
    [["--db", db, "--listen", "127.0.0.1:0", "--tls-cert", join(h, "none.pem"), "--tls-key", join(h, "none.key")], {}, 3, /cannot read --tls-cert .*none\.pem \(ENOENT\)/, []],
    [["--db", db, "--listen", "127.0.0.1:0", "--tls-cert", join(h, "none.pem")], {}, 2, /--tls-cert and --tls-key go together/, []],
    [["--db", db, "--listen", "localhost"], {}, 2, /--listen "localhost" is not HOST:PORT/, []],
    [["--db", "mysql://x", "--listen", "127.0.0.1:0"], {}, 2, /neither sqlite:PATH nor postgres/, []],
    [["--db", db, "--listen", "127.0.0.1:0", "--rate-limit", "0"], {}, 2, /--rate-limit "0"/, []],
    [["--db", db, "--listen", "127.0.0.1:0"], { KUBEIAM_MASTER_KEY: "c2hvcnQ=" }, 3, /KUBEIAM_MASTER_KEY is 5 bytes, not 32/, []],
    // A --public-url that kubeconfigs and cb-spider's sh/curl script would carry wrongly.
    [["--db", db, "--listen", "127.0.0.1:0", "--public-url", "javascript:alert(1)"], {}, 2, /--public-url "javascript:alert\(1\)" is not an http:\/\/ or https:\/\/ URL: give the absolute URL/, []],
    [["--db", db, "--listen", "127.0.0.1:0", "--public-url", "http://a b"], {}, 2, /--public-url "http:\/\/a b" has characters .*a space/, []],
  ];
  const answers = await Promise.all(independent.map(([args, extra]) => run(args, extra)));
  answers.forEach((r, i) => {
    const [, , status, pattern, secrets] = independent[i] as (typeof independent)[number];
    assertOneLine(r, status, pattern, secrets);
  });
  assert.ok(!existsSync(join(h, "b.db")), "no refusal left a database behind");

  // A store made under one key, then started with another.
  const first = await startServe(["--db", db, "--listen", "127.0.0.1:0"], childEnv(h, { KUBEIAM_MASTER_KEY: key }));
  assert.equal(await first.stop(), 0);
  const before = readFileSync(join(h, "b.db"));
  assertOneLine(await run(["--db", db, "--listen", "127.0.0.1:0"], { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") }), 3, /sealed under another master key/);
  // The store holds no credential yet: the line says what is true (it is not new), not "sealed keys".
  const noKey = await run(["--db", db, "--listen", "127.0.0.1:0"]);
  assertOneLine(noKey, 3, /master key file .* does not exist, and sqlite:.*b\.db is not a new database: give the master key it was created with/);
  assert.ok(!/sealed keys/.test(noKey.err), noKey.err);

  // A taken port.
  const holder = await startServe(["--db", db, "--listen", "127.0.0.1:0"], childEnv(h, { KUBEIAM_MASTER_KEY: key }));
  children.push(holder);
  const port = new URL(holder.ready.url).port;
  assertOneLine(await run(["--db", db, "--listen", `127.0.0.1:${port}`], { KUBEIAM_MASTER_KEY: key }), 2, new RegExp(`127\\.0\\.0\\.1:${port} is taken`));
  assert.equal(await holder.stop(), 0);

  // A store from a newer kubeiam.
  const sqlite = new Database(join(h, "b.db"));
  sqlite.prepare("UPDATE kubeiam_meta SET value = '99' WHERE key = 'schema_version'").run();
  sqlite.close();
  assertOneLine(await run(["--db", db, "--listen", "127.0.0.1:0"], { KUBEIAM_MASTER_KEY: key }), 7, new RegExp(`schema version 99, newer than this kubeiam's ${SCHEMA_VERSION}`));
  assert.ok(before.length > 0);
});

test("TLS: --tls-cert and --tls-key serve HTTPS that a client trusting the CA reaches", async () => {
  const h = home("tls");
  const ca = await createLocalCa("kubeiam serve test CA");
  const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost"], ips: ["127.0.0.1"] });
  writeFileSync(join(dir, "tls.pem"), certPem);
  writeFileSync(join(dir, "tls.key"), keyPem, { mode: 0o600 });
  const s = await startServe(
    ["--db", `sqlite:${join(h, "b.db")}`, "--listen", "127.0.0.1:0", "--tls-cert", join(dir, "tls.pem"), "--tls-key", join(dir, "tls.key")],
    childEnv(h),
  );
  children.push(s);
  assert.match(s.ready.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${s.ready.url}/healthz`, { ca: ca.certPem, timeout: 10_000 }, (res) => {
      let t = "";
      res.on("data", (c: Buffer) => (t += c.toString()));
      res.on("end", () => resolve(`${res.statusCode} ${t}`));
    });
    req.on("error", reject);
    req.end();
  });
  assert.equal(body, '200 {"status":"ok"}');
  assert.equal(await s.stop(), 0);
});

test("two starts at once on one empty embedded store: one schema, exactly one prints an admin token", async () => {
  const h = home("race");
  const env = childEnv(h, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") });
  const db = `sqlite:${join(h, "b.db")}`;
  const [a, b] = await Promise.all([startServe(["--db", db, "--listen", "127.0.0.1:0"], env), startServe(["--db", db, "--listen", "127.0.0.1:0"], env)]);
  children.push(a, b);
  assert.equal([a, b].filter((s) => s.ready.adminToken !== undefined).length, 1);
  const token = a.ready.adminToken ?? b.ready.adminToken;
  const users = await call(b.ready.url, "GET", "/v1/users", { token });
  assert.deepEqual(users.json.users.map((u: { name: string }) => u.name), ["admin"]);
  assert.equal(await a.stop(), 0);
  assert.equal(await b.stop(), 0);
});

for (const kind of ["sqlite", "postgres"] as const) {
  test(`SIGKILL under load (${kind}): every token a client received has its audit row`, { skip: kind === "postgres" && NEEDS_POSTGRES }, async () => {
    const h = home(`kill-${kind}`);
    const key = randomBytes(32).toString("base64");
    const dbFile = join(h, "b.db");
    const pg = kind === "postgres" ? await startTestPostgres() : undefined;
    try {
      const db = pg === undefined ? `sqlite:${dbFile}` : await pg.newDatabase("kill");
      const s = await startServe(["--db", db, "--listen", "127.0.0.1:0"], childEnv(h, { KUBEIAM_MASTER_KEY: key }));
      children.push(s);
      const url = s.ready.url;
      const admin = s.ready.adminToken;
      const c = sandbox.clusters.find((x) => x.status === "RUNNING");
      assert.ok(c);
      assert.equal(
        (await call(url, "POST", "/v1/credentials", { token: admin, body: { name: "sb", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } } })).status,
        201,
      );
      assert.equal((await call(url, "POST", "/v1/clusters", { token: admin, body: { name: "kr", credential: "sb", region: c.region, ncp: { clusterUuid: c.uuid } } })).status, 201);
      const user = await call(url, "POST", "/v1/users", { token: admin, body: { name: "loader" } });
      await call(url, "PUT", "/v1/grants/loader/kr", { token: admin });
      const received: string[] = [];
      let stop = false;
      const worker = async (): Promise<void> => {
        while (!stop) {
          try {
            const r = await fetch(`${url}/v1/clusters/kr/token`, { headers: { authorization: `Bearer ${user.json.token}` }, signal: AbortSignal.timeout(10_000) });
            const text = await r.text();
            if (r.status === 200) received.push((JSON.parse(text) as { status: { token: string } }).status.token);
          } catch {
            return; // the server is gone
          }
        }
      };
      const workers = Array.from({ length: 32 }, worker);
      const deadline = Date.now() + 20_000;
      while (received.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      s.child.kill("SIGKILL");
      stop = true;
      await Promise.all(workers);
      assert.ok(received.length >= 300, `tokens received under load: ${received.length}`);
      const count = "SELECT count(*) AS n FROM audit WHERE actor = 'loader' AND action = 'token.issue' AND outcome = 'issued'";
      let rows: number;
      if (pg === undefined) {
        const sqlite = new Database(dbFile, { readonly: true });
        rows = (sqlite.prepare(count).get() as { n: number }).n;
        sqlite.close();
      } else {
        const client = new pgClient.Client({ connectionString: db });
        await client.connect();
        rows = Number((await client.query<{ n: string }>(count)).rows[0]?.n);
        await client.end();
      }
      assert.ok(rows >= received.length, `audit rows ${rows} < tokens received ${received.length}`);
    } finally {
      await pg?.stop();
    }
  });
}

test("SIGTERM: stops accepting, finishes the request in flight (its answer arrives), exits 0", async () => {
  const h = home("sigterm");
  let arrived: () => void = () => undefined;
  const seen = new Promise<void>((r) => (arrived = r));
  // An NCP API that takes its time: the cluster lookup is in flight when SIGTERM comes.
  const slow = createHttpServer((_req, res) => {
    arrived();
    setTimeout(() => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { errorCode: "404", message: "Not Found", details: "Cluster was not found." } }));
    }, 1500);
  });
  await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
  try {
    const apiUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const s = await startServe(["--db", `sqlite:${join(h, "b.db")}`, "--listen", "127.0.0.1:0"], childEnv(h, { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64") }));
    children.push(s);
    const admin = s.ready.adminToken;
    await call(s.ready.url, "POST", "/v1/credentials", { token: admin, body: { name: "slow", provider: "ncp", ncp: { accessKey: "AKSLOW", secretKey: "s", apiUrl } } });
    const inFlight = call(s.ready.url, "POST", "/v1/clusters", { token: admin, body: { name: "c", credential: "slow", region: "KR", ncp: { clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b" } } });
    await seen;
    const exited = new Promise<number | null>((r) => s.child.once("exit", (code) => r(code)));
    s.child.kill("SIGTERM");
    const answer = await inFlight;
    assert.equal(answer.status, 404, answer.text);
    assert.equal(answer.json.error.code, "not_found");
    assert.equal(await exited, 0, "a clean exit after the answer");
  } finally {
    await new Promise<void>((r) => slow.close(() => r()));
  }
});
