/**
 * The kubeconfig files that the commands write, as users meet them: parallel update-kubeconfig runs
 * into one file, device nodes, FIFOs, links and read-only files as --kubeconfig or -o, create-kubeconfig
 * over a file holding other clusters, and -o - for stdout. Every node is made inside a temp folder.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, lstat, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseKubeconfig } from "../../src/kube/kubeconfig.js";
import { assertOneLine, runInProcess, type CliRun } from "../helpers/cli.js";
import { startNcpApiStandIn, type StandIn } from "../helpers/ncp-api-stand-in.js";

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");
const NAME = `nks_kr_demo_${UUID}`;
const ids = ["--clusterUuid", UUID, "--region", "KR"];
const isRoot = process.getuid?.() === 0;

let root: string;
let standIn: StandIn;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-kubeconfig-files-"));
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

const env = (): Record<string, string> => ({ HOME: join(root, "home"), NCLOUD_ACCESS_KEY_ID: AK, NCLOUD_SECRET_ACCESS_KEY: SK, NCLOUD_API_GW: standIn.url });

const run = (args: string[]): Promise<CliRun> => runInProcess(args, { env: env() });

/**
 * The built CLI as a child process (bounded). With `pipe`, its stdout is a shell pipe (a FIFO), as in
 * `kubeiam … | cat`; node's own child stdio is a socket pair.
 */
function child(args: string[], pipe = false): Promise<CliRun> {
  const argv = pipe ? ["sh", ["-c", '"$0" "$@" | cat', process.execPath, CLI, ...args]] as const : [process.execPath, [CLI, ...args]] as const;
  const c = spawn(argv[0], argv[1], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env() }, cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  c.stdout.setEncoding("utf8").on("data", (d: string) => void (out += d));
  c.stderr.setEncoding("utf8").on("data", (d: string) => void (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not end; stderr: ${err}`));
    }, 60_000);
    c.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status: status ?? -1, out, err });
    });
  });
}

const OTHER = [
  "apiVersion: v1",
  "kind: Config",
  "clusters:",
  "- name: prod",
  "  cluster: {server: 'https://prod.example:6443'}",
  "users:",
  "- name: prod-admin",
  "  user: {token: not-a-real-token}",
  "contexts:",
  "- name: prod",
  "  context: {cluster: prod, user: prod-admin}",
  "current-context: prod",
  "",
].join("\n");

test("update-kubeconfig: 8 runs at once into one file keep all 8 entries (the file's lock)", async () => {
  const file = join(root, "parallel.yaml");
  await writeFile(file, OTHER, { mode: 0o600 });
  const n = 8;
  const runs = await Promise.all(
    Array.from({ length: n }, (_, i) => child(["update-kubeconfig", ...ids, "--kubeconfig", file, "--clusterName", `c${i}`, "--userName", `u${i}`])),
  );
  for (const r of runs) assert.equal(r.status, 0, r.err);
  const kc = parseKubeconfig(await readFile(file, "utf8"));
  assert.equal(kc.contexts.length, n + 1, `contexts: ${kc.contexts.map((c) => c.name).join(", ")}`);
  assert.equal(kc.clusters.length, n + 1);
  assert.equal(kc.users.length, n + 1);
  assert.deepEqual((await readdir(root)).filter((f) => f.startsWith("parallel.yaml")), ["parallel.yaml"], "no lock or temporary file left");
});

test("update-kubeconfig --kubeconfig on a character device node: written in place, never replaced", { skip: isRoot ? false : "mknod needs root" }, async () => {
  const device = join(root, "null");
  execFileSync("mknod", [device, "c", "1", "3"]); // this test's own null device node, in its temp folder
  const r = await run(["update-kubeconfig", ...ids, "--kubeconfig", device]);
  assert.equal(r.status, 0, r.err);
  assert.ok((await stat(device)).isCharacterDevice(), "still a device");
  assert.equal(existsSync(`${device}.lock`), false, "no lock beside a device");
  const c = await run(["create-kubeconfig", ...ids, "-o", device]);
  assert.equal(c.status, 0, c.err);
  assert.ok((await stat(device)).isCharacterDevice());
});

test("update-kubeconfig --kubeconfig on a FIFO: refused in one line, the FIFO left alone", async () => {
  const fifo = join(root, "fifo");
  execFileSync("mkfifo", [fifo]);
  const before = standIn.requests.length;
  assertOneLine(await run(["update-kubeconfig", ...ids, "--kubeconfig", fifo]), 6, /kubeconfig .*fifo is a FIFO, which cannot be read and then written back: pass a regular file, or make it a dry run that prints the result \(nothing was written\) \(set with --dry-run\)\n$/);
  assert.ok((await stat(fifo)).isFIFO());
  assert.equal(standIn.requests.length, before, "refused before any API call");
});

test("create-kubeconfig -o a link to /proc/self/fd/1: the kubeconfig goes down the process's stdout, the link stays", async () => {
  const link = join(root, "stdout-link");
  await symlink("/proc/self/fd/1", link);
  const r = await child(["create-kubeconfig", ...ids, "-o", link], true);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, new RegExp(`current-context: ${NAME}`));
  assert.ok((await lstat(link)).isSymbolicLink(), "the link was not replaced by a file");
});

test("update-kubeconfig through a dangling link creates its target and keeps the link", async () => {
  const target = join(root, "made-through-link.yaml");
  const link = join(root, "dangling-link");
  await symlink(target, link);
  const r = await run(["update-kubeconfig", ...ids, "--kubeconfig", link]);
  assert.equal(r.status, 0, r.err);
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.equal(parseKubeconfig(await readFile(target, "utf8")).currentContext, NAME);
  assert.equal((await stat(target)).mode & 0o777, 0o600);
});

test("a read-only (0444) kubeconfig is refused in one line, unchanged; --force writes it and keeps 0444", async () => {
  const file = join(root, "read-only.yaml");
  await writeFile(file, OTHER);
  await chmod(file, 0o444);
  const before = standIn.requests.length;
  assertOneLine(await run(["update-kubeconfig", ...ids, "--kubeconfig", file]), 6, /read-only \(mode 0444\): make it writable \(chmod u\+w .*\), or force its replacement \(it was left unchanged\) \(set with --force\)\n$/);
  assertOneLine(await run(["create-kubeconfig", ...ids, "-o", file, "--overwrite"]), 6, /read-only \(mode 0444\)/);
  assert.equal(await readFile(file, "utf8"), OTHER);
  assert.equal(standIn.requests.length, before, "refused before any API call");
  const r = await run(["update-kubeconfig", ...ids, "--kubeconfig", file, "--force"]);
  assert.equal(r.status, 0, r.err);
  assert.equal(parseKubeconfig(await readFile(file, "utf8")).contexts.length, 2);
  assert.equal((await stat(file)).mode & 0o777, 0o444);
});

test("create-kubeconfig -o FILE holding other clusters: refused naming them; --overwrite replaces; a file of the same cluster is replaced", async () => {
  const file = join(root, "shared.yaml");
  await writeFile(file, OTHER, { mode: 0o600 });
  const r = await run(["create-kubeconfig", ...ids, "-o", file]);
  assertOneLine(r, 6, /shared\.yaml holds context "prod", cluster "prod", user "prod-admin", which replacing it would lose: add this cluster to it with 'update-kubeconfig --kubeconfig .*shared\.yaml', pass --overwrite/);
  assert.equal(await readFile(file, "utf8"), OTHER);

  const junk = join(root, "notes.txt");
  await writeFile(junk, "my notes, not a kubeconfig: [\n");
  assertOneLine(await run(["create-kubeconfig", ...ids, "-o", junk]), 6, /notes\.txt already exists and is not a kubeconfig that kubeiam can read: pass --overwrite/);
  assert.equal(await readFile(junk, "utf8"), "my notes, not a kubeconfig: [\n");

  const o = await run(["create-kubeconfig", ...ids, "-o", file, "--overwrite"]);
  assert.equal(o.status, 0, o.err);
  assert.deepEqual(parseKubeconfig(await readFile(file, "utf8")).contexts.map((c) => c.name), [NAME]);
  // Now it holds only this cluster: replacing it again needs no flag.
  const again = await run(["create-kubeconfig", ...ids, "-o", file]);
  assert.equal(again.status, 0, again.err);
});

test("create-kubeconfig -o - prints the kubeconfig alone on stdout and writes no file named -", async () => {
  const r = await child(["create-kubeconfig", ...ids, "-o", "-"]);
  assert.equal(r.status, 0, r.err);
  const kc = parseKubeconfig(r.out);
  assert.equal(kc.currentContext, NAME);
  assert.doesNotMatch(r.out, /created successfully/);
  assert.equal(existsSync(join(root, "-")), false);
});
