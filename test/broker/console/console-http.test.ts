/**
 * The console over HTTP without a browser (Fastify inject on a broker started in-process): the
 * security headers of every page, CSRF refusals, the session cookie's attributes (plain and under
 * TLS), the cookie never accepted on /v1, escaping of what callers control, and actions written to
 * the audit trail as their REST twins write them.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LightMyRequestResponse } from "fastify";
import { startBroker, type RunningBroker } from "../../../src/broker/serve.js";
import { createLocalCa } from "../../../src/sandbox/ca.js";
import { captureLines } from "../helpers.js";

let dir: string;
let broker: RunningBroker;
let admin: string;
const log = captureLines();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-console-http-"));
  broker = await startBroker({ db: `sqlite:${join(dir, "b.db")}`, listen: "127.0.0.1:0", masterKey: randomBytes(32).toString("base64"), home: dir, cwd: dir, logStream: log.stream });
  admin = broker.adminToken ?? "";
  assert.match(admin, /^kbi_/);
});
after(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Cookies a browser would keep, from Set-Cookie headers. */
class Jar {
  readonly cookies = new Map<string, string>();
  take(res: LightMyRequestResponse): this {
    for (const c of res.cookies) {
      if (c.value === "" || (c.expires !== undefined && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return this;
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

async function get(path: string, jar = new Jar(), app = broker.app): Promise<{ res: LightMyRequestResponse; csrf: string; jar: Jar }> {
  const res = await app.inject({ method: "GET", url: path, headers: { cookie: jar.header() } });
  jar.take(res);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? "";
  return { res, csrf, jar };
}

async function post(path: string, form: Record<string, string>, jar: Jar, app = broker.app): Promise<LightMyRequestResponse> {
  const res = await app.inject({ method: "POST", url: path, headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" }, payload: new URLSearchParams(form).toString() });
  jar.take(res);
  return res;
}

async function signedIn(token: string, app = broker.app): Promise<Jar> {
  const { csrf, jar } = await get("/", new Jar(), app);
  const res = await post("/console/sign-in", { _csrf: csrf, token }, jar, app);
  assert.equal(res.statusCode, 303, res.body);
  return jar;
}

function assertPageHeaders(res: LightMyRequestResponse, what: string): void {
  const csp = String(res.headers["content-security-policy"] ?? "");
  assert.equal(
    csp,
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    what,
  );
  assert.equal(res.headers["x-frame-options"], "DENY", what);
  assert.equal(res.headers["x-content-type-options"], "nosniff", what);
  assert.equal(res.headers["cache-control"], "no-store", what);
  assert.match(String(res.headers["content-type"]), /^text\/html; charset=utf-8/, what);
  assert.doesNotMatch(res.body, /<script(?![^>]*\ssrc="\/console\/assets\/console\.js\?v=)/, `${what}: only the console's own script`);
  assert.doesNotMatch(res.body, /\son[a-z]+=/i, `${what}: no inline handler`);
}

test("every page, error pages included, carries the CSP (scripts from the broker only, no framing) and no-store", async () => {
  assertPageHeaders((await get("/")).res, "sign-in");
  const jar = await signedIn(admin);
  for (const path of ["/", "/console/users", "/console/grants", "/console/credentials", "/console/audit", "/console/audit?user=x&limit=25"]) {
    const { res } = await get(path, jar);
    assert.equal(res.statusCode, 200, `${path}: ${res.body.slice(0, 300)}`);
    assertPageHeaders(res, path);
  }
  const refused = await post("/console/users", { name: "x" }, jar);
  assert.equal(refused.statusCode, 403);
  assertPageHeaders(refused, "CSRF refusal");
  const stale = await get("/console/users", new Jar().take({ cookies: [{ name: "kubeiam-session", value: "kbi_" + "A".repeat(43) }] } as unknown as LightMyRequestResponse));
  assert.equal(stale.res.statusCode, 401);
  assertPageHeaders(stale.res, "ended session");
});

test("CSRF: a form without the token, with another browser's token, or with none of its cookie is refused, and nothing happens", async () => {
  const jar = await signedIn(admin);
  const mine = (await get("/console/users", jar)).csrf;
  const theirs = (await get("/")).csrf;
  assert.notEqual(mine, "");
  for (const [what, form, cookies] of [
    ["no token", { name: "mallory1" }, jar],
    ["another browser's token", { name: "mallory2", _csrf: theirs }, jar],
    ["a made-up token", { name: "mallory3", _csrf: "x".repeat(52) }, jar],
  ] as const) {
    const res = await post("/console/users", form, cookies);
    assert.equal(res.statusCode, 403, what);
    assert.match(res.body, /This form is out of date or came from another site/, what);
  }
  // The secret cookie missing (a cross-site POST carries no SameSite=Strict cookie).
  const noSecret = new Jar();
  noSecret.cookies.set("kubeiam-session", jar.cookies.get("kubeiam-session") ?? "");
  assert.equal((await post("/console/users", { name: "mallory4", _csrf: mine }, noSecret)).statusCode, 403);
  const users = await broker.app.inject({ method: "GET", url: "/v1/users", headers: { authorization: `Bearer ${admin}` } });
  assert.doesNotMatch(users.body, /mallory/);
  // The same form with its token goes through.
  assert.equal((await post("/console/users", { name: "carol", _csrf: mine }, jar)).statusCode, 201);
  // Sign-in is a form too.
  assert.equal((await post("/console/sign-in", { token: admin }, new Jar())).statusCode, 403);
});

test("the session cookie: HttpOnly, SameSite=Lax, Path=/; the CSRF cookie HttpOnly and SameSite=Strict; neither Secure over plain HTTP", async () => {
  const { jar, csrf, res } = await get("/");
  const csrfCookie = res.cookies.find((c) => c.name === "kubeiam-csrf");
  assert.ok(csrfCookie);
  assert.equal(csrfCookie.httpOnly, true);
  assert.equal(csrfCookie.sameSite, "Strict");
  const signIn = await post("/console/sign-in", { _csrf: csrf, token: admin }, jar);
  const session = signIn.cookies.find((c) => c.name === "kubeiam-session");
  assert.ok(session, JSON.stringify(signIn.cookies));
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Lax");
  assert.equal(session.path, "/");
  assert.equal(session.secure, undefined);
  assert.equal(session.maxAge, undefined, "a browser session cookie");
  // It holds a session's access token, never the broker token; the refresh token rides beside it.
  assert.match(session.value, /^kbs_[A-Za-z0-9_-]{43}$/);
  assert.ok(!signIn.cookies.some((c) => c.value.includes(admin)), "the broker token in a cookie");
  const refresh = signIn.cookies.find((c) => c.name === "kubeiam-refresh");
  assert.ok(refresh);
  assert.match(refresh.value, /^kbr_[A-Za-z0-9_-]{43}$/);
  assert.equal(refresh.httpOnly, true);
  assert.equal(refresh.sameSite, "Lax");
});

test("signing out ends the session in the store: the old cookie is refused afterwards, on a page and as a Bearer token on /v1", async () => {
  const jar = await signedIn(admin);
  const old = jar.header();
  const access = jar.cookies.get("kubeiam-session") ?? "";
  const asBearer = () => broker.app.inject({ method: "GET", url: "/v1/clusters", headers: { authorization: `Bearer ${access}` } });
  assert.equal((await asBearer()).statusCode, 200, "a console session's token is a session token like any other");
  const { csrf } = await get("/", jar);
  const out = await post("/console/sign-out", { _csrf: csrf }, jar);
  assert.equal(out.statusCode, 303);
  assert.equal(out.headers.location, "/?done=signed-out");
  assert.equal(jar.cookies.has("kubeiam-session"), false);
  assert.equal(jar.cookies.has("kubeiam-refresh"), false);
  const replay = await broker.app.inject({ method: "GET", url: "/console/users", headers: { cookie: old } });
  assert.equal(replay.statusCode, 401);
  assert.match(replay.body, /Your session has ended: sign in again/);
  assert.equal((await asBearer()).statusCode, 401);
  const audit = await broker.app.inject({ method: "GET", url: "/v1/audit?user=admin&limit=5", headers: { authorization: `Bearer ${admin}` } });
  const actions = JSON.parse(audit.body).entries.map((e: { action: string }) => e.action);
  assert.ok(actions.includes("session.end") && actions.includes("session.start"), actions.join(","));
});

test("an access token that ran out is renewed from the refresh cookie (new cookies on the answer, the old pair dead); at the session's end, sign in again", async () => {
  let clock = Date.now();
  const b = await startBroker({
    db: `sqlite:${join(dir, "clock.db")}`,
    listen: "127.0.0.1:0",
    masterKey: randomBytes(32).toString("base64"),
    home: dir,
    cwd: dir,
    logStream: false,
    now: () => clock,
    sessionTtlMs: 60_000,
    sessionMaxMs: 3600_000,
  });
  try {
    const jar = await signedIn(b.adminToken ?? "", b.app);
    const first = jar.header();
    const firstAccess = jar.cookies.get("kubeiam-session");
    clock += 61_000;
    const page = await get("/console/users", jar, b.app);
    assert.equal(page.res.statusCode, 200, page.res.body.slice(0, 400));
    const renewed = page.res.cookies.find((c) => c.name === "kubeiam-session");
    assert.ok(renewed && renewed.value !== firstAccess, "a new access token on the answer");
    assert.ok(page.res.cookies.some((c) => c.name === "kubeiam-refresh"), "a new refresh token too");
    // The old pair stops: its refresh token was used.
    assert.equal((await b.app.inject({ method: "GET", url: "/console/users", headers: { cookie: first } })).statusCode, 401);
    assert.equal((await get("/console/users", jar, b.app)).res.statusCode, 200);
    clock += 3600_000;
    const ended = await get("/console/users", jar, b.app);
    assert.equal(ended.res.statusCode, 401);
    assert.match(ended.res.body, /Your session has ended/);
    assert.equal(jar.cookies.has("kubeiam-session"), false, "the dead cookies are cleared");
  } finally {
    await b.close();
  }
});

test("under TLS the cookies are Secure and take the __Host- prefix", async () => {
  const ca = await createLocalCa("console test CA");
  const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost"], ips: ["127.0.0.1"] });
  writeFileSync(join(dir, "tls.pem"), certPem);
  writeFileSync(join(dir, "tls.key"), keyPem, { mode: 0o600 });
  const tls = await startBroker({
    db: `sqlite:${join(dir, "tls.db")}`,
    listen: "127.0.0.1:0",
    masterKey: randomBytes(32).toString("base64"),
    home: dir,
    cwd: dir,
    logStream: false,
    tlsCert: join(dir, "tls.pem"),
    tlsKey: join(dir, "tls.key"),
  });
  try {
    const { jar, csrf, res } = await get("/", new Jar(), tls.app);
    const csrfCookie = res.cookies.find((c) => c.name === "__Host-kubeiam-csrf");
    assert.ok(csrfCookie, JSON.stringify(res.cookies));
    assert.equal(csrfCookie.secure, true);
    const signIn = await post("/console/sign-in", { _csrf: csrf, token: tls.adminToken ?? "" }, jar, tls.app);
    const session = signIn.cookies.find((c) => c.name === "__Host-kubeiam-session");
    assert.ok(session, JSON.stringify(signIn.cookies));
    assert.equal(session.secure, true);
    assert.equal(session.httpOnly, true);
    assert.equal(session.path, "/");
    assert.equal(session.domain, undefined);
    assert.equal((await get("/console/users", jar, tls.app)).res.statusCode, 200);
  } finally {
    await tls.close();
  }
});

test("the session cookie is for the console's pages only: /v1 ignores it (no cookie-borne REST call for another site to forge)", async () => {
  const jar = await signedIn(admin);
  const res = await broker.app.inject({ method: "GET", url: "/v1/users", headers: { cookie: jar.header() } });
  assert.equal(res.statusCode, 401);
});

test("a bad token at sign-in: the REST refusal's sentence on the page, 401, no session, one audit row like any failed authentication", async () => {
  const { csrf, jar } = await get("/");
  const res = await post("/console/sign-in", { _csrf: csrf, token: `kbi_${"B".repeat(43)}` }, jar);
  assert.equal(res.statusCode, 401);
  assert.match(res.body, /Not signed in: the broker token is not known \(revoked, rotated or mistyped\)/);
  assert.equal(jar.cookies.has("kubeiam-session"), false);
  const audit = await broker.app.inject({ method: "GET", url: "/v1/audit?limit=1", headers: { authorization: `Bearer ${admin}` } });
  const [entry] = JSON.parse(audit.body).entries;
  assert.equal(entry.action, "auth");
  assert.equal(entry.outcome, "denied");
  assert.equal(entry.reason, "bad_token");
});

test("what callers control is escaped: a Basic user name with markup, written to the audit by a failed authentication, is text on the Audit page", async () => {
  const evil = `<script src=//e.x/x.js></script><img src=x onerror=alert(1)>`; // under the 64 characters the row keeps
  const r = await broker.app.inject({ method: "GET", url: "/v1/clusters", headers: { authorization: `Basic ${Buffer.from(`${evil}:nope`).toString("base64")}` } });
  assert.equal(r.statusCode, 401);
  const jar = await signedIn(admin);
  const { res } = await get("/console/audit", jar);
  assert.equal(res.statusCode, 200);
  assert.ok(!res.body.includes(evil) && !res.body.includes("<script src=//e.x") && !res.body.includes("<img src=x"), "markup from the audit reached the page");
  assert.ok(res.body.includes("?&lt;script src=//e.x/x.js&gt;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"), "the name shown as text");
});

test("console actions are the REST routes: the same audit rows (actor, action, remote), the same refusals", async () => {
  const jar = await signedIn(admin);
  const { csrf } = await get("/console/users", jar);
  const added = await post("/console/users", { _csrf: csrf, name: "dave", role: "user" }, jar);
  assert.equal(added.statusCode, 201);
  const token = /<code id="new-token">(kbi_[A-Za-z0-9_-]{43})<\/code>/.exec(added.body)?.[1];
  assert.ok(token, "the new token on the answer");
  const again = await post("/console/users", { _csrf: csrf, name: "dave", role: "user" }, jar);
  assert.equal(again.statusCode, 409);
  assert.match(again.body, /user dave already exists: pick another name/);
  const audit = await broker.app.inject({ method: "GET", url: "/v1/audit?user=admin&limit=2", headers: { authorization: `Bearer ${admin}` } });
  // The refusal is audited as the REST route audits it, once.
  const [refused, entry] = JSON.parse(audit.body).entries;
  assert.deepEqual([refused.actor, refused.action, refused.outcome, refused.reason.split(":")[0], refused.remote], ["admin", "user.create", "denied", "409 conflict", "127.0.0.1"]);
  assert.deepEqual([entry.actor, entry.action, entry.outcome, entry.reason, entry.remote], ["admin", "user.create", "ok", "dave (user)", "127.0.0.1"]);
  // A user reaching an admin page: the REST route's own 403, audited as such.
  const dave = await signedIn(token);
  const page = await get("/console/users", dave);
  assert.equal(page.res.statusCode, 403);
  assert.match(page.res.body, /listing users is for admins, and user dave is not one/);
  const denied = await broker.app.inject({ method: "GET", url: "/v1/audit?user=dave&limit=1", headers: { authorization: `Bearer ${admin}` } });
  assert.equal(JSON.parse(denied.body).entries[0].reason, "not_admin");
  // No page holds a token it did not just make.
  assert.ok(!page.res.body.includes(token));
  assert.ok(!(await get("/", dave)).res.body.includes(token));
  // Deleting dave through the console ends his console session on the spot.
  const { csrf: csrf2 } = await get("/console/users", jar);
  assert.equal((await post("/console/users/dave/delete", { _csrf: csrf2 }, jar)).statusCode, 303);
  assert.equal((await get("/", dave)).res.statusCode, 401);
});

test("the console's files: from the package, typed, cached by digest, 304 on a match", async () => {
  const page = (await get("/")).res.body;
  for (const [file, type] of [["console.js", "text/javascript; charset=utf-8"], ["console.css", "text/css; charset=utf-8"], ["icon.svg", "image/svg+xml"]] as const) {
    const href = new RegExp(`"(/console/assets/${file.replace(".", "\\.")}\\?v=[A-Za-z0-9_-]{16})"`).exec(page)?.[1];
    assert.ok(href, `${file} linked from the page`);
    const res = await broker.app.inject({ method: "GET", url: href });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], type);
    assert.equal(res.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    const again = await broker.app.inject({ method: "GET", url: href, headers: { "if-none-match": String(res.headers.etag) } });
    assert.equal(again.statusCode, 304);
  }
});

test("Grants: a group, an end time (the form's UTC time) and the credential to act as go to PUT /v1/grants as its body; the page lists them; revoke", async () => {
  // A cluster needs a credential and a cloud; an admin grants '*' here, which needs neither.
  const jar = await signedIn(admin);
  const { csrf } = await get("/console/grants", jar);
  const until = new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 16);
  const granted = await post("/console/grants", { _csrf: csrf, subject: "group:platform", cluster: "*", expiresAt: until, as: "" }, jar);
  assert.equal(granted.statusCode, 303, granted.body.slice(0, 400));
  const rest = await broker.app.inject({ method: "GET", url: "/v1/grants/group:platform", headers: { authorization: `Bearer ${admin}` } });
  const [g] = JSON.parse(rest.body).grants;
  assert.equal(g.cluster, "*");
  assert.equal(g.expiresAt.slice(0, 16), until);
  const page = await get("/console/grants?subject=group%3Aplatform", jar);
  assert.match(page.res.body, new RegExp(`<time datetime="${g.expiresAt}">`));
  assert.match(page.res.body, /<label for="grant-as">Act as credential/);
  const revoked = await post("/console/grants/revoke", { _csrf: page.csrf, subject: "group:platform", cluster: "*" }, jar);
  assert.equal(revoked.statusCode, 303);
  const after = await broker.app.inject({ method: "GET", url: "/v1/grants/group:platform", headers: { authorization: `Bearer ${admin}` } });
  assert.deepEqual(JSON.parse(after.body).grants, []);
  // A past end time: the REST route's own refusal, on the page.
  const { csrf: again } = await get("/console/grants", jar);
  const past = await post("/console/grants", { _csrf: again, subject: "group:platform", cluster: "*", expiresAt: "2020-01-01T00:00" }, jar);
  assert.equal(past.statusCode, 400);
  assert.match(past.body, /expiresAt is not in the future/);
});
