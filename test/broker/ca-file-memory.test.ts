/**
 * `kubeiam broker login --ca-file PEM` keeps the broker's CA with that server's token (issue 18), so
 * later `broker token`, `broker clusters` and admin commands to that server trust it without the
 * flag; an explicit --ca-file wins; a later login without the flag keeps it. Against a real HTTPS
 * server on 127.0.0.1 whose certificate a private CA signed.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalCa } from "../../src/sandbox/ca.js";
import { assertOneLine, runInProcess } from "../helpers/cli.js";

const TOKEN = `kbi_${randomBytes(32).toString("base64url")}`;
let root: string;
let server: Server;
let url: string;
let caFile: string;
let otherCaFile: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-ca-memory-"));
  const ca = await createLocalCa("kubeiam ca-memory test CA");
  const cert = await ca.issueServerCert({ ips: ["127.0.0.1"] });
  const other = await createLocalCa("kubeiam other CA");
  caFile = join(root, "ca.pem");
  otherCaFile = join(root, "other.pem");
  await writeFile(caFile, ca.certPem);
  await writeFile(otherCaFile, other.certPem);
  server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: { code: "unauthorized", message: "the broker token is not known" } }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    if (req.url === "/v1/clusters") return void res.end(JSON.stringify({ clusters: [{ name: "prod", provider: "ncp", region: "KR", endpoint: "https://k.example" }] }));
    res.end(JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1", status: { token: "k8s-ncp-v1.abc", expirationTimestamp: "2030-01-01T00:00:00Z" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

test("login --ca-file keeps the CA per server (0600); token, clusters and admin commands use it without the flag; --ca-file wins", async () => {
  const home = await mkdtemp(join(root, "home-"));
  const env = { HOME: home };
  const token = ["broker", "token", "--server", url, "--cluster", "prod", "--api-version", "v1"];
  // Before any login: the private CA is not trusted.
  assertOneLine(await runInProcess(token, { env: { ...env, KUBEIAM_BROKER_TOKEN: TOKEN } }), 5, /not trusted .*pass its CA with --ca-file PEM/, [TOKEN]);

  const login = await runInProcess(["broker", "login", "--server", url, "--ca-file", caFile], { env, stdin: TOKEN });
  assert.equal(login.status, 0, login.err);
  assert.match(login.err, /logged in to https:\/\/127\.0\.0\.1:\d+ \(1 cluster granted\); token and the broker's CA kept in /);
  const file = join(home, ".kubeiam", "credentials.json");
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const kept = JSON.parse(await readFile(file, "utf8")) as { servers: Record<string, { token: string; ca: string }> };
  assert.equal(kept.servers[url]?.ca, await readFile(caFile, "utf8"));

  const t = await runInProcess(token, { env });
  assert.equal(t.status, 0, t.err);
  assert.equal(JSON.parse(t.out).status.token, "k8s-ncp-v1.abc");
  const c = await runInProcess(["broker", "clusters", "--server", url], { env });
  assert.equal(c.status, 0, c.err);
  assert.match(c.out, /prod\s+ncp\s+KR/);
  // An admin command reaches the server too (its answer to /v1/users is the double's, not a list: what matters is TLS passed).
  const admin = await runInProcess(["broker", "user", "list", "--server", url], { env });
  assert.doesNotMatch(admin.err, /TLS/);
  // KUBEIAM_BROKER_TOKEN changes the token, not the CA.
  assert.equal((await runInProcess(token, { env: { ...env, KUBEIAM_BROKER_TOKEN: TOKEN } })).status, 0);
  // An explicit --ca-file wins over the kept one.
  assertOneLine(await runInProcess([...token, "--ca-file", otherCaFile], { env }), 5, /not trusted/, [TOKEN]);

  // A new login without --ca-file keeps the CA.
  const again = await runInProcess(["broker", "login", "--server", url], { env, stdin: TOKEN });
  assert.equal(again.status, 0, again.err);
  assert.equal((await runInProcess(token, { env })).status, 0);
});
