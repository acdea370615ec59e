/**
 * `serve --public-url`: only an absolute http(s) URL that kubeconfigs and cb-spider's sh/curl script
 * carry as given; anything else is refused at start, before a store is opened or a port taken. And
 * every kubeconfig names it (the load balancer), not the instance that answered: `/v1/…/kubeconfig`,
 * `/spider`'s AccessInfo, and `kubeiam broker update-kubeconfig`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parsePublicUrl, startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { brokerCredentialsFile, readBrokerCredentials, saveBrokerToken } from "../../src/broker/client/credentials.js";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { UsageError } from "../../src/lib/errors.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";
import { runInProcess } from "../helpers/cli.js";
import { call } from "./helpers.js";

test("parsePublicUrl: an absolute http(s) URL, perhaps with a port and a path, without its trailing slash", () => {
  assert.equal(parsePublicUrl("https://broker.example.com/"), "https://broker.example.com");
  assert.equal(parsePublicUrl("http://10.0.0.5:8750"), "http://10.0.0.5:8750");
  assert.equal(parsePublicUrl("https://lb.example/kubeiam/"), "https://lb.example/kubeiam");
  assert.equal(parsePublicUrl("https://[2001:db8::1]:8443"), "https://[2001:db8::1]:8443");
  assert.equal(parsePublicUrl("HTTPS://LB.Example"), "https://lb.example");
});

test("parsePublicUrl: refuses what is not an absolute http(s) URL, or carries spaces, credentials, a query or a fragment", () => {
  const refusals: [string, RegExp][] = [
    ["javascript:alert(1)", /is not an http:\/\/ or https:\/\/ URL/],
    ["ftp://lb.example", /is not an http:\/\/ or https:\/\/ URL/],
    ["lb.example:8750", /is not an http:\/\/ or https:\/\/ URL/],
    ["/relative", /is not an http:\/\/ or https:\/\/ URL/],
    ["http://a b", /has characters .*a space/],
    ["https://lb.example/\t", /has characters/],
    ["https://kubeiam:pw@lb.example", /has characters .*@/],
    ["https://lb.example/#frag", /has characters .*#/],
    ["https://lb.example/?a=1", /has characters .*\?/],
    ['https://lb.example/"$(id)"', /has characters/],
    ["https://", /names no host/],
    ["http:///path", /names no host/],
    ["https://a%20b", /is not a URL/],
  ];
  for (const [value, why] of refusals) {
    assert.throws(
      () => parsePublicUrl(value),
      (e: unknown) => e instanceof UsageError && why.test(e.message) && /: give the absolute URL people reach the broker at/.test(e.message) && !e.message.includes("\n"),
      value,
    );
  }
});

test("startBroker refuses a bad --public-url before it opens the store: no database is left", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeiam-public-url-"));
  try {
    const db = join(dir, "b.db");
    await assert.rejects(
      startBroker({ db: `sqlite:${db}`, listen: "127.0.0.1:0", masterKey: randomBytes(32).toString("base64"), publicUrl: "javascript:alert(1)", home: dir, cwd: dir, logStream: false }),
      UsageError,
    );
    assert.ok(!existsSync(db), "nothing was created");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const PUBLIC = "https://lb.example:8443";
const AK = "NCPTESTACCESSKEY0002";
const SK = randomBytes(20).toString("hex");
const UUID = "4a1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7c";
let root: string;
let ncp: StandIn;
let broker: RunningBroker;
let userToken: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "kubeiam-public-url-kc-"));
  ncp = await startNcpApiStandIn({ accessKey: AK, secretKey: SK, region: "KR", clusters: [{ uuid: UUID, name: "lb", status: "RUNNING", endpoint: "https://lb-cluster.example", caData: Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBlb\n-----END CERTIFICATE-----\n").toString("base64") }] });
  broker = await startBroker({ db: `sqlite:${join(root, "b.db")}`, listen: "127.0.0.1:0", masterKey: randomBytes(32).toString("base64"), publicUrl: `${PUBLIC}/`, home: root, cwd: root, logStream: false });
  const admin = broker.adminToken ?? "";
  const ok = async (p: Promise<{ status: number; text: string }>, status: number) => {
    const r = await p;
    assert.equal(r.status, status, r.text);
  };
  await ok(call(broker.url, "POST", "/v1/credentials", { token: admin, body: { name: "ncp", provider: "ncp", ncp: { accessKey: AK, secretKey: SK, apiUrl: ncp.url } } }), 201);
  await ok(call(broker.url, "POST", "/v1/clusters", { token: admin, body: { name: "behind-lb", credential: "ncp", region: "KR", connection: "conn", ncp: { clusterUuid: UUID } } }), 201);
  const user = await call(broker.url, "POST", "/v1/users", { token: admin, body: { name: "lou" } });
  userToken = user.json.token as string;
  await ok(call(broker.url, "PUT", "/v1/grants/lou/behind-lb", { token: admin }), 204);
});
after(async () => {
  await broker?.close();
  await ncp?.close();
  rmSync(root, { recursive: true, force: true });
});

/** The `--server` of the exec user in a kubeconfig. */
function execServer(text: string): string | undefined {
  const args = parseKubeconfig(text).users[0]?.user.exec?.args ?? [];
  return args[args.indexOf("--server") + 1];
}

test("GET /v1/clusters/{name}/kubeconfig and /spider's AccessInfo name --public-url, not the instance asked", async () => {
  const v1 = await call(broker.url, "GET", "/v1/clusters/behind-lb/kubeconfig", { token: userToken });
  assert.equal(v1.status, 200, v1.text);
  assert.equal(execServer(v1.text), PUBLIC);
  assert.ok(!v1.text.includes(broker.url), "the instance's own address is nowhere");
  const basic = Buffer.from(`lou:${userToken}`).toString("base64");
  const spider = await call(broker.url, "GET", "/spider/cluster/behind-lb?ConnectionName=conn", { headers: { authorization: `Basic ${basic}` } });
  assert.equal(spider.status, 200, spider.text);
  assert.match(spider.json.AccessInfo.Kubeconfig, new RegExp(`"${PUBLIC}/spider/cluster/behind-lb/token\\?ConnectionName=conn"`));
  const native = await call(broker.url, "GET", "/spider/cluster/behind-lb?ConnectionName=conn&KubeconfigType=native", { headers: { authorization: `Basic ${basic}` } });
  assert.equal(execServer(native.json.AccessInfo.Kubeconfig), PUBLIC);
});

test("broker update-kubeconfig writes the broker's --public-url into the exec plugin's --server, and keeps the login's token for it", async () => {
  const home = join(root, "home-login");
  const env = { HOME: home };
  await saveBrokerToken(brokerCredentialsFile(env), broker.url, userToken);
  const kubeconfig = join(home, "config");
  const r = await runInProcess(["broker", "update-kubeconfig", "--server", broker.url, "--cluster", "behind-lb", "--kubeconfig", kubeconfig], { env });
  assert.equal(r.status, 0, r.err);
  assert.equal(execServer(await readFile(kubeconfig, "utf8")), PUBLIC);
  assert.match(r.out, new RegExp(`broker cluster behind-lb at ${PUBLIC.replace(/\./g, "\\.")}\\)`));
  assert.match(r.err, new RegExp(`the broker names itself ${PUBLIC.replace(/\./g, "\\.")} \\(its --public-url\\), so the kubeconfig does; your broker token for .* is now kept for`));
  assert.ok(!r.err.includes(userToken) && !r.out.includes(userToken), "no token in the output");
  const { servers } = await readBrokerCredentials(brokerCredentialsFile(env));
  assert.equal(servers[PUBLIC]?.token, userToken, "the plugin finds the token under the address it is given");
  assert.equal(servers[broker.url]?.token, userToken);
});

test("broker update-kubeconfig with KUBEIAM_BROKER_TOKEN names --public-url too, and changes no credentials file", async () => {
  const home = join(root, "home-env");
  const env = { HOME: home, KUBEIAM_BROKER_TOKEN: userToken };
  const r = await runInProcess(["broker", "update-kubeconfig", "--server", broker.url, "--cluster", "behind-lb", "--kubeconfig", join(home, "config")], { env });
  assert.equal(r.status, 0, r.err);
  assert.equal(execServer(await readFile(join(home, "config"), "utf8")), PUBLIC);
  assert.match(r.err, /KUBEIAM_BROKER_TOKEN is sent there too/);
  assert.ok(!existsSync(brokerCredentialsFile(env)));
});
