/**
 * The package's entry points as users import them, by name through package.json "exports" (the
 * package refers to itself, so "kubeiam/ncp" resolves to the built dist/entry/ncp.js): each one runs
 * in a fresh child process under test/helpers/module-trace.ts, which records every specifier the
 * process loads, by ES import (a resolve hook) or by require() (a Module._load wrapper). Importing an
 * entry point must not pull in the heavy packages, nor yaml and ini, which load on first use; the
 * positive controls (calling a function that needs client-node, x509, the AWS SDK, yaml or ini) prove
 * that the tracer does see them when they load.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { closedPort } from "./helpers/closed-port.js";
import { createModuleTracer, type ModuleTracer } from "./helpers/module-trace.js";

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** The packages no entry point may load at import time. */
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

let tracer: ModuleTracer;
let home: string;
before(async () => {
  tracer = await createModuleTracer();
  home = await mkdtemp(join(tmpdir(), "kubeiam-entry-"));
});
after(async () => {
  await tracer.remove();
  await rm(home, { recursive: true, force: true });
});

/**
 * Runs `code` as an ES module in a fresh node whose working directory is the package, and returns
 * the specifiers it loaded, by ES import or by require() (the lazy yaml and ini are required), and
 * kubeiam's own modules it imported, as paths under dist/ (`ncp/cluster.js`).
 */
async function trace(code: string): Promise<{ specifiers: string[]; ours: string[]; stdout: string }> {
  const { file, env } = await tracer.newTrace("entry");
  const r = await exec(process.execPath, [...tracer.nodeArgs, "--input-type=module", "-e", code], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "", HOME: home, ...env },
    timeout: 60_000,
  });
  const dist = `${pathToFileURL(join(REPO, "dist")).href}/`;
  const ours = (await tracer.readUrls(file)).filter((url) => url.startsWith(dist)).map((url) => url.slice(dist.length));
  return { specifiers: await tracer.read(file), ours, stdout: r.stdout };
}

/** Packages every entry point loads on first use only, not on import. */
const LAZY: Record<string, RegExp> = { yaml: /^yaml(\/|$)/, ini: /^ini(\/|$)/ };

function lazyLoaded(specifiers: string[]): string[] {
  return Object.entries(LAZY)
    .filter(([, re]) => specifiers.some((s) => re.test(s)))
    .map(([name]) => name);
}

function heavyLoaded(specifiers: string[]): string[] {
  return Object.entries(HEAVY)
    .filter(([, re]) => specifiers.some((s) => re.test(s)))
    .map(([name]) => name);
}

const LIGHT = ["kubeiam", "kubeiam/ncp", "kubeiam/aws", "kubeiam/gcp", "kubeiam/kube", "kubeiam/sandbox", "kubeiam/broker"];

for (const entry of LIGHT) {
  test(`import("${entry}") resolves through the exports map and loads none of the heavy packages`, async () => {
    const { specifiers, stdout } = await trace(
      `const m = await import(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify({ url: import.meta.resolve(${JSON.stringify(entry)}), names: Object.keys(m) }));`,
    );
    const { url, names } = JSON.parse(stdout) as { url: string; names: string[] };
    assert.ok(fileURLToPath(url).startsWith(join(REPO, "dist")), `${entry} resolved to ${url}, not the built dist/`);
    assert.ok(names.includes("KubeiamError"), `${entry} exports the typed errors`);
    assert.ok(specifiers.includes(entry), "the hook saw the import itself");
    assert.ok(specifiers.some((s) => s.startsWith("node:")), "the hook saw the built-ins the entry point does load");
    assert.deepEqual(heavyLoaded(specifiers), []);
    // yaml and ini load on first use (src/lib/yaml.ts, aws/credentials.ts); the control below proves
    // that the tracer sees them when they do.
    assert.deepEqual(lazyLoaded(specifiers), []);
  });
}

test('positive control: starting a sandbox from "kubeiam/sandbox" loads its CA library (@peculiar/x509) then; the demo\'s client-node still waits for runDemo', async () => {
  const { specifiers, stdout } = await trace(`const m = await import("kubeiam/sandbox"); const s = await m.startSandbox(); await s.close(); process.stdout.write(typeof m.runDemo);`);
  assert.equal(stdout, "function");
  assert.ok(heavyLoaded(specifiers).includes("@peculiar/x509"), heavyLoaded(specifiers).join(", "));
  assert.ok(!heavyLoaded(specifiers).includes("@kubernetes/client-node"));
});

test('positive control: parsing a kubeconfig and reading an AWS config file ("kubeiam/kube", "kubeiam/aws") load yaml and ini by require(), and the tracer sees both', async () => {
  const { specifiers, stdout } = await trace(`
const { parseKubeconfig } = await import("kubeiam/kube");
const { readAwsSharedFiles } = await import("kubeiam/aws");
const { writeFileSync } = await import("node:fs");
const kc = parseKubeconfig("apiVersion: v1\\nkind: Config\\ncurrent-context: c\\n");
writeFileSync(process.env.HOME + "/aws-config", "[profile p]\\nregion = eu-west-1\\n");
const files = await readAwsSharedFiles({ AWS_CONFIG_FILE: process.env.HOME + "/aws-config", AWS_SHARED_CREDENTIALS_FILE: process.env.HOME + "/none" });
process.stdout.write(kc.currentContext + " " + [...files.profiles.keys()].join(","));`);
  assert.equal(stdout, "c p");
  assert.deepEqual(lazyLoaded(specifiers), ["yaml", "ini"]);
  assert.ok(specifiers.indexOf("yaml") > specifiers.indexOf("kubeiam/aws"), "yaml loaded after the imports, on first use");
  assert.deepEqual(heavyLoaded(specifiers), []);
});

/**
 * What the root's curated names need: no cloud's cluster look-ups, API clients, adapters or credential
 * files, no kubeconfig model or files, no sandbox, no broker REST client (each on its subpath). The
 * names of kubeiam's own modules as the root's graph imports them.
 */
const NOT_IN_ROOT = /(^|\/)(cluster|adapter|api|credentials|cache|client\/api|client\/http|kubeconfig|kubeconfig-file|read-file|safe-write|impersonate|assume-role|sandbox\/index)\.js$/;

test('import("kubeiam") loads the token core and the factories only; a provider loads its cloud\'s side with its first call', async () => {
  const bare = await trace(`const m = await import("kubeiam"); process.stdout.write(String(typeof m.createNcpProvider));`);
  assert.equal(bare.stdout, "function");
  assert.deepEqual(bare.specifiers.filter((s) => NOT_IN_ROOT.test(s)), []);
  assert.ok(bare.specifiers.includes("./ncp/provider.js") && bare.specifiers.includes("./ncp/token.js"), bare.specifiers.join(" "));
  // The control: the provider's first call loads the NKS API side (and the tracer sees it).
  const used = await trace(`
const { createNcpProvider } = await import("kubeiam");
const p = createNcpProvider({ region: "KR", credentials: { accessKey: "AKENTRYTEST", secretKey: "entry-test-secret", apiUrl: "http://127.0.0.1:9" }, timeoutMs: 2000 });
await p.listClusters().catch(() => undefined);
process.stdout.write("called");`);
  assert.equal(used.stdout, "called");
  assert.ok(used.specifiers.includes("./adapter.js") && used.specifiers.includes("./api.js"), used.specifiers.join(" "));
});

test('import("kubeiam") loads Node\'s crypto only when something signs (about 6% of a bare node start), and the first signature does', async () => {
  const { stdout } = await trace(`
const m = await import("kubeiam");
const atImport = process.moduleLoadList.includes("NativeModule crypto");
const signature = m.signNcpRequest({ method: "GET", uri: "/", timestamp: "1", accessKey: "a", secretKey: "b" });
process.stdout.write(JSON.stringify({ atImport, afterSigning: process.moduleLoadList.includes("NativeModule crypto"), signature }));`);
  const r = JSON.parse(stdout) as { atImport: boolean; afterSigning: boolean; signature: string };
  assert.deepEqual([r.atImport, r.afterSigning], [false, true]);
  assert.match(r.signature, /^[A-Za-z0-9+/]{43}=$/);
});

/**
 * What kubeiam/ncp's names do not need until one is called (issue 23: its import was the one entry
 * point near 1.5x `node -e 0`): the kubeconfig model, parser and writer (kube/kubeconfig.ts, through
 * ncp/kubeconfig.ts, which builds an NKS cluster's entries), client-node's self-refreshing config
 * (kube/client.ts) and the HTTP edge with its proxy rules (lib/http.ts). As paths under dist/:
 * a specifier alone (`./kubeconfig.js`) would not say whose kubeconfig module it is. Nor node:os,
 * which the configure file's default path needs only when HOME is unset (about a module's cost).
 */
const NOT_IN_NCP = ["ncp/kubeconfig.js", "kube/kubeconfig.js", "lib/yaml.js", "kube/client.js", "lib/http.js", "lib/proxy-env.js"];

test('import("kubeiam/ncp") loads no kubeconfig parser, client-node wrapper, HTTP edge or node:os; building entries, a KubeConfig and an API call load them', async () => {
  const bare = await trace(`const m = await import("kubeiam/ncp"); process.stdout.write(typeof m.getNcpCluster);`);
  assert.equal(bare.stdout, "function");
  assert.ok(bare.ours.includes("ncp/cluster.js") && bare.ours.includes("ncp/api.js"), bare.ours.join(" "));
  assert.deepEqual(NOT_IN_NCP.filter((f) => bare.ours.includes(f)), [], `kubeiam/ncp loaded ${bare.ours.length} of our modules: ${bare.ours.join(" ")}`);
  assert.deepEqual(bare.specifiers.filter((s) => s === "node:os"), []);
  // The control: each loads on the call that needs it (and the tracer sees it).
  const used = await trace(`
const { ncpAdapter, ncpKubeConfig, createNcpApiClient } = await import("kubeiam/ncp");
const credentials = { accessKey: "AKENTRYTEST", secretKey: "entry-test-secret", apiUrl: "http://127.0.0.1:${await closedPort()}" };
const ca = Buffer.from("-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n").toString("base64");
const baseKubeconfig = "apiVersion: v1\\nclusters:\\n- name: kubernetes\\n  cluster:\\n    server: https://127.0.0.1:6443\\n    certificate-authority-data: " + ca + "\\n";
const clusterUuid = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const cluster = { region: "KR", cluster: { uuid: clusterUuid, name: "demo", status: "RUNNING", subnetNoList: [], nodePool: [] }, baseKubeconfig };
const { entries } = await ncpAdapter.kubeconfigEntries({ credentials, cluster });
const kc = await ncpKubeConfig({ clusterUuid, region: "KR", credentials, cluster: { server: "https://127.0.0.1:6443" } });
await createNcpApiClient({ credentials, region: "KR", attempts: 1, timeoutMs: 2000 }).listClusters().catch(() => undefined);
process.stdout.write(entries.cluster.cluster.server + " " + kc.getCurrentCluster().server);`);
  assert.equal(used.stdout, "https://127.0.0.1:6443 https://127.0.0.1:6443");
  assert.deepEqual(NOT_IN_NCP.filter((f) => !used.ours.includes(f)), [], used.ours.join(" "));
});

test('positive control: calling selfRefreshingKubeConfig from "kubeiam" loads @kubernetes/client-node on first use', async () => {
  const { specifiers, stdout } = await trace(`
const { selfRefreshingKubeConfig } = await import("kubeiam");
const kc = await selfRefreshingKubeConfig({ cluster: { server: "https://127.0.0.1:6443" }, mintToken: () => ({ token: "t", expiresAt: new Date(Date.now() + 60000) }) });
process.stdout.write(kc.getCurrentCluster().server);`);
  assert.equal(stdout, "https://127.0.0.1:6443");
  assert.deepEqual(heavyLoaded(specifiers), ["@kubernetes/client-node"]);
});

test('mintEksToken from "kubeiam/aws" signs with node:crypto: no smithy, no AWS SDK, nothing of GCP', async () => {
  const { specifiers, stdout } = await trace(`
const { mintEksToken } = await import("kubeiam/aws");
const { token } = await mintEksToken({ credentials: { accessKeyId: "AKIDENTRYTEST0000001", secretAccessKey: "entry-test-secret-not-real" }, clusterName: "c", region: "us-east-1", now: 1767225600000 });
process.stdout.write(token.slice(0, 11));`);
  assert.equal(stdout, "k8s-aws-v1.");
  assert.deepEqual(heavyLoaded(specifiers), []);
});
