/**
 * No session from an ID token the broker must not trust (BROKER.md "Signing in"): a hand-made
 * identity provider double (discovery, JWKS, an authorization endpoint that answers at once, a token
 * endpoint that checks the client's secret and PKCE verifier, then hands out an ID token forged as
 * each case asks) drives the broker's real device flow and callback. A real provider cannot produce
 * these tokens, hence the double; the control case (an honest token) opens a session through the
 * same path, so each refusal is the check's doing. Also: a replayed callback, and a callback
 * finished in another browser.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { signInWithoutBrowser } from "../../src/sandbox/browserless.js";
import { captureLines } from "./helpers.js";

type Forgery = "honest" | "bad-signature" | "wrong-audience" | "wrong-issuer" | "expired" | "wrong-nonce" | "no-id-token";

interface Double {
  issuer: string;
  clientId: string;
  clientSecret: string;
  forgery: Forgery;
  /** Token requests whose PKCE verifier matched the challenge. */
  pkceOk: number;
  close(): Promise<void>;
}

async function startDouble(): Promise<Double> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const other = await generateKeyPair("RS256");
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  const clientId = "kubeiam-broker";
  const clientSecret = randomBytes(16).toString("hex");
  const codes = new Map<string, { nonce: string; challenge: string; redirect: string }>();
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const d: Double = { issuer, clientId, clientSecret, forgery: "honest", pkceOk: 0, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
  const json = (res: import("node:http").ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  server.on("request", (req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        userinfo_endpoint: `${issuer}/userinfo`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic"],
      });
    }
    if (url.pathname === "/jwks") return json(res, 200, { keys: [jwk] });
    if (url.pathname === "/authorize") {
      const p = url.searchParams;
      assert.equal(p.get("code_challenge_method"), "S256");
      const code = randomBytes(12).toString("hex");
      codes.set(code, { nonce: p.get("nonce") ?? "", challenge: p.get("code_challenge") ?? "", redirect: p.get("redirect_uri") ?? "" });
      const back = new URL(p.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", p.get("state") ?? "");
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === "/userinfo") return json(res, 200, { sub: "carol", email: "carol@example.com", groups: ["platform"] });
    if (url.pathname === "/token") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        void (async () => {
          const form = new URLSearchParams(body);
          const basic = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString();
          // RFC 6749 2.3.1: both halves form-urlencoded.
          const [user = "", pass = ""] = basic.split(":").map((x) => decodeURIComponent(x.replace(/\+/g, " ")));
          if (user !== clientId || pass !== clientSecret) return json(res, 401, { error: "invalid_client" });
          const grant = codes.get(form.get("code") ?? "");
          codes.delete(form.get("code") ?? "");
          if (grant === undefined) return json(res, 400, { error: "invalid_grant" });
          const verifier = form.get("code_verifier") ?? "";
          if (createHash("sha256").update(verifier).digest("base64url") !== grant.challenge) return json(res, 400, { error: "invalid_grant", error_description: "PKCE" });
          d.pkceOk++;
          const now = Math.floor(Date.now() / 1000);
          const f = d.forgery;
          const claims = { email: "carol@example.com", groups: ["platform"], nonce: f === "wrong-nonce" ? "another-nonce" : grant.nonce };
          const jwt = new SignJWT(claims)
            .setProtectedHeader({ alg: "RS256", kid: "k1" })
            .setSubject("carol")
            .setIssuer(f === "wrong-issuer" ? "https://evil.example" : issuer)
            .setAudience(f === "wrong-audience" ? "another-client" : clientId)
            .setIssuedAt(f === "expired" ? now - 3600 : now)
            .setExpirationTime(f === "expired" ? now - 600 : now + 300);
          const idToken = await jwt.sign(f === "bad-signature" ? other.privateKey : privateKey);
          return json(res, 200, {
            access_token: randomBytes(16).toString("hex"),
            token_type: "Bearer",
            expires_in: 300,
            refresh_token: randomBytes(16).toString("hex"),
            ...(f === "no-id-token" ? {} : { id_token: idToken }),
          });
        })();
      });
      return;
    }
    res.writeHead(404).end();
  });
  return d;
}

describe("ID tokens the broker must not trust open no session", () => {
  let home: string;
  let idp: Double;
  let broker: RunningBroker;
  const log = captureLines();

  before(async () => {
    home = mkdtempSync(join(tmpdir(), "kubeiam-oidc-forged-"));
    idp = await startDouble();
    broker = await startBroker({
      db: `sqlite:${join(home, "b.db")}`,
      listen: "127.0.0.1:0",
      masterKey: randomBytes(32).toString("base64"),
      home,
      cwd: home,
      logStream: log.stream,
      oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret },
    });
  });
  after(async () => {
    await broker?.close();
    await idp?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const sessions = async (): Promise<number> => Number((await broker.ctx.store.db.selectFrom("sessions").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  const device = async () => (await (await fetch(`${broker.url}/v1/login/device`, { method: "POST" })).json()) as { device_code: string; verification_uri_complete: string };
  const poll = async (deviceCode: string) => {
    const r = await fetch(`${broker.url}/v1/login/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: deviceCode }),
    });
    return { status: r.status, json: (await r.json()) as Record<string, string> };
  };

  const cases: [Forgery, RegExp][] = [
    ["bad-signature", /signature does not verify/],
    ["wrong-audience", /issued for another client/],
    ["wrong-issuer", /issued by another identity provider/],
    ["expired", /has expired/],
    ["wrong-nonce", /nonce differs/],
    ["no-id-token", /no ID token|id_token/i],
  ];
  for (const [forgery, why] of cases) {
    test(`${forgery}: the page says why in one sentence, the device code ends access_denied, no session`, async () => {
      idp.forgery = forgery;
      const before = await sessions();
      const pkce = idp.pkceOk;
      const d = await device();
      const page = await signInWithoutBrowser(d.verification_uri_complete, "carol");
      assert.equal(idp.pkceOk, pkce + 1, `the token endpoint saw the right PKCE verifier: ${page.text}`);
      assert.equal(page.status, 400);
      assert.match(page.text, /<h1>Sign-in failed<\/h1>/);
      assert.match(page.text, why);
      const p = await poll(d.device_code);
      assert.equal(p.status, 400);
      assert.equal(p.json.error, "access_denied");
      assert.match(p.json.error_description ?? "", why);
      assert.equal(await sessions(), before);
    });
  }

  test("the control: an honest ID token through the same path opens a session; the code works once", async () => {
    idp.forgery = "honest";
    const before = await sessions();
    const d = await device();
    const pending = await poll(d.device_code);
    assert.equal(pending.json.error, "authorization_pending");
    const page = await signInWithoutBrowser(d.verification_uri_complete, "carol");
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /signed in to the kubeiam broker as <strong>carol@example\.com<\/strong>/);
    const p = await poll(d.device_code);
    assert.equal(p.status, 200, JSON.stringify(p.json));
    assert.match(p.json.access_token ?? "", /^kbs_/);
    assert.equal(await sessions(), before + 1);
    const again = await poll(d.device_code);
    assert.equal(again.json.error, "invalid_grant");
    const caller = await broker.ctx.sessions.callerByAccessHash(createHash("sha256").update(p.json.access_token ?? "").digest("hex"));
    assert.deepEqual(caller?.groups, ["platform"]);
  });

  test("a replayed callback, and one finished in another browser, open nothing", async () => {
    idp.forgery = "honest";
    const before = await sessions();
    // Walk by hand to keep the callback URL: the broker's page, its form, the IdP's redirect.
    const d = await device();
    const pageRes = await fetch(d.verification_uri_complete);
    const cookie = (pageRes.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const html = await pageRes.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const userCode = /name="user_code" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const started = await fetch(`${broker.url}/v1/login/verify`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, user_code: userCode }),
    });
    assert.equal(started.status, 303);
    const atIdp = await fetch(started.headers.get("location") ?? "", { redirect: "manual" });
    const callback = atIdp.headers.get("location") ?? "";
    assert.match(callback, /\/v1\/login\/callback\?code=/);
    // Another browser (no cookie) finishing it: refused, and the code ends access_denied.
    const stranger = await fetch(callback);
    assert.equal(stranger.status, 400);
    assert.match(await stranger.text(), /another browser/);
    assert.equal((await poll(d.device_code)).json.error, "access_denied");
    // The same answer again, with the right cookie: it belongs to no sign-in any more.
    const replay = await fetch(callback, { headers: { cookie } });
    assert.equal(replay.status, 400);
    assert.match(await replay.text(), /belongs to no sign-in in progress/);
    // A form posted without the page's cookie (another site's form) starts nothing.
    const forged = await fetch(`${broker.url}/v1/login/verify`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, user_code: userCode }) });
    assert.equal(forged.status, 403);
    assert.equal(await sessions(), before);
  });

  test("the token endpoint's errors: unknown device code, unknown refresh token, unsupported grant", async () => {
    const post = async (form: Record<string, string>) => {
      const r = await fetch(`${broker.url}/v1/login/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(form) });
      return { status: r.status, json: (await r.json()) as Record<string, string> };
    };
    assert.deepEqual((await post({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: "kbd_nope" })).json.error, "invalid_grant");
    assert.deepEqual((await post({ grant_type: "refresh_token", refresh_token: `kbr_${"A".repeat(43)}` })).json.error, "invalid_grant");
    const bad = await post({ grant_type: "password" });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, "unsupported_grant_type");
  });

  test("the log holds no client secret", () => {
    assert.ok(!log.lines.join("\n").includes(idp.clientSecret));
  });
});
