/**
 * A `fetch` for the direct route (no proxy applies) over node:http and node:https, which Node has
 * compiled in: a command that makes one or two API calls starts without loading undici (111 files)
 * or Node's own bundled fetch (which costs as much again on its first call). No redirect is followed
 * and no compression is asked for; the body is read whole, as `Response.text()` reads it.
 */
import type { IncomingMessage } from "node:http";
import type { FetchInit, FetchResponseLike } from "./http.js";

/**
 * Sends one request over node:http(s) (the global agent, keep-alive) and resolves when the headers
 * are in; `text()` reads the rest. The signal aborts the request, and a body still being read. A
 * failure rejects with Node's own error (`ECONNREFUSED`, `ENOTFOUND`, a TLS code), as undici's
 * `fetch` gives it as its cause.
 *
 * @example
 * ```ts
 * const res = await nodeFetch("http://127.0.0.1:8080/healthz", { method: "GET", headers: {}, signal: AbortSignal.timeout(5_000) });
 * console.log(res.status, await res.text());
 * ```
 */
export async function nodeFetch(url: string, init: FetchInit): Promise<FetchResponseLike> {
  const target = new URL(url);
  // Each module loads for its own scheme only: a plain-HTTP sandbox call never loads TLS.
  const send = target.protocol === "https:" ? (await import("node:https")).request : (await import("node:http")).request;
  return new Promise<FetchResponseLike>((resolve, reject) => {
    const req = send(target, { method: init.method, headers: { accept: "*/*", ...init.headers }, signal: init.signal }, (res: IncomingMessage) => {
      const body = new Promise<string>((done, fail) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", fail);
        res.on("aborted", () => fail(Object.assign(new Error("the answer was cut short"), { code: "ECONNRESET" })));
        res.on("end", () => (res.complete ? done(Buffer.concat(chunks).toString("utf8")) : fail(Object.assign(new Error("the answer was cut short"), { code: "ECONNRESET" }))));
      });
      // A body nobody reads (an error already thrown) must not become an unhandled rejection.
      body.catch(() => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: {
          get(name: string): string | null {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
          },
        },
        text: () => body,
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}
