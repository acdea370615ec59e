/**
 * HTTP_PROXY / NO_PROXY are honoured by the NKS API client (undici's EnvHttpProxyAgent): the built
 * CLI's requests go through a loopback forward proxy, or around it when NO_PROXY names the host.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, request, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";

let standIn: StandIn;
let proxy: Server;
let proxyUrl: string;
const proxied: string[] = [];

before(async () => {
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    clusters: [{ uuid: UUID, name: "demo", status: "RUNNING", endpoint: "https://demo.example", caData: Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64") }],
  });
  // A forward proxy: absolute-form requests are passed on to the origin.
  proxy = createServer((req, res) => {
    proxied.push(req.url ?? "");
    const target = new URL(req.url ?? "");
    const upstream = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  // undici tunnels through the proxy with CONNECT (as it must for https origins).
  proxy.on("connect", (req, socket, head) => {
    proxied.push(`CONNECT ${req.url ?? ""}`);
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host ?? "", () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
after(async () => {
  await standIn.close();
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
});

const run = (extra: Record<string, string>) =>
  exec(process.execPath, [CLI, "clusters", "--region", "KR", "-o", "json"], {
    env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", NCLOUD_ACCESS_KEY_ID: AK, NCLOUD_SECRET_ACCESS_KEY: SK, NCLOUD_API_GW: standIn.url, ...extra },
  });

test("HTTP_PROXY: the API call goes through the proxy, signature intact", async () => {
  const r = await run({ HTTP_PROXY: proxyUrl });
  assert.equal((JSON.parse(r.stdout) as { id: string }[])[0]?.id, UUID);
  const host = new URL(standIn.url).host;
  assert.ok(
    proxied.length === 1 && (proxied[0] === `CONNECT ${host}` || proxied[0] === `${standIn.url}/vnks/v2/clusters`),
    `one proxied request expected, got ${JSON.stringify(proxied)}`,
  );
});

test("NO_PROXY naming the host: the proxy is bypassed", async () => {
  const before = proxied.length;
  const r = await run({ HTTP_PROXY: proxyUrl, NO_PROXY: "127.0.0.1" });
  assert.equal((JSON.parse(r.stdout) as { id: string }[])[0]?.id, UUID);
  assert.equal(proxied.length, before);
});
