/**
 * End to end: the built CLI writes kubeconfigs from a signature-checking NKS API stand-in; the real
 * kubectl reads them back, and runs the exec plugin (the built CLI's `token`) against a TLS cluster
 * endpoint that accepts only valid tokens for its own cluster.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";
import { startTlsCluster, VERSION_BODY, type TlsCluster } from "../helpers/tls-cluster.js";
import { requireTools } from "../helpers/tools.js";

// The real tools, or one line saying what to install (test/helpers/tools.ts).
before(() => requireTools("kubectl"));

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const OTHER = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a";

let root: string;
let env: Record<string, string>;
let cluster: TlsCluster;
let standIn: StandIn;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-nks-"));
  cluster = await startTlsCluster({ clusterUuid: UUID, region: "KR", keys: { [AK]: SK } });
  standIn = await startNcpApiStandIn({
    accessKey: AK,
    secretKey: SK,
    region: "KR",
    clusters: [
      { uuid: UUID, name: "demo", status: "RUNNING", endpoint: cluster.server, caData: cluster.caData },
      // Same endpoint, but its tokens name another cluster: the endpoint must refuse them.
      { uuid: OTHER, name: "other", status: "RUNNING", endpoint: cluster.server, caData: cluster.caData },
    ],
  });
  // `ncp-iam-authenticator` on PATH, as an installed package puts it there.
  const bin = join(root, "bin");
  await mkdir(bin);
  const wrapper = join(bin, "ncp-iam-authenticator");
  await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  await chmod(wrapper, 0o755);
  env = {
    PATH: [bin, process.env.PATH ?? ""].join(delimiter),
    HOME: join(root, "home"),
    NCLOUD_ACCESS_KEY_ID: AK,
    NCLOUD_SECRET_ACCESS_KEY: SK,
    NCLOUD_API_GW: standIn.url,
  };
});
after(async () => {
  await standIn.close();
  await cluster.close();
  await rm(root, { recursive: true, force: true });
});

async function cli(args: string[], cwd = root) {
  return exec(process.execPath, [CLI, ...args], { env, cwd });
}
async function kubectl(args: string[]) {
  return exec("kubectl", args, { env, cwd: root, timeout: 60_000 });
}

test("update-kubeconfig (official defaults) → kubectl config get-contexts / view / get --raw /version", async () => {
  const kubeconfig = join(root, "home", ".kube", "config");
  await mkdir(join(root, "home", ".kube"), { recursive: true });
  await writeFile(kubeconfig, "# mine\napiVersion: v1\nkind: Config\nclusters:\n- name: keep\n  cluster:\n    server: https://keep.example\nusers: []\ncontexts:\n- name: keep\n  context:\n    cluster: keep\n    user: keep\ncurrent-context: keep\n");
  const r = await cli(["update-kubeconfig", "--clusterUuid", UUID, "--region", "KR"]);
  assert.equal(r.stdout, "kubeconfig updated successfully.\n");

  const name = `nks_kr_demo_${UUID}`;
  const contexts = await kubectl(["config", "get-contexts", "-o", "name"]);
  assert.deepEqual(contexts.stdout.trim().split("\n").sort(), ["keep", name].sort());
  const current = await kubectl(["config", "current-context"]);
  assert.equal(current.stdout.trim(), name);

  const view = JSON.parse((await kubectl(["config", "view", "-o", "json", "--minify"])).stdout) as {
    clusters: { name: string; cluster: { server: string } }[];
    users: { name: string; user: { exec: { command: string; args: string[]; apiVersion: string } } }[];
  };
  assert.equal(view.clusters[0]?.cluster.server, cluster.server);
  assert.deepEqual(view.users[0]?.user.exec, {
    ...view.users[0]?.user.exec,
    command: "ncp-iam-authenticator",
    args: ["token", "--clusterUuid", UUID, "--region", "KR"],
    apiVersion: "client.authentication.k8s.io/v1beta1",
  });

  const version = await kubectl(["get", "--raw", "/version"]);
  assert.deepEqual(JSON.parse(version.stdout), VERSION_BODY);
  assert.ok(cluster.seen.at(-1)?.accepted);
  assert.match(await readFile(kubeconfig, "utf8"), /^# mine\n/);
});

test("create-kubeconfig (default file name, --exec-command the built CLI, v1) → kubectl get --raw /version", async () => {
  const work = join(root, "work");
  await mkdir(work, { recursive: true });
  const r = await cli(["create-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--exec-command", CLI, "--exec-api-version", "v1"], work);
  assert.equal(r.stdout, "kubeconfig created successfully.\n");
  const file = join(work, `kubeconfig-${UUID}.yaml`);
  const view = JSON.parse((await kubectl(["--kubeconfig", file, "config", "view", "-o", "json"])).stdout) as {
    users: { user: { exec: { command: string; args: string[]; apiVersion: string; interactiveMode: string } } }[];
  };
  assert.equal(view.users[0]?.user.exec.command, "node");
  assert.deepEqual(view.users[0]?.user.exec.args, [CLI, "token", "--clusterUuid", UUID, "--region", "KR"]);
  assert.equal(view.users[0]?.user.exec.interactiveMode, "Never");
  const version = await kubectl(["--kubeconfig", file, "get", "--raw", "/version"]);
  assert.deepEqual(JSON.parse(version.stdout), VERSION_BODY);
});

test("create-kubeconfig --embed-token → kubectl uses the embedded token", async () => {
  const file = join(root, "embedded.yaml");
  const r = await cli(["create-kubeconfig", "--clusterUuid", UUID, "--region", "KR", "--embed-token", "-o", file]);
  assert.match(r.stderr, /the embedded token is good until/);
  const version = await kubectl(["--kubeconfig", file, "get", "--raw", "/version"]);
  assert.equal(JSON.parse(version.stdout).gitVersion, VERSION_BODY.gitVersion);
});

test("a kubeconfig for another cluster gets no access: the endpoint refuses its tokens", async () => {
  const file = join(root, "other.yaml");
  await cli(["create-kubeconfig", "--clusterUuid", OTHER, "--region", "KR", "--exec-command", CLI, "-o", file]);
  await assert.rejects(kubectl(["--kubeconfig", file, "get", "--raw", "/version"]), (e: unknown) => {
    const stderr = (e as { stderr?: string }).stderr ?? "";
    assert.match(stderr, /Unauthorized|must be logged in|401/i);
    return true;
  });
  assert.match(cluster.seen.at(-1)?.reason ?? "", new RegExp(`is for cluster ${OTHER}`));
});

test("bad input through the built CLI: one line on stderr, exit status, no file", async () => {
  const file = join(root, "never.yaml");
  await assert.rejects(cli(["create-kubeconfig", "--clusterUuid", "nope", "--region", "KR", "-o", file]), (e: unknown) => {
    const err = e as { code?: number; stderr?: string };
    assert.equal(err.code, 2);
    assert.equal(err.stderr?.split("\n").length, 2);
    assert.match(err.stderr ?? "", /^kubeiam: cluster UUID "nope" is not a UUID/);
    return true;
  });
  await assert.rejects(readFile(file));
});
