/**
 * The console's cookie session: a session of the broker's session service (`ctx.sessions`, source
 * `token`) started by signing in with a broker token. Its access token rides in one HttpOnly cookie
 * and stands in for the Authorization header on the console's routes (never on `/v1`); its refresh
 * token rides in another and renews the access token when it runs out (through the token route's
 * refresh grant, as the CLI renews), until the session's hard end.
 * Signing out ends the session in the store, so every instance refuses it from then on.
 */
import { fastifyCookie } from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { BrokerContext } from "../context.js";
import { hashSessionToken, isSessionAccessTokenShape } from "../sessions.js";
import type { StoredUser } from "../store/store.js";
import { refreshCookieName, sessionCookieName, sessionCookieOptions } from "./security.js";

/** Starts, finds, renews and ends console sessions. */
export interface ConsoleSessions {
  /**
   * The caller of a console request from its cookies (renewing an access token that ran out), else
   * the broker's own refusal for what was presented (401, audited and counted like any failed
   * authentication). Sets the request's Authorization to the session's access token, so that the
   * REST routes the console calls see the same caller.
   */
  caller(req: FastifyRequest): Promise<StoredUser>;
  /** Whether the request carries a console session cookie at all. */
  hasCookie(req: FastifyRequest): boolean;
  /** Starts a session for `user` and sets its cookies. */
  start(req: FastifyRequest, reply: FastifyReply, user: StoredUser): Promise<void>;
  /**
   * Takes a session the sign-in routes made (the identity provider's, through the device grant):
   * sets its cookies and returns its caller, or undefined when the token is not live.
   */
  adopt(req: FastifyRequest, reply: FastifyReply, tokens: { accessToken: string; refreshToken: string }): Promise<StoredUser | undefined>;
  /** Ends the request's session in the store (when it has one) and clears the cookies; the ended session's user. */
  end(req: FastifyRequest, reply: FastifyReply): Promise<string | undefined>;
  /** Clears the cookies. */
  clear(req: FastifyRequest, reply: FastifyReply): void;
  /** Sets the cookies of a session renewed while answering this request (an `onSend` hook calls it). */
  setRenewed(req: FastifyRequest, reply: FastifyReply): void;
}

/**
 * The console's sessions over the broker's session service.
 *
 * @example
 * ```ts
 * const sessions = consoleSessions(ctx, { tls: false, secure: (req) => req.protocol === "https", renew });
 * app.get("/console/users", { config: { access: { role: "admin", audit: "user.list", doing: "listing users", authenticate: sessions.caller } } }, handler);
 * ```
 */
export function consoleSessions(
  ctx: BrokerContext,
  options: {
    tls: boolean;
    secure: (req: FastifyRequest) => boolean;
    /** Renews a session by its refresh token (the token route's refresh grant): the new pair, or undefined. */
    renew: (req: FastifyRequest, refreshToken: string) => Promise<{ accessToken: string; refreshToken: string } | undefined>;
  },
): ConsoleSessions {
  const accessName = sessionCookieName(options.tls);
  const refreshName = refreshCookieName(options.tls);
  const renewed = new WeakMap<FastifyRequest, { accessToken: string; refreshToken: string }>();
  const cookiesOf = (req: FastifyRequest): Record<string, string | undefined> => fastifyCookie.parse(req.headers.cookie ?? "");
  const setCookies = (req: FastifyRequest, reply: FastifyReply, s: { accessToken: string; refreshToken: string }): void => {
    const attributes = sessionCookieOptions(options.secure(req));
    void reply.setCookie(accessName, s.accessToken, attributes);
    void reply.setCookie(refreshName, s.refreshToken, attributes);
  };
  const clear = (req: FastifyRequest, reply: FastifyReply): void => {
    const attributes = sessionCookieOptions(options.secure(req));
    void reply.clearCookie(accessName, attributes);
    void reply.clearCookie(refreshName, attributes);
  };

  return {
    caller: async (req) => {
      const cookies = cookiesOf(req);
      const access = cookies[accessName];
      const refresh = cookies[refreshName];
      if (access !== undefined && isSessionAccessTokenShape(access)) {
        const user = await ctx.sessions.callerByAccessHash(hashSessionToken(access));
        if (user !== undefined) {
          req.headers.authorization = `Bearer ${access}`;
          return user;
        }
      }
      if (refresh !== undefined && refresh !== "") {
        // Renewed as the CLI renews: the token route's refresh grant (which asks the identity
        // provider again for a session that began there, and writes the audit row).
        const issued = await options.renew(req, refresh);
        const user = issued === undefined || !isSessionAccessTokenShape(issued.accessToken) ? undefined : await ctx.sessions.callerByAccessHash(hashSessionToken(issued.accessToken));
        if (issued !== undefined && user !== undefined) {
          renewed.set(req, issued);
          req.headers.authorization = `Bearer ${issued.accessToken}`;
          return user;
        }
      }
      // Nothing live: the broker's own refusal for what was presented.
      if (access !== undefined) req.headers.authorization = `Bearer ${access}`;
      return ctx.authenticate(req);
    },
    hasCookie: (req) => {
      const cookies = cookiesOf(req);
      return (cookies[accessName] ?? "") !== "" || (cookies[refreshName] ?? "") !== "";
    },
    start: async (req, reply, user) => {
      const issued = await ctx.sessions.create({ userId: user.id, source: "token", role: user.role, groups: user.groups ?? [] });
      setCookies(req, reply, issued);
      await ctx.record(req, { actor: user.name, action: "session.start", outcome: "ok", reason: "console, broker token" });
    },
    adopt: async (req, reply, tokens) => {
      if (!isSessionAccessTokenShape(tokens.accessToken)) return undefined;
      const user = await ctx.sessions.callerByAccessHash(hashSessionToken(tokens.accessToken));
      if (user === undefined) return undefined;
      const attributes = sessionCookieOptions(options.secure(req));
      void reply.setCookie(accessName, tokens.accessToken, attributes);
      void reply.setCookie(refreshName, tokens.refreshToken, attributes);
      req.headers.authorization = `Bearer ${tokens.accessToken}`;
      return user;
    },
    end: async (req, reply) => {
      const cookies = cookiesOf(req);
      const access = cookies[accessName];
      const refresh = cookies[refreshName];
      let id: string | undefined;
      let name: string | undefined;
      if (access !== undefined && isSessionAccessTokenShape(access)) {
        const user = await ctx.sessions.callerByAccessHash(hashSessionToken(access));
        id = user?.session;
        name = user?.name;
      }
      if (id === undefined && refresh !== undefined && refresh !== "") {
        const live = await ctx.sessions.byRefreshToken(refresh);
        id = live?.id;
        name = live?.userName;
      }
      clear(req, reply);
      if (id === undefined || name === undefined) return undefined;
      await ctx.sessions.end(id);
      await ctx.record(req, { actor: name, action: "session.end", outcome: "ok", reason: "console sign-out" });
      return name;
    },
    clear,
    setRenewed: (req, reply) => {
      const issued = renewed.get(req);
      if (issued !== undefined) setCookies(req, reply, issued);
    },
  };
}
