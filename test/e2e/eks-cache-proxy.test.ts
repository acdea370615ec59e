/**
 * End to end for what users of aws-iam-authenticator expect around EKS tokens: the credential cache
 * (`--role-arn` and role profiles; one 0600 file per identity; --force-refresh, --no-cache;
 * `kubeiam cache list|clear`), MFA on a terminal (a pty made by `script`, reached through a symlink in
 * the temp folder; never stdout), HTTPS_PROXY / NO_PROXY for every AWS call (a loopback CONNECT proxy
 * counts its tunnels) with AWS_CA_BUNDLE or NODE_EXTRA_CA_CERTS trusting the stand-ins' private CA,
 * and `inspect --verify` on an EKS token against a local STS.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLocalCa } from "../../src/sandbox/ca.js";
import { mintEksToken } from "../../src/aws/token.js";
import { startEksApi, startSts, verifyEksTokenByHand, type LocalServer } from "../aws/stand-ins.js";
import { assertOneLine } from "../helpers/cli.js";

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const AK = "AKIDCACHETEST0000001";
const SECRET = randomBytes(24).toString("hex");
const ROLE_AK = "ASIACACHEROLE0000001";
const ROLE_SECRET = randomBytes(24).toString("hex");
const ROLE_SESSION = `FwoGZXIvYXdzE${randomBytes(30).toString("hex")}`;
const REGION = "eu-west-1";
const ROLE = "arn:aws:iam::123456789012:role/e2e-cache";
const MFA_ROLE = "arn:aws:iam::123456789012:role/e2e-mfa";
const SERIAL = "arn:aws:iam::123456789012:mfa/alice";

let root: string;
let home: string;
let caFile: string;
let env: Record<string, string>;
let sts: LocalServer & { assumed: Record<string, string>[] };
let eksApi: LocalServer;
let proxy: Server;
let proxyUrl: string;
const tunnels: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-e2e-eks-cache-"));
  home = join(root, "home");
  await mkdir(home);
  const ca = await createLocalCa("kubeiam proxy test CA");
  const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost"], ips: ["127.0.0.1"] });
  caFile = join(root, "ca.pem");
  await writeFile(caFile, ca.certPem);
  const keys = { [AK]: SECRET, [ROLE_AK]: ROLE_SECRET };
  sts = await startSts({
    keys,
    tls: { cert: certPem, key: keyPem },
    issue: { accessKeyId: ROLE_AK, secretAccessKey: ROLE_SECRET, sessionToken: ROLE_SESSION, expiration: new Date(Date.now() + 3600_000).toISOString() },
    signedHost: `sts.${REGION}.amazonaws.com`,
    callers: {
      [AK]: { arn: "arn:aws:iam::123456789012:user/alice", account: "123456789012", userId: "AIDACACHETEST0000001" },
      [ROLE_AK]: { arn: "arn:aws:sts::123456789012:assumed-role/e2e-cache/EKSGetTokenAuth", account: "123456789012", userId: "AROACACHE:EKSGetTokenAuth" },
    },
  });
  eksApi = await startEksApi({
    keys,
    tls: { cert: certPem, key: keyPem },
    clusters: [{ name: "e2e-eks", arn: "arn:aws:eks:eu-west-1:123456789012:cluster/e2e-eks", status: "ACTIVE", endpoint: "https://127.0.0.1:1", certificateAuthority: { data: Buffer.from(ca.certPem).toString("base64") } }],
  });
  // A CONNECT proxy that counts the tunnels it opens (host:port each), and nothing else.
  proxy = createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on("connect", (req, socket, head) => {
    tunnels.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host ?? "", () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const aws = join(root, "aws");
  await mkdir(aws);
  await writeFile(
    join(aws, "config"),
    `[profile base]\nregion = ${REGION}\n\n[profile mfa]\nrole_arn = ${MFA_ROLE}\nsource_profile = base\nmfa_serial = ${SERIAL}\nregion = ${REGION}\n\n` +
      // Keys and an MFA device, no role of its own: the role comes from --role-arn.
      `[profile keys-mfa]\nmfa_serial = ${SERIAL}\nregion = ${REGION}\n`,
  );
  await writeFile(join(aws, "credentials"), `[base]\naws_access_key_id = ${AK}\naws_secret_access_key = ${SECRET}\n\n[keys-mfa]\naws_access_key_id = ${AK}\naws_secret_access_key = ${SECRET}\n`);
  env = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    AWS_CONFIG_FILE: join(aws, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(aws, "credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: AK,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_CA_BUNDLE: caFile,
    // A file that is not a terminal: any prompt must fail in one line rather than wait.
    KUBEIAM_TTY: join(root, "not-a-terminal"),
  };
  await writeFile(env.KUBEIAM_TTY!, "");
});
after(async () => {
  proxy.close();
  await sts.close();
  await eksApi.close();
  await rm(root, { recursive: true, force: true });
});

function kubeiam(args: string[], extra: Record<string, string | undefined> = {}): Promise<{ status: number; out: string; err: string }> {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...env, ...extra })) if (v !== undefined) merged[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: merged, cwd: root, encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : -1, out: stdout, err: stderr });
    });
  });
}

const cacheDir = (): string => join(home, ".kube", "cache", "kubeiam", "aws");
const cacheFiles = (): string[] => {
  try {
    return readdirSync(cacheDir()).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
};
const tokenOf = (out: string): string => (JSON.parse(out) as { status: { token: string } }).status.token;
const ROLE_ARGS = ["eks", "token", "--cluster-name", "e2e-eks", "--region", REGION, "--role-arn", ROLE];

test("eks token --role-arn: the assumed credentials are cached (0600, one file), reused, refreshed on --force-refresh, bypassed with --no-cache", async () => {
  await rm(cacheDir(), { recursive: true, force: true });
  const before = sts.assumed.length;
  const first = await kubeiam(ROLE_ARGS);
  assert.equal(first.status, 0, first.err);
  assert.equal(sts.assumed.length, before + 1);
  const files = cacheFiles();
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^aws-[0-9a-f]{64}\.json$/);
  assert.equal(statSync(join(cacheDir(), files[0]!)).mode & 0o777, 0o600);
  assert.equal(statSync(cacheDir()).mode & 0o777, 0o700);
  const record = JSON.parse(await readFile(join(cacheDir(), files[0]!), "utf8")) as Record<string, unknown>;
  assert.deepEqual(record.identity, { roleArn: ROLE, sessionName: "EKSGetTokenAuth" });
  assert.ok(!JSON.stringify(record).includes(SECRET), "the long-lived key is never cached");

  const second = await kubeiam(ROLE_ARGS);
  assert.equal(second.status, 0, second.err);
  assert.equal(sts.assumed.length, before + 1, "the second call is served from the cache: no STS call");
  const v = verifyEksTokenByHand(tokenOf(second.out), { secretFor: (k) => (k === ROLE_AK ? ROLE_SECRET : undefined), clusterName: "e2e-eks", now: Date.now() });
  assert.equal(v.sessionToken, ROLE_SESSION);

  assert.equal((await kubeiam([...ROLE_ARGS, "--force-refresh"])).status, 0);
  assert.equal(sts.assumed.length, before + 2, "--force-refresh calls STS again");
  assert.equal((await kubeiam([...ROLE_ARGS, "--no-cache"])).status, 0);
  assert.equal(sts.assumed.length, before + 3, "--no-cache calls STS");
  assert.equal(cacheFiles().length, 1);

  // Another session name is another identity: its own file.
  assert.equal((await kubeiam([...ROLE_ARGS, "--session-name", "other-session"])).status, 0);
  assert.equal(cacheFiles().length, 2);

  // Long-lived keys alone: nothing is written.
  await rm(cacheDir(), { recursive: true, force: true });
  const plain = await kubeiam(["eks", "token", "--cluster-name", "e2e-eks", "--region", REGION]);
  assert.equal(plain.status, 0, plain.err);
  assert.deepEqual(cacheFiles(), []);

  assertOneLine(await kubeiam([...ROLE_ARGS, "--no-cache", "--force-refresh"]), 2, /--no-cache and --force-refresh exclude each other/);
});

test("kubeiam cache list and clear: identity and expiry, never a secret; --cloud picks one cache", async () => {
  await rm(cacheDir(), { recursive: true, force: true });
  assert.equal((await kubeiam(ROLE_ARGS)).status, 0);
  const list = await kubeiam(["cache", "list"]);
  assert.equal(list.status, 0, list.err);
  assert.match(list.out, /^CLOUD +IDENTITY +EXPIRES +STATE$/m);
  assert.match(list.out, new RegExp(`^aws +roleArn=${ROLE.replace(/[/.]/g, "\\$&")} sessionName=EKSGetTokenAuth +\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z +valid \\(\\d+ min left\\)$`, "m"));
  const json = await kubeiam(["cache", "list", "-o", "json", "--cloud", "aws"]);
  const entries = JSON.parse(json.out) as { cloud: string; state: string }[];
  assert.deepEqual(entries.map((e) => [e.cloud, e.state]), [["aws", "valid"]]);
  for (const out of [list.out, json.out, list.err]) {
    for (const secret of [SECRET, ROLE_SECRET, ROLE_SESSION]) assert.ok(!out.includes(secret), "no secret is listed");
  }
  const gcp = await kubeiam(["cache", "clear", "--cloud", "gcp"]);
  assert.equal(gcp.out, "Removed 0 cached credential(s) (gcp: 0)\n");
  assert.equal(cacheFiles().length, 1);
  const cleared = await kubeiam(["cache", "clear", "--cloud", "aws"]);
  assert.equal(cleared.out, "Removed 1 cached credential(s) (aws: 1)\n");
  assert.deepEqual(cacheFiles(), []);
  assert.equal((await kubeiam(["cache", "list"])).out, "No cached credentials.\n");
  assertOneLine(await kubeiam(["cache", "clear", "--cloud", "azure"]), 2, /--cloud takes aws or gcp/);
});

test("MFA: a profile with mfa_serial asks on the terminal (not stdout), once per cached session; without a terminal, one line", async () => {
  await rm(cacheDir(), { recursive: true, force: true });
  const before = sts.assumed.length;
  // `script` gives the child a pty of its own; the child reaches it through a symlink in our temp folder.
  const link = join(root, "pty");
  const outFile = join(root, "mfa-out.json");
  const cmd = `ln -sf "$(tty)" '${link}' && KUBEIAM_TTY='${link}' '${process.execPath}' '${CLI}' eks token --cluster-name e2e-eks --profile mfa > '${outFile}'`;
  const merged = { ...env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" };
  // Not spawnSync: the STS stand-in lives in this process and must keep answering.
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn("script", ["-qec", cmd, "/dev/null"], { env: merged, cwd: root, timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.on("error", () => undefined); // a child that exits without reading its input (EPIPE)
    child.stdin.end("123456\n");
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /MFA code for arn:aws:iam::123456789012:mfa\/alice: /, "the prompt goes to the terminal");
  const out = await readFile(outFile, "utf8");
  assert.doesNotMatch(out, /MFA/, "stdout holds the ExecCredential only");
  assert.equal(JSON.parse(out).kind, "ExecCredential");
  assert.equal(sts.assumed.length, before + 1);
  assert.equal(sts.assumed.at(-1)?.SerialNumber, SERIAL);
  assert.equal(sts.assumed.at(-1)?.TokenCode, "123456");
  assert.equal(sts.assumed.at(-1)?.RoleArn, MFA_ROLE);

  // The session is cached: the next call, with no terminal at all, needs no code.
  const again = await kubeiam(["eks", "token", "--cluster-name", "e2e-eks", "--profile", "mfa"], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
  assert.equal(again.status, 0, again.err);
  assert.equal(sts.assumed.length, before + 1);

  // Without a cached session and without a terminal: one line, exit 3, nothing on stdout.
  const refused = await kubeiam(["eks", "token", "--cluster-name", "e2e-eks", "--profile", "mfa", "--force-refresh"], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
  assertOneLine(refused, 3, /AWS profile "mfa" needs an MFA code for arn:aws:iam::123456789012:mfa\/alice, and there is no terminal to ask on \(not a terminal\)/);
});

/**
 * Runs `kubeiam ARGS > outFile` on a pty of its own (`script`), reached through a symlink in our temp
 * folder (KUBEIAM_TTY), typing `typed` on it. Not spawnSync: the stand-ins live in this process.
 */
async function kubeiamOnPty(args: string[], typed: string): Promise<{ status: number | null; terminal: string; out: string }> {
  const link = join(root, "pty");
  const outFile = join(root, "pty-out.json");
  await rm(outFile, { force: true });
  const quoted = args.map((a) => `'${a}'`).join(" ");
  const cmd = `ln -sf "$(tty)" '${link}' && KUBEIAM_TTY='${link}' '${process.execPath}' '${CLI}' ${quoted} > '${outFile}'`;
  const merged = { ...env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" };
  const r = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
    const child = spawn("script", ["-qec", cmd, "/dev/null"], { env: merged, cwd: root, timeout: 60_000 });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.on("close", (status) => resolve({ status, stdout }));
    child.stdin.on("error", () => undefined); // a child that exits without reading its input (EPIPE)
    child.stdin.end(typed);
  });
  return { status: r.status, terminal: r.stdout, out: await readFile(outFile, "utf8").catch(() => "") };
}

test("MFA with --role-arn: a role profile with mfa_serial asks once (for its own role), then --role-arn is assumed with that role; cached as one session", async () => {
  await rm(cacheDir(), { recursive: true, force: true });
  const before = sts.assumed.length;
  const args = ["eks", "token", "--cluster-name", "e2e-eks", "--profile", "mfa", "--role-arn", ROLE];
  const r = await kubeiamOnPty(args, "654321\n");
  assert.equal(r.status, 0, r.terminal);
  assert.equal((r.terminal.match(/MFA code for arn:aws:iam::123456789012:mfa\/alice: /g) ?? []).length, 1, r.terminal);
  assert.equal(JSON.parse(r.out).kind, "ExecCredential");
  // The profile's role with the code, then the chained role without one.
  const calls = sts.assumed.slice(before);
  assert.deepEqual(calls.map((c) => [c.RoleArn, c.SerialNumber, c.TokenCode]), [[MFA_ROLE, SERIAL, "654321"], [ROLE, undefined, undefined]]);
  const again = await kubeiam(args, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
  assert.equal(again.status, 0, again.err);
  assert.equal(sts.assumed.length, before + 2, "the cached session needs no code and no STS call");
  assert.equal(cacheFiles().length, 1);
});

test("MFA with --role-arn: a profile with keys and mfa_serial (no role of its own) asks once and assumes --role-arn with the code; cached; no terminal is one line", async () => {
  await rm(cacheDir(), { recursive: true, force: true });
  const before = sts.assumed.length;
  const args = ["eks", "token", "--cluster-name", "e2e-eks", "--profile", "keys-mfa", "--role-arn", ROLE];
  const r = await kubeiamOnPty(args, "112233\n");
  assert.equal(r.status, 0, r.terminal);
  assert.equal((r.terminal.match(/MFA code for arn:aws:iam::123456789012:mfa\/alice: /g) ?? []).length, 1, r.terminal);
  assert.doesNotMatch(r.out, /MFA/, "stdout holds the ExecCredential only");
  assert.equal(JSON.parse(r.out).kind, "ExecCredential");
  const calls = sts.assumed.slice(before);
  assert.deepEqual(calls.map((c) => [c.RoleArn, c.SerialNumber, c.TokenCode]), [[ROLE, SERIAL, "112233"]]);
  const again = await kubeiam(args, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
  assert.equal(again.status, 0, again.err);
  assert.equal(sts.assumed.length, before + 1, "the cached session needs no code and no STS call");
  const refused = await kubeiam([...args, "--force-refresh"], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
  assertOneLine(refused, 3, /AWS profile "keys-mfa" needs an MFA code for arn:aws:iam::123456789012:mfa\/alice, and there is no terminal to ask on \(not a terminal\)/);
  assert.equal(sts.assumed.length, before + 1);
  // Without --role-arn the device is not used (as the AWS CLI): the profile's keys sign, no prompt.
  const plain = await kubeiam(["eks", "token", "--cluster-name", "e2e-eks", "--profile", "keys-mfa"], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
  assert.equal(plain.status, 0, plain.err);
  assert.equal(sts.assumed.length, before + 1);
});

test("HTTPS_PROXY reaches the AWS SDK (STS, EKS) and inspect --verify through CONNECT tunnels; NO_PROXY goes around; AWS_CA_BUNDLE or NODE_EXTRA_CA_CERTS trust the private CA", async () => {
  const stsPort = new URL(sts.url).port;
  const eksPort = new URL(eksApi.url).port;
  const viaProxy = { HTTPS_PROXY: proxyUrl };
  tunnels.length = 0;
  const token = await kubeiam([...ROLE_ARGS, "--no-cache"], viaProxy);
  assert.equal(token.status, 0, token.err);
  assert.deepEqual(tunnels, [`127.0.0.1:${stsPort}`], "AssumeRole went through one tunnel");

  const kubeconfig = join(root, "proxy.kubeconfig");
  const update = await kubeiam(["eks", "update-kubeconfig", "--name", "e2e-eks", "--region", REGION, "--endpoint-url", eksApi.url, "--kubeconfig", kubeconfig, "--dry-run"], viaProxy);
  assert.equal(update.status, 0, update.err);
  assert.match(update.out, /e2e-eks/);
  assert.deepEqual(tunnels, [`127.0.0.1:${stsPort}`, `127.0.0.1:${eksPort}`], "DescribeCluster went through a tunnel");

  const verify = await kubeiam(["inspect", "--verify", "--cluster-name", "e2e-eks", tokenOf(token.out)], viaProxy);
  assert.equal(verify.status, 0, verify.err);
  assert.equal(tunnels.length, 3, "the presigned GetCallerIdentity went through a tunnel");

  const around = await kubeiam([...ROLE_ARGS, "--no-cache"], { ...viaProxy, NO_PROXY: "localhost,127.0.0.1" });
  assert.equal(around.status, 0, around.err);
  assert.equal(tunnels.length, 3, "NO_PROXY: no tunnel");

  const untrusted = await kubeiam([...ROLE_ARGS, "--no-cache"], { AWS_CA_BUNDLE: undefined });
  assertOneLine(untrusted, 5, /cannot assume role .*(certificate|self-signed|UNABLE_TO|issuer)/i, [SECRET]);
  const extra = await kubeiam([...ROLE_ARGS, "--no-cache"], { AWS_CA_BUNDLE: undefined, NODE_EXTRA_CA_CERTS: caFile, ...viaProxy });
  assert.equal(extra.status, 0, extra.err);
  assertOneLine(await kubeiam([...ROLE_ARGS, "--no-cache"], { AWS_CA_BUNDLE: join(root, "missing.pem") }), 3, /AWS_CA_BUNDLE names .*missing\.pem, which cannot be read \(ENOENT\)/);
});

test("inspect --verify on an EKS token: STS (local) says who signed it; the wrong cluster or an old token is refused in one line", async () => {
  const minted = await mintEksToken({ credentials: { accessKeyId: AK, secretAccessKey: SECRET }, clusterName: "e2e-eks", region: REGION });
  const ok = await kubeiam(["inspect", "--verify", "--cluster-name", "e2e-eks", minted.token]);
  assert.equal(ok.status, 0, ok.err);
  assert.match(ok.out, /^signature: +verified by AWS STS \(GetCallerIdentity\)$/m);
  assert.match(ok.out, /^ARN: +arn:aws:iam::123456789012:user\/alice$/m);
  assert.match(ok.out, /^account: +123456789012$/m);
  const json = JSON.parse((await kubeiam(["inspect", "--verify", "--cluster-name", "e2e-eks", "-o", "json", minted.token])).out) as Record<string, unknown>;
  assert.equal(json.signature, "verified");
  assert.equal(json.arn, "arn:aws:iam::123456789012:user/alice");
  assert.equal(json.account, "123456789012");

  assertOneLine(await kubeiam(["inspect", "--verify", "--cluster-name", "other-eks", minted.token]), 4, /STS refused the token \(403 SignatureDoesNotMatch/, [SECRET]);
  const calls = sts.requests.length;
  const old = await mintEksToken({ credentials: { accessKeyId: AK, secretAccessKey: SECRET }, clusterName: "e2e-eks", region: REGION, now: Date.now() - 20 * 60_000 });
  assertOneLine(await kubeiam(["inspect", "--verify", "--cluster-name", "e2e-eks", old.token]), 4, /expired 15 minutes later: mint a new one/);
  assert.equal(sts.requests.length, calls, "an expired token is refused before any call");
});
