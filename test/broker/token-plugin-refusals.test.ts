/**
 * `kubeiam broker token` (the built CLI, as kubectl runs it) against small loopback servers that
 * answer what a real broker never would: HTML, an empty body, a 500, truncated JSON, a body cut
 * short, a redirect to another host, a TLS certificate for another name or from an untrusted CA.
 * Each refusal is one stderr line naming the reason, nothing on stdout, a non-zero exit, and never
 * the broker token. (Refusals a real broker gives, 401/403/404, are tested against the broker.)
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLocalCa } from "../../src/sandbox/ca.js";
import { assertOneLine, type CliRun } from "../helpers/cli.js";

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const TOKEN = `kbi_${randomBytes(32).toString("base64url")}`;

let root: string;
let http: Server;
let httpsWrongName: Server;
let httpsUntrusted: Server;
let plain: string;
let wrongName: string;
let untrusted: string;
let caFile: string;
let otherCaFile: string;
const seenElsewhere: string[] = [];
let elsewhere: Server;
let elsewhereUrl: string;

/** Token requests seen, by cluster name. */
const asked = new Map<string, number>();

/** What each cluster name gets from the double. */
function answer(req: IncomingMessage, res: ServerResponse): void {
  const m = /^\/v1\/clusters\/([^/]+)\/token/.exec(req.url ?? "");
  const name = m?.[1] ?? "";
  const auth = req.headers.authorization ?? "";
  const nth = (asked.get(name) ?? 0) + 1;
  asked.set(name, nth);
  const limited = (retryAfter: string): void => {
    res.writeHead(429, { "content-type": "application/json", "retry-after": retryAfter });
    res.end(JSON.stringify({ error: { code: "rate_limited", message: "too many token requests: slow down" } }));
  };
  switch (name) {
    case "busy-once":
      // 429 with Retry-After: 1, then the token.
      if (nth === 1) return limited("1");
      break;
    case "busy-always":
      return limited("1");
    case "busy-long":
      return limited("30");
    case "other-401":
      // Another service at --server (or a proxy in front): its own login page.
      res.writeHead(401, { "content-type": "text/html", "www-authenticate": 'Basic realm="intranet"' });
      return void res.end("<html><body>401 Authorization Required</body></html>");
    case "other-403":
      res.writeHead(403, { "content-type": "text/plain" });
      return void res.end("Forbidden");
    case "no-grant":
      res.writeHead(403, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: { code: "no_grant", message: "user alice has no grant for cluster no-grant: ask an admin to run 'kubeiam broker grant alice no-grant'" } }));
    case "html":
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return void res.end("<!doctype html><html><body>Welcome to nginx!</body></html>");
    case "empty":
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end();
    case "error500":
      res.writeHead(500, { "content-type": "text/plain" });
      return void res.end("Internal Server Error");
    case "error500-echo":
      // A broken proxy that echoes the request's Authorization header into its error.
      res.writeHead(500, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: { code: "internal", message: `failed for ${auth}` } }));
    case "truncated":
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end('{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"k8s-ncp-v1.eyJ0');
    case "cut":
      // Promises 4096 bytes, sends a few, then drops the connection.
      res.writeHead(200, { "content-type": "application/json", "content-length": "4096" });
      res.write('{"kind":"ExecCredential",');
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    case "no-expiry":
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1", status: { token: "k8s-ncp-v1.abc" } }));
    case "not-exec":
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ status: "ok" }));
    case "redirect":
      res.writeHead(302, { location: `${elsewhereUrl}/v1/clusters/redirect/token` });
      return void res.end();
  }
  switch (name) {
    default:
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ kind: "ExecCredential", apiVersion: "client.authentication.k8s.io/v1", status: { token: "k8s-ncp-v1.abc", expirationTimestamp: "2030-01-01T00:00:00Z" } }));
  }
}

async function listen(server: Server, scheme: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-broker-token-"));
  await mkdir(join(root, "home"));
  http = createHttpServer(answer);
  plain = await listen(http, "http");
  elsewhere = createHttpServer((req, res) => {
    seenElsewhere.push(`${req.url} ${req.headers.authorization === undefined ? "no-auth" : "auth"}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
  elsewhereUrl = await listen(elsewhere, "http");
  // A certificate for another name, from a CA the client is told about.
  const ca = await createLocalCa("kubeiam broker-token test CA");
  const wrong = await ca.issueServerCert({ dns: ["broker.other.example"] });
  httpsWrongName = createHttpsServer({ cert: wrong.certPem, key: wrong.keyPem }, answer);
  wrongName = await listen(httpsWrongName, "https");
  caFile = join(root, "ca.pem");
  await writeFile(caFile, ca.certPem);
  // A certificate for the right name, from a CA the client is not told about.
  const other = await createLocalCa("kubeiam untrusted CA");
  const right = await other.issueServerCert({ ips: ["127.0.0.1"] });
  httpsUntrusted = createHttpsServer({ cert: right.certPem, key: right.keyPem }, answer);
  untrusted = await listen(httpsUntrusted, "https");
  otherCaFile = join(root, "other-ca.pem");
  await writeFile(otherCaFile, other.certPem);
});

after(async () => {
  for (const s of [http, httpsWrongName, httpsUntrusted, elsewhere]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await rm(root, { recursive: true, force: true });
});

function plugin(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const fullEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(root, "home"), KUBEIAM_BROKER_TOKEN: TOKEN, ...env };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "broker", "token", ...args], { env: fullEnv, encoding: "utf8", timeout: 30_000 }, (error, out, err) => {
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : -1, out, err });
    });
  });
}

const at = (server: string, cluster: string): string[] => ["--server", server, "--cluster", cluster];

test("answers that are not an ExecCredential: each one line, exit 5 (8 when in the broker's error shape), nothing on stdout, no token", async () => {
  const cases: [string, RegExp, number?][] = [
    ["html", /answered 200 with an HTML page, not an ExecCredential: check that --server names a kubeiam broker/],
    ["empty", /answered 200 with an empty body, not an ExecCredential/],
    ["error500", /failed \(500 with a text\/plain body\): try again, or tell the broker's admin/],
    ["error500-echo", /failed \(500: failed for Bearer \[redacted\]\)/, 8],
    ["truncated", /answered 200 with JSON that does not parse \(cut short\?\), not an ExecCredential/],
    ["cut", /closed the connection before the answer was complete/],
    ["no-expiry", /an ExecCredential that has no RFC 3339 status\.expirationTimestamp/],
    ["not-exec", /an ExecCredential that has kind other than ExecCredential/],
  ];
  for (const [cluster, pattern, status] of cases) {
    const r = await plugin(at(plain, cluster));
    assertOneLine(r, status ?? 5, pattern, [TOKEN, TOKEN.slice(4, 20)]);
    assert.match(r.err, new RegExp(`^kubeiam: broker ${plain.replace(/[.]/g, "\\.")}`), cluster);
  }
});

test("a redirect to another host is refused and not followed: the token never goes there", async () => {
  const r = await plugin(at(plain, "redirect"));
  assertOneLine(r, 5, new RegExp(`answered with a redirect \\(302\\) to another host, ${elsewhereUrl.replace(/[.]/g, "\\.")}; kubeiam does not follow redirects`), [TOKEN]);
  assert.deepEqual(seenElsewhere, []);
});

test("TLS: a certificate for another name, an untrusted CA, --ca-file and NODE_EXTRA_CA_CERTS", async () => {
  // The CA is trusted (through --ca-file, or NODE_EXTRA_CA_CERTS), but the certificate names another host.
  assertOneLine(await plugin([...at(wrongName, "ok"), "--ca-file", caFile]), 5, /refused by TLS: its TLS certificate is for another name \(ERR_TLS_CERT_ALTNAME_INVALID\): check that --server names the broker's host/, [TOKEN]);
  assertOneLine(await plugin(at(wrongName, "ok"), { NODE_EXTRA_CA_CERTS: caFile }), 5, /its TLS certificate is for another name/, [TOKEN]);
  // Without the CA: not trusted, and the fix is named.
  assertOneLine(await plugin(at(untrusted, "ok")), 5, /refused by TLS: its TLS certificate is signed by a CA that is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): pass its CA with --ca-file PEM \(or set NODE_EXTRA_CA_CERTS\)/, [TOKEN]);
  // The wrong CA given: still untrusted.
  assertOneLine(await plugin([...at(untrusted, "ok"), "--ca-file", caFile]), 5, /not trusted/, [TOKEN]);
  // Plain HTTP spoken to a TLS port (a kubeconfig from before the broker moved to HTTPS): said so, with the address to use.
  const port = new URL(untrusted).port;
  assertOneLine(
    await plugin(at(untrusted.replace("https:", "http:"), "ok")),
    5,
    new RegExp(`^kubeiam: broker http://127\\.0\\.0\\.1:${port} speaks HTTPS, not plain HTTP: use https://127\\.0\\.0\\.1:${port} as --server`),
    [TOKEN],
  );
});

test("a plain-HTTP --server pointing at a broker that speaks HTTPS: the admin commands say so too", async () => {
  const port = new URL(untrusted).port;
  const r = await new Promise<CliRun>((resolve) => {
    execFile(process.execPath, [CLI, "broker", "user", "list", "--server", `http://127.0.0.1:${port}`], { env: { PATH: process.env.PATH ?? "", HOME: join(root, "home"), KUBEIAM_BROKER_TOKEN: TOKEN }, encoding: "utf8", timeout: 30_000 }, (error, out, err) =>
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : -1, out, err }),
    );
  });
  assertOneLine(r, 5, new RegExp(`speaks HTTPS, not plain HTTP: use https://127\\.0\\.0\\.1:${port} as --server`), [TOKEN]);
});

test("a server that is not a kubeiam broker is named as such, not as a broker refusing the token; a 403's advice is said once", async () => {
  for (const cluster of ["other-401", "other-403"]) {
    const r = await plugin(at(plain, cluster));
    assertOneLine(r, 5, /^kubeiam: http:\/\/127\.0\.0\.1:\d+ does not answer as a kubeiam broker \(40[13] with (an HTML page|a text\/plain body)\): check that --server names a kubeiam broker/, [TOKEN]);
    assert.doesNotMatch(r.err, /refused the broker token|no grant/);
  }
  const r = await plugin(at(plain, "no-grant"));
  assertOneLine(r, 8, /refused cluster "no-grant" \(403: user alice has no grant for cluster no-grant: ask an admin to run 'kubeiam broker grant alice no-grant'\)\n$/, [TOKEN]);
  assert.equal(r.err.match(/ask/g)?.length, 1, "the advice comes once");
});

test("429: the plugin waits the broker's Retry-After (up to 5 s) and asks once more; longer, or limited again, is the refusal at once", async () => {
  const ok = await plugin([...at(plain, "busy-once"), "--api-version", "v1"]);
  assert.equal(ok.status, 0, ok.err);
  assert.equal(JSON.parse(ok.out).status.token, "k8s-ncp-v1.abc");
  assert.equal(asked.get("busy-once"), 2, "asked again after the 429");
  assertOneLine(await plugin(at(plain, "busy-always")), 8, /is limiting requests \(429: too many token requests: slow down\): try again in 1 s/, [TOKEN]);
  assert.equal(asked.get("busy-always"), 2, "one retry only");
  assertOneLine(await plugin(at(plain, "busy-long")), 8, /is limiting requests \(429: too many token requests: slow down\): try again in 30 s/, [TOKEN]);
  assert.equal(asked.get("busy-long"), 1, "a wait over 5 s is not waited out");
});

test("unreachable, no token, a malformed token, bad flags: one line each", async () => {
  const closed = createHttpServer();
  const url = await listen(closed, "http");
  await new Promise((resolve) => closed.close(resolve));
  assertOneLine(await plugin(at(url, "ok")), 5, /broker http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\): check that it runs and that --server is right/, [TOKEN]);
  assertOneLine(await plugin(at(plain, "ok"), { KUBEIAM_BROKER_TOKEN: "" }), 3, /no broker token for http:\/\/127\.0\.0\.1:\d+: run 'kubeiam broker login --server http:\/\/127\.0\.0\.1:\d+' with your token on stdin, or set KUBEIAM_BROKER_TOKEN/);
  assertOneLine(await plugin(at(plain, "ok"), { KUBEIAM_BROKER_TOKEN: "kbi_short-secret" }), 3, /KUBEIAM_BROKER_TOKEN does not hold a broker token/, ["short-secret"]);
  assertOneLine(await plugin(["--cluster", "ok"]), 2, /broker token: --server is required/);
  assertOneLine(await plugin(["--server", plain]), 2, /broker token: --cluster is required/);
  assertOneLine(await plugin([...at(plain, "ok"), "--api-version", "v2"]), 2, /exec API version "v2" is not supported: use v1 or v1beta1/);
  assertOneLine(await plugin([...at(plain, "ok"), "--ca-file", join(root, "nope.pem")]), 3, /cannot read --ca-file .*nope\.pem \(ENOENT\)/);
  assertOneLine(await plugin(at("http://192.0.2.1:8750", "ok")), 2, /plain HTTP to another machine, which would send the broker token in clear/);
  assertOneLine(await plugin(at(plain, "a/b")), 5, /cluster name "a\/b" is empty or holds '\/'/);
});
