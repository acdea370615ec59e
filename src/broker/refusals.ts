/**
 * How a refusal goes on the wire, whoever made it (a route, the access hook, Fastify's router, body
 * parser or Node's HTTP parser): `{"error":{"code","message"}}` with its status, or cb-spider's
 * `{"message":"…"}` under `/spider` (BROKER.md "cb-spider compatible"). Nothing of Fastify's own
 * shape (`{"error":"Bad Request","code":"FST_…","statusCode":…}`) reaches a client.
 */
import type { Socket } from "node:net";
import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BrokerReason, BrokerRefusal } from "./errors.js";

/** The prefix of cb-spider's routes, whose refusals take cb-spider's shape. */
export const SPIDER_PREFIX = "/spider";

/**
 * Whether a request target is one of cb-spider's routes (`/spider`, `/spider/…`, with any query).
 *
 * @example
 * ```ts
 * isSpiderUrl("/spider/cluster?ConnectionName=c"); // true
 * isSpiderUrl("/spiders"); // false
 * ```
 */
export function isSpiderUrl(url: string | undefined): boolean {
  if (url === undefined) return false;
  const path = url.split("?")[0] ?? "";
  return path === SPIDER_PREFIX || path.startsWith(`${SPIDER_PREFIX}/`);
}

/**
 * The body of a refusal to a request for `url`: cb-spider's `{"message"}` under `/spider`, else the
 * broker's `{"error":{"code","message"}}`.
 *
 * @example
 * ```ts
 * refusalBody("/v1/users", new BrokerRefusal(404, "not_found", "…")); // { error: { code: "not_found", message: "…" } }
 * ```
 */
export function refusalBody(url: string | undefined, refusal: BrokerRefusal): { message: string } | { error: { code: string; message: string } } {
  return isSpiderUrl(url) ? { message: refusal.message } : { error: { code: refusal.reason, message: refusal.message } };
}

/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 9110 §11.6.1): HTTP Basic under `/spider`, where
 * cb-spider's clients send `user:kbi_…`, else Bearer.
 *
 * @example
 * ```ts
 * challengeFor("/spider/cluster"); // 'Basic realm="kubeiam", charset="UTF-8"'
 * ```
 */
export function challengeFor(url: string | undefined): string {
  return isSpiderUrl(url) ? 'Basic realm="kubeiam", charset="UTF-8"' : 'Bearer realm="kubeiam"';
}

/**
 * Sends a refusal in the shape its route family takes, with `Retry-After` (429, 503) and
 * `WWW-Authenticate` (401) when they apply.
 *
 * @example
 * ```ts
 * return sendRefusal(req, reply, new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "…"));
 * ```
 */
export function sendRefusal(req: FastifyRequest, reply: FastifyReply, refusal: BrokerRefusal): FastifyReply {
  if (refusal.retryAfter !== undefined) void reply.header("retry-after", String(refusal.retryAfter));
  if (refusal.status === 401) void reply.header("www-authenticate", challengeFor(req.url));
  if (refusal.status === 405 && refusal.allow !== undefined) void reply.header("allow", refusal.allow.join(", "));
  return reply.code(refusal.status).type("application/json; charset=utf-8").send(refusalBody(req.url, refusal));
}

/**
 * Refuses an HTTP/1.1 request without `Host` (RFC 9112 §3.2), which Node would answer with an empty
 * 400 of its own: an `onRequest` hook, before authentication.
 *
 * @example
 * ```ts
 * app.addHook("onRequest", refuseWithoutHost);
 * ```
 */
export async function refuseWithoutHost(req: FastifyRequest): Promise<void> {
  if (req.raw.httpVersion === "1.1" && req.headers.host === undefined) {
    throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "the request has no Host header, which HTTP/1.1 requires: send one");
  }
}

/** The methods a route may answer; `HEAD` comes with every `GET`. */
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;

/**
 * The refusal for a request that no route takes: 405 with the methods the path does answer (RFC 9110
 * §15.5.6), or 404 when no method does.
 *
 * @example
 * ```ts
 * app.setNotFoundHandler((req, reply) => sendRefusal(req, reply, noRouteRefusal(app, req)));
 * ```
 */
export function noRouteRefusal(app: FastifyInstance, req: FastifyRequest): BrokerRefusal {
  const path = req.url.split("?")[0] ?? "";
  // Shown in a sentence: a path that is no route is cut and kept to printable ASCII.
  const shown = `${req.method.replace(/[^A-Z]/g, "").slice(0, 16)} ${path.replace(/[^\x21-\x7e]/g, "?").slice(0, 120)}`;
  const allow = METHODS.filter((m) => app.findRoute({ method: m, url: path }) !== null);
  const listed = isSpiderUrl(path) ? "cb-spider's routes are GET /spider/cluster, /spider/cluster/{Name} and /spider/cluster/{Name}/token" : "the routes are listed at GET /openapi.json";
  if (allow.length === 0) return new BrokerRefusal(404, BrokerReason.NOT_FOUND, `there is no route ${shown}: ${listed}`);
  return new BrokerRefusal(405, BrokerReason.METHOD_NOT_ALLOWED, `${shown} is not a method this route takes: use ${allow.join(" or ")} (${listed})`, { allow });
}

/**
 * Refusals Fastify's router makes before any route or hook runs (its `frameworkErrors` option): a
 * path with a broken %-escape, a path segment longer than the router keeps.
 *
 * @example
 * ```ts
 * Fastify({ frameworkErrors: (error, req, reply) => sendRefusal(req, reply, frameworkRefusal(error)) });
 * ```
 */
export function frameworkRefusal(error: FastifyError): BrokerRefusal {
  switch (error.code) {
    case "FST_ERR_MAX_PARAM_LENGTH":
      // A name is at most 63 characters (NAME_SCHEMA), far below the router's limit: the same refusal
      // as any name that is too long.
      return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, `a name in the path is longer than ${MAX_PARAM_LENGTH} characters: names have at most 63 (e-mail user names 254), so check the URL`);
    case "FST_ERR_BAD_URL":
      return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "the path has a '%' that does not start a %XX escape: encode '%' as %25");
    default:
      return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "the request is not one the broker can route: check the URL");
  }
}

/** The longest path segment the router matches (`maxParamLength`); a user name may be 254 characters. */
export const MAX_PARAM_LENGTH = 300;

/**
 * Answers what Node's HTTP parser refuses before there is a request (Fastify's `clientErrorHandler`):
 * conflicting `Content-Length` and `Transfer-Encoding`, two lengths, an unknown method or HTTP
 * version, headers too large, a request that took too long. One JSON refusal, then the connection ends.
 *
 * @example
 * ```ts
 * Fastify({ clientErrorHandler: answerClientError });
 * ```
 */
export function answerClientError(error: NodeJS.ErrnoException & { rawPacket?: unknown; reason?: unknown }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const refusal = clientErrorRefusal(error.code, typeof error.reason === "string" ? error.reason : "");
  if (socket.writable) {
    // The request line, if the parser got that far, tells whether the client speaks cb-spider.
    const raw = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.subarray(0, 2048).toString("latin1") : "";
    const target = /^[A-Za-z]+ (\S+)/.exec(raw)?.[1];
    const body = JSON.stringify(refusalBody(target, refusal));
    socket.write(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ""}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * The refusal for an error of Node's HTTP parser: its code (llhttp's `HPE_…`, Node's own) and
 * `reason` (llhttp's sentence, which tells apart the cases one code covers).
 *
 * @example
 * ```ts
 * clientErrorRefusal("HPE_UNEXPECTED_CONTENT_LENGTH", "Duplicate Content-Length").status; // 400
 * ```
 */
export function clientErrorRefusal(code: string | undefined, reason = ""): BrokerRefusal {
  const bad = (message: string): BrokerRefusal => new BrokerRefusal(400, BrokerReason.BAD_REQUEST, message);
  if (/Content-Length/i.test(reason) && /Transfer-Encoding/i.test(reason)) {
    return bad("the request has both Content-Length and Transfer-Encoding, which would let two servers read it differently: send one of them");
  }
  switch (code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
    case "HPE_HEADERS_TIMEOUT":
      return new BrokerRefusal(408, BrokerReason.REQUEST_TIMEOUT, "the request did not arrive in time: send it again, whole");
    case "HPE_HEADER_OVERFLOW":
      return new BrokerRefusal(431, BrokerReason.HEADERS_TOO_LARGE, "the request's headers are too large: send fewer or shorter ones");
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return bad("the request has more than one Content-Length: send one, matching the body");
    case "HPE_INVALID_CONTENT_LENGTH":
      return bad("the request's Content-Length is not a whole number: send one, matching the body");
    case "HPE_INVALID_TRANSFER_ENCODING":
    case "HPE_INVALID_CHUNK_SIZE":
      return bad("the request's Transfer-Encoding or chunked body is malformed: send the body with Content-Length instead");
    case "HPE_INVALID_METHOD":
      return bad("the request's method is not an HTTP method the broker knows: use GET, POST, PUT or DELETE");
    case "HPE_INVALID_CONSTANT":
    case "HPE_INVALID_VERSION":
      return bad("the request is not HTTP/1.1 or 1.0: check the client");
    case "HPE_INVALID_HEADER_TOKEN":
      return bad("a request header's name has characters HTTP does not allow: check the client or the proxy in front of the broker");
    default:
      return bad("the request is not well-formed HTTP: check the client or the proxy in front of the broker");
  }
}
