/**
 * The CLI as a process, run as a child of the test: all of its output reaches a pipe that is read
 * slowly, and SIGINT/SIGTERM end it whatever it waits on (here, a FIFO that nobody writes to, as a
 * kubeconfig or as the NCP configure file); a configure file from a FIFO that is written is read.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { constants, closeSync, existsSync, lstatSync, openSync, readFileSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { decodeNcpToken } from "../../src/ncp/token.js";
import { assertOneLine } from "../helpers/cli.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
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

/** Every node under `dir`, with its kind and (for a file) its content: "no file changed" is this, equal before and after. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const info = lstatSync(p);
      if (info.isDirectory()) {
        out[p] = "dir";
        walk(p);
      } else if (info.isFile()) out[p] = `file ${info.mode.toString(8)} ${readFileSync(p, "utf8")}`;
      else out[p] = info.isFIFO() ? "fifo" : "other";
    }
  };
  walk(dir);
  return out;
}

/** Opens the FIFO for writing once the CLI has it open for reading (bounded wait), without blocking. */
async function writerOf(fifo: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    try {
      return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error("the CLI never opened the FIFO");
}

/** The environment of a token run that must find its keys in a file: no NCLOUD_* keys. */
function fileEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home };
}

const CONFIGURE = `[DEFAULT]\nncloud_access_key_id = ${AK}\nncloud_secret_access_key = ${SK}\n`;

for (const [signal, where] of [
  ["SIGTERM", "--credentialConfig"],
  ["SIGINT", "--credentialConfig"],
  ["SIGTERM", "~/.ncloud/configure"],
  ["SIGINT", "~/.ncloud/configure"],
] as const) {
  test(`${signal} ends token waiting on a FIFO ${where} that nobody writes to: one line, no file changed`, async () => {
    const home = await mkdtemp(join(root, "home-"));
    await mkdir(join(home, ".ncloud"), { mode: 0o700 });
    const fifo = where === "--credentialConfig" ? join(home, "configure.fifo") : join(home, ".ncloud", "configure");
    execFileSync("mkfifo", [fifo]);
    const flag = where === "--credentialConfig" ? ["--credentialConfig", fifo] : [];
    const before = tree(home);
    const child = spawn(process.execPath, [CLI, "token", ...ids, ...flag], { env: fileEnv(home), stdio: ["ignore", "pipe", "pipe"] });
    const done = ended(child, 20_000);
    // A writer that never writes: the CLI must keep waiting for the file's end, and still stop.
    const fd = await writerOf(fifo);
    try {
      await new Promise((r) => setTimeout(r, 200));
      child.kill(signal);
      // Bounded by ended(): 20 s as a safety net for a loaded machine, not a speed check.
      const r = await done;
      assert.equal(r.signal, signal, `ended with status ${r.status}: ${r.err}`);
      assert.equal(r.out, "");
      assert.equal(r.err, `kubeiam: stopped by ${signal}\n`);
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(tree(home), before);
  });
}

test("token reads its configure file from a FIFO that a separate process writes, late and in pieces", async () => {
  const home = await mkdtemp(join(root, "home-"));
  const fifo = join(home, "configure.fifo");
  execFileSync("mkfifo", [fifo]);
  const half = CONFIGURE.indexOf("ncloud_secret");
  const writer = spawn("sh", ["-c", 'sleep 0.3; { printf %s "$1"; sleep 0.3; printf %s "$2"; } > "$0"', fifo, CONFIGURE.slice(0, half), CONFIGURE.slice(half)], { stdio: "ignore" });
  try {
    const r = await ended(spawn(process.execPath, [CLI, "token", ...ids, "--credentialConfig", fifo], { env: fileEnv(home), stdio: ["ignore", "pipe", "pipe"] }), 30_000);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.err, "");
    const token = (JSON.parse(r.out) as { status: { token: string } }).status.token;
    assert.equal(decodeNcpToken(token).accessKey, AK);
  } finally {
    writer.kill();
  }
});

test("token reads its configure file from process substitution (bash <(…)), as the official tool's users do", { skip: existsSync("/bin/bash") ? false : "no bash" }, async () => {
  const home = await mkdtemp(join(root, "home-"));
  const script = '"$0" "$1" token --clusterUuid "$2" --region KR --credentialConfig <(printf %s "$3")';
  const r = await ended(spawn("/bin/bash", ["-c", script, process.execPath, CLI, UUID, CONFIGURE], { env: fileEnv(home), stdio: ["ignore", "pipe", "pipe"] }), 30_000);
  assert.equal(r.status, 0, r.err);
  assert.equal(decodeNcpToken((JSON.parse(r.out) as { status: { token: string } }).status.token).accessKey, AK);
});

test("eks token refuses a FIFO as AWS_CONFIG_FILE before reading it: one line naming it, no wait", async () => {
  const home = await mkdtemp(join(root, "home-"));
  const fifo = join(home, "aws-config");
  execFileSync("mkfifo", [fifo]);
  const before = tree(home);
  const r = await ended(
    spawn(process.execPath, [CLI, "eks", "token", "--cluster-name", "prod-eks", "--region", "us-east-1"], {
      env: { ...fileEnv(home), AWS_CONFIG_FILE: fifo, AWS_SHARED_CREDENTIALS_FILE: join(home, "none") },
      stdio: ["ignore", "pipe", "pipe"],
    }),
    20_000,
  );
  assertOneLine({ status: r.status ?? -1, out: r.out, err: r.err }, 6, /^kubeiam: AWS config file .*aws-config is a FIFO: the AWS SDK reads it again after kubeiam, so pass a regular file \(or feed keys from a program with credential_process\)\n$/);
  assert.deepEqual(tree(home), before);
});

test("serve whose stderr reader went away (kubeiam serve 2>&1 | head) ends quietly with status 0 at its next log line, as for stdout", async () => {
  const { newMasterKey, startCliChild } = await import("../helpers/serve-process.js");
  const home = join(root, "serve-epipe");
  await mkdir(home, { recursive: true });
  const broker = await startCliChild<{ url: string }>(["serve", "--db", `sqlite:${join(home, "b.db")}`, "--listen", "127.0.0.1:0"], {
    PATH: process.env.PATH ?? "",
    HOME: home,
    KUBEIAM_MASTER_KEY: newMasterKey(),
  });
  try {
    const exited = new Promise<number | null>((resolve) => broker.child.on("exit", (code) => resolve(code)));
    broker.child.stderr?.destroy();
    // Each request is one log line; the first write after the close meets EPIPE.
    for (let i = 0; i < 50 && broker.child.exitCode === null; i++) {
      await fetch(new URL("/healthz", broker.line.url)).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("still running after 10 s"), 10_000))]);
    assert.equal(code, 0);
  } finally {
    await broker.stop();
  }
});
