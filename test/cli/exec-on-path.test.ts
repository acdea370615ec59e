/**
 * Exec users and the plugin's whereabouts: every exec user kubeiam writes carries an installHint, a
 * write whose command is not on PATH warns in one line (and still writes), and the real kubectl shows
 * the hint when it cannot find the plugin.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutable } from "../../src/cli/exec-on-path.js";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";
import { createLocalCa } from "../../src/sandbox/ca.js";
import { runInProcess, type CliRun } from "../helpers/cli.js";

const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";

let standIn: StandIn;
let root: string;
let emptyBin: string;
let pluginBin: string;

before(async () => {
  // A real CA, so that kubectl gets as far as running the plugin.
  const CA = Buffer.from((await createLocalCa("kubeiam exec-on-path test CA")).certPem).toString("base64");
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    clusters: [{ uuid: UUID, name: "demo", status: "RUNNING", endpoint: "https://127.0.0.1:1", caData: CA }],
  });
  root = await mkdtemp(join(tmpdir(), "kubeiam-exec-on-path-"));
  emptyBin = join(root, "empty-bin");
  pluginBin = join(root, "plugin-bin");
  await mkdir(emptyBin);
  await mkdir(pluginBin);
  await writeFile(join(pluginBin, "ncp-iam-authenticator"), "#!/bin/sh\nexit 1\n");
  await chmod(join(pluginBin, "ncp-iam-authenticator"), 0o755);
});
after(async () => {
  await standIn.close();
  await rm(root, { recursive: true, force: true });
});

const run = (args: string[], path: string): Promise<CliRun> =>
  runInProcess(args, { env: { HOME: join(root, "home"), PATH: path, NCLOUD_ACCESS_KEY_ID: AK, NCLOUD_SECRET_ACCESS_KEY: SK, NCLOUD_API_GW: standIn.url } });

test("findExecutable looks in PATH's folders for an executable file only", () => {
  assert.equal(findExecutable("ncp-iam-authenticator", { PATH: `${emptyBin}:${pluginBin}` }), join(pluginBin, "ncp-iam-authenticator"));
  assert.equal(findExecutable("ncp-iam-authenticator", { PATH: emptyBin }), undefined);
  assert.equal(findExecutable(join(pluginBin, "ncp-iam-authenticator"), {}), join(pluginBin, "ncp-iam-authenticator"));
  assert.equal(findExecutable(join(pluginBin, "missing"), {}), undefined);
});

test("update-kubeconfig warns in one line when the plugin is not on PATH, writes anyway, with an installHint", async () => {
  const file = join(root, "warned.yaml");
  const r = await run(["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", file], emptyBin);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, "kubeconfig updated successfully.\n");
  const warnings = r.err.split("\n").filter((l) => l.includes("warning"));
  assert.deepEqual(warnings, [
    `kubeiam: warning: the exec command "ncp-iam-authenticator" is not on PATH, so kubectl cannot run it yet: install kubeiam with 'npm install -g kubeiam', or pass --exec-command with a full path (the kubeconfig was written anyway)`,
  ]);
  const exec = parseKubeconfig(await readFile(file, "utf8")).users[0]?.user.exec;
  assert.match(exec?.installHint ?? "", /npm install -g kubeiam/);

  const quiet = await run(["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", join(root, "quiet.yaml")], `${emptyBin}:${pluginBin}`);
  assert.equal(quiet.status, 0, quiet.err);
  assert.doesNotMatch(quiet.err, /warning/);
  // A dry run writes nothing, so it does not warn.
  const dry = await run(["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--kubeconfig", join(root, "dry.yaml"), "--dry-run"], emptyBin);
  assert.doesNotMatch(dry.err, /warning/);
  assert.match(dry.out, /installHint: /);
});

test("kubectl shows the installHint when it cannot find the plugin", async (t) => {
  const kubectl = findExecutable("kubectl", process.env);
  if (kubectl === undefined) return t.skip("kubectl is not on PATH");
  const file = join(root, "warned.yaml");
  const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(kubectl, ["--kubeconfig", file, "--cache-dir", join(root, "kube-cache"), "--request-timeout", "5s", "get", "namespaces"], { env: { PATH: emptyBin, HOME: root } }, (e, _o, stderr) =>
      resolve({ code: e === null ? 0 : Number(e.code), stderr }),
    );
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ncp-iam-authenticator mints this cluster's credentials\. It comes with kubeiam: install it with 'npm install -g kubeiam'/);
});

