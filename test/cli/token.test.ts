/**
 * The built CLI's `token` command as kubectl runs it: a child process with an environment built from
 * scratch (nothing NCLOUD_* inherited), checked on its stdout bytes, stderr lines, exit status and
 * the files it leaves alone; also under its installed name `ncp-iam-authenticator`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeNcpToken, verifyNcpToken } from "../../src/ncp/token.js";

const CLI = fileURLToPath(new URL("../../../dist/cli/kubeiam.js", import.meta.url));
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Fake keys made for this run: an access key of letters and digits, a secret of hex. */
function fakeKey(prefix: string): { ak: string; sk: string } {
  return { ak: `${prefix}${randomBytes(8).toString("hex").toUpperCase()}`, sk: randomBytes(20).toString("hex") };
}
const ENV_KEY = fakeKey("NCPENV");
const FILE_KEY = fakeKey("NCPFILE");
const OTHER_KEY = fakeKey("NCPOTHER");
const ALT_KEY = fakeKey("NCPALT");
const ALL_SECRETS = [ENV_KEY, FILE_KEY, OTHER_KEY, ALT_KEY].map((k) => k.sk);
const SECRET_OF: Record<string, string> = Object.fromEntries([ENV_KEY, FILE_KEY, OTHER_KEY, ALT_KEY].map((k) => [k.ak, k.sk]));

const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const UUID2 = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a";
const REGION = "SGN";
const ids = ["--clusterUuid", UUID, "--region", REGION];
const V1 = "client.authentication.k8s.io/v1";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";
const execInfo = (apiVersion: string): string => JSON.stringify({ kind: "ExecCredential", apiVersion, spec: { interactive: false } });

let root: string;
let ncpBin: string;
let homes = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kubeiam-cli-token-"));
  // The installed name: argv[1] is this symlink's path, whose basename is the program name.
  const dir = join(root, "bin");
  await mkdir(dir);
  ncpBin = join(dir, "ncp-iam-authenticator");
  await symlink(CLI, ncpBin);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh, empty HOME. */
async function freshHome(): Promise<string> {
  const home = join(root, `home${++homes}`);
  await mkdir(home);
  return home;
}

function configure(sections: Record<string, { ak: string; sk: string }>): string {
  return Object.entries(sections)
    .map(([name, k]) => `[${name}]\nncloud_access_key_id=${k.ak}\nncloud_secret_access_key=${k.sk}\nncloud_api_url=https://ncloud.apigw.ntruss.com\n`)
    .join("\n");
}

/** Writes $HOME/.ncloud/configure with the given mode (chmod after writing, so the umask does not matter). */
async function writeConfigure(home: string, text: string, mode = 0o600): Promise<string> {
  await mkdir(join(home, ".ncloud"), { mode: 0o700 });
  const path = join(home, ".ncloud", "configure");
  await writeFile(path, text);
  await chmod(path, mode);
  return path;
}

interface Run {
  status: number;
  out: string;
  err: string;
  /** Date.now() just before the spawn and just after it ended: the token's timestamp lies between. */
  t0: number;
  t1: number;
}

/**
 * Runs the built CLI (or the `ncp-iam-authenticator` symlink) with exactly the environment given,
 * plus PATH; HOME must be among it.
 */
function run(args: string[], env: Record<string, string>, program: "kubeiam" | "ncp" = "kubeiam"): Promise<Run> {
  const script = program === "ncp" ? ncpBin : CLI;
  const full: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env };
  return new Promise((resolve) => {
    const t0 = Date.now();
    execFile(process.execPath, [script, ...args], { env: full, cwd: root, encoding: "utf8", timeout: 30_000 }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ status, out: stdout, err: stderr, t0, t1: Date.now() });
    });
  });
}

const envKeys = (k: { ak: string; sk: string }): Record<string, string> => ({ NCLOUD_ACCESS_KEY_ID: k.ak, NCLOUD_SECRET_ACCESS_KEY: k.sk });

interface Credential {
  kind: unknown;
  apiVersion: unknown;
  spec: unknown;
  status: { token: string; expirationTimestamp: string };
}

/** Parses an ExecCredential, checking its shape (keys and types) rather than trusting it. */
function parseCredential(out: string): Credential {
  const parsed: unknown = JSON.parse(out);
  assert.ok(typeof parsed === "object" && parsed !== null);
  const record = parsed as Record<string, unknown>;
  assert.deepEqual(Object.keys(record), ["kind", "apiVersion", "spec", "status"]);
  const status = record.status as Record<string, unknown>;
  assert.deepEqual(Object.keys(status).sort(), ["expirationTimestamp", "token"]);
  assert.equal(typeof status.token, "string");
  assert.equal(typeof status.expirationTimestamp, "string");
  return record as unknown as Credential;
}

/** A successful run: exit 0, nothing on stderr, and the token (verified) with its claim. */
function tokenOf(r: Run, key: { ak: string; sk: string }, clusterUuid = UUID, region = REGION) {
  assert.equal(r.status, 0, r.err);
  assert.equal(r.err, "");
  const cred = parseCredential(r.out);
  const claim = decodeNcpToken(cred.status.token);
  assert.equal(claim.accessKey, key.ak);
  verifyNcpToken(cred.status.token, { secretKeyFor: (ak) => (ak === key.ak ? key.sk : undefined), clusterUuid, region, now: r.t1 });
  return { cred, claim };
}

/** Every path under a directory with its mode, size, mtime and content hash. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      let hash = "";
      if (st.isFile()) hash = createHash("sha256").update(readFileSync(p)).digest("hex");
      out[p] = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${hash}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** A refusal as the user sees it: the status, one line naming problem and fix, nothing else. */
function assertRefusal(r: Run, status: number, prog: string, problem: RegExp, fix: RegExp): void {
  assert.equal(r.status, status, `exit status; stderr: ${r.err}`);
  assert.equal(r.out, "");
  assert.ok(r.err.startsWith(`${prog}: `), r.err);
  assert.ok(r.err.endsWith("\n") && !r.err.endsWith("\n\n"), JSON.stringify(r.err));
  assert.equal(r.err.split("\n").length, 2, `one line expected, got: ${r.err}`);
  assert.doesNotMatch(r.err, /\bat .*:\d+:\d+|^\s+at /m);
  assert.doesNotMatch(r.err, /internal error/);
  for (const secret of ALL_SECRETS) assert.ok(!r.err.includes(secret), "a secret key on stderr");
  assert.match(r.err, problem);
  assert.match(r.err, fix);
}

describe("the ExecCredential", () => {
  test("shape: kind, v1beta1 by default, spec, k8s-ncp-v1 token, expiry 240 s after the token's timestamp, no trailing newline", async () => {
    const home = await freshHome();
    const r = await run(["token", ...ids], { HOME: home, ...envKeys(ENV_KEY) });
    assert.equal(r.status, 0, r.err);
    assert.equal(r.err, "");
    assert.ok(!r.out.endsWith("\n"), "the official tool prints no trailing newline");
    const cred = parseCredential(r.out);
    assert.equal(cred.kind, "ExecCredential");
    assert.equal(cred.apiVersion, V1BETA1);
    assert.deepEqual(cred.spec, { interactive: false });
    assert.ok(cred.status.token.startsWith("k8s-ncp-v1."));
    // RFC 3339 UTC at whole seconds, as metav1.Time writes it.
    assert.match(cred.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const claim = decodeNcpToken(cred.status.token);
    const ts = Number(claim.timestamp);
    assert.ok(ts >= r.t0 && ts <= r.t1, `token timestamp ${ts} not within the run [${r.t0}, ${r.t1}]`);
    // NCP's gateway honours the signature for 5 minutes: kubectl is told 4 (docs/formats.md §1).
    const expected = Math.floor((ts + 240_000) / 1000) * 1000;
    assert.equal(Date.parse(cred.status.expirationTimestamp), expected);
    assert.ok(Date.parse(cred.status.expirationTimestamp) - ts <= 240_000, "announced for at most 240 s");
    assert.equal(claim.path, `/iam/sgn-v1/user?clusterUuid=${UUID}`);
    // The printed bytes are exactly the compact JSON, in client-go's key order.
    assert.equal(
      r.out,
      `{"kind":"ExecCredential","apiVersion":"${V1BETA1}","spec":{"interactive":false},"status":{"expirationTimestamp":"${cred.status.expirationTimestamp}","token":"${cred.status.token}"}}`,
    );
    assert.deepEqual(snapshot(home), {}, "token writes nothing under HOME");
  });

  test("the token verifies against the test secret, cluster and region, and not against others", async () => {
    const r = await run(["token", ...ids], { HOME: await freshHome(), ...envKeys(ENV_KEY) });
    const { cred } = tokenOf(r, ENV_KEY);
    const token = cred.status.token;
    const keys = (ak: string): string | undefined => SECRET_OF[ak];
    const ok = verifyNcpToken(token, { secretKeyFor: keys, clusterUuid: UUID, region: REGION, now: r.t1 });
    assert.equal(ok.accessKey, ENV_KEY.ak);
    assert.equal(ok.clusterUuid, UUID);
    assert.equal(ok.stage, "sgn-v1");
    assert.throws(() => verifyNcpToken(token, { secretKeyFor: () => OTHER_KEY.sk, now: r.t1 }), { code: "ERR_TOKEN_SIGNATURE" });
    assert.throws(() => verifyNcpToken(token, { secretKeyFor: keys, clusterUuid: UUID2, now: r.t1 }), { code: "ERR_TOKEN_CLUSTER" });
    assert.throws(() => verifyNcpToken(token, { secretKeyFor: keys, region: "KR", now: r.t1 }), { code: "ERR_TOKEN_CLUSTER" });
  });

  test("apiVersion: KUBERNETES_EXEC_INFO decides, over --api-version; --api-version alone; v2 refused", async () => {
    const home = await freshHome();
    const base = { HOME: home, ...envKeys(ENV_KEY) };
    const cases: [string[], Record<string, string>, string][] = [
      [[], { KUBERNETES_EXEC_INFO: execInfo(V1) }, V1],
      [[], { KUBERNETES_EXEC_INFO: execInfo(V1BETA1) }, V1BETA1],
      [["--api-version", "v1beta1"], { KUBERNETES_EXEC_INFO: execInfo(V1) }, V1],
      [["--api-version", "v1"], { KUBERNETES_EXEC_INFO: execInfo(V1BETA1) }, V1BETA1],
      [["--api-version", "v1"], {}, V1],
      [["--api-version", V1], {}, V1],
      [["--api-version", "v1beta1"], {}, V1BETA1],
      // Not one we know: fall back to the default rather than fail kubectl.
      [[], { KUBERNETES_EXEC_INFO: "not json" }, V1BETA1],
    ];
    for (const [args, extra, want] of cases) {
      const r = await run(["token", ...ids, ...args], { ...base, ...extra });
      const { cred } = tokenOf(r, ENV_KEY);
      assert.equal(cred.apiVersion, want, `${args.join(" ")} ${JSON.stringify(extra)}`);
    }
    const bad = await run(["token", ...ids, "--api-version", "v2"], base);
    assertRefusal(bad, 2, "kubeiam", /"v2" is not supported/, /use v1 or v1beta1/);
    // The flag is checked even when kubectl's exec info makes it moot: a kubeconfig that works under
    // kubectl must not fail when the same command is run by hand.
    const badUnderKubectl = await run(["token", ...ids, "--api-version", "v2"], { ...base, KUBERNETES_EXEC_INFO: execInfo(V1) });
    assertRefusal(badUnderKubectl, 2, "kubeiam", /"v2" is not supported/, /use v1 or v1beta1/);
  });

  test("--token-only prints the bare token and a newline", async () => {
    const r = await run(["token", ...ids, "--token-only"], { HOME: await freshHome(), ...envKeys(ENV_KEY) });
    assert.equal(r.status, 0, r.err);
    assert.equal(r.err, "");
    assert.match(r.out, /^k8s-ncp-v1\.[A-Za-z0-9+/]+={0,2}\n$/);
    const token = r.out.slice(0, -1);
    const who = verifyNcpToken(token, { secretKeyFor: (ak) => SECRET_OF[ak], clusterUuid: UUID, region: REGION, now: r.t1 });
    assert.equal(who.accessKey, ENV_KEY.ak);
  });

  test("--cluster-uuid is --clusterUuid; both with different values is a usage error", async () => {
    const env = { HOME: await freshHome(), ...envKeys(ENV_KEY) };
    const camel = tokenOf(await run(["token", "--clusterUuid", UUID2, "--region", REGION], env), ENV_KEY, UUID2);
    const kebab = tokenOf(await run(["token", "--cluster-uuid", UUID2, "--region", REGION], env), ENV_KEY, UUID2);
    assert.equal(kebab.claim.path, camel.claim.path);
    assert.equal(kebab.claim.clusterUuid, UUID2);
    tokenOf(await run(["token", "--cluster-uuid", UUID, "--clusterUuid", UUID, "--region", REGION], env), ENV_KEY);
    const both = await run(["token", "--cluster-uuid", UUID, "--clusterUuid", UUID2, "--region", REGION], env);
    assertRefusal(both, 2, "kubeiam", /--clusterUuid and --cluster-uuid are the same flag with different values/, /give it once/);
  });
});

describe("credentials (docs/formats.md §4)", () => {
  test("the environment wins over the configure file", async () => {
    const home = await freshHome();
    await writeConfigure(home, configure({ DEFAULT: FILE_KEY }));
    const before = snapshot(home);
    tokenOf(await run(["token", ...ids], { HOME: home, ...envKeys(ENV_KEY) }), ENV_KEY);
    // The alternative names of docs/formats.md §4.
    tokenOf(await run(["token", ...ids], { HOME: home, NCLOUD_ACCESS_KEY: ALT_KEY.ak, NCLOUD_SECRET_KEY: ALT_KEY.sk }), ALT_KEY);
    // Half a key pair in the environment is not a source: the file is used.
    tokenOf(await run(["token", ...ids], { HOME: home, NCLOUD_ACCESS_KEY_ID: ENV_KEY.ak }), FILE_KEY);
    assert.deepEqual(snapshot(home), before);
  });

  test("$HOME/.ncloud/configure (0600): [DEFAULT], --profile, NCLOUD_PROFILE, --profile over NCLOUD_PROFILE", async () => {
    const home = await freshHome();
    await writeConfigure(home, configure({ DEFAULT: FILE_KEY, other: OTHER_KEY }));
    const before = snapshot(home);
    tokenOf(await run(["token", ...ids], { HOME: home }), FILE_KEY);
    tokenOf(await run(["token", ...ids, "--profile", "other"], { HOME: home }), OTHER_KEY);
    tokenOf(await run(["token", ...ids], { HOME: home, NCLOUD_PROFILE: "other" }), OTHER_KEY);
    tokenOf(await run(["token", ...ids, "--profile", "DEFAULT"], { HOME: home, NCLOUD_PROFILE: "other" }), FILE_KEY);
    assert.deepEqual(snapshot(home), before, "the configure file is read, never written");
  });

  test("--credentialConfig PATH reads that file instead of $HOME/.ncloud/configure", async () => {
    const home = await freshHome();
    await writeConfigure(home, configure({ DEFAULT: FILE_KEY }));
    const elsewhere = join(await freshHome(), "team.ini");
    await writeFile(elsewhere, configure({ DEFAULT: OTHER_KEY, alt: ALT_KEY }));
    await chmod(elsewhere, 0o600);
    tokenOf(await run(["token", ...ids, "--credentialConfig", elsewhere], { HOME: home }), OTHER_KEY);
    tokenOf(await run(["token", ...ids, "--credentialConfig", elsewhere, "--profile", "alt"], { HOME: home }), ALT_KEY);
  });

  test("a configure file others can read still works, with exactly one warning line naming it and chmod 600", async () => {
    for (const mode of [0o644, 0o640]) {
      const home = await freshHome();
      const path = await writeConfigure(home, configure({ DEFAULT: FILE_KEY }), mode);
      const r = await run(["token", ...ids], { HOME: home });
      assert.equal(r.status, 0, r.err);
      const cred = parseCredential(r.out);
      assert.equal(decodeNcpToken(cred.status.token).accessKey, FILE_KEY.ak);
      assert.equal(r.err.split("\n").length, 2, `one line expected, got: ${r.err}`);
      assert.ok(r.err.startsWith("kubeiam: warning: "), r.err);
      assert.ok(r.err.includes(path), r.err);
      assert.ok(r.err.includes(`chmod 600 ${path}`), r.err);
      assert.ok(!r.err.includes(FILE_KEY.sk));
      assert.equal(lstatSync(path).mode & 0o777, mode, "the file's mode is left as it was");
    }
  });
});

describe("bad input: one line, the exit status, nothing written", () => {
  interface Case {
    name: string;
    args: string[];
    /** The credentials in the environment; the env test key when absent. */
    env?: Record<string, string>;
    /** Prepares HOME (before the snapshot). */
    setup?: (home: string) => Promise<void>;
    status: number;
    problem: RegExp;
    fix: RegExp;
  }
  const cases: Case[] = [
    { name: "missing --clusterUuid", args: ["token", "--region", REGION], status: 2, problem: /--clusterUuid is required/, fix: /--clusterUuid 3f1d2c4b-/ },
    { name: "missing --region", args: ["token", "--clusterUuid", UUID], status: 2, problem: /--region is required/, fix: /for example --region KR/ },
    { name: "empty --region", args: ["token", "--clusterUuid", UUID, "--region", ""], status: 2, problem: /--region is required/, fix: /--region KR/ },
    { name: "a query in the cluster UUID", args: ["token", "--clusterUuid", "abc&x=1", "--region", REGION], status: 2, problem: /cluster UUID "abc&x=1" is not a UUID/, fix: /8-4-4-4-12 hexadecimal/ },
    { name: "a UUID with a tail", args: ["token", "--clusterUuid", `${UUID}&x=1`, "--region", REGION], status: 2, problem: /is not a UUID/, fix: /8-4-4-4-12/ },
    { name: "a space in the region", args: ["token", "--clusterUuid", UUID, "--region", "K R"], status: 2, problem: /region "K R" is not a region code/, fix: /letters and digits only/ },
    { name: "a semicolon in the region", args: ["token", "--clusterUuid", UUID, "--region", "KR;x"], status: 2, problem: /region "KR;x" is not a region code/, fix: /letters and digits only/ },
    { name: "an unknown flag", args: ["token", ...ids, "--bogus"], status: 2, problem: /unknown flag "--bogus"/, fix: /--help/ },
    { name: "a stray argument", args: ["token", ...ids, "extra"], status: 2, problem: /unexpected argument "extra"/, fix: /--help/ },
    { name: "an empty --credentialConfig", args: ["token", ...ids, "--credentialConfig", ""], env: {}, status: 2, problem: /--credentialConfig is empty/, fix: /pass the path/ },
    {
      name: "no credentials at all",
      args: ["token", ...ids],
      env: {},
      status: 3,
      problem: /no NCP credentials found/,
      fix: /set NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY, or write them to ~\/\.ncloud\/configure/,
    },
    {
      name: "an unknown profile",
      args: ["token", ...ids, "--profile", "nope"],
      env: {},
      setup: async (home) => void (await writeConfigure(home, configure({ DEFAULT: FILE_KEY, other: OTHER_KEY }))),
      status: 3,
      problem: /profile "nope" is not in .*\.ncloud\/configure \(it has: DEFAULT, other\)/,
      fix: /choose one of those, or add a \[nope\] section \(set with --profile\)/,
    },
    {
      name: "an unknown NCLOUD_PROFILE",
      args: ["token", ...ids],
      env: { NCLOUD_PROFILE: "gone" },
      setup: async (home) => void (await writeConfigure(home, configure({ DEFAULT: FILE_KEY }))),
      status: 3,
      problem: /profile "gone" is not in/,
      fix: /add a \[gone\] section/,
    },
    {
      name: "a profile without a secret",
      args: ["token", ...ids],
      env: {},
      setup: async (home) => void (await writeConfigure(home, `[DEFAULT]\nncloud_access_key_id=${FILE_KEY.ak}\n`)),
      status: 3,
      problem: /profile "DEFAULT" in .* has no ncloud_secret_access_key/,
      fix: /add it to the \[DEFAULT\] section/,
    },
    {
      name: "a malformed configure file (a pasted secret on a line of its own)",
      args: ["token", ...ids],
      env: {},
      setup: async (home) => void (await writeConfigure(home, `[DEFAULT]\nncloud_access_key_id=${FILE_KEY.ak}\n${FILE_KEY.sk}\n`)),
      status: 3,
      problem: /credential file .*\.ncloud\/configure is malformed at line 3/,
      fix: /expected "\[profile\]" or "key = value"/,
    },
    {
      name: "a directory where the configure file should be",
      args: ["token", ...ids],
      env: {},
      setup: async (home) => void (await mkdir(join(home, ".ncloud", "configure"), { recursive: true })),
      status: 3,
      problem: /credential file .*\.ncloud\/configure is a directory/,
      fix: /pass the configure file itself/,
    },
    {
      name: "--credentialConfig naming a missing file",
      args: ["token", ...ids, "--credentialConfig", "/nonexistent/kubeiam-test/configure"],
      env: {},
      status: 3,
      problem: /credential file \/nonexistent\/kubeiam-test\/configure does not exist/,
      fix: /create it, or give the right path \(set with --credentialConfig\)/,
    },
  ];
  // Root reads any file, so an unreadable file can be made only as another user.
  const unreadable: Case = {
    name: "an unreadable configure file (mode 000)",
    args: ["token", ...ids],
    env: {},
    setup: async (home) => void (await writeConfigure(home, configure({ DEFAULT: FILE_KEY }), 0o000)),
    status: 3,
    problem: /cannot read credential file .*\.ncloud\/configure \(EACCES\)/,
    fix: /check its permissions/,
  };

  for (const c of [...cases, unreadable]) {
    const skip = c === unreadable && process.getuid?.() === 0 ? "running as root, which reads any file" : false;
    test(c.name, { skip }, async () => {
      const home = await freshHome();
      await c.setup?.(home);
      const before = snapshot(home);
      const hadNcloud = existsSync(join(home, ".ncloud"));
      const r = await run(c.args, { HOME: home, ...(c.env ?? envKeys(ENV_KEY)) });
      assertRefusal(r, c.status, "kubeiam", c.problem, c.fix);
      assert.deepEqual(snapshot(home), before, "nothing under HOME created or changed");
      assert.equal(existsSync(join(home, ".ncloud")), hadNcloud, "~/.ncloud is never created");
    });
  }
});

describe("help, version, commands", () => {
  test("version and --version print the package's version", async () => {
    const env = { HOME: await freshHome() };
    for (const args of [["version"], ["--version"], ["-v"]]) {
      const r = await run(args, env);
      assert.equal(r.status, 0, r.err);
      assert.equal(r.out, `kubeiam ${PACKAGE_VERSION}\n`);
      assert.equal(r.err, "");
    }
  });

  test("--help, token --help, help token: exit 0 and usage on stdout", async () => {
    const env = { HOME: await freshHome() };
    const top = await run(["--help"], env);
    assert.equal(top.status, 0, top.err);
    assert.equal(top.err, "");
    assert.match(top.out, /^Usage:\n {2}kubeiam <command> \[flags\]$/m);
    assert.match(top.out, /^ {2}token {2,}/m);
    const tokenHelp = await run(["token", "--help"], env);
    assert.equal(tokenHelp.status, 0, tokenHelp.err);
    // Usage names the program, as cobra prints it, under either name.
    assert.match(tokenHelp.out, /^ {2}kubeiam token --clusterUuid UUID --region CODE \[flags\]$/m);
    assert.match((await run(["token", "--help"], env, "ncp")).out, /^ {2}ncp-iam-authenticator token --clusterUuid UUID --region CODE \[flags\]$/m);
    assert.match(tokenHelp.out, /--cluster-uuid/);
    assert.match(tokenHelp.out, /--credentialConfig, --credential-config PATH/);
    assert.equal(tokenHelp.err, "");
    const h = await run(["token", "-h"], env);
    assert.equal(h.out, tokenHelp.out);
    const helpToken = await run(["help", "token"], env);
    assert.equal(helpToken.status, 0);
    assert.equal(helpToken.out, tokenHelp.out);
    // --help wins over missing required flags: no credentials needed, nothing refused.
    const withBad = await run(["token", "--clusterUuid", "abc&x=1", "--help"], env);
    assert.equal(withBad.status, 0);
    assert.equal(withBad.out, tokenHelp.out);
  });

  test("no command: usage and exit 2; an unknown command: one line and exit 2", async () => {
    const env = { HOME: await freshHome() };
    const none = await run([], env);
    assert.equal(none.status, 2);
    const top = await run(["--help"], env);
    assert.equal(none.out, top.out);
    assert.match(none.out, /Usage:/);
    const unknown = await run(["tokne"], env);
    assertRefusal(unknown, 2, "kubeiam", /unknown command "tokne"/, /run 'kubeiam --help' for the list/);
    const helpUnknown = await run(["help", "tokne"], env);
    assertRefusal(helpUnknown, 2, "kubeiam", /unknown command "tokne"/, /--help/);
  });
});

describe("as ncp-iam-authenticator (argv[1] is a symlink by that name)", () => {
  const OFFICIAL = ["create-kubeconfig", "token", "update-kubeconfig", "version"];
  const commandsIn = (help: string): string[] => {
    const section = help.split("Commands:\n")[1]?.split("\n\n")[0] ?? "";
    return section
      .split("\n")
      .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined)
      .sort();
  };

  test("--help lists only the official commands (kubeiam lists its own too)", async () => {
    const env = { HOME: await freshHome() };
    const r = await run(["--help"], env, "ncp");
    assert.equal(r.status, 0, r.err);
    assert.equal(r.err, "");
    assert.match(r.out, /^ncp-iam-authenticator: /);
    assert.match(r.out, /^ {2}ncp-iam-authenticator <command> \[flags\]$/m);
    assert.deepEqual(commandsIn(r.out), OFFICIAL);
    for (const own of ["clusters", "eks", "gke", "sandbox", "inspect"]) assert.doesNotMatch(r.out, new RegExp(`^ {2}${own}\\b`, "m"));
    // Positive control: the same parser finds kubeiam's own commands under its own name.
    const ours = commandsIn((await run(["--help"], env)).out);
    for (const name of [...OFFICIAL, "clusters", "eks", "gke", "sandbox"]) assert.ok(ours.includes(name), `kubeiam --help lacks ${name}: ${ours.join(", ")}`);
  });

  test("kubeiam's own commands are unknown there", async () => {
    const env = { HOME: await freshHome(), ...envKeys(ENV_KEY) };
    for (const name of ["eks", "gke", "clusters", "sandbox", "inspect"]) {
      const r = await run([name, "--help"], env, "ncp");
      assertRefusal(r, 2, "ncp-iam-authenticator", new RegExp(`unknown command "${name}"`), /run 'ncp-iam-authenticator --help' for the list/);
    }
    const helpEks = await run(["help", "eks"], env, "ncp");
    assertRefusal(helpEks, 2, "ncp-iam-authenticator", /unknown command "eks"/, /--help/);
  });

  test("token works with the official camelCase flags; version prints the bare version, as the official tool does", async () => {
    const home = await freshHome();
    await writeConfigure(home, configure({ DEFAULT: FILE_KEY, other: OTHER_KEY }));
    const team = join(home, "team.ini");
    await writeFile(team, configure({ DEFAULT: ALT_KEY }));
    await chmod(team, 0o600);
    tokenOf(await run(["token", "--clusterUuid", UUID, "--region", REGION], { HOME: home }, "ncp"), FILE_KEY);
    tokenOf(await run(["token", "--clusterUuid", UUID, "--region", REGION, "--profile", "other"], { HOME: home }, "ncp"), OTHER_KEY);
    tokenOf(await run(["token", "--clusterUuid", UUID, "--region", REGION, "--credentialConfig", team], { HOME: home }, "ncp"), ALT_KEY);
    tokenOf(await run(["token", "--region", "kr", "--clusterUuid", UUID2], { HOME: home, ...envKeys(ENV_KEY) }, "ncp"), ENV_KEY, UUID2, "KR");
    const v = await run(["version"], { HOME: home }, "ncp");
    assert.equal(v.status, 0, v.err);
    assert.equal(v.out, `${PACKAGE_VERSION}\n`);
    assert.match(PACKAGE_VERSION, /^\d+\.\d+\.\d+/);
    assert.equal((await run(["--version"], { HOME: home }, "ncp")).out, `${PACKAGE_VERSION}\n`);
    assert.equal((await run(["version"], { HOME: home })).out, `kubeiam ${PACKAGE_VERSION}\n`);
    // A missing UUID under the official name points at the console, not at a command it does not have.
    const missing = await run(["create-kubeconfig", "--region", REGION], { HOME: home, ...envKeys(ENV_KEY) }, "ncp");
    assert.match(missing.err, /the NKS console lists them/);
    assert.doesNotMatch(missing.err, /kubeiam/);
  });

  test("error lines start with ncp-iam-authenticator:", async () => {
    const home = await freshHome();
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [["token", "--region", REGION], envKeys(ENV_KEY), 2, /--clusterUuid is required/],
      [["token", "--clusterUuid", "abc&x=1", "--region", REGION], envKeys(ENV_KEY), 2, /is not a UUID/],
      [["token", ...ids, "--bogus"], envKeys(ENV_KEY), 2, /unknown flag "--bogus"/],
      [["token", ...ids], {}, 3, /no NCP credentials found/],
    ];
    for (const [args, env, status, problem] of cases) {
      const r = await run(args, { HOME: home, ...env }, "ncp");
      assertRefusal(r, status, "ncp-iam-authenticator", problem, /./);
    }
    assert.deepEqual(snapshot(home), {});
  });
});
