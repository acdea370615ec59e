/**
 * `kubeiam token` runs on every kubectl call, so it loads only the built-ins it uses. Two costs are
 * easy to bring back by accident: an `import` of a built-in (`node:fs`, `node:crypto`) builds an ES
 * module facade that reads every export and so wakes the lazy ones (fs's streams, webcrypto, util's
 * MIME parser; lib/builtin.ts), and touching `process.stdout` (the CLI writes the credential with
 * writeSync) makes a socket for the pipe kubectl reads. Node's own list of what it loaded
 * (`process.moduleLoadList`, written at exit by a preload in the test's temp folder) shows neither.
 * The positive control runs the same preload over a script that does both, proving the list sees them.
 * The bin (dist/cli/kubeiam.js) has the token path bundled in (scripts/bundle-cli.mjs) while the other
 * commands load from dist/: the last test checks that both sides share the error classes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";

/** Built-ins the exec plugin never needs; each is what one of the mistakes above loads. */
const UNWANTED = [
  "NativeModule net", // process.stdout, process.stdin or their isTTY, on a pipe
  "NativeModule internal/fs/streams", // the facade of node:fs
  "NativeModule internal/mime", // the facade of node:util
  "NativeModule internal/crypto/webcrypto", // the facade of node:crypto
];

let dir: string;
let preload: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeiam-token-builtins-"));
  preload = join(dir, "record.cjs");
  await writeFile(
    preload,
    `process.on("exit", () => require("node:fs").writeFileSync(process.env.LOAD_LIST, JSON.stringify(process.moduleLoadList)));\n`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadedBy(name: string, args: string[], env: Record<string, string> = {}): Promise<{ loaded: string[]; stdout: string }> {
  const list = join(dir, `${name}.json`);
  const { stdout } = await exec(process.execPath, ["-r", preload, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: dir, LOAD_LIST: list, ...env },
    timeout: 20_000,
  });
  return { loaded: JSON.parse(await readFile(list, "utf8")) as string[], stdout };
}

test("kubeiam token, writing to a pipe, loads no built-in it does not use", async () => {
  const { loaded, stdout } = await loadedBy("token", [CLI, "token", "--clusterUuid", UUID, "--region", "KR"], {
    NCLOUD_ACCESS_KEY: "NCPTESTACCESSKEY0001",
    NCLOUD_SECRET_KEY: "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001",
  });
  const cred = JSON.parse(stdout) as { kind?: string; status?: { token?: string } };
  assert.equal(cred.kind, "ExecCredential");
  assert.match(cred.status?.token ?? "", /^k8s-ncp-v1\./);
  assert.ok(loaded.includes("NativeModule crypto"), "the list shows what the token needs");
  assert.deepEqual(UNWANTED.filter((m) => loaded.includes(m)), []);
});

test("kubeiam eks token with keys in the environment loads none of them either, nor node:tty (it asks a terminal only for an MFA code)", async () => {
  const { loaded, stdout } = await loadedBy("eks", [CLI, "eks", "token", "--cluster-name", "demo", "--region", "us-east-1"], {
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    AWS_CONFIG_FILE: join(dir, "none"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
  });
  assert.match(stdout, /"token": "k8s-aws-v1\./);
  assert.ok(loaded.includes("NativeModule crypto"), "the list shows what the token needs");
  assert.deepEqual([...UNWANTED, "NativeModule tty"].filter((m) => loaded.includes(m)), []);
});

test("positive control: importing node:fs, node:util, node:crypto and node:tty, and writing to process.stdout, loads every one of them", async () => {
  const script = join(dir, "control.mjs");
  await writeFile(script, `import "node:fs"; import "node:util"; import "node:crypto"; import "node:tty"; process.stdout.write("ok");\n`);
  const { loaded, stdout } = await loadedBy("control", [script]);
  assert.equal(stdout, "ok");
  assert.deepEqual([...UNWANTED, "NativeModule tty"].filter((m) => !loaded.includes(m)), []);
});

test("the bin inlines the token path but shares the error classes: a command loaded from dist/ reports its mistake as one line and status 2", async () => {
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8")) as { bin: Record<string, string> };
  assert.deepEqual(pkg.bin, { kubeiam: "dist/cli/kubeiam.js", "ncp-iam-authenticator": "dist/cli/kubeiam.js" });
  // eks.js is not in the bundle: its UsageError must be the bundle's UsageError for main to say it well.
  const r = await exec(process.execPath, [CLI, "eks", "token", "--region", "us-east-1"], { env: { PATH: process.env.PATH ?? "", HOME: dir }, timeout: 20_000 }).then(
    () => ({ code: 0, stderr: "" }),
    (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? "" }),
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^kubeiam: [^\n]*--cluster-name[^\n]*\n$/);
  assert.doesNotMatch(r.stderr, /internal error/);
});
