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

test("a credentials file or ~/.kubeiam that others may read is refused in one line naming the chmod, as ssh refuses a loose key; 0600 in 0700 is used", async () => {
  const { chmodSync, writeFileSync } = await import("node:fs");
  const { runInProcess, assertOneLine } = await import("../helpers/cli.js");
  const own = mkdtempSync(join(tmpdir(), "kubeiam-broker-modes-"));
  try {
    const folder = join(own, ".kubeiam");
    mkdirSync(folder, { mode: 0o700 });
    const file = join(folder, "credentials.json");
    writeFileSync(file, JSON.stringify({ version: 1, servers: { "https://broker.example:8750": { token: TOKEN } } }), { mode: 0o600 });
    assert.equal(await resolveBrokerToken("https://broker.example:8750", { HOME: own }), TOKEN, "0600 in 0700 is used");
    const args = ["broker", "token", "--server", "https://broker.example:8750", "--cluster", "prod"];
    chmodSync(file, 0o644);
    assertOneLine(await runInProcess(args, { env: { HOME: own } }), 3, new RegExp(`^kubeiam: ${file} may be read by others \\(mode 0644\\): make it the owner's only with 'chmod 600 ${file}'\\n$`), [TOKEN]);
    chmodSync(file, 0o640);
    assertOneLine(await runInProcess(["broker", "clusters", "--server", "https://broker.example:8750"], { env: { HOME: own } }), 3, /mode 0640\): make it the owner's only with 'chmod 600 /);
    chmodSync(file, 0o600);
    chmodSync(folder, 0o755);
    assertOneLine(await runInProcess(args, { env: { HOME: own } }), 3, new RegExp(`^kubeiam: ${folder} may be read by others \\(mode 0755\\): make it the owner's only with 'chmod 700 ${folder}'\\n$`));
    chmodSync(folder, 0o777);
    // Logging in does not write into a folder others can write to either.
    const login = await runInProcess(["broker", "login", "--server", "https://broker.example:8750", "--no-verify"], { env: { HOME: own }, stdin: TOKEN });
    assertOneLine(login, 3, /may be written by others \(mode 0777\): make it the owner's only with 'chmod 700 /, [TOKEN]);
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
