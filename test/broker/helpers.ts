/**
 * Test helpers for the broker: a store location per dialect (a temp SQLite file, or a fresh database
 * on a throwaway PostgreSQL), a test broker started in-process with its log lines captured, and a
 * small JSON client.
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import assert from "node:assert/strict";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";

/** The two stores every broker suite runs against. */
export type StoreKind = "sqlite" | "postgres";

/** Where a test's databases live, and how to clean up. */
export interface TestStores {
  kind: StoreKind;
  dir: string;
  /** A new, empty database URL. */
  newDb(name: string): Promise<string>;
  /** Stops the database server for good (PostgreSQL only), to see the broker without its store. */
  stopServer(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Temp folder plus, for PostgreSQL, one throwaway server for the whole test file.
 *
 * @example
 * ```ts
 * const stores = await testStores("postgres");
 * const url = await stores.newDb("main");
 * ```
 */
export async function testStores(kind: StoreKind): Promise<TestStores> {
  const dir = mkdtempSync(join(tmpdir(), `kubeiam-broker-${kind}-`));
  let pg: TestPostgres | undefined;
  if (kind === "postgres") {
    try {
      pg = await startTestPostgres();
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
  return {
    kind,
    dir,
    newDb: async (name) => (pg === undefined ? `sqlite:${join(dir, `${name}.db`)}` : pg.newDatabase(name.replace(/[^a-z0-9_]/gi, "_").toLowerCase())),
    stopServer: async () => {
      if (pg === undefined) throw new Error("the embedded store has no server to stop");
      await pg.stop();
    },
    close: async () => {
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A stream that keeps what is written to it, line by line. */
export function captureLines(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  let partial = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      partial += chunk.toString();
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
      done();
    },
  });
  return { stream, lines };
}

/** An answer: status, headers, body text and JSON (when it parses). */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/**
 * One request to the broker.
 *
 * @example
 * ```ts
 * const r = await call(url, "POST", "/v1/users", { token: admin, body: { name: "ann" } });
 * ```
 */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  } else if (options.rawBody !== undefined) {
    body = options.rawBody;
  }
  const send = () => fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(30_000) });
  let r: Response;
  try {
    r = await send();
  } catch (error) {
    // A kept-alive socket that the broker closed at its 5 s idle timeout just as fetch reused it (a test
    // that waited that long, e.g. for PostgreSQL to stop) fails before the request reached the broker:
    // a GET is sent once more on a new connection. Nothing else is retried.
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    if (method !== "GET" || (code !== "ECONNRESET" && code !== "UND_ERR_SOCKET")) throw error;
    r = await send();
  }
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

/**
 * A request from another loopback source address (127.0.0.x), for per-address limits; `token` is
 * sent as Bearer, or `authorization` given whole (HTTP Basic, say).
 */
export function callFrom(localAddress: string, base: string, method: string, path: string, token?: string | { authorization: string }): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const url = new URL(`${base}${path}`);
  const headers = token === undefined ? {} : typeof token === "string" ? { authorization: `Bearer ${token}` } : token;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, localAddress, headers, timeout: 30_000 },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/** What a raw request got back: status, headers (lower-case names) and body text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

/**
 * Sends `head` (the request line and headers, CRLF-separated, without the blank line) and `body`
 * byte for byte over a new TCP connection to the broker at `base` (from `localAddress`, a 127.0.0.x,
 * when given), and reads the answer until the
 * broker closes the connection: for requests a client library would normalise or refuse to send.
 *
 * @example
 * ```ts
 * const r = await rawRequest(base, "GET /v1/x HTTP/1.1\r\nHost: a\r\nConnection: close");
 * ```
 */
export function rawRequest(base: string, head: string, body = "", localAddress?: string): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ...(localAddress === undefined ? {} : { localAddress }) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer from the broker within 10 s to ${JSON.stringify(head.split("\r\n")[0])}`)), 10_000);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString("utf8");
      const split = all.indexOf("\r\n\r\n");
      const lines = (split < 0 ? all : all.slice(0, split)).split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const text = split < 0 ? "" : all.slice(split + 4);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status, headers, text, json });
    });
    socket.write(`${head}\r\n\r\n${body}`);
  });
}

/**
 * Asks `ask` again (every 20 ms, for up to `withinMs`) until its answer passes `ok`, and returns that
 * answer; fails naming `what` and the last answer otherwise. For what BROKER.md allows to take a
 * moment: a change made on another instance reaches this one within a second.
 *
 * @example
 * ```ts
 * const r = await askUntil("the revoked grant refused here", () => call(base, "GET", path, { token }), (r) => r.status === 403);
 * ```
 */
export async function askUntil<T>(what: string, ask: () => Promise<T>, ok: (answer: T) => boolean, withinMs = 5_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const answer = await ask();
    if (ok(answer)) return answer;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${withinMs} ms; the last answer: ${JSON.stringify(answer).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
