/**
 * `/v1/login/*`: signing in through the identity provider (BROKER.md "Signing in with an identity
 * provider"), all public routes. Toward the CLI an RFC 8628 device flow (`POST /v1/login/device`,
 * `POST /v1/login/token` with the device_code and refresh_token grants); toward the browser a page
 * at `verification_uri_complete` that shows the code and continues to the identity provider with a
 * plain form (no script), and the callback (`/v1/login/callback`) that checks the provider's answer
 * through openid-client and says, in one sentence, that the sign-in is done or why it is not.
 */
import { randomBytes } from "node:crypto";
import formbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { FailedAuthLimiter } from "../auth.js";
import type { BrokerContext } from "../context.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { DEVICE_POLL_INTERVAL_S, LoginRequests, digestOf, normalizeUserCode } from "../login-requests.js";
import { OidcRelyingParty, SignInRefused } from "../oidc.js";

/** The cookie that binds a sign-in to the browser that started it (and carries the form's CSRF value). */
const LOGIN_COOKIE = "kubeiam_login";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** Every sign-in route is public: the person has no broker token yet (access.ts). */
const PUBLIC = { access: { public: true } } as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

/** A page of the sign-in: plain HTML, no script, a CSP that allows none and forms only to here and the IdP. */
function page(reply: FastifyReply, status: number, title: string, body: string, formTargets: string[] = []): FastifyReply {
  void reply
    .code(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .header("referrer-policy", "no-referrer")
    .header("x-content-type-options", "nosniff")
    .header("content-security-policy", `default-src 'none'; form-action 'self' ${formTargets.join(" ")}; frame-ancestors 'none'; base-uri 'none'`.replace(/ +;/g, ";"));
  return reply.send(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)} · kubeiam broker</title></head>\n<body>\n<h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>\n`,
  );
}

function cookieValue(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** An RFC 6749 / 8628 error answer of the token endpoint. */
function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return reply.code(status).header("cache-control", "no-store").send({ error, error_description: description });
}

/**
 * Registers the sign-in routes (in their own scope, which also reads form bodies). Without
 * `--oidc-issuer` the device flow answers 404 saying so; renewing a session works either way.
 *
 * @example
 * ```ts
 * await loginRoutes(app, ctx);
 * ```
 */
export async function loginRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit: 8 * 1024 });
    const requests = new LoginRequests(ctx.store.db, ctx.masterKeys, ctx.now);
    // Starting sign-ins and typing codes, per address: a flood of rows or a guessing run is refused.
    const starts = new FailedAuthLimiter(60, 60_000);

    const oidcOr404 = (): OidcRelyingParty => {
      if (ctx.oidc === undefined) {
        throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, "this broker has no identity provider configured (serve --oidc-issuer): sign in with a broker token from an admin instead");
      }
      return ctx.oidc;
    };
    const base = (req: FastifyRequest): string => ctx.publicUrl(req).replace(/\/+$/, "");
    const limit = (req: FastifyRequest): void => {
      const now = ctx.now();
      starts.check(req.ip, now);
      starts.fail(req.ip, now);
    };

    scope.post("/v1/login/device", { config: PUBLIC, schema: { summary: "Start a device sign-in (RFC 8628): device_code, user_code, verification_uri_complete" } }, async (req, reply) => {
      oidcOr404();
      limit(req);
      const { deviceCode, userCode, expiresAt } = await requests.create();
      const verify = `${base(req)}/v1/login/verify`;
      return reply
        .header("cache-control", "no-store")
        .send({
          device_code: deviceCode,
          user_code: userCode,
          verification_uri: verify,
          verification_uri_complete: `${verify}?user_code=${encodeURIComponent(userCode)}`,
          expires_in: Math.round((expiresAt.getTime() - ctx.now()) / 1000),
          interval: DEVICE_POLL_INTERVAL_S,
        });
    });

    // The page the person opens: the code to compare with their terminal, and a button on to the IdP.
    scope.get<{ Querystring: { user_code?: string } }>(
      "/v1/login/verify",
      { config: PUBLIC, schema: { summary: "The sign-in page: shows the code, continues to the identity provider (HTML, no script)", querystring: { type: "object", properties: { user_code: { type: "string", maxLength: 64 } } } } },
      async (req, reply) => {
        const rp = oidcOr404();
        const typed = req.query.user_code;
        const code = typed === undefined ? undefined : normalizeUserCode(typed);
        if (code === undefined) {
          return page(
            reply,
            typed === undefined ? 200 : 400,
            "Sign in to the kubeiam broker",
            `${typed === undefined ? "" : "<p>That is not a sign-in code: it has eight letters, like WDJB-MJHT.</p>\n"}<form method="get" action="/v1/login/verify">\n<label for="user_code">Code shown in your terminal</label>\n<input id="user_code" name="user_code" autocomplete="off" required>\n<button type="submit">Continue</button>\n</form>`,
          );
        }
        const request = await requests.byUserCode(code);
        if (request === undefined || request.expiresAt.getTime() <= ctx.now() || (request.status !== "pending" && request.status !== "started")) {
          return page(reply, 400, "Sign-in code not usable", `<p>The code ${escapeHtml(code)} is unknown, expired or already used: run 'kubeiam broker login' again for a new one.</p>`);
        }
        const csrf = randomBytes(32).toString("base64url");
        const secure = base(req).startsWith("https:") ? "; Secure" : "";
        void reply.header("set-cookie", `${LOGIN_COOKIE}=${csrf}; Path=/v1/login; HttpOnly; SameSite=Lax; Max-Age=900${secure}`);
        return page(
          reply,
          200,
          "Sign in to the kubeiam broker",
          `<p>Check that your terminal shows this code:</p>\n<p><strong id="user-code">${escapeHtml(code)}</strong></p>\n<p>If it does not, close this page: someone else may be trying to sign in as you.</p>\n<form method="post" action="/v1/login/verify">\n<input type="hidden" name="user_code" value="${escapeHtml(code)}">\n<input type="hidden" name="csrf" value="${csrf}">\n<button type="submit">Continue to ${escapeHtml(new URL(rp.issuerOrigin).host)}</button>\n</form>`,
          [rp.issuerOrigin],
        );
      },
    );

    scope.post<{ Body: { user_code?: string; csrf?: string } }>(
      "/v1/login/verify",
      { config: PUBLIC, schema: { summary: "The sign-in page's form: on to the identity provider (303)", body: { type: "object", properties: { user_code: { type: "string", maxLength: 64 }, csrf: { type: "string", maxLength: 128 } } } } },
      async (req, reply) => {
        const rp = oidcOr404();
        limit(req);
        const cookie = cookieValue(req, LOGIN_COOKIE);
        if (cookie === undefined || req.body?.csrf === undefined || cookie !== req.body.csrf) {
          return page(reply, 403, "Sign-in not started", "<p>This form did not come from the broker's own page in this browser: open the link your terminal shows and continue from there.</p>");
        }
        const code = normalizeUserCode(req.body.user_code ?? "");
        const request = code === undefined ? undefined : await requests.byUserCode(code);
        if (request === undefined) {
          return page(reply, 400, "Sign-in code not usable", "<p>That code is unknown: run 'kubeiam broker login' again for a new one.</p>");
        }
        const checks = await OidcRelyingParty.newChecks();
        if (!(await requests.start(request.id, { state: checks.state, nonce: checks.nonce, verifier: checks.verifier, binding: cookie }))) {
          return page(reply, 400, "Sign-in code not usable", "<p>That code has expired or was already used: run 'kubeiam broker login' again for a new one.</p>");
        }
        const target = rp.authorizationUrl({ redirectUri: `${base(req)}/v1/login/callback`, state: checks.state, nonce: checks.nonce, codeChallenge: checks.challenge });
        return reply.code(303).header("cache-control", "no-store").header("location", target.href).send();
      },
    );

    scope.get<{ Querystring: Record<string, string> }>("/v1/login/callback", { config: PUBLIC, schema: { summary: "The identity provider's redirect back (the broker's redirect URI)" } }, async (req, reply) => {
      const rp = oidcOr404();
      const query = new URLSearchParams(req.url.includes("?") ? req.url.slice(req.url.indexOf("?") + 1) : "");
      const state = query.get("state");
      const attempt = state === null || state === "" || state.length > 512 ? undefined : await requests.takeAttempt(state);
      if (attempt === undefined) {
        limit(req);
        return page(reply, 400, "Sign-in failed", "<p>This answer from the identity provider belongs to no sign-in in progress (unknown, expired or already used): run 'kubeiam broker login' again.</p>");
      }
      const cookie = cookieValue(req, LOGIN_COOKIE);
      const deny = async (why: string, actor = "?"): Promise<FastifyReply> => {
        await requests.deny(attempt.request.id, why);
        await ctx.record(req, { actor, action: "login", outcome: "denied", reason: why.slice(0, 300) });
        return page(reply, 400, "Sign-in failed", `<p>${escapeHtml(why.charAt(0).toUpperCase() + why.slice(1))}.</p>\n<p>Your terminal says so too; run 'kubeiam broker login' to try again.</p>`);
      };
      if (cookie === undefined || attempt.bindingDigest === null || digestOf(cookie) !== attempt.bindingDigest) {
        return deny("the sign-in was finished in another browser than the one that started it");
      }
      let person;
      try {
        person = await rp.signIn(new URL(`${base(req)}/v1/login/callback?${query.toString()}`), { verifier: attempt.verifier, state: state ?? "", nonce: attempt.nonce });
      } catch (error) {
        const refused = error instanceof SignInRefused ? error : new SignInRefused("unavailable", "the sign-in failed inside the broker");
        if (!(error instanceof SignInRefused)) req.log.error({ err: { type: (error as Error).name, message: (error as Error).message } }, "sign-in failed");
        return deny(refused.message);
      }
      const user = await ctx.store.signedInUser(person.username, new Date(ctx.now()));
      if (!(await requests.approve(attempt.request.id, { userId: user.id, role: person.role, groups: person.groups, idpRefreshToken: person.idpRefreshToken }))) {
        return deny("the sign-in code expired or was used meanwhile", person.username);
      }
      await ctx.record(req, { actor: person.username, action: "login", outcome: "ok", reason: `oidc${person.role === "admin" ? " admin" : ""}; groups: ${person.groups.join(",") || "none"}${user.created ? "; first sign-in" : ""}`.slice(0, 500) });
      return page(
        reply.header("set-cookie", `${LOGIN_COOKIE}=; Path=/v1/login; HttpOnly; SameSite=Lax; Max-Age=0`),
        200,
        "Signed in",
        `<p>You are signed in to the kubeiam broker as <strong>${escapeHtml(person.username)}</strong>. Go back to your terminal; you may close this page.</p>`,
      );
    });

    scope.post<{ Body: Record<string, unknown> }>("/v1/login/token", { config: PUBLIC, schema: { summary: "Tokens: the device_code grant (RFC 8628) and the refresh_token grant" } }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const field = (name: string): string | undefined => (typeof body[name] === "string" ? (body[name] as string) : undefined);
      const grant = field("grant_type");
      if (grant === DEVICE_GRANT) {
        oidcOr404();
        const deviceCode = field("device_code");
        const request = deviceCode === undefined || deviceCode.length > 200 ? undefined : await requests.byDeviceCode(deviceCode);
        if (request === undefined) {
          limit(req);
          return oauthError(reply, 400, "invalid_grant", "the device code is unknown: start again with 'kubeiam broker login'");
        }
        const now = ctx.now();
        if (request.status === "denied") return oauthError(reply, 400, "access_denied", request.reason ?? "the sign-in was refused");
        if (request.status === "done") return oauthError(reply, 400, "invalid_grant", "the device code was already used: start again with 'kubeiam broker login'");
        if (request.expiresAt.getTime() <= now) return oauthError(reply, 400, "expired_token", "the device code expired before the sign-in finished: start again with 'kubeiam broker login'");
        if (request.status === "approved") {
          const approved = await requests.claim(request.id);
          if (approved === undefined) return oauthError(reply, 400, "invalid_grant", "the device code was already used: start again with 'kubeiam broker login'");
          const session = await ctx.sessions.create({ userId: approved.userId, source: "oidc", role: approved.role, groups: approved.groups, idpRefreshToken: approved.idpRefreshToken });
          return reply.header("cache-control", "no-store").send({
            access_token: session.accessToken,
            token_type: "Bearer",
            expires_in: Math.max(1, Math.floor((session.accessExpiresAt.getTime() - ctx.now()) / 1000)),
            refresh_token: session.refreshToken,
          });
        }
        // Polling faster than half the interval: RFC 8628 3.5 slow_down.
        const tooSoon = request.polledAt !== null && now - request.polledAt.getTime() < (DEVICE_POLL_INTERVAL_S * 1000) / 2;
        await requests.polled(request.id);
        if (tooSoon) return oauthError(reply, 400, "slow_down", `poll at most once every ${DEVICE_POLL_INTERVAL_S} s`);
        return oauthError(reply, 400, "authorization_pending", "the person has not finished signing in yet");
      }
      if (grant === "refresh_token") {
        const refreshToken = field("refresh_token");
        const session = refreshToken === undefined ? undefined : await ctx.sessions.byRefreshToken(refreshToken);
        if (session === undefined) {
          limit(req);
          return oauthError(reply, 400, "invalid_grant", "the session has ended: sign in again with 'kubeiam broker login'");
        }
        let update: Parameters<typeof ctx.sessions.renew>[1] = {};
        if (session.source === "oidc") {
          const refused = async (why: string): Promise<FastifyReply> => {
            await ctx.sessions.end(session.id);
            await ctx.record(req, { actor: session.userName, action: "login.renew", outcome: "denied", reason: why.slice(0, 300) });
            return oauthError(reply, 400, "invalid_grant", `the session has ended: ${why}; sign in again with 'kubeiam broker login'`);
          };
          if (ctx.oidc === undefined || session.idpRefreshToken === undefined) return refused("the identity provider cannot be asked again for this session");
          try {
            const person = await ctx.oidc.refresh(session.idpRefreshToken, session.userName);
            update = { groups: person.groups, role: person.role, idpRefreshToken: person.idpRefreshToken };
          } catch (error) {
            if (error instanceof SignInRefused && error.kind === "unavailable") {
              return oauthError(reply, 503, "temporarily_unavailable", error.message);
            }
            return refused(error instanceof SignInRefused ? error.message : "the identity provider's answer could not be used");
          }
        }
        const renewed = await ctx.sessions.renew(session, update);
        if (renewed === undefined) return oauthError(reply, 400, "invalid_grant", "the refresh token was already used or the session ended: sign in again with 'kubeiam broker login'");
        await ctx.record(req, { actor: session.userName, action: "login.renew", outcome: "ok", reason: session.source });
        return reply.header("cache-control", "no-store").send({
          access_token: renewed.accessToken,
          token_type: "Bearer",
          expires_in: Math.max(1, Math.floor((renewed.accessExpiresAt.getTime() - ctx.now()) / 1000)),
          refresh_token: renewed.refreshToken,
        });
      }
      return oauthError(reply, 400, "unsupported_grant_type", `grant_type must be ${DEVICE_GRANT} or refresh_token`);
    });
  });
}
