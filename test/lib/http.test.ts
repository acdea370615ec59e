import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { NetworkError } from "../../src/lib/errors.js";
import { isRetryableStatus, sendHttpRequest } from "../../src/lib/http.js";
import { nodeFetch } from "../../src/lib/node-fetch.js";
import { startScriptedServer } from "../helpers/ncp-api-stand-in.js";
import { closedPort } from "../helpers/closed-port.js";

const noSleep = { sleep: async () => undefined, random: () => 0.5 };
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

test("isRetryableStatus: 429 and 5xx only", () => {
  assert.deepEqual([200, 400, 401, 404, 409, 429, 500, 502, 503, 599].map(isRetryableStatus), [false, false, false, false, false, true, true, true, true, true]);
});

test("429 then 200: retried, the 200 is returned after 2 tries", async () => {
  const s = await startScriptedServer([{ status: 429, body: { error: "slow down" } }, { status: 200, body: { ok: true } }]);
  closers.push(s.close);
  const delays: number[] = [];
  const res = await sendHttpRequest({ method: "GET", url: `${s.url}/x`, headers: {} }, { ...noSleep, onRetry: (i) => delays.push(i.delayMs) });
  assert.equal(res.status, 200);
  assert.equal(res.text, '{"ok":true}');
  assert.equal(res.attempts, 2);
  assert.equal(s.hits(), 2);
  assert.deepEqual(delays, [125]); // 250 ms base, full jitter at 0.5
});

test("Retry-After is honoured (capped), backoff doubles", async () => {
  const s = await startScriptedServer([{ status: 503, headers: { "retry-after": "2" } }, { status: 500 }, { status: 204 }]);
  closers.push(s.close);
  const delays: number[] = [];
  const res = await sendHttpRequest({ method: "GET", url: s.url, headers: {} }, { ...noSleep, random: () => 0.999, onRetry: (i) => delays.push(i.delayMs) });
  assert.equal(res.status, 204);
  assert.deepEqual(delays, [2000, 499]);
});

test("500 three times: three tries, the last 500 is returned to the caller", async () => {
  const s = await startScriptedServer([{ status: 500, body: { error: { errorCode: "900", message: "boom" } } }]);
  closers.push(s.close);
  const res = await sendHttpRequest({ method: "GET", url: s.url, headers: {} }, noSleep);
  assert.equal(res.status, 500);
  assert.equal(res.attempts, 3);
  assert.equal(s.hits(), 3);
});

test("4xx is never retried", async () => {
  for (const status of [400, 401, 403, 404, 409]) {
    const s = await startScriptedServer([{ status }, { status: 200 }]);
    closers.push(s.close);
    const res = await sendHttpRequest({ method: "GET", url: s.url, headers: {} }, noSleep);
    assert.equal(res.status, status);
    assert.equal(s.hits(), 1, `status ${status} must not be retried`);
  }
});

test("a hung server times out on every try and ends in a NetworkError naming the wait", async () => {
  const s = await startScriptedServer(["hang"]);
  closers.push(s.close);
  const started = Date.now();
  await assert.rejects(
    sendHttpRequest({ method: "GET", url: s.url, headers: {} }, { ...noSleep, timeoutMs: 200, service: "NCP API" }),
    (e: unknown) => {
      assert.ok(e instanceof NetworkError);
      assert.equal(e.code, "ERR_NETWORK");
      assert.equal(e.message, `NCP API at ${s.url} did not answer within 0.2 s after 3 tries: check the network, the API URL, and HTTPS_PROXY/NO_PROXY`);
      return true;
    },
  );
  assert.equal(s.hits(), 3);
  assert.ok(Date.now() - started < 5000);
});

test("a refused connection is retried, then a NetworkError naming the cause", async () => {
  const port = await closedPort();
  let retries = 0;
  await assert.rejects(
    sendHttpRequest({ method: "GET", url: `http://127.0.0.1:${port}/`, headers: {} }, { ...noSleep, onRetry: () => retries++ }),
    (e: unknown) => e instanceof NetworkError && /cannot reach 127\.0\.0\.1:\d+ at http:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED 127\.0\.0\.1:\d+\) after 3 tries/.test(e.message),
  );
  assert.equal(retries, 2);
});

test("an aborted signal stops the retries", async () => {
  const s = await startScriptedServer([{ status: 503 }]);
  closers.push(s.close);
  const controller = new AbortController();
  await assert.rejects(
    sendHttpRequest({ method: "GET", url: s.url, headers: {} }, {
      sleep: async () => {
        controller.abort();
        throw new Error("aborted");
      },
      signal: controller.signal,
    }),
    (e: unknown) => e instanceof NetworkError && /cancelled/.test(e.message),
  );
  assert.equal(s.hits(), 1);
});

test("the default fetch with no proxy set (node:http) reaches a loopback server", async () => {
  const s = await startScriptedServer([{ status: 200, body: { via: "node:http" } }]);
  closers.push(s.close);
  const res = await sendHttpRequest({ method: "GET", url: s.url, headers: { accept: "application/json" } });
  assert.equal(res.status, 200);
  assert.equal(res.text, '{"via":"node:http"}');
  assert.equal(res.headers.get("Content-Type"), "application/json");
});

test("nodeFetch sends the method, headers and body, and reads a body that comes in pieces", async () => {
  let seen: { method?: string | undefined; headers: Record<string, unknown>; body: string } | undefined;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen = { method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      res.writeHead(201, { "x-many": ["a", "b"] });
      res.write("first ");
      setTimeout(() => res.end("second"), 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const res = await nodeFetch(`http://127.0.0.1:${port}/p?q=1`, { method: "POST", headers: { "content-type": "text/plain" }, body: "héllo", signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-many"), "a, b");
  assert.equal(res.headers.get("absent"), null);
  assert.equal(await res.text(), "first second");
  assert.equal(seen?.method, "POST");
  assert.equal(seen?.body, "héllo");
  assert.equal(seen?.headers["content-length"], String(Buffer.byteLength("héllo")));
  assert.equal(seen?.headers["content-type"], "text/plain");
});

test("nodeFetch: a body cut short rejects text(), and a timeout aborts a request that hangs", async () => {
  const server = createHttpServer((req, res) => {
    if (req.url === "/hang") return;
    res.writeHead(200, { "content-length": "100" });
    res.write("only part");
    setTimeout(() => res.destroy(), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  const res = await nodeFetch(`http://127.0.0.1:${port}/cut`, { method: "GET", headers: {}, signal: AbortSignal.timeout(5_000) });
  await assert.rejects(res.text());
  const timeout = AbortSignal.timeout(100);
  await assert.rejects(nodeFetch(`http://127.0.0.1:${port}/hang`, { method: "GET", headers: {}, signal: timeout }));
  assert.ok(timeout.aborted);
});
