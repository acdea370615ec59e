/**
 * Signing in through the identity provider, end to end (BROKER.md "Signing in", issue 19): a real
 * OpenID Connect provider (oidc-provider on loopback, src/sandbox/idp.ts), `kubeiam serve` with
 * --oidc-… (the built CLI), people signing in with the real CLI's device flow while a scripted
 * browser-less person goes through the broker's page and the provider's login and consent pages,
 * then the real kubectl through the exec plugin against the sandbox. carol (group platform), dave
 * (no grant), erin (admin group); parallel kubectl after the access token ran out; carol disabled at
 * the provider; and no secret in the broker's log.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { startSandboxIdp, type SandboxIdp } from "../../src/sandbox/idp.js";
import { signInWithoutBrowser } from "../../src/sandbox/browserless.js";
import { call } from "../broker/helpers.js";
import { CLI, childEnv, runCliChild, startServe, type ServeChild } from "../broker/serve-helpers.js";
import { createModuleTracer } from "../helpers/module-trace.js";
import { requireTools } from "../helpers/tools.js";

before(() => requireTools("kubectl"));

const TTL_S = 6;
let dir: string;
let bin: string;
let sandbox: Sandbox;
let idp: SandboxIdp;
let broker: ServeChild;
let admin: string;
let server: string;
/** Every session token and device code seen, to look for in the broker's log. */
const secrets: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-e2e-oidc-"));
  bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(CLI, join(bin, "kubeiam"));
  sandbox = await startSandbox();
  idp = await startSandboxIdp();
  broker = await startServe(
    [
      "--db", `sqlite:${join(dir, "broker.db")}`,
      "--listen", "127.0.0.1:0",
      "--oidc-issuer", idp.issuer,
      "--oidc-client-id", idp.clientId,
      "--oidc-admin-group", "kubeiam-admins",
      "--session-ttl", `${TTL_S}s`,
    ],
    childEnv(join(dir, "operator"), { KUBEIAM_MASTER_KEY: randomBytes(32).toString("base64"), KUBEIAM_OIDC_CLIENT_SECRET: idp.clientSecret }),
  );
  admin = broker.ready.adminToken ?? "";
  server = broker.ready.url;
  const c = sandbox.clusters.find((x) => x.status === "RUNNING");
  assert.ok(c);
  const cred = await call(server, "POST", "/v1/credentials", { token: admin, body: { name: "sandbox", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } } });
  assert.equal(cred.status, 201, cred.text);
  const cl = await call(server, "POST", "/v1/clusters", { token: admin, body: { name: "bars-kr", credential: "sandbox", region: c.region, ncp: { clusterUuid: c.uuid } } });
  assert.equal(cl.status, 201, cl.text);
});
after(async () => {
  await broker?.stop();
  await idp?.close();
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

const envOf = (who: string): NodeJS.ProcessEnv => childEnv(join(dir, who), { PATH: `${bin}:${process.env.PATH ?? ""}` });

/** `kubeiam broker login --device` as `who`, the link followed by the scripted person signing in as `login`. */
async function deviceLogin(who: string, login: string): Promise<{ status: number; err: string; page: string; link: string }> {
  const child = spawn(process.execPath, [CLI, "broker", "login", "--server", server, "--device", "--no-browser"], { env: envOf(who), stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const closed = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  const link = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
      const m = /^(http\S+)$/m.exec(err);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    void closed.then(() => reject(new Error(`login ended before printing a link: ${err}`)));
  });
  const page = await signInWithoutBrowser(link, login);
  const status = await closed;
  clearTimeout(killer);
  return { status, err, page: page.text, link };
}

function session(who: string): { accessToken: string; refreshToken: string; accessExpiresAt: string } {
  const file = join(dir, who, ".kubeiam", "credentials.json");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const s = JSON.parse(readFileSync(file, "utf8")).servers[server].session;
  secrets.push(s.accessToken, s.refreshToken);
  return s;
}

function kubectl(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("kubectl", ["--request-timeout", "30s", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function kubeconfigFor(who: string): Promise<string> {
  const file = join(dir, who, "kubeconfig");
  const up = await runCliChild(["broker", "update-kubeconfig", "--server", server, "--cluster", "bars-kr", "--kubeconfig", file], envOf(who));
  assert.equal(up.status, 0, up.err);
  return file;
}

async function auditSince(id: number, actor: string): Promise<{ id: number; action: string; outcome: string; reason: string | null }[]> {
  const r = await call(server, "GET", `/v1/audit?user=${encodeURIComponent(actor)}&limit=1000`, { token: admin });
  assert.equal(r.status, 200, r.text);
  return (r.json.entries as { id: number; action: string; outcome: string; reason: string | null }[]).filter((e) => e.id > id);
}

async function lastAuditId(): Promise<number> {
  const r = await call(server, "GET", "/v1/audit?limit=1", { token: admin });
  return (r.json.entries[0]?.id as number | undefined) ?? 0;
}

test("carol signs in with the CLI's device flow: link on its own line, the page says done, the session kept 0600, her groups recorded", async () => {
  const r = await deviceLogin("carol", "carol");
  assert.equal(r.status, 0, r.err);
  assert.match(r.link, /\/v1\/login\/verify\?user_code=[A-Z]{4}-[A-Z]{4}$/);
  assert.match(r.page, /signed in to the kubeiam broker as <strong>carol@example\.com<\/strong>/);
  assert.match(r.err, /signed in to http/);
  const s = session("carol");
  assert.match(s.accessToken, /^kbs_/);
  const users = await call(server, "GET", "/v1/users", { token: admin });
  assert.ok((users.json.users as { name: string; source: string }[]).some((u) => u.name === "carol@example.com" && u.source === "oidc"));
  const login = (await auditSince(0, "carol@example.com")).find((e) => e.action === "login");
  assert.equal(login?.outcome, "ok");
  assert.match(login?.reason ?? "", /groups: platform/);
});

test("carol reaches bars-kr through the group grant group:platform, with kubectl through the exec plugin (kubeconfig from the CLI)", async () => {
  // No grant names her: the one for her group does (group:platform).
  assert.equal((await call(server, "PUT", "/v1/grants/group:platform/bars-kr", { token: admin })).status, 204);
  assert.equal((await call(server, "GET", "/v1/grants/carol@example.com", { token: admin })).json?.grants?.length ?? 0, 0);
  const file = await kubeconfigFor("carol");
  const ns = await kubectl(["--kubeconfig", file, "get", "namespaces"], envOf("carol"));
  assert.equal(ns.code, 0, ns.stderr);
  assert.match(ns.stdout, /^default\s+Active/m);
});

test("dave (no grant) is refused 403; erin (admin group) reads the audit and carol does not", async () => {
  assert.equal((await deviceLogin("dave", "dave")).status, 0);
  const dave = session("dave");
  assert.equal((await call(server, "GET", "/v1/clusters/bars-kr/token", { token: dave.accessToken })).status, 403);
  const file = await kubeconfigFor("dave").catch(() => join(dir, "dave", "kubeconfig"));
  const ns = await kubectl(["--kubeconfig", file, "get", "namespaces"], envOf("dave"));
  assert.notEqual(ns.code, 0);
  assert.equal((await deviceLogin("erin", "erin")).status, 0);
  const erin = session("erin");
  assert.equal((await call(server, "GET", "/v1/audit?limit=5", { token: erin.accessToken })).status, 200);
  const carol = session("carol");
  const refused = await call(server, "GET", "/v1/audit?limit=5", { token: carol.accessToken });
  // Her access token may have run out meanwhile (TTL of a few seconds): refused either way, never 200.
  assert.ok(refused.status === 403 || refused.status === 401, refused.text);
});

test("the exec plugin renewing a session loads no npm package (no openid-client on kubectl's path)", async (t) => {
  const tracer = await createModuleTracer();
  t.after(() => tracer.remove());
  const erin = session("erin");
  const wait = Date.parse(erin.accessExpiresAt) - Date.now() + 1500;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const { file, env: trace } = await tracer.newTrace("session-plugin");
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [...tracer.nodeArgs, CLI, "broker", "token", "--server", server, "--cluster", "bars-kr"], { env: { ...envOf("erin"), ...trace }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /"token":"k8s-ncp-v1\./);
  assert.notEqual(session("erin").accessToken, erin.accessToken, "the run renewed the session");
  const specifiers = (await tracer.read(file)).filter((x) => !x.startsWith("file:"));
  assert.ok(specifiers.some((x) => x.endsWith("/session.js")), "the renewal's module was loaded");
  assert.deepEqual(specifiers.filter((x) => !x.startsWith(".") && !x.startsWith("node:")), [], "no npm package on the plugin's path");
});

test("12 kubectl runs at once after carol's access token ran out all succeed, for at most 2 requests to the broker, the renewal having asked the IdP", async () => {
  const file = join(dir, "carol", "kubeconfig");
  const before = session("carol");
  const wait = Date.parse(before.accessExpiresAt) - Date.now() + 1500;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  assert.equal((await call(server, "GET", "/v1/clusters", { token: before.accessToken })).status, 401, "the access token ran out");
  rmSync(join(dir, "carol", ".kube", "cache", "kubeiam", "broker"), { recursive: true, force: true });
  const mark = await lastAuditId();
  const refreshesBefore = idp.grants.refresh_token ?? 0;
  const runs = await Promise.all(Array.from({ length: 12 }, () => kubectl(["--kubeconfig", file, "get", "namespaces", "-o", "name"], envOf("carol"))));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const rows = await auditSince(mark, "carol@example.com");
  const requests = rows.filter((e) => e.action === "login.renew" || e.action.startsWith("token."));
  assert.ok(requests.length <= 2, `broker requests: ${JSON.stringify(requests)}`);
  assert.equal(rows.filter((e) => e.action === "login.renew" && e.outcome === "ok").length, 1);
  assert.equal((idp.grants.refresh_token ?? 0) - refreshesBefore, 1, "the renewal asked the identity provider");
  assert.notEqual(session("carol").accessToken, before.accessToken);
});

test("carol disabled at the provider: her access token gets 401 after its TTL, her refresh is refused, and the CLI says to sign in again", async () => {
  const s = session("carol");
  idp.disable("carol");
  const wait = Date.parse(s.accessExpiresAt) - Date.now() + 1500;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  assert.equal((await call(server, "GET", "/v1/clusters", { token: s.accessToken })).status, 401);
  // A cached cluster token lives to its own end, as kubectl's; the next run needs the broker.
  rmSync(join(dir, "carol", ".kube", "cache", "kubeiam", "broker"), { recursive: true, force: true });
  const ns = await kubectl(["--kubeconfig", join(dir, "carol", "kubeconfig"), "get", "namespaces"], envOf("carol"));
  assert.notEqual(ns.code, 0);
  assert.ok(ns.stderr.includes(`kubeiam broker login --server ${server}`), ns.stderr);
  const refresh = await fetch(`${server}/v1/login/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: s.refreshToken }),
  });
  assert.equal(refresh.status, 400);
  assert.equal(((await refresh.json()) as { error: string }).error, "invalid_grant");
  const token = await runCliChild(["broker", "token", "--server", server, "--cluster", "bars-kr"], envOf("carol"));
  assert.notEqual(token.status, 0);
  assert.equal(token.err.trim().split("\n").length, 1, token.err);
  assert.ok(token.err.includes(`kubeiam broker login --server ${server}`), token.err);
});

test("no client secret, session token, refresh token or device code in the broker's log", () => {
  const log = broker.stderr();
  assert.ok(log.length > 0);
  assert.ok(!log.includes(idp.clientSecret), "the client secret reached the log");
  for (const secret of secrets) assert.ok(!log.includes(secret), "a session token reached the log");
  assert.doesNotMatch(log, /kb[srd]_[A-Za-z0-9_-]{20}/);
  assert.doesNotMatch(log, /code=|state=|refresh_token/);
});
