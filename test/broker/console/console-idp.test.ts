/**
 * The console's sign-in through the identity provider (the sandbox's oidc-provider), over Fastify
 * inject and plain HTTP: the button appears only with OIDC configured, it starts the device flow of
 * /v1/login for this browser (the device code in an HttpOnly cookie), the person finishes at the
 * broker's verification page and the provider (signInWithoutBrowser, as the CLI's tests do), and the
 * console's next page turns the approved code into the browser's session, with the provider's groups
 * deciding the role.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LightMyRequestResponse } from "fastify";
import { startBroker, type RunningBroker } from "../../../src/broker/serve.js";
import { signInWithoutBrowser } from "../../../src/sandbox/browserless.js";
import { startSandboxIdp, type SandboxIdp } from "../../../src/sandbox/idp.js";

let dir: string;
let idp: SandboxIdp;
let broker: RunningBroker;
let plain: RunningBroker;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-console-idp-"));
  idp = await startSandboxIdp();
  const common = { listen: "127.0.0.1:0", masterKey: randomBytes(32).toString("base64"), home: dir, cwd: dir, logStream: false as const };
  broker = await startBroker({ ...common, db: `sqlite:${join(dir, "oidc.db")}`, oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, adminGroup: "kubeiam-admins" } });
  plain = await startBroker({ ...common, db: `sqlite:${join(dir, "plain.db")}` });
});
after(async () => {
  await broker?.close();
  await plain?.close();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

function cookiesOf(res: LightMyRequestResponse, jar: Map<string, string>): Map<string, string> {
  for (const c of res.cookies) {
    if (c.value === "" || (c.expires !== undefined && c.expires.getTime() < Date.now())) jar.delete(c.name);
    else jar.set(c.name, c.value);
  }
  return jar;
}
const header = (jar: Map<string, string>): string => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

test("without OIDC the sign-in page has no identity-provider button", async () => {
  const res = await plain.app.inject({ method: "GET", url: "/" });
  assert.equal(res.statusCode, 200);
  assert.doesNotMatch(res.body, /Sign in with the identity provider/);
});

test("with OIDC: the button starts the device flow for this browser; after the provider, the console's next page is signed in as the provider's person, admin by group", async () => {
  const jar = new Map<string, string>();
  const page = await broker.app.inject({ method: "GET", url: "/" });
  assert.match(page.body, /<a class="button secondary" href="\/console\/sign-in\/idp" target="_blank" rel="noopener">Sign in with the identity provider<\/a>/);
  const start = await broker.app.inject({ method: "GET", url: "/console/sign-in/idp", remoteAddress: "127.0.0.1" });
  assert.equal(start.statusCode, 303, start.body);
  cookiesOf(start, jar);
  const link = String(start.headers.location);
  assert.match(link, new RegExp(`^${broker.url}/v1/login/verify\\?user_code=[A-Z]{4}-[A-Z]{4}$`));
  const pendingCookie = start.cookies.find((c) => c.name === "kubeiam-console-login");
  assert.ok(pendingCookie);
  assert.equal(pendingCookie.httpOnly, true);
  assert.equal(pendingCookie.sameSite, "Lax");
  // Not finished yet: the console says so and keeps waiting.
  const waiting = await broker.app.inject({ method: "GET", url: "/", headers: { cookie: header(jar) } });
  assert.equal(waiting.statusCode, 200);
  assert.match(waiting.body, /Finish signing in at the identity provider/);
  cookiesOf(waiting, jar);
  assert.ok(jar.has("kubeiam-console-login"));
  // The person at the broker's verification page and the provider (erin is in kubeiam-admins).
  const done = await signInWithoutBrowser(link, "erin");
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /signed in to the kubeiam broker as <strong>erin@example.com<\/strong>/);
  const signedIn = await broker.app.inject({ method: "GET", url: "/", headers: { cookie: header(jar) } });
  assert.equal(signedIn.statusCode, 200, signedIn.body.slice(0, 500));
  assert.match(signedIn.body, /Signed in as <strong>erin@example.com<\/strong> \(admin\)/);
  cookiesOf(signedIn, jar);
  assert.equal(jar.has("kubeiam-console-login"), false, "the device code is used up");
  assert.match(jar.get("kubeiam-session") ?? "", /^kbs_/);
  const users = await broker.app.inject({ method: "GET", url: "/console/users", headers: { cookie: header(jar) } });
  assert.equal(users.statusCode, 200);
  assert.match(users.body, /erin@example.com/);
  // The code cannot be used twice: a second browser holding it is refused.
  const replay = await broker.app.inject({ method: "GET", url: "/", headers: { cookie: `kubeiam-console-login=${pendingCookie.value}` } });
  assert.match(replay.body, /Not signed in through the identity provider: the device code was already used/);
});

test("dave (no admin group) signs in the same way as a user: his clusters, no admin pages", async () => {
  const jar = new Map<string, string>();
  const start = await broker.app.inject({ method: "GET", url: "/console/sign-in/idp" });
  cookiesOf(start, jar);
  assert.equal((await signInWithoutBrowser(String(start.headers.location), "dave")).status, 200);
  const page = await broker.app.inject({ method: "GET", url: "/", headers: { cookie: header(jar) } });
  cookiesOf(page, jar);
  assert.match(page.body, /Signed in as <strong>dave@example.com<\/strong> \(user\)/);
  assert.doesNotMatch(page.body, /href="\/console\/users"/);
  assert.equal((await broker.app.inject({ method: "GET", url: "/console/users", headers: { cookie: header(jar) } })).statusCode, 403);
});
