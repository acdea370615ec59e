/**
 * `update-kubeconfig` loads the proxy machinery (undici) only when a proxy applies to the API call, as
 * the exec plugins do: with no proxy set, or NO_PROXY naming the host, it calls over node:http and the
 * module trace (test/helpers/module-trace.ts) shows no undici; with HTTP_PROXY set (the positive
 * control, proving that the tracer sees it) undici loads.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createModuleTracer, type ModuleTracer } from "../helpers/module-trace.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";

let tracer: ModuleTracer;
let root: string;
let standIn: StandIn;
before(async () => {
  tracer = await createModuleTracer();
  root = await mkdtemp(join(tmpdir(), "kubeiam-uk-lazy-"));
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    clusters: [{ uuid: UUID, name: "demo", status: "RUNNING", endpoint: "https://demo.example", caData: Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64") }],
  });
});
after(async () => {
  await standIn.close();
  await tracer.remove();
  await rm(root, { recursive: true, force: true });
});

async function trace(name: string, env: Record<string, string>): Promise<{ specifiers: string[]; code: number; stdout: string }> {
  const { file, env: traceEnv } = await tracer.newTrace(name);
  const args = [...tracer.nodeArgs, CLI, "update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", join(root, `${name}.config`)];
  const base = { PATH: process.env.PATH ?? "", HOME: root, NCLOUD_ACCESS_KEY_ID: AK, NCLOUD_SECRET_ACCESS_KEY: SK, NCLOUD_API_GW: standIn.url, ...traceEnv };
  const r = await exec(process.execPath, args, { env: { ...base, ...env } }).then(
    (x) => ({ code: 0, stdout: x.stdout }),
    (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? "" }),
  );
  return { specifiers: await tracer.read(file), ...r };
}

test("update-kubeconfig with no proxy set, and with NO_PROXY naming the API host, loads no undici", async () => {
  for (const [name, env] of [
    ["no-proxy", {}],
    ["no-proxy-match", { HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1" }],
  ] as const) {
    const { specifiers, code, stdout } = await trace(name, env);
    assert.equal(code, 0, name);
    assert.equal(stdout, "kubeconfig updated successfully.\n");
    assert.ok(specifiers.includes("yaml"), `${name}: the tracer saw the kubeconfig's own package`);
    assert.deepEqual(specifiers.filter((s) => s.startsWith("undici")), [], name);
  }
});

test("positive control: with HTTP_PROXY set for the API host, update-kubeconfig loads undici", async () => {
  // The proxy need not work, so it is a closed port (a refused connection fails at once, where a
  // stand-in answering 404 was waited on and retried for half a minute): the trace is what counts.
  const { specifiers } = await trace("proxy", { HTTP_PROXY: "http://127.0.0.1:9" });
  assert.ok(specifiers.includes("undici"), specifiers.filter((s) => !s.startsWith(".")).join(", "));
});
