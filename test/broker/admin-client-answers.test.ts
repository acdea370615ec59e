/**
 * The admin CLI against servers that answer badly (the built CLI, a child, against loopback stand-ins):
 * an answer over 4 MiB, streamed or declared, is refused in one line as the exec plugin refuses it,
 * without reading it all; a 503 (the broker's store gone) exits with the "could not reach" status 5.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertOneLine } from "../helpers/cli.js";
import { childEnv, runCliChild } from "./serve-helpers.js";

const TOKEN = `kbi_${"A".repeat(43)}`;
let dir: string;
let server: Server;
let url: string;
/** Bytes the hostile answer wrote before the client went away. */
let streamed = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-admin-answers-"));
  server = createServer((req, res) => {
    // By path: /v1/users is the streamed giant, /v1/credentials the declared one, anything else a 503.
    const path = req.url ?? "";
    if (path.startsWith("/v1/users")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"users":[');
      const chunk = `${'{"name":"x","role":"user"},'.repeat(2400)}`;
      const pump = (): void => {
        // At most 64 MiB, so a client that never stops cannot fill this test's memory either.
        while (streamed < 64 * 1024 * 1024) {
          streamed += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end("]}");
      };
      pump();
      return;
    }
    if (path.startsWith("/v1/credentials")) {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(400 * 1024 * 1024) });
      res.write('{"credentials":[');
      return; // never sends the rest: the declared length alone is refused
    }
    res.writeHead(503, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "store_unavailable", message: "the broker's store does not answer: retry in a moment, and tell the operator if it lasts" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const env = () => childEnv(dir, { KUBEIAM_BROKER_TOKEN: TOKEN });

test("an answer streamed past 4 MiB: one line, exit 5, and the CLI stops reading it", async () => {
  const r = await runCliChild(["broker", "user", "list", "--server", url], env());
  assertOneLine(r, 5, /sent an answer over 4 MiB: check that --server names a kubeiam broker/, [TOKEN]);
  assert.ok(streamed < 32 * 1024 * 1024, `the client read ${streamed} bytes before it stopped`);
});

test("an answer that declares more than 4 MiB: one line, exit 5, at once", async () => {
  const r = await runCliChild(["broker", "credential", "list", "--server", url], env(), undefined, 20_000);
  assertOneLine(r, 5, /sent an answer over 4 MiB/, [TOKEN]);
});

test("a 503 from the broker (its store gone) exits 5, as a broker that cannot be reached, with the broker's sentence", async () => {
  const r = await runCliChild(["broker", "cluster", "list", "--server", url], env());
  assertOneLine(r, 5, /store_unavailable.*store does not answer/, [TOKEN]);
});
