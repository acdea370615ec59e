/**
 * The README's TLS recipe for `kubeiam serve` (issue 18), run as written in a temp folder with the
 * names set to this machine's (localhost, 127.0.0.1): the broker serves HTTPS with the certificate,
 * a client trusting only the recipe's CA reaches it by name and by address, and `broker login
 * --ca-file ca.pem` keeps the CA so that the next command needs no flag.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runInProcess } from "../helpers/cli.js";
import { startCliChild } from "../helpers/serve-process.js";

const README = fileURLToPath(new URL("../../../README.md", import.meta.url));

/** The recipe's shell lines: the fenced block holding `openssl req -x509`, up to its `kubeiam serve`. */
async function recipe(): Promise<string[]> {
  const text = await readFile(README, "utf8");
  const block = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "").find((b) => b.includes("openssl req -x509"));
  assert.ok(block !== undefined, "the README has the TLS recipe");
  const lines = block.split("\n");
  const serve = lines.findIndex((l) => l.startsWith("kubeiam serve"));
  assert.ok(serve > 0, "the recipe ends with kubeiam serve");
  assert.match(lines[0] ?? "", /^NAME=\S+ IP=\S+ /, "the recipe starts by naming the host and address");
  return lines.slice(0, serve);
}

function get(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

test("the README's openssl recipe makes a CA and a certificate that kubeiam serve serves HTTPS with, trusted by name and by address", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kubeiam-readme-tls-"));
  let broker: Awaited<ReturnType<typeof startCliChild<{ url: string; adminToken: string }>>> | undefined;
  try {
    const lines = await recipe();
    lines[0] = "NAME=localhost IP=127.0.0.1";
    await writeFile(join(dir, "recipe.sh"), `set -eu\n${lines.join("\n")}\n`);
    execFileSync("bash", ["recipe.sh"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 60_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir } });
    assert.equal((await stat(join(dir, "broker-key.pem"))).mode & 0o777, 0o600);
    const home = join(dir, "home");
    broker = await startCliChild<{ url: string; adminToken: string }>(
      ["serve", "--listen", "127.0.0.1:0", "--tls-cert", join(dir, "broker.pem"), "--tls-key", join(dir, "broker-key.pem"), "--db", `sqlite:${join(dir, "broker.db")}`],
      { PATH: process.env.PATH ?? "", HOME: home, KUBEIAM_MASTER_KEY: Buffer.alloc(32, 7).toString("base64") },
    );
    const port = new URL(broker.line.url).port;
    assert.match(broker.line.url, /^https:/);
    const ca = await readFile(join(dir, "ca.pem"), "utf8");
    assert.equal(await get(`https://127.0.0.1:${port}/healthz`, ca), 200, "by address");
    assert.equal(await get(`https://localhost:${port}/healthz`, ca), 200, "by name");
    // The CA kept at login serves the next command.
    const env = { HOME: home };
    const server = `https://localhost:${port}`;
    const login = await runInProcess(["broker", "login", "--server", server, "--ca-file", join(dir, "ca.pem")], { env, stdin: broker.line.adminToken });
    assert.equal(login.status, 0, login.err);
    const users = await runInProcess(["broker", "user", "list", "--server", server], { env });
    assert.equal(users.status, 0, users.err);
    assert.match(users.out, /^NAME\s+ROLE/);
  } catch (error) {
    if (broker !== undefined) console.error(broker.stderr());
    throw error;
  } finally {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
