/**
 * The broker suite's one error shape: what Fastify's router, its body parser and Node's HTTP parser
 * refuse answers `{"error":{"code","message"}}` with a 4xx (cb-spider's `{"message"}` under /spider),
 * never Fastify's own `{"error":"Bad Request","code":"FST_…","statusCode":…}`. Sent over raw sockets,
 * since fetch would normalise or refuse most of these requests.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { rawRequest, type RawAnswer } from "../helpers.js";
import type { BrokerFixture } from "./fixture.js";

/** Where the 401s come from: not 127.0.0.1, whose failed authentications other groups count. */
const STRANGER = "127.0.0.3";

/** The broker's shape: only `error`, with a code and a sentence that says what to do (a colon), a 4xx. */
function assertBrokerShape(r: RawAnswer, status: number, code: string, message: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json ?? {}), ["error"], r.text);
  assert.deepEqual(Object.keys(r.json.error).sort(), ["code", "message"], r.text);
  assert.equal(r.json.error.code, code, r.text);
  assert.match(r.json.error.message, message);
  assert.match(r.json.error.message, /: /, "the message names the problem, then the fix");
  assert.ok(!/FST_|statusCode/.test(r.text), `no Fastify shape: ${r.text}`);
  assert.match(r.headers["content-type"] ?? "", /^application\/json/);
}

/** cb-spider's shape: only `message`. */
function assertSpiderShape(r: RawAnswer, status: number, message: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json ?? {}), ["message"], r.text);
  assert.match(r.json.message, message);
  assert.ok(!/FST_|statusCode/.test(r.text), `no Fastify shape: ${r.text}`);
}

/**
 * Defines this group's tests on the fixture (run after the groups before it in ../suite.ts).
 *
 * @example
 * ```ts
 * shapeTests(brokerFixture("sqlite"));
 * ```
 */
export function shapeTests(f: BrokerFixture): void {
  describe(`error shapes (${f.kind})`, () => {
    const req = (line: string, headers: string[] = [], body = "") => rawRequest(f.base, [line, "Host: 127.0.0.1", `Authorization: Bearer ${f.admin}`, ...headers, "Connection: close"].join("\r\n"), body);

    test("a 101-character (and a 400-character) name in the path: 400 naming the length, not Fastify's 414", async () => {
      assertBrokerShape(await req(`GET /v1/clusters/${"a".repeat(101)}/token HTTP/1.1`), 400, "bad_request", /longer than 63 characters/);
      assertBrokerShape(await req(`DELETE /v1/users/${"a".repeat(400)} HTTP/1.1`), 400, "bad_request", /longer than 300 characters/);
      assertSpiderShape(await req(`GET /spider/cluster/${"a".repeat(101)}/token?ConnectionName=c HTTP/1.1`), 400, /longer than 63 characters/);
      assertSpiderShape(await req(`GET /spider/cluster/${"a".repeat(400)}?ConnectionName=c HTTP/1.1`), 400, /longer than 300 characters/);
    });

    test("a path with a broken %-escape: 400 in the broker's shape", async () => {
      assertBrokerShape(await req("GET /v1/clusters/%zz HTTP/1.1"), 400, "bad_request", /%25/);
    });

    test("a method the route does not take (PATCH, PROPFIND, OPTIONS): 405 with Allow, in the route family's shape", async () => {
      for (const method of ["PATCH", "PROPFIND", "OPTIONS"]) {
        const r = await req(`${method} /v1/users HTTP/1.1`);
        assertBrokerShape(r, 405, "method_not_allowed", new RegExp(`^${method} /v1/users .*use GET or HEAD or POST`));
        assert.equal(r.headers.allow, "GET, HEAD, POST");
      }
      const spider = await req("PROPFIND /spider/cluster?ConnectionName=c HTTP/1.1");
      assertSpiderShape(spider, 405, /use GET or HEAD/);
      assert.equal(spider.headers.allow, "GET, HEAD");
    });

    test("a method Node's parser does not know, and an unknown HTTP version: 400 in the broker's shape", async () => {
      assertBrokerShape(await req("FOO /v1/users HTTP/1.1"), 400, "bad_request", /method/);
      assertBrokerShape(await req("GET /healthz HTTP/9.9"), 400, "bad_request", /HTTP\/1\.1/);
    });

    test("conflicting Content-Length and Transfer-Encoding, two lengths, a bad length: 400 naming the header", async () => {
      const post = "POST /v1/users HTTP/1.1";
      assertBrokerShape(await req(post, ["Content-Type: application/json", "Content-Length: 5", "Transfer-Encoding: chunked"], "0\r\n\r\n"), 400, "bad_request", /both Content-Length and Transfer-Encoding/);
      assertBrokerShape(await req(post, ["Content-Type: application/json", "Transfer-Encoding: chunked", "Content-Length: 5"], "0\r\n\r\n"), 400, "bad_request", /both Content-Length and Transfer-Encoding/);
      assertBrokerShape(await req(post, ["Content-Type: application/json", "Content-Length: 2", "Content-Length: 3"], "{}"), 400, "bad_request", /more than one Content-Length/);
      assertBrokerShape(await req(post, ["Content-Type: application/json", "Content-Length: abc"], "{}"), 400, "bad_request", /Content-Length/);
      // Under /spider, the request line tells the shape.
      assertSpiderShape(await req("POST /spider/cluster HTTP/1.1", ["Content-Length: 5", "Transfer-Encoding: chunked"], "0\r\n\r\n"), 400, /both Content-Length and Transfer-Encoding/);
    });

    test("bad JSON, a wrong content type, an empty JSON body, a body over 64 KiB: 4xx naming the fix", async () => {
      const post = "POST /v1/users HTTP/1.1";
      assertBrokerShape(await req(post, ["Content-Type: application/json", "Content-Length: 3"], "{x}"), 400, "bad_request", /not valid JSON/);
      assertBrokerShape(await req(post, ["Content-Type: text/xml", "Content-Length: 3"], "<a>"), 400, "bad_request", /Content-Type: application\/json/);
      assertBrokerShape(await req(post, ["Content-Type: application/json", "Content-Length: 0"]), 400, "bad_request", /empty/);
      const big = "x".repeat(70_000);
      assertBrokerShape(await req(post, ["Content-Type: application/json", `Content-Length: ${big.length}`], big), 413, "body_too_large", /64 KiB/);
    });

    test("an HTTP/1.1 request without Host: 400 in the broker's shape, not Node's empty one", async () => {
      const r = await rawRequest(f.base, ["GET /healthz HTTP/1.1", "Connection: close"].join("\r\n"));
      assertBrokerShape(r, 400, "bad_request", /no Host header/);
    });

    test("unknown /spider routes answer cb-spider's {message}; others the broker's shape", async () => {
      assertSpiderShape(await req("GET /spider/vm?ConnectionName=c HTTP/1.1"), 404, /no route GET \/spider\/vm: cb-spider's routes are/);
      assertSpiderShape(await req("GET /spider HTTP/1.1"), 404, /no route GET \/spider:/);
      assertSpiderShape(await req("POST /spider/cluster HTTP/1.1", ["Content-Type: application/json", "Content-Length: 3"], "{x}"), 400, /not valid JSON/);
      assertBrokerShape(await req("GET /spiders HTTP/1.1"), 404, "not_found", /no route GET \/spiders: the routes are listed at GET \/openapi\.json/);
    });

    test("unauthenticated /spider calls are told to send HTTP Basic (cb-spider's clients), /v1 calls Bearer", async () => {
      const spider = await rawRequest(f.base, ["GET /spider/cluster?ConnectionName=c HTTP/1.1", "Host: 127.0.0.1", "Connection: close"].join("\r\n"), "", STRANGER);
      assertSpiderShape(spider, 401, /send HTTP Basic credentials USER:kbi_…/);
      assert.ok(!spider.json.message.includes("Bearer"), spider.text);
      assert.match(spider.headers["www-authenticate"] ?? "", /^Basic realm="kubeiam"/);
      const malformed = await rawRequest(f.base, ["GET /spider/cluster/x/token?ConnectionName=c HTTP/1.1", "Host: 127.0.0.1", "Authorization: Token abc", "Connection: close"].join("\r\n"), "", STRANGER);
      assertSpiderShape(malformed, 401, /send HTTP Basic credentials/);
      const v1 = await rawRequest(f.base, ["GET /v1/clusters HTTP/1.1", "Host: 127.0.0.1", "Connection: close"].join("\r\n"), "", STRANGER);
      assertBrokerShape(v1, 401, "unauthenticated", /send 'Authorization: Bearer kbi_…'/);
      assert.match(v1.headers["www-authenticate"] ?? "", /^Bearer realm="kubeiam"/);
    });

    test("a request that reaches an instance while it shuts down: 503 in the broker's shape, with Retry-After", async () => {
      const { broker, masterKey, kind } = f;
      const { createBrokerApp } = await import("../../../src/broker/server.js");
      const built = await createBrokerApp({ store: broker.ctx.store, masterKey, publicUrl: () => f.base, logStream: false, instance: `test-${kind}-closing` });
      let entered!: () => void;
      const inHandler = new Promise<void>((r) => (entered = r));
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      built.app.get("/slow", { config: { access: { public: true } } }, async () => {
        entered();
        await released;
        return { slow: true };
      });
      await built.app.listen({ host: "127.0.0.1", port: 0 });
      const address = built.app.server.address();
      const base = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
      // A kept-alive connection: the second request goes out once the first answered, by when the
      // instance is closing (Node routes pipelined requests at once, so they would not do).
      const socket = connect({ host: "127.0.0.1", port: Number(new URL(base).port) });
      let text = "";
      const ended = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => socket.destroy(new Error("no second answer within 10 s")), 10_000);
        socket.on("data", (c: Buffer) => {
          const before = text;
          text += c.toString();
          if (!before.includes("{\"slow\":true}") && text.includes("{\"slow\":true}")) socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        });
        socket.on("error", reject);
        socket.on("close", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      socket.write("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await inHandler;
      const closed = built.app.close();
      await new Promise((r) => setTimeout(r, 50));
      release();
      await ended;
      await closed;
      const r = { text: text.slice(text.indexOf("{\"slow\":true}")) };
      const second = r.text.slice(r.text.indexOf("HTTP/1.1 "));
      assert.match(second, /^HTTP\/1\.1 503 /, r.text);
      const body = JSON.parse(second.slice(second.indexOf("\r\n\r\n") + 4));
      assert.deepEqual(Object.keys(body), ["error"]);
      assert.equal(body.error.code, "shutting_down");
      assert.match(body.error.message, /shutting down: send the request again/);
      assert.match(second, /\r\nretry-after: 1\r\n/i);
    });
  });
}
