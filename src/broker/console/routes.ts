/**
 * The web console's routes: `GET /` (sign-in, or the caller's clusters), the admin pages under
 * `/console/`, their forms, the kubeconfig download and the console's files. Pages are drawn on the
 * server; every action calls the REST route that does it (`rest.ts`), so it is checked and audited
 * exactly like its REST twin. Each route declares its access for the broker's access hook
 * (`../access.ts`), with the console's session cookie as the way its callers prove themselves; the
 * cookie stands in for the Authorization header on these routes only (never on `/v1`), and every form
 * carries a CSRF token.
 */
import fastifyCookie from "@fastify/cookie";
import fastifyCsrf from "@fastify/csrf-protection";
import fastifyFormbody from "@fastify/formbody";
import fastifyStatic from "@fastify/static";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { callerOf, type RouteAccess } from "../access.js";
import type { BrokerContext } from "../context.js";
import { BrokerRefusal } from "../errors.js";
import { loadConsoleAssets, type ConsoleAsset, type ConsoleAssets } from "./assets.js";
import type { Html } from "./html.js";
import type { ConsoleViewer, Notice, PageFrame } from "./layout.js";
import { AUDIT_PAGE_SIZES, auditPage, type AuditFilter, type AuditRow, type ChainCheck } from "./pages/audit.js";
import { clustersPage } from "./pages/clusters.js";
import { credentialsPage } from "./pages/credentials.js";
import { errorPage } from "./pages/error.js";
import { grantsPage, type GrantRow } from "./pages/grants.js";
import { signInPage } from "./pages/sign-in.js";
import { usersPage, type UsersView } from "./pages/users.js";
import { callRest, callRestRaw, hasField, listOf, numberField, optionalText, text, type RestCall } from "./rest.js";
import { csrfCookieName, loginCookieName, sessionCookieOptions, setPageHeaders } from "./security.js";
import { consoleSessions } from "./session.js";
import { isSessionAccessTokenShape } from "../sessions.js";

/** What the console needs beyond the broker's context. */
export interface ConsoleOptions {
  /** The console's files; the package's own by default. */
  assets?: ConsoleAssets;
}

type Form = Record<string, string | string[] | undefined>;

/** A form field as one trimmed string ("" when absent or repeated). */
function formField(body: unknown, key: string): string {
  const v = body !== null && typeof body === "object" ? (body as Form)[key] : undefined;
  return typeof v === "string" ? v.trim() : "";
}

/** Where the console's sign-in through the identity provider starts. */
const IDP_START = "/console/sign-in/idp";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** What "done" notices a page may show after a redirect: fixed sentences, the name filled in escaped. */
const DONE: Record<string, (name: string) => string> = {
  "signed-out": () => "You are signed out.",
  "cluster-added": (n) => `Cluster ${n} is registered.`,
  "cluster-deleted": (n) => `Cluster ${n} is deleted.`,
  "user-deleted": (n) => `User ${n} is deleted; their token and sessions no longer work.`,
  granted: (n) => `Granted: ${n}.`,
  revoked: (n) => `Revoked: ${n}.`,
  "credential-deleted": (n) => `Credential ${n} is deleted.`,
};

function doneNotice(query: unknown): Notice[] {
  const done = formField(query, "done");
  const make = DONE[done];
  return make === undefined ? [] : [{ kind: "ok", text: make(formField(query, "name").slice(0, 200)) }];
}

function redirectDone(reply: FastifyReply, path: string, done: keyof typeof DONE, name = ""): FastifyReply {
  const q = new URLSearchParams({ done });
  if (name !== "") q.set("name", name);
  return reply.code(303).header("location", `${path}?${q.toString()}`).send();
}

/** A refusal a form can show beside itself (bad input, not found, taken), not one that ends the page. */
function isFormRefusal(error: unknown): error is BrokerRefusal {
  return error instanceof BrokerRefusal && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 429;
}

/**
 * Registers the console (an encapsulated plugin: its cookie, form and CSRF handling stay on its own
 * routes).
 *
 * @example
 * ```ts
 * await consoleRoutes(app, ctx, {});
 * ```
 */
export async function consoleRoutes(root: FastifyInstance, ctx: BrokerContext, options: ConsoleOptions): Promise<void> {
  const assets = options.assets ?? loadConsoleAssets();
  // TLS on the socket: cookies take the __Host- prefix. Behind a TLS proxy (https public URL) they are
  // still Secure, without the prefix.
  const tlsAtStart = Boolean(root.initialConfig.https);
  const isSecure = (req: FastifyRequest): boolean => tlsAtStart || req.protocol === "https" || ctx.publicUrl(req).startsWith("https:");
  const sessions = consoleSessions(ctx, {
    tls: tlsAtStart,
    secure: isSecure,
    renew: async (req, refreshToken) => {
      const answer = await callRestRaw(root, req, { method: "POST", url: "/v1/login/token", body: { grant_type: "refresh_token", refresh_token: refreshToken } });
      const accessToken = optionalText(answer.json, "access_token");
      const refreshed = optionalText(answer.json, "refresh_token");
      return answer.status === 200 && accessToken !== undefined && refreshed !== undefined ? { accessToken, refreshToken: refreshed } : undefined;
    },
  });
  const rest = (req: FastifyRequest, call: RestCall) => callRest(root, req, call);
  // What each route declares to the access hook: the same roles and audit actions as its REST twin.
  const PUBLIC = { access: { public: true } } as const satisfies { access: RouteAccess };
  const signedIn = { access: { role: "user", authenticate: sessions.caller } } as const satisfies { access: RouteAccess };
  const admin = (audit: string, doing: string): { access: RouteAccess } => ({ access: { role: "admin", audit, doing, authenticate: sessions.caller } });

  await root.register(async (app) => {
    if (!app.hasDecorator("parseCookie")) await app.register(fastifyCookie);
    if (!app.hasContentTypeParser("application/x-www-form-urlencoded")) await app.register(fastifyFormbody);
    // reply.sendFile for the console's files, on the routes below (which declare their access).
    await app.register(fastifyStatic, { root: assets.dir, serve: false });
    await app.register(fastifyCsrf, {
      cookieKey: csrfCookieName(tlsAtStart),
      cookieOpts: { path: "/", sameSite: "strict", httpOnly: true, secure: tlsAtStart },
      getToken: (req) => formField(req.body, "_csrf"),
    });

    // A session renewed while answering gets its new cookies on the answer.
    app.addHook("onSend", async (req, reply, payload) => {
      sessions.setRenewed(req, reply);
      return payload;
    });

    const frame = (req: FastifyRequest, reply: FastifyReply, viewer: ConsoleViewer | undefined, notices: Notice[] = []): PageFrame => ({
      assets,
      ...(viewer === undefined ? {} : { viewer }),
      csrf: reply.generateCsrf({ secure: isSecure(req) }),
      notices,
    });
    const send = (reply: FastifyReply, page: Html, status = 200): FastifyReply => setPageHeaders(reply).code(status).type("text/html; charset=utf-8").send(page.toString());
    const signIn = (req: FastifyRequest, reply: FastifyReply, notices: Notice[], status = 200): FastifyReply =>
      send(reply, signInPage(frame(req, reply, undefined, notices), ctx.oidc === undefined ? {} : { identityProviderHref: IDP_START }), status);

    /** The person signed in on a public page: undefined without a session cookie, a 401 refusal with a dead one. */
    const viewerOf = async (req: FastifyRequest): Promise<ConsoleViewer | undefined> => {
      if (!sessions.hasCookie(req)) return undefined;
      const user = await sessions.caller(req);
      req.caller = user;
      return { name: user.name, role: user.role };
    };
    /** The person signed in on a closed page (the access hook found them). */
    const requireViewer = async (req: FastifyRequest): Promise<ConsoleViewer> => {
      const user = callerOf(req);
      return { name: user.name, role: user.role };
    };

    app.setErrorHandler(async (error: FastifyError | BrokerRefusal, req, reply) => {
      // A refusal by the access hook comes before this scope's cookie hook has read the cookies.
      if ((req.cookies as unknown) == null) req.cookies = app.parseCookie(req.headers.cookie ?? "");
      if (error instanceof BrokerRefusal && error.status === 401) {
        const had = sessions.hasCookie(req);
        sessions.clear(req, reply);
        return signIn(req, reply, [{ kind: "error", text: had ? "Your session has ended: sign in again." : "Sign in to see this page." }], 401);
      }
      let status: number;
      let message: string;
      if (error instanceof BrokerRefusal) {
        status = error.status;
        message = error.message;
        if (error.retryAfter !== undefined) void reply.header("retry-after", String(error.retryAfter));
      } else if ((error as FastifyError).code === "FST_CSRF_INVALID_TOKEN" || (error as FastifyError).code === "FST_CSRF_MISSING_SECRET") {
        status = 403;
        message = "This form is out of date or came from another site: reload the page and send it again.";
      } else if ((error as FastifyError).validation !== undefined) {
        status = 400;
        message = `The request is not valid: ${(error as FastifyError).message}.`;
      } else {
        status = 500;
        message = "The broker failed to draw this page: see its log for the request id, and retry.";
        req.log.error({ err: { type: (error as Error).name, message: (error as Error).message } }, "console page failed");
      }
      let viewer: ConsoleViewer | undefined;
      if (req.caller !== undefined) viewer = { name: req.caller.name, role: req.caller.role };
      return send(reply, errorPage(frame(req, reply, viewer, [{ kind: "error", text: message }])), status);
    });

    // The console's files.
    for (const asset of [assets.css, assets.js, assets.icon]) {
      app.get(asset.path, { config: PUBLIC, schema: { hide: true } }, async (req, reply) => serveAsset(req, reply, asset));
    }

    // Sign-in page, or the caller's clusters.
    app.get("/", { config: PUBLIC, schema: { hide: true } }, async (req, reply) => {
      let viewer = await viewerOf(req);
      if (viewer === undefined && ctx.oidc !== undefined) {
        const pending = await finishIdpSignIn(req, reply);
        if ("notice" in pending) return signIn(req, reply, [pending.notice]);
        if ("viewer" in pending) viewer = pending.viewer;
      }
      if (viewer === undefined) return signIn(req, reply, doneNotice(req.query));
      return send(reply, await clustersView(req, reply, viewer, doneNotice(req.query)));
    });

    const clustersView = async (req: FastifyRequest, reply: FastifyReply, viewer: ConsoleViewer, notices: Notice[]): Promise<Html> => {
      const { json } = await rest(req, { method: "GET", url: "/v1/clusters" });
      const clusters = listOf(json, "clusters").map((c) => ({
        name: text(c, "name"),
        provider: text(c, "provider"),
        region: text(c, "region"),
        endpoint: text(c, "endpoint"),
        status: optionalText(c, "status") ?? "",
      }));
      const credentials = viewer.role === "admin" ? await credentialList(req) : undefined;
      return clustersPage(frame(req, reply, viewer, notices), { clusters, server: ctx.publicUrl(req), ...(credentials === undefined ? {} : { credentials }) });
    };
    const credentialList = async (req: FastifyRequest) => {
      const { json } = await rest(req, { method: "GET", url: "/v1/credentials" });
      return listOf(json, "credentials").map((c) => {
        const createdAt = optionalText(c, "createdAt");
        return { name: text(c, "name"), provider: text(c, "provider"), ...(createdAt === undefined ? {} : { createdAt }) };
      });
    };

    // Signing in through the identity provider: the device flow of /v1/login, run for this browser.
    // The console asks for a device code (the same route the CLI calls), keeps it in an HttpOnly
    // cookie and sends the person to the broker's own verification page, which goes on to the
    // identity provider and back to /v1/login/callback; back on the console, one poll of the token
    // route (the CLI's too) turns the approved code into this browser's session.
    const loginCookie = loginCookieName(tlsAtStart);
    app.get(IDP_START, { config: PUBLIC, schema: { hide: true } }, async (req, reply) => {
      const started = await callRestRaw(root, req, { method: "POST", url: "/v1/login/device" });
      const deviceCode = optionalText(started.json, "device_code");
      const link = optionalText(started.json, "verification_uri_complete");
      if (started.status !== 200 || deviceCode === undefined || link === undefined) {
        const message = optionalText(started.json === undefined ? undefined : (started.json as { error?: unknown }).error, "message");
        return signIn(req, reply, [{ kind: "error", text: `The identity provider's sign-in did not start: ${message ?? `the broker answered ${started.status}`}.` }], started.status >= 400 ? started.status : 502);
      }
      const expires = Number((started.json as { expires_in?: unknown }).expires_in);
      void reply.setCookie(loginCookie, deviceCode, { ...sessionCookieOptions(isSecure(req)), ...(Number.isFinite(expires) && expires > 0 ? { maxAge: Math.ceil(expires) } : {}) });
      return reply.code(303).header("cache-control", "no-store").header("location", link).send();
    });
    /** One poll for a pending identity-provider sign-in of this browser: its session, a notice, or nothing pending. */
    const finishIdpSignIn = async (req: FastifyRequest, reply: FastifyReply): Promise<{ viewer: ConsoleViewer } | { notice: Notice } | { none: true }> => {
      const deviceCode = req.cookies[loginCookie];
      if (deviceCode === undefined || deviceCode === "") return { none: true };
      const answer = await callRestRaw(root, req, { method: "POST", url: "/v1/login/token", body: { grant_type: DEVICE_GRANT, device_code: deviceCode } });
      const error = optionalText(answer.json, "error");
      if (error === "authorization_pending" || error === "slow_down") {
        return { notice: { kind: "ok", text: "Finish signing in at the identity provider (the other tab), then continue here." } };
      }
      void reply.clearCookie(loginCookie, sessionCookieOptions(isSecure(req)));
      const accessToken = optionalText(answer.json, "access_token");
      const refreshToken = optionalText(answer.json, "refresh_token");
      const user = answer.status === 200 && accessToken !== undefined && refreshToken !== undefined ? await sessions.adopt(req, reply, { accessToken, refreshToken }) : undefined;
      if (user === undefined) {
        return { notice: { kind: "error", text: `Not signed in through the identity provider: ${optionalText(answer.json, "error_description") ?? error ?? "the sign-in did not finish"}.` } };
      }
      req.caller = user;
      return { viewer: { name: user.name, role: user.role } };
    };

    app.post("/console/sign-in", { config: PUBLIC, schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const token = formField(req.body, "token");
      if (isSessionAccessTokenShape(token)) {
        return signIn(req, reply, [{ kind: "error", text: "Not signed in: that is a session token; paste your kbi_ broker token." }], 401);
      }
      // The token typed in is checked as if it came in an Authorization header: the same lookup,
      // the same failed-authentication limit and audit row.
      req.headers.authorization = `Bearer ${token}`;
      let user;
      try {
        user = await ctx.authenticate(req);
      } catch (error) {
        if (error instanceof BrokerRefusal && (error.status === 401 || error.status === 429)) {
          if (error.retryAfter !== undefined) void reply.header("retry-after", String(error.retryAfter));
          return signIn(req, reply, [{ kind: "error", text: `Not signed in: ${error.message}.` }], error.status);
        }
        throw error;
      }
      await sessions.start(req, reply, user);
      return reply.code(303).header("location", "/").send();
    });

    app.post("/console/sign-out", { config: PUBLIC, schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      await sessions.end(req, reply);
      return redirectDone(reply, "/", "signed-out");
    });

    app.get<{ Params: { name: string } }>("/console/clusters/:name/kubeconfig", { config: signedIn, schema: { hide: true } }, async (req, reply) => {
      await requireViewer(req);
      const name = req.params.name;
      const answer = await rest(req, { method: "GET", url: `/v1/clusters/${encodeURIComponent(name)}/kubeconfig?mode=exec` });
      return reply
        .headers({ "content-type": "application/yaml; charset=utf-8", "content-disposition": `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}.kubeconfig"`, "cache-control": "no-store", "x-content-type-options": "nosniff" })
        .send(answer.text);
    });

    // Admin actions: each is its REST route, called as the signed-in admin.
    const act = async (req: FastifyRequest, reply: FastifyReply, call: RestCall, done: () => FastifyReply, redraw: (notices: Notice[]) => Promise<Html>): Promise<FastifyReply> => {
      await requireViewer(req);
      try {
        await rest(req, call);
      } catch (error) {
        if (!isFormRefusal(error)) throw error;
        return send(reply, await redraw([{ kind: "error", text: error.message }]), error.status);
      }
      return done();
    };

    app.post("/console/clusters", { config: admin("cluster.create", "adding clusters"), schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const b = req.body;
      const name = formField(b, "name");
      const body: Record<string, unknown> = { name, credential: formField(b, "credential"), region: formField(b, "region") };
      if (formField(b, "connection") !== "") body.connection = formField(b, "connection");
      if (formField(b, "clusterUuid") !== "") body.ncp = { clusterUuid: formField(b, "clusterUuid") };
      if (formField(b, "clusterName") !== "") body.aws = { clusterName: formField(b, "clusterName") };
      if (formField(b, "project") !== "" || formField(b, "location") !== "" || formField(b, "cluster") !== "") {
        body.gcp = { project: formField(b, "project"), location: formField(b, "location"), cluster: formField(b, "cluster") };
      }
      const viewer = await requireViewer(req);
      return act(req, reply, { method: "POST", url: "/v1/clusters", body }, () => redirectDone(reply, "/", "cluster-added", name), (n) => clustersView(req, reply, viewer, n));
    });

    app.post<{ Params: { name: string } }>("/console/clusters/:name/delete", { config: admin("cluster.delete", "deleting clusters"), schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const viewer = await requireViewer(req);
      const { name } = req.params;
      return act(req, reply, { method: "DELETE", url: `/v1/clusters/${encodeURIComponent(name)}` }, () => redirectDone(reply, "/", "cluster-deleted", name), (n) => clustersView(req, reply, viewer, n));
    });

    // Users.
    const usersView = async (req: FastifyRequest, reply: FastifyReply, viewer: ConsoleViewer, notices: Notice[], newToken?: UsersView["newToken"]): Promise<Html> => {
      const { json } = await rest(req, { method: "GET", url: "/v1/users" });
      const users = listOf(json, "users").map((u) => ({ name: text(u, "name"), role: text(u, "role"), createdAt: optionalText(u, "createdAt") ?? "" }));
      return usersPage(frame(req, reply, viewer, notices), { users, server: ctx.publicUrl(req), ...(newToken === undefined ? {} : { newToken }) });
    };
    app.get("/console/users", { config: admin("user.list", "listing users"), schema: { hide: true } }, async (req, reply) => {
      const viewer = await requireViewer(req);
      return send(reply, await usersView(req, reply, viewer, doneNotice(req.query)));
    });
    app.post("/console/users", { config: admin("user.create", "adding users"), schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const viewer = await requireViewer(req);
      const name = formField(req.body, "name");
      const role = formField(req.body, "role") || "user";
      let token: string;
      try {
        token = text((await rest(req, { method: "POST", url: "/v1/users", body: { name, role } })).json, "token");
      } catch (error) {
        if (!isFormRefusal(error)) throw error;
        return send(reply, await usersView(req, reply, viewer, [{ kind: "error", text: error.message }]), error.status);
      }
      // The token is on this answer only (no redirect to a page that could show it again).
      return send(reply, await usersView(req, reply, viewer, [], { user: name, token, why: "created" }), 201);
    });
    app.post<{ Params: { name: string } }>("/console/users/:name/rotate", { config: admin("user.rotate", "rotating tokens"), schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const viewer = await requireViewer(req);
      const { name } = req.params;
      let token: string;
      try {
        token = text((await rest(req, { method: "POST", url: `/v1/users/${encodeURIComponent(name)}/token` })).json, "token");
      } catch (error) {
        if (!isFormRefusal(error)) throw error;
        return send(reply, await usersView(req, reply, viewer, [{ kind: "error", text: error.message }]), error.status);
      }
      return send(reply, await usersView(req, reply, viewer, [], { user: name, token, why: "rotated" }));
    });
    app.post<{ Params: { name: string } }>("/console/users/:name/delete", { config: admin("user.delete", "deleting users"), schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const viewer = await requireViewer(req);
      const { name } = req.params;
      return act(req, reply, { method: "DELETE", url: `/v1/users/${encodeURIComponent(name)}` }, () => redirectDone(reply, "/console/users", "user-deleted", name), (n) => usersView(req, reply, viewer, n));
    });

    // Grants.
    const grantsView = async (req: FastifyRequest, reply: FastifyReply, viewer: ConsoleViewer, notices: Notice[], lookup: string): Promise<Html> => {
      const users = listOf((await rest(req, { method: "GET", url: "/v1/users" })).json, "users").map((u) => text(u, "name"));
      const clusters = listOf((await rest(req, { method: "GET", url: "/v1/clusters" })).json, "clusters").map((c) => text(c, "name"));
      const subjects = lookup === "" ? users : [lookup];
      const grants: GrantRow[] = [];
      for (const subject of subjects) {
        let json: unknown;
        try {
          json = (await rest(req, { method: "GET", url: `/v1/grants/${encodeURIComponent(subject)}` })).json;
        } catch (error) {
          if (lookup !== "" && isFormRefusal(error)) {
            notices = [...notices, { kind: "error", text: error.message }];
            continue;
          }
          throw error;
        }
        for (const g of listOf(json, "grants")) {
          const as = optionalText(g, "as");
          const expiresAt = optionalText(g, "expiresAt");
          const ended = (g as { ended?: unknown }).ended === true;
          grants.push({ subject, cluster: text(g, "cluster"), ...(as === undefined ? {} : { as }), ...(expiresAt === undefined ? {} : { expiresAt }), ...(ended ? { ended } : {}) });
        }
      }
      const actAs = await credentialList(req);
      return grantsPage(frame(req, reply, viewer, notices), {
        grants,
        subjectsShown: lookup === "" ? "every user" : lookup,
        users,
        clusters,
        actAs,
        ...(lookup === "" ? {} : { lookup }),
      });
    };
    app.get("/console/grants", { config: admin("grant.list", "reading grants"), schema: { hide: true } }, async (req, reply) => {
      const viewer = await requireViewer(req);
      return send(reply, await grantsView(req, reply, viewer, doneNotice(req.query), formField(req.query, "subject")));
    });
    app.post("/console/grants", { config: admin("grant.put", "granting clusters"), schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const viewer = await requireViewer(req);
      const subject = formField(req.body, "subject");
      const cluster = formField(req.body, "cluster");
      const as = formField(req.body, "as");
      const expires = formField(req.body, "expiresAt");
      const body: Record<string, string> = {};
      if (as !== "") body.as = as;
      if (expires !== "") body.expiresAt = utcFromLocalInput(expires);
      const call: RestCall = { method: "PUT", url: `/v1/grants/${encodeURIComponent(subject)}/${encodeURIComponent(cluster)}`, ...(Object.keys(body).length === 0 ? {} : { body }) };
      return act(req, reply, call, () => redirectDone(reply, "/console/grants", "granted", `${subject} on ${cluster}`), (n) => grantsView(req, reply, viewer, n, ""));
    });
    app.post("/console/grants/revoke", { config: admin("grant.delete", "revoking grants"), schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const viewer = await requireViewer(req);
      const subject = formField(req.body, "subject");
      const cluster = formField(req.body, "cluster");
      return act(
        req,
        reply,
        { method: "DELETE", url: `/v1/grants/${encodeURIComponent(subject)}/${encodeURIComponent(cluster)}` },
        () => redirectDone(reply, "/console/grants", "revoked", `${subject} on ${cluster}`),
        (n) => grantsView(req, reply, viewer, n, ""),
      );
    });

    // Credentials: names and providers only.
    const credentialsView = async (req: FastifyRequest, reply: FastifyReply, viewer: ConsoleViewer, notices: Notice[]): Promise<Html> =>
      credentialsPage(frame(req, reply, viewer, notices), { credentials: await credentialList(req), server: ctx.publicUrl(req) });
    app.get("/console/credentials", { config: admin("credential.list", "listing credentials"), schema: { hide: true } }, async (req, reply) => {
      const viewer = await requireViewer(req);
      return send(reply, await credentialsView(req, reply, viewer, doneNotice(req.query)));
    });
    app.post<{ Params: { name: string } }>("/console/credentials/:name/delete", { config: admin("credential.delete", "deleting credentials"), schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
      const viewer = await requireViewer(req);
      const { name } = req.params;
      return act(
        req,
        reply,
        { method: "DELETE", url: `/v1/credentials/${encodeURIComponent(name)}` },
        () => redirectDone(reply, "/console/credentials", "credential-deleted", name),
        (n) => credentialsView(req, reply, viewer, n),
      );
    });

    // Audit.
    app.get("/console/audit", { config: admin("audit.read", "reading the audit trail"), schema: { hide: true } }, async (req, reply) => {
      const viewer = await requireViewer(req);
      const q = req.query;
      const limitText = formField(q, "limit");
      const limit = AUDIT_PAGE_SIZES.find((n) => String(n) === limitText) ?? 50;
      const beforeText = formField(q, "before");
      const filter: AuditFilter = {
        limit,
        ...(formField(q, "user") === "" ? {} : { user: formField(q, "user") }),
        ...(formField(q, "cluster") === "" ? {} : { cluster: formField(q, "cluster") }),
        ...(/^[0-9]{1,15}$/.test(beforeText) ? { before: Number(beforeText) } : {}),
      };
      const params = new URLSearchParams({ limit: String(limit) });
      if (filter.user !== undefined) params.set("user", filter.user);
      if (filter.cluster !== undefined) params.set("cluster", filter.cluster);
      if (filter.before !== undefined) params.set("before", String(filter.before));
      const { json } = await rest(req, { method: "GET", url: `/v1/audit?${params.toString()}` });
      const entries = listOf(json, "entries").map((e): AuditRow => ({
        id: numberField(e, "id"),
        time: text(e, "time"),
        actor: text(e, "actor"),
        action: text(e, "action"),
        cluster: optionalText(e, "cluster") ?? null,
        outcome: text(e, "outcome"),
        remote: optionalText(e, "remote") ?? null,
        reason: optionalText(e, "reason") ?? null,
      }));
      return send(reply, auditPage(frame(req, reply, viewer), { entries, filter, chain: await chainCheck(req) }));
    });
    const chainCheck = async (req: FastifyRequest): Promise<ChainCheck> => {
      let json: unknown;
      try {
        json = (await rest(req, { method: "GET", url: "/v1/audit/verify" })).json;
      } catch (error) {
        if (error instanceof BrokerRefusal && error.status === 404) return { kind: "unavailable", why: "this broker has no chain check (GET /v1/audit/verify)." };
        if (error instanceof BrokerRefusal && error.status < 500) return { kind: "unavailable", why: error.message };
        throw error;
      }
      if (hasField(json, "ok") && (json as { ok: unknown }).ok === true) return { kind: "ok", entries: numberField(json, "entries") };
      return { kind: "broken", firstBad: numberField(json, "firstBad"), reason: optionalText(json, "reason") ?? "the entry does not match the chain" };
    };
  });
}

function serveAsset(req: FastifyRequest, reply: FastifyReply, asset: ConsoleAsset): FastifyReply {
  // A link with the digest names this very content: cached for good. Without it, revalidated each time.
  const versioned = typeof (req.query as Form | undefined)?.v === "string";
  // Our own type (text/javascript, RFC 9239), not the mime table's older application/javascript.
  void reply.headers({ "content-type": asset.contentType, "x-content-type-options": "nosniff" });
  if (versioned) return reply.sendFile(asset.name, { maxAge: "365d", immutable: true, contentType: false });
  void reply.header("cache-control", "no-cache");
  return reply.sendFile(asset.name, { cacheControl: false, contentType: false });
}

/**
 * A `datetime-local` value read as UTC (the form's label says so), as RFC 3339.
 *
 * @example
 * ```ts
 * utcFromLocalInput("2026-12-07T18:30"); // "2026-12-07T18:30:00Z"
 * ```
 */
export function utcFromLocalInput(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(value);
  return m === null ? value : `${m[1] ?? ""}T${m[2] ?? ""}${m[3] ?? ":00"}Z`;
}
