/**
 * `kubeiam sandbox` as a user runs it (the built CLI as a child process): the one JSON line, the
 * request log without secrets, --keys and --mapping files, a clean stop on SIGTERM and SIGINT,
 * and one clear line for each bad flag or file.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeiam-sandbox-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  line: Record<string, unknown>;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts the sandbox CLI and waits for its JSON line. */
function startCli(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [CLI, "sandbox", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no start line in 15 s; stderr: ${err}`));
    }, 15_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, line: JSON.parse(out.slice(0, nl)) as Record<string, unknown>, stderr: () => err, exit });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited with ${code} before its start line; stderr: ${err}`));
    });
  });
}

/** Runs the CLI to its end. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

async function signedGet(apiUrl: string, uri: string, accessKey: string, secretKey: string): Promise<number> {
  const ts = String(Date.now());
  const sig = createHmac("sha256", secretKey).update(`GET ${uri}\n${ts}\n${accessKey}`).digest("base64");
  const res = await fetch(apiUrl + uri, {
    headers: { "x-ncp-apigw-timestamp": ts, "x-ncp-iam-access-key": accessKey, "x-ncp-apigw-signature-v2": sig },
  });
  await res.arrayBuffer();
  return res.status;
}

test("prints one JSON line, logs requests without secrets, stops cleanly on SIGTERM", async () => {
  const run = await startCli([]);
  const line = run.line as { apiUrl: string; accessKey: string; secretKey: string; region: string; clusters: { uuid: string; name: string; region: string; status: string; endpoint: string | null }[] };
  assert.deepEqual(Object.keys(line), ["apiUrl", "accessKey", "secretKey", "region", "clusters"]);
  assert.match(line.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(line.region, "KR");
  for (const region of ["KR", "SGN"]) {
    assert.ok(line.clusters.some((c) => c.region === region && c.status === "RUNNING" && /^https:\/\/127\.0\.0\.1:\d+$/.test(c.endpoint ?? "")), `a running ${region} cluster`);
  }
  assert.ok(line.clusters.some((c) => c.status === "CREATING" && c.endpoint === null));
  assert.equal(await signedGet(line.apiUrl, "/vnks/sgn-v2/clusters", line.accessKey, line.secretKey), 200);
  assert.equal(await signedGet(line.apiUrl, "/vnks/v2/clusters", line.accessKey, "wrong-secret"), 401);
  run.child.kill("SIGTERM");
  assert.equal(await run.exit, 0);
  const err = run.stderr();
  assert.match(err, /kubeiam sandbox: api GET \/vnks\/sgn-v2\/clusters key=SBX[0-9A-F]+ -> 200/);
  assert.match(err, /-> 401 \(Signature mismatch/);
  assert.match(err, /kubeiam sandbox: stopped/);
  assert.ok(!err.includes(line.secretKey), "the secret key is not logged");
});

test("--keys and --mapping files are used; SIGINT stops it too", async () => {
  const keys = join(dir, "keys.yaml");
  await writeFile(keys, "keys:\n  - accessKey: NCPTESTACCESSKEY0001\n    secretKey: NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001\n    name: ops\n");
  const mapping = join(dir, "ncp-auth.json");
  await writeFile(mapping, JSON.stringify({ mapSubAccounts: [{ subAccountIdNo: "100002", username: "alice", groups: ["dev"] }] }));
  const run = await startCli(["--keys", keys, "--mapping", mapping]);
  assert.equal(run.line.accessKey, "NCPTESTACCESSKEY0001");
  assert.equal(run.line.secretKey, "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001");
  assert.equal(await signedGet(run.line.apiUrl as string, "/vnks/v2/clusters", "NCPTESTACCESSKEY0001", "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001"), 200);
  run.child.kill("SIGINT");
  assert.equal(await run.exit, 0);
});

test("--api-port is used", async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const run = await startCli(["--api-port", String(port)]);
  assert.equal(run.line.apiUrl, `http://127.0.0.1:${port}`);
  run.child.kill("SIGTERM");
  assert.equal(await run.exit, 0);
});

test("a taken --api-port is one clear line and exit 2", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await runCli(["sandbox", "--api-port", String(port)]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `kubeiam: sandbox API port ${port} is taken: pick another with --api-port, or leave it out for a free one\n`);
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});

test("bad flags and files: one line on stderr, no stack trace, non-zero exit", async () => {
  const badMapping = join(dir, "bad-mapping.yaml");
  await writeFile(badMapping, "mapSubAccounts:\n  - subAccountIdNo: 100002\n    groups: [dev]\n");
  const badKeys = join(dir, "bad-keys.yaml");
  await writeFile(badKeys, "keys:\n  - accessKey: NCPTESTACCESSKEY0001\n");
  const cases: [string[], number, RegExp][] = [
    [["--api-port", "70000"], 2, /--api-port "70000" is not a port number/],
    [["--api-port", "-1"], 2, /--api-port/],
    [["--mapping", ""], 2, /--mapping is empty: pass a file path/],
    [["--bogus"], 2, /sandbox: unknown flag "--bogus"/],
    [["--mapping", badMapping], 3, /mapping file .*bad-mapping\.yaml: mapSubAccounts\[0\]\.username is missing/],
    [["--keys", badKeys], 3, /keys file .*bad-keys\.yaml: keys\[0\]\.secretKey is missing/],
    [["--keys", join(dir, "absent.yaml")], 3, /keys file .*absent\.yaml does not exist: check the path/],
  ];
  for (const [args, code, message] of cases) {
    const r = await runCli(["sandbox", ...args]);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
    assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
  }
});
