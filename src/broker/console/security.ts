/**
 * What every console answer carries for the browser: a Content-Security-Policy that allows scripts,
 * styles and images from the broker's own files only (no inline script, no inline handler, no other
 * origin), forbids framing and plugins, and keeps forms on the broker; and the session cookie's
 * attributes (HttpOnly, SameSite, Secure with the `__Host-` prefix under TLS).
 */
import type { FastifyReply } from "fastify";

/**
 * The console's Content-Security-Policy. `form-action 'self'`: forms post to the broker only (the
 * identity provider is reached by a link, not a form). No `'unsafe-inline'` anywhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join("; ");

/**
 * Sets the security headers of a console page: the CSP, no framing (also for browsers that only know
 * X-Frame-Options), no MIME sniffing, no referrer, and no caching (pages show tokens once and lists of
 * people; a shared cache or the back button must not show them again).
 *
 * @example
 * ```ts
 * setPageHeaders(reply);
 * return reply.type("text/html; charset=utf-8").send(page);
 * ```
 */
export function setPageHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    "content-security-policy": CONSOLE_CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
  });
}

/** The session cookie's name: with the `__Host-` prefix (Secure, Path=/, no Domain) under TLS. */
export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-kubeiam-session" : "kubeiam-session";
}

/** The cookie of the session's refresh token, prefixed the same way. */
export function refreshCookieName(secure: boolean): string {
  return secure ? "__Host-kubeiam-refresh" : "kubeiam-refresh";
}

/** The cookie that holds a pending identity-provider sign-in's device code, prefixed the same way. */
export function loginCookieName(secure: boolean): string {
  return secure ? "__Host-kubeiam-console-login" : "kubeiam-console-login";
}

/** The CSRF secret cookie's name, prefixed the same way. */
export function csrfCookieName(secure: boolean): string {
  return secure ? "__Host-kubeiam-csrf" : "kubeiam-csrf";
}

/**
 * The session cookie's attributes. SameSite=Lax, not Strict: after the identity provider's redirect to
 * the callback (a navigation that started on another site), the first page must see the session;
 * forms are covered by CSRF tokens instead. No Max-Age: the cookie ends with the browser, and the
 * session itself ends on the broker.
 *
 * @example
 * ```ts
 * reply.setCookie(sessionCookieName(secure), token, sessionCookieOptions(secure));
 * ```
 */
export function sessionCookieOptions(secure: boolean): { path: string; httpOnly: true; sameSite: "lax"; secure: boolean } {
  return { path: "/", httpOnly: true, sameSite: "lax", secure };
}
