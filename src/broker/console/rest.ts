/**
 * The console's way to act: it calls the broker's own REST routes in-process (Fastify's `inject`),
 * as the signed-in person, from their address. So every page runs the REST route's code, no copy of
 * it: the same authentication and role check, the same validation, the same audit row (with the
 * browser's address as `remote`), the same refusal messages.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { BrokerReason, BrokerRefusal } from "../errors.js";

/** A REST call the console makes. */
export interface RestCall {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path and query, `/v1/…`. */
  url: string;
  /** A JSON body. */
  body?: unknown;
}

/** A REST answer that was a success (2xx). */
export interface RestAnswer {
  status: number;
  /** The parsed JSON body; undefined for no body or a body that is not JSON (see `text`). */
  json: unknown;
  text: string;
  contentType: string;
}

/**
 * Calls a REST route as the caller of `req` (their Authorization, their address, the Host they came
 * to), and returns a 2xx answer or throws the route's own refusal as a {@link BrokerRefusal}.
 *
 * @example
 * ```ts
 * const { json } = await callRest(app, req, { method: "GET", url: "/v1/clusters" });
 * ```
 */
export async function callRest(app: FastifyInstance, req: FastifyRequest, call: RestCall): Promise<RestAnswer> {
  const answer = await callRestRaw(app, req, call);
  if (answer.status >= 200 && answer.status < 300) return answer;
  const error = field(answer.json, "error");
  const code = field(error, "code");
  const message = field(error, "message");
  throw new BrokerRefusal(
    answer.status,
    typeof code === "string" ? code : BrokerReason.INTERNAL,
    typeof message === "string" ? message : `the broker answered ${answer.status} to ${call.method} ${call.url.split("?")[0] ?? ""}`,
    answer.retryAfter === undefined ? undefined : { retryAfter: answer.retryAfter },
  );
}

/**
 * {@link callRest} without turning a refusal into an error: the answer whatever its status (for routes
 * whose refusals have another shape, as OAuth's token endpoint).
 *
 * @example
 * ```ts
 * const a = await callRestRaw(app, req, { method: "POST", url: "/v1/login/token", body });
 * if (a.status === 400) … field(a.json, "error") …
 * ```
 */
export async function callRestRaw(app: FastifyInstance, req: FastifyRequest, call: RestCall): Promise<RestAnswer & { retryAfter?: number }> {
  const headers: Record<string, string> = {};
  if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
  if (req.headers.host !== undefined) headers.host = req.headers.host;
  if (typeof req.headers["user-agent"] === "string") headers["user-agent"] = req.headers["user-agent"];
  if (call.body !== undefined) headers["content-type"] = "application/json";
  const res = await app.inject({
    method: call.method,
    url: call.url,
    headers,
    remoteAddress: req.ip,
    ...(call.body === undefined ? {} : { payload: JSON.stringify(call.body) }),
  });
  const text = res.body;
  const contentType = String(res.headers["content-type"] ?? "");
  let json: unknown;
  if (contentType.startsWith("application/json") && text !== "") {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  const retryAfter = Number(res.headers["retry-after"]);
  return { status: res.statusCode, json, text, contentType, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Reads an answer's JSON by a checked path, so that a changed REST shape is a clear error, not a page
 * showing `undefined`.
 *
 * @example
 * ```ts
 * const clusters = listOf(json, "clusters").map((c) => ({ name: text(c, "name") }));
 * ```
 */
export function listOf(value: unknown, key: string): unknown[] {
  const list = field(value, key);
  if (!Array.isArray(list)) throw shapeError(key, "a list");
  return list;
}

/** A string field (throws when missing). */
export function text(value: unknown, key: string): string {
  const v = field(value, key);
  if (typeof v !== "string") throw shapeError(key, "a string");
  return v;
}

/** A string field that may be absent or null. */
export function optionalText(value: unknown, key: string): string | undefined {
  const v = field(value, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw shapeError(key, "a string");
  return v;
}

/** A number field (throws when missing). */
export function numberField(value: unknown, key: string): number {
  const v = field(value, key);
  if (typeof v !== "number") throw shapeError(key, "a number");
  return v;
}

/** Whether a field is there at all. */
export function hasField(value: unknown, key: string): boolean {
  return field(value, key) !== undefined;
}

function shapeError(key: string, what: string): BrokerRefusal {
  return new BrokerRefusal(500, BrokerReason.INTERNAL, `the broker's REST answer has no ${what} at ${key}: the console and the REST routes disagree (a bug: report it)`);
}
