/**
 * The package's entry points as users import them, by name through package.json "exports" (the
 * package refers to itself, so "kubeiam/ncp" resolves to the built dist/entry/ncp.js): each one runs
 * in a fresh child process under a module-resolution hook, loaded with `--import`, that records every
 * specifier the process resolves. Importing an entry point must not pull in the heavy packages; the
 * positive controls (kubeiam/sandbox, and calling a function that needs client-node or the AWS SDK)
 * prove that the hook does see them when they load.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** The packages no entry point but kubeiam/sandbox may load at import time. */
const HEAVY: Record<string, RegExp> = {
  "@kubernetes/client-node": /^@kubernetes\/client-node(\/|$)/,
  "AWS SDK": /^@aws-sdk\//,
  smithy: /^@smithy\//,
  "google-auth-library": /^google-auth-library(\/|$)/,
  "@peculiar/x509": /^@peculiar\/x509(\/|$)/,
  "reflect-metadata": /^reflect-metadata(\/|$)/,
  fastify: /^fastify(\/|$)/,
  "better-sqlite3": /^better-sqlite3(\/|$)/,
  pg: /^pg(\/|$)/,
  kysely: /^kysely(\/|$)/,
};

let root: string;
let register: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-entry-"));
  await writeFile(
    join(root, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  appendFileSync(process.env.KUBEIAM_TRACE_FILE, specifier + "\\n");
  return next(specifier, context);
}
`,
  );
  register = join(root, "register.mjs");
  await writeFile(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(root, "hooks.mjs")).href)});\n`);
});
after(() => rm(root, { recursive: true, force: true }));

let runs = 0;
/** Runs `code` as an ES module in a fresh node whose working directory is the package, and returns the specifiers it resolved. */
async function trace(code: string): Promise<{ specifiers: string[]; stdout: string }> {
  const file = join(root, `${++runs}.trace`);
  await writeFile(file, "");
  const r = await exec(process.execPath, ["--import", pathToFileURL(register).href, "--input-type=module", "-e", code], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "", HOME: root, KUBEIAM_TRACE_FILE: file },
    timeout: 60_000,
  });
  return { specifiers: (await readFile(file, "utf8")).split("\n").filter(Boolean), stdout: r.stdout };
}

function heavyLoaded(specifiers: string[]): string[] {
  return Object.entries(HEAVY)
    .filter(([, re]) => specifiers.some((s) => re.test(s)))
    .map(([name]) => name);
}

const LIGHT = ["kubeiam", "kubeiam/ncp", "kubeiam/aws", "kubeiam/gcp", "kubeiam/kube", "kubeiam/broker"];

for (const entry of LIGHT) {
  test(`import("${entry}") resolves through the exports map and loads none of the heavy packages`, async () => {
    const { specifiers, stdout } = await trace(
      `const m = await import(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify({ url: import.meta.resolve(${JSON.stringify(entry)}), names: Object.keys(m) }));`,
    );
    const { url, names } = JSON.parse(stdout) as { url: string; names: string[] };
    assert.ok(fileURLToPath(url).startsWith(join(REPO, "dist")), `${entry} resolved to ${url}, not the built dist/`);
    assert.ok(names.includes("KubeiamError"), `${entry} exports the typed errors`);
    assert.ok(specifiers.includes(entry), "the hook saw the import itself");
    assert.ok(specifiers.includes("yaml"), "the hook saw the light packages the entry point does load");
    assert.deepEqual(heavyLoaded(specifiers), []);
  });
}

test('positive control: import("kubeiam/sandbox") loads @kubernetes/client-node (the demo), but not the broker server', async () => {
  const { specifiers, stdout } = await trace(`const m = await import("kubeiam/sandbox"); process.stdout.write(typeof m.startSandbox + typeof m.runDemo);`);
  assert.equal(stdout, "functionfunction");
  assert.deepEqual(heavyLoaded(specifiers), ["@kubernetes/client-node"]);
});

test('positive control: calling selfRefreshingKubeConfig from "kubeiam" loads @kubernetes/client-node on first use', async () => {
  const { specifiers, stdout } = await trace(`
const { selfRefreshingKubeConfig } = await import("kubeiam");
const kc = await selfRefreshingKubeConfig({ cluster: { server: "https://127.0.0.1:6443" }, mintToken: () => ({ token: "t", expiresAt: new Date(Date.now() + 60000) }) });
process.stdout.write(kc.getCurrentCluster().server);`);
  assert.equal(stdout, "https://127.0.0.1:6443");
  assert.deepEqual(heavyLoaded(specifiers), ["@kubernetes/client-node"]);
});

test('positive control: mintEksToken from "kubeiam/aws" loads smithy on first use (and nothing of GCP)', async () => {
  const { specifiers, stdout } = await trace(`
const { mintEksToken } = await import("kubeiam/aws");
const { token } = await mintEksToken({ credentials: { accessKeyId: "AKIDENTRYTEST0000001", secretAccessKey: "entry-test-secret-not-real" }, clusterName: "c", region: "us-east-1", now: 1767225600000 });
process.stdout.write(token.slice(0, 11));`);
  assert.equal(stdout, "k8s-aws-v1.");
  assert.deepEqual(heavyLoaded(specifiers), ["smithy"]);
});
