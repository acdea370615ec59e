/**
 * The NKS `token` path runs on every kubectl call: it must never load the AWS SDK, smithy or
 * google-auth-library. test/helpers/module-trace.ts records every specifier the process loads (ES
 * imports and require() calls alike); the NKS token run must show none of them, nor must the EKS token
 * run with keys in the environment (it signs with node:crypto); the EKS token run with a profile (the
 * positive control, proving that the tracer sees them) loads the SDK's credential chain.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createModuleTracer, type ModuleTracer } from "../helpers/module-trace.js";

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const HEAVY = /^(@aws-sdk\/|@smithy\/|google-auth-library)/;

let tracer: ModuleTracer;
let root: string;
before(async () => {
  tracer = await createModuleTracer();
  root = await mkdtemp(join(tmpdir(), "kubeiam-lazy-"));
});
after(async () => {
  await tracer.remove();
  await rm(root, { recursive: true, force: true });
});

async function trace(name: string, args: string[], env: Record<string, string>): Promise<{ specifiers: string[]; stdout: string }> {
  const { file, env: traceEnv } = await tracer.newTrace(name);
  const r = await exec(process.execPath, [...tracer.nodeArgs, CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: root, ...traceEnv, ...env },
  });
  return { specifiers: await tracer.read(file), stdout: r.stdout };
}

test("the NKS token command resolves no AWS SDK, smithy or google-auth-library module", async () => {
  const { specifiers, stdout } = await trace("nks", ["token", "--clusterUuid", "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", "--region", "KR"], {
    NCLOUD_ACCESS_KEY_ID: "NCPTESTACCESSKEY0001",
    NCLOUD_SECRET_ACCESS_KEY: "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001",
  });
  assert.match(stdout, /"token":"k8s-ncp-v1\./);
  // The token command is inlined in the bin (scripts/bundle-cli.mjs); the error classes it shares are not.
  assert.ok(specifiers.some((s) => s.endsWith("/errors.js")), `the hook saw the command's own modules: ${specifiers.join(", ")}`);
  assert.deepEqual(specifiers.filter((s) => HEAVY.test(s)), []);
});

test("the NKS token with keys in the environment loads no file reader; with a configure file it does (the positive control)", async () => {
  const args = ["token", "--clusterUuid", "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", "--region", "KR"];
  const env = await trace("nks-env", args, { NCLOUD_ACCESS_KEY_ID: "NCPTESTACCESSKEY0001", NCLOUD_SECRET_ACCESS_KEY: "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001" });
  assert.match(env.stdout, /"token":"k8s-ncp-v1\./);
  assert.deepEqual(env.specifiers.filter((s) => s.endsWith("read-file.js") || s === "node:fs/promises"), []);
  const configure = join(root, "configure");
  await writeFile(configure, "[DEFAULT]\nncloud_access_key_id = NCPTESTACCESSKEY0001\nncloud_secret_access_key = NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001\n", { mode: 0o600 });
  const file = await trace("nks-file", [...args, "--credentialConfig", configure], {});
  assert.match(file.stdout, /"token":"k8s-ncp-v1\./);
  assert.ok(file.specifiers.some((s) => s.endsWith("read-file.js")), file.specifiers.join(", "));
});

test("eks token with keys in the environment signs with node:crypto alone: no smithy, no credential chain, no AWS SDK, no shared files (ini)", async () => {
  for (const session of [{}, { AWS_SESSION_TOKEN: "lazy-session" }] as Record<string, string>[]) {
    const { specifiers, stdout } = await trace("eks-env-keys", ["eks", "token", "--cluster-name", "c", "--region", "us-east-1"], {
      AWS_ACCESS_KEY_ID: "AKIDLAZYTEST00000001",
      AWS_SECRET_ACCESS_KEY: "lazy-test-secret-not-real",
      ...session,
      AWS_CONFIG_FILE: join(root, "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(root, "none"),
      AWS_EC2_METADATA_DISABLED: "true",
    });
    assert.match(stdout, /k8s-aws-v1\./);
    // The signer is bundled into dist/cli/kubeiam-eks.js (scripts/bundle-cli.mjs); the shared tty module is not.
    assert.ok(specifiers.includes("./kubeiam-eks.js") && specifiers.some((s) => s.endsWith("/tty.js")), `the tracer saw the command: ${specifiers.join(", ")}`);
    assert.deepEqual(specifiers.filter((s) => HEAVY.test(s) || /^ini$/.test(s)), []);
    assert.ok(!specifiers.some((s) => s.startsWith("google-auth-library")), "the EKS path does not load the GCP library either");
  }
});

test("positive control: eks token with a profile (keys in the shared credentials file) loads the SDK's credential chain", async () => {
  const credentials = join(root, "credentials");
  await writeFile(credentials, "[lazy]\naws_access_key_id = AKIDLAZYTEST00000002\naws_secret_access_key = lazy-test-secret-not-real\n");
  const { specifiers, stdout } = await trace("eks-profile", ["eks", "token", "--cluster-name", "c", "--region", "us-east-1", "--profile", "lazy"], {
    AWS_CONFIG_FILE: join(root, "none"),
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_EC2_METADATA_DISABLED: "true",
  });
  assert.match(stdout, /k8s-aws-v1\./);
  assert.ok(specifiers.includes("@aws-sdk/credential-providers"), specifiers.filter((s) => !s.startsWith(".")).join(", "));
  assert.ok(specifiers.some((s) => HEAVY.test(s)), "the tracer sees the packages the filter above looks for");
});
