/**
 * The broker clients against a broker serving TLS with a certificate from a private CA (made here):
 * `kubeiam broker token` with `--ca-file`, with `NODE_EXTRA_CA_CERTS`, and refused without either;
 * `broker update-kubeconfig --ca-file` writes a kubeconfig whose plugin passes the CA on, and the real
 * kubectl reaches the sandbox cluster through it; `createBrokerProvider({ ca })` lists the clusters.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { createBrokerProvider } from "../../src/broker/client/provider.js";
import { createLocalCa } from "../../src/sandbox/ca.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { assertOneLine, type CliRun } from "../helpers/cli.js";
import { startConnectProxy, type ConnectProxy } from "../helpers/connect-proxy.js";
import { CLI, newMasterKey, startCliChild, type ReadyChild, type ServeLine } from "../helpers/serve-process.js";
import { requireTools } from "../helpers/tools.js";

// The real tools, or one line saying what to install (test/helpers/tools.ts).
before(() => requireTools("kubectl"));

let root: string;
let bin: string;
let caFile: string;
let caPem: string;
let sandbox: Sandbox;
let broker: ReadyChild<ServeLine>;
let url: string;
let alice: string;
let proxy: ConnectProxy;
let adminToken: string;
/**
 * A broker on loopback is never reached through a proxy (BROKER.md; Go's rule), so the proxied cases
 * name it by a host that only the test proxy resolves (to 127.0.0.1); its certificate names it too.
 */
const FAR_HOST = "broker.kubeiam.test";
const farUrl = (): string => url.replace("127.0.0.1", FAR_HOST);

/** One JSON request to the TLS broker, trusting the test CA. */
function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, ca: caPem, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text === "" ? undefined : (JSON.parse(text) as unknown) }));
    });
    req.setTimeout(20_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, out, err });
    });
  });
}

const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: [bin, dirname(process.execPath), "/usr/local/bin:/usr/bin:/bin"].join(delimiter),
  HOME: join(root, "home"),
  KUBEIAM_BROKER_TOKEN: alice,
  ...extra,
});

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-broker-tls-"));
  bin = join(root, "bin");
  await mkdir(bin);
  await mkdir(join(root, "home"));
  await symlink(CLI, join(bin, "kubeiam"));
  const ca = await createLocalCa("kubeiam broker test CA");
  caPem = ca.certPem;
  const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost", FAR_HOST], ips: ["127.0.0.1"] });
  caFile = join(root, "broker-ca.pem");
  await writeFile(caFile, caPem);
  await writeFile(join(root, "cert.pem"), certPem);
  await writeFile(join(root, "key.pem"), keyPem, { mode: 0o600 });
  sandbox = await startSandbox();
  proxy = await startConnectProxy({ hosts: { [FAR_HOST]: "127.0.0.1" } });
  broker = await startCliChild<ServeLine>(
    ["serve", "--db", `sqlite:${join(root, "broker.db")}`, "--listen", "127.0.0.1:0", "--tls-cert", join(root, "cert.pem"), "--tls-key", join(root, "key.pem")],
    { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, KUBEIAM_MASTER_KEY: newMasterKey() },
  );
  url = broker.line.url;
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const admin = broker.line.adminToken as string;
  adminToken = admin;
  const c = sandbox.clusters.find((x) => x.status === "RUNNING" && x.endpoint !== null);
  assert.ok(c);
  const ok = async (r: Promise<{ status: number; json: unknown }>, status: number): Promise<unknown> => {
    const a = await r;
    assert.equal(a.status, status, JSON.stringify(a.json));
    return a.json;
  };
  await ok(call("POST", "/v1/credentials", admin, { name: "sbx", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } }), 201);
  await ok(call("POST", "/v1/clusters", admin, { name: "demo", credential: "sbx", region: c.region, ncp: { clusterUuid: c.uuid } }), 201);
  alice = ((await ok(call("POST", "/v1/users", admin, { name: "alice", role: "user" }), 201)) as { token: string }).token;
  await ok(call("PUT", "/v1/grants/alice/demo", admin), 204);
});

after(async () => {
  await broker?.stop();
  await proxy?.close();
  await sandbox?.close();
  await rm(root, { recursive: true, force: true });
});

test("broker token over TLS: --ca-file, NODE_EXTRA_CA_CERTS, and refused without the CA", async () => {
  const args = [CLI, "broker", "token", "--server", url, "--cluster", "demo"];
  const withFlag = await run(process.execPath, [...args, "--ca-file", caFile], env());
  assert.equal(withFlag.status, 0, withFlag.err);
  assert.match(withFlag.out, /"token":"k8s-ncp-v1\./);
  const withEnv = await run(process.execPath, args, env({ NODE_EXTRA_CA_CERTS: caFile }));
  assert.equal(withEnv.status, 0, withEnv.err);
  assert.match(withEnv.out, /"token":"k8s-ncp-v1\./);
  assertOneLine(await run(process.execPath, args, env()), 5, /refused by TLS: its TLS certificate (is self-signed and not trusted|chains to a CA that is not trusted|is signed by a CA that is not trusted) \(\w+\): pass its CA with --ca-file PEM/, [alice]);
});

test("update-kubeconfig --ca-file: the plugin gets the CA too, and kubectl reaches the cluster", async () => {
  const kubeconfig = join(root, "home", "config");
  const up = await run(process.execPath, [CLI, "broker", "update-kubeconfig", "--server", url, "--cluster", "demo", "--kubeconfig", kubeconfig, "--ca-file", caFile], env());
  assert.equal(up.status, 0, up.err);
  const text = await readFile(kubeconfig, "utf8");
  assert.ok(text.includes(`- --ca-file\n      - ${caFile}\n`), text);
  // kubectl's environment has no token variable: the login file holds it.
  const e = env();
  delete e.KUBEIAM_BROKER_TOKEN;
  const login = await new Promise<CliRun>((resolve) => {
    const child = spawn(process.execPath, [CLI, "broker", "login", "--server", url, "--ca-file", caFile], { env: e, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) => resolve({ status: code ?? -1, out, err }));
    child.stdin.on("error", () => undefined); // a child that exits without reading its input (EPIPE)
    child.stdin.end(alice);
  });
  assert.equal(login.status, 0, login.err);
  const k = await run("kubectl", ["--kubeconfig", kubeconfig, "--request-timeout=20s", "get", "--raw", "/version"], e);
  assert.equal(k.status, 0, k.err);
  assert.equal((JSON.parse(k.out) as { major: string }).major, "1");
});

test("createBrokerProvider({ ca }) over TLS", async () => {
  const provider = createBrokerProvider({ server: url, token: alice, ca: caPem });
  assert.deepEqual((await provider.listClusters()).map((c) => c.name), ["demo"]);
  const t = await provider.mintToken((await provider.listClusters())[0]!.ref);
  assert.match(t.token, /^k8s-ncp-v1\./);
  await assert.rejects(createBrokerProvider({ server: url, token: alice }).listClusters(), (e: Error & { code?: string }) => e.code === "ERR_NETWORK" && /not trusted/.test(e.message));
});

test("HTTPS_PROXY: broker token, clusters and the admin CLI go through one CONNECT tunnel each (TLS to the broker inside, --ca-file trusted); NO_PROXY for another port does not exempt; a dead proxy is one line naming it", async () => {
  const port = new URL(url).port;
  const far = farUrl();
  const viaProxy = env({ HTTPS_PROXY: proxy.url });
  proxy.tunnels.length = 0;
  const token = await run(process.execPath, [CLI, "broker", "token", "--server", far, "--cluster", "demo", "--ca-file", caFile], viaProxy);
  assert.equal(token.status, 0, token.err);
  assert.match(token.out, /"token":"k8s-ncp-v1\./);
  assert.deepEqual(proxy.tunnels, [`${FAR_HOST}:${port}`], "the plugin's request went through one tunnel");
  // Lower-case https_proxy and NODE_EXTRA_CA_CERTS work the same way.
  const lower = await run(process.execPath, [CLI, "broker", "token", "--server", far, "--cluster", "demo"], env({ https_proxy: proxy.url, NODE_EXTRA_CA_CERTS: caFile }));
  assert.equal(lower.status, 0, lower.err);
  assert.equal(proxy.tunnels.length, 2);
  const clusters = await run(process.execPath, [CLI, "broker", "clusters", "--server", far, "--ca-file", caFile, "-o", "json"], viaProxy);
  assert.equal(clusters.status, 0, clusters.err);
  assert.equal(proxy.tunnels.length, 3, "broker clusters too");
  const users = await run(process.execPath, [CLI, "broker", "user", "list", "--server", far, "--ca-file", caFile, "-o", "json"], env({ HTTPS_PROXY: proxy.url, KUBEIAM_BROKER_TOKEN: adminToken }));
  assert.equal(users.status, 0, users.err);
  assert.ok((JSON.parse(users.out) as { users: { name: string }[] }).users.some((u) => u.name === "alice"));
  assert.equal(proxy.tunnels.length, 4, "the admin CLI too");

  // A NO_PROXY entry for another port does not exempt the broker.
  const otherPort = await run(process.execPath, [CLI, "broker", "token", "--server", far, "--cluster", "demo", "--ca-file", caFile], env({ HTTPS_PROXY: proxy.url, NO_PROXY: `${FAR_HOST}:1` }));
  assert.equal(otherPort.status, 0, otherPort.err);
  assert.equal(proxy.tunnels.length, 5);

  const dead = `http://user:proxy-pass@127.0.0.1:1`;
  assertOneLine(
    await run(process.execPath, [CLI, "broker", "token", "--server", far, "--cluster", "demo", "--ca-file", caFile], env({ HTTPS_PROXY: dead })),
    5,
    /broker https:\/\/broker\.kubeiam\.test:\d+ is unreachable through the proxy http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): .*HTTPS_PROXY and NO_PROXY/,
    [alice, "proxy-pass"],
  );
  assert.equal(proxy.refused.length, 0, "never a plain request to the proxy: the token travels only inside the TLS tunnel");
});

test("a broker on loopback (127.0.0.0/8, localhost) is never proxied: broker token, clusters, user list and login go direct whatever HTTPS_PROXY and HTTP_PROXY say", async () => {
  const port = new URL(url).port;
  const before = proxy.tunnels.length;
  const proxied = { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, https_proxy: proxy.url, http_proxy: proxy.url };
  for (const server of [url, `https://localhost:${port}`]) {
    const token = await run(process.execPath, [CLI, "broker", "token", "--server", server, "--cluster", "demo", "--ca-file", caFile], env(proxied));
    assert.equal(token.status, 0, token.err);
    const clusters = await run(process.execPath, [CLI, "broker", "clusters", "--server", server, "--ca-file", caFile, "-o", "json"], env(proxied));
    assert.equal(clusters.status, 0, clusters.err);
    const users = await run(process.execPath, [CLI, "broker", "user", "list", "--server", server, "--ca-file", caFile, "-o", "json"], env({ ...proxied, KUBEIAM_BROKER_TOKEN: adminToken }));
    assert.equal(users.status, 0, users.err);
    const e = env(proxied);
    delete e.KUBEIAM_BROKER_TOKEN;
    const login = await new Promise<CliRun>((resolve) => {
      const child = spawn(process.execPath, [CLI, "broker", "login", "--server", server, "--ca-file", caFile], { env: e, stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      child.on("close", (code) => resolve({ status: code ?? -1, out, err }));
      child.stdin.on("error", () => undefined);
      child.stdin.end(alice);
    });
    assert.equal(login.status, 0, login.err);
  }
  assert.equal(proxy.tunnels.length, before, `no tunnel to loopback: ${proxy.tunnels.slice(before).join(", ")}`);
  assert.equal(proxy.refused.length, 0, "and no plain request carrying a token");
});

test("createBrokerProvider behind HTTPS_PROXY: one tunnel per call to a far broker, none to loopback", async () => {
  const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
  process.env.HTTPS_PROXY = proxy.url;
  delete process.env.NO_PROXY;
  try {
    const before = proxy.tunnels.length;
    const provider = createBrokerProvider({ server: farUrl(), token: alice, ca: caPem });
    assert.deepEqual((await provider.listClusters()).map((c) => c.name), ["demo"]);
    assert.equal(proxy.tunnels.length, before + 1);
    assert.deepEqual((await createBrokerProvider({ server: url, token: alice, ca: caPem }).listClusters()).map((c) => c.name), ["demo"]);
    assert.equal(proxy.tunnels.length, before + 1, "loopback: no tunnel");
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
