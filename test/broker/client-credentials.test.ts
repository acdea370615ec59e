/**
 * The broker client's credentials file (~/.kubeiam/credentials.json), read through the shared
 * reader of user-named files (src/lib/read-file.ts): a missing file reads as empty, and a FIFO that a
 * separate process writes is read (the reader's own tests cover a FIFO nobody writes to).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBrokerCredentials, resolveBrokerToken } from "../../src/broker/client/credentials.js";

const home = mkdtempSync(join(tmpdir(), "kubeiam-broker-creds-"));
after(() => rmSync(home, { recursive: true, force: true }));
const TOKEN = `kbi_${"A".repeat(43)}`;

test("a missing credentials file reads as empty", async () => {
  assert.deepEqual(await readBrokerCredentials(join(home, "absent.json")), { version: 1, servers: {} });
});

test("credentials.json may be a FIFO that a separate process writes: the token for the server is found in it", async () => {
  mkdirSync(join(home, ".kubeiam"), { mode: 0o700 });
  const fifo = join(home, ".kubeiam", "credentials.json");
  execFileSync("mkfifo", [fifo]);
  const json = JSON.stringify({ version: 1, servers: { "https://broker.example:8750": { token: TOKEN } } });
  const writer = spawn("sh", ["-c", 'sleep 0.2; printf %s "$1" > "$0"', fifo, json], { stdio: "ignore" });
  try {
    assert.equal(await resolveBrokerToken("https://broker.example:8750/", { HOME: home }), TOKEN);
  } finally {
    writer.kill();
  }
});
