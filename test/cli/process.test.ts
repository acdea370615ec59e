/**
 * The CLI as a process, run as a child of the test: all of its output reaches a pipe that is read
 * slowly, and SIGINT/SIGTERM end it whatever it waits on (here, a FIFO that nobody writes to).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { constants, openSync, closeSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";

const CLI = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));
const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");
const ids = ["--clusterUuid", UUID, "--region", "KR"];

let root: string;
let standIn: StandIn;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-process-"));
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    clusters: [{ uuid: UUID, name: "demo", status: "RUNNING", endpoint: "https://demo.kr.vnks.example", caData: CA }],
  });
});
after(async () => {
  await standIn.close();
  await rm(root, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(root, "home"), NCLOUD_ACCESS_KEY_ID: AK, NCLOUD_SECRET_ACCESS_KEY: SK, NCLOUD_API_GW: standIn.url };
}

interface Ended { status: number | null; signal: NodeJS.Signals | null; out: string; err: string }

/** Collects a child's output and how it ended; SIGKILLs it and fails if it has not ended within `boundMs`. */
function ended(child: ChildProcess, boundMs: number): Promise<Ended> {
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => void (out += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => void (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the command did not end within ${boundMs} ms; stderr: ${err}`));
    }, boundMs);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, out, err });
    });
  });
}

/** A kubeconfig with `n` clusters, users and contexts, as text (about 150 bytes per entry). */
function bigKubeconfig(n: number): string {
  const lines = ["apiVersion: v1", "kind: Config", "clusters:"];
  for (let i = 0; i < n; i++) lines.push(`- name: c${i}`, "  cluster:", `    server: https://c${i}.example:6443`);
  lines.push("users:");
  for (let i = 0; i < n; i++) lines.push(`- name: u${i}`, "  user:", `    token: not-a-real-token-${i}`);
  lines.push("contexts:");
  for (let i = 0; i < n; i++) lines.push(`- name: x${i}`, "  context:", `    cluster: c${i}`, `    user: u${i}`);
  lines.push("current-context: x0", "");
  return lines.join("\n");
}

test("update-kubeconfig --dry-run: all of a 400 KiB kubeconfig reaches a pipe that is read late", async () => {
  const file = join(root, "big.yaml");
  const n = 3000;
  await writeFile(file, bigKubeconfig(n), { mode: 0o600 });
  // The reader starts a second late, so the pipe's buffer (64 KiB) fills and the CLI must wait for it.
  const child = spawn("sh", ["-c", '"$0" "$@" | { sleep 1; cat; }', process.execPath, CLI, "update-kubeconfig", ...ids, "--kubeconfig", file, "--dry-run"], {
    env: env(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const r = await ended(child, 60_000);
  assert.ok(r.out.length > 300 * 1024, `only ${r.out.length} bytes arrived`);
  const kc = parseKubeconfig(r.out);
  assert.equal(kc.clusters.length, n + 1);
  assert.equal(kc.contexts.length, n + 1);
  assert.match(r.err, /dry run: .* was not changed/);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  test(`${signal} ends update-kubeconfig --dry-run waiting on a FIFO kubeconfig that nobody writes to`, async () => {
    const fifo = join(root, `fifo-${signal}`);
    execFileSync("mkfifo", [fifo]);
    const child = spawn(process.execPath, [CLI, "update-kubeconfig", ...ids, "--kubeconfig", fifo, "--dry-run"], {
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const done = ended(child, 20_000);
    // Wait (bounded) until the CLI has the FIFO open for reading: only then does a non-blocking
    // open for writing succeed. This writer never writes.
    let fd: number | undefined;
    for (let i = 0; i < 500 && fd === undefined; i++) {
      try {
        fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.notEqual(fd, undefined, "the CLI never opened the FIFO");
    try {
      // Give the CLI a moment to be blocked in its read, then signal it. The bound below is a
      // safety net for a loaded machine, not a speed check; the CLI's own grace is half a second.
      await new Promise((r) => setTimeout(r, 200));
      child.kill(signal);
      const r = await done;
      assert.equal(r.signal, signal, `ended with status ${r.status}`);
      assert.equal(r.out, "");
      assert.match(r.err, new RegExp(`stopped by ${signal}\\n$`));
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  });
}
