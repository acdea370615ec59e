/**
 * How the CLI reports what goes wrong outside it: an NCP API that cannot be reached is one line
 * naming the cause (retry progress only with --debug), and a URL in any message shows scheme, host,
 * port and path only, never a password or a query; a typo gets the closest flag or command and the
 * real command to run; an empty configure file says how to add a profile.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeNetworkError } from "../../src/lib/http.js";
import { displayUrl, redactUrls } from "../../src/lib/redact-url.js";
import { assertOneLine, runInProcess, type CliRun } from "../helpers/cli.js";
import { closedPort } from "../helpers/closed-port.js";

const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";


const run = (args: string[], env: Record<string, string>, stderrIsTTY = false): Promise<CliRun> =>
  runInProcess(args, { env: { HOME: "/nonexistent-home-for-test", NCLOUD_ACCESS_KEY_ID: AK, NCLOUD_SECRET_ACCESS_KEY: SK, ...env }, stderrIsTTY });

test("an unreachable NCP API: one line naming the cause (connect ECONNREFUSED), no retry notices unless --debug or a terminal", async () => {
  const port = await closedPort();
  const env = { NCLOUD_API_GW: `https://127.0.0.1:${port}` };
  const quiet = await run(["clusters", "--region", "KR"], env);
  assertOneLine(quiet, 5, new RegExp(`cannot reach NCP API at https://127\\.0\\.0\\.1:${port}/vnks/v2/clusters \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\) after 3 tries`), [SK]);
  assert.doesNotMatch(quiet.err, /fetch failed/);

  const debug = await run(["clusters", "--region", "KR", "--debug"], env);
  assert.equal(debug.status, 5);
  assert.equal(debug.err.match(/NCP API try \d failed \(connect ECONNREFUSED/g)?.length, 2, debug.err);
  const tty = await run(["clusters", "--region", "KR"], env, true);
  assert.equal(tty.err.match(/NCP API try \d failed/g)?.length, 2, tty.err);
});

test("a password or query in NCLOUD_API_GW never reaches a message", async () => {
  const port = await closedPort();
  for (const url of [
    `https://user:PASSWORD@127.0.0.1:${port}/`,
    `https://user:PASSWORD@127.0.0.1:${port}/?sig=QUERYSECRET`,
    "ht!tp://user:PASSWORD@@host/?sig=QUERYSECRET",
  ]) {
    const r = await run(["clusters", "--region", "KR"], { NCLOUD_API_GW: url });
    assert.notEqual(r.status, 0);
    assert.equal(r.err.split("\n").length, 2, r.err);
    for (const secret of ["PASSWORD", "QUERYSECRET", "user:", SK]) assert.ok(!r.err.includes(secret), `${secret} shown: ${r.err}`);
  }
  const r = await run(["clusters", "--region", "KR"], { NCLOUD_API_GW: `https://user:PASSWORD@127.0.0.1:${port}/` });
  assert.match(r.err, new RegExp(`at https://127\\.0\\.0\\.1:${port}/vnks/v2/clusters \\(connect ECONNREFUSED`));
});

test("displayUrl shows scheme, host, port and path only; redactUrls does so inside any text", () => {
  const cases: [string, string][] = [
    ["https://user:PASSWORD@nks.example:8443/vnks/v2?sig=abc#frag", "https://nks.example:8443/vnks/v2"],
    ["https://nks.example/", "https://nks.example"],
    ["http://127.0.0.1:9/a/b", "http://127.0.0.1:9/a/b"],
    ["ht!tp://user:PASSWORD@@host/x?q=1", "ht!tp://host/x"],
    ["https://h/\u001b[2J", "https://h/%1B[2J"],
  ];
  for (const [input, shown] of cases) assert.equal(displayUrl(input), shown, input);
  assert.equal(
    redactUrls("Request cannot be constructed from a URL that includes credentials: https://u:PASSWORD@host/x?t=1."),
    "Request cannot be constructed from a URL that includes credentials: https://host/x.",
  );
});

test("describeNetworkError follows undici's causes to the socket's error, and names TLS failures", () => {
  const coded = (message: string, code: string): Error => Object.assign(new Error(message), { code });
  const wrap = (cause: unknown): Error => new TypeError("fetch failed", { cause });
  assert.equal(describeNetworkError(wrap(coded("getaddrinfo ENOTFOUND nks.example", "ENOTFOUND"))), "getaddrinfo ENOTFOUND nks.example");
  assert.equal(describeNetworkError(wrap(new AggregateError([coded("connect ECONNREFUSED ::1:443", "ECONNREFUSED")], "all failed"))), "connect ECONNREFUSED ::1:443");
  assert.equal(describeNetworkError(wrap(coded("certificate has expired", "CERT_HAS_EXPIRED"))), "TLS: certificate has expired (CERT_HAS_EXPIRED)");
  assert.equal(describeNetworkError(wrap(coded("self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT"))), "TLS: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)");
  assert.equal(describeNetworkError(wrap(new Error("bad port"))), "bad port");
});

test("typos: the closest flag or command is suggested, with the real command to run under the name used", async () => {
  const uuid = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
  // A flag whose value is missing, or starts with '-': how to pass it, not parseArgs' "ambiguous".
  assertOneLine(await run(["token", "--clusterUuid", "--region", "KR"], {}), 2, /^kubeiam: token: --clusterUuid is followed by something that starts with '-': give --clusterUuid its value, or write a value that starts with '-' as --clusterUuid=-VALUE: run 'kubeiam token --help'\n$/);
  assertOneLine(await run(["token", "--clusteruuid", uuid, "--region", "KR"], {}), 2, /^kubeiam: token: unknown flag "--clusteruuid": did you mean --clusterUuid\?: run 'kubeiam token --help'\n$/);
  const ncp = await runAs("ncp-iam-authenticator", ["token", "--regoin", "KR"]);
  assertOneLine(ncp, 2, /^ncp-iam-authenticator: token: unknown flag "--regoin": did you mean --region\?: run 'ncp-iam-authenticator token --help'\n$/);
  assertOneLine(await run(["tokn"], {}), 2, /^kubeiam: unknown command "tokn": did you mean 'kubeiam token'\? \(run 'kubeiam --help' for the list\)\n$/);
  assertOneLine(await run(["update-kubeconfig", "--kubeconfg", "x"], {}), 2, /did you mean --kubeconfig\?: run 'kubeiam update-kubeconfig --help'/);
  assertOneLine(await run(["zzzzzz"], {}), 2, /^kubeiam: unknown command "zzzzzz": run 'kubeiam --help' for the list\n$/);
});

test("a flag given last without its value: one line naming the flag and the value it takes", async () => {
  assertOneLine(await run(["token", "--clusterUuid", "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", "--region", "KR", "--credential-config"], {}), 2, /^kubeiam: token: --credential-config needs a value \(--credential-config VALUE\): run 'kubeiam token --help'\n$/);
  // A flag table that names its value shows that name.
  assertOneLine(await run(["broker", "token", "--cluster", "c", "--server"], {}), 2, /^kubeiam: broker token: --server needs a value \(--server URL\): run 'kubeiam broker token --help'\n$/);
});

test("version rejects an unknown flag like every other command", async () => {
  assertOneLine(await run(["version", "--bogus"], {}), 2, /^kubeiam: version: unknown flag "--bogus": run 'kubeiam version --help'\n$/);
});

test("an empty configure file: says there are no profiles and how to add one", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kubeiam-empty-configure-"));
  try {
    const file = join(dir, "configure");
    await writeFile(file, "# nothing yet\n", { mode: 0o600 });
    const r = await runAs("kubeiam", ["token", "--clusterUuid", "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", "--region", "KR", "--credentialConfig", file], { HOME: dir });
    assertOneLine(r, 3, /configure has no profiles: add a \[DEFAULT\] section with ncloud_access_key_id and ncloud_secret_access_key/);
    assert.doesNotMatch(r.err, /one of those/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Like {@link run}, under another program name and with no keys in the environment. */
const runAs = (programName: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runInProcess(args, { programName, env: { HOME: "/nonexistent-home-for-test", ...env } });

test("the official tool's root flags are accepted before the command too: --profile p token …", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kubeiam-root-flags-"));
  try {
    const file = join(dir, "configure");
    await writeFile(file, `[DEFAULT]\nncloud_access_key_id = DEFAULTAKEY000000001\nncloud_secret_access_key = ${SK}\n[prod]\nncloud_access_key_id = PRODAKEY000000000002\nncloud_secret_access_key = ${SK}\n`, { mode: 0o600 });
    const ids = ["--clusterUuid", "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", "--region", "KR", "--token-only"];
    const accessKeyOf = (out: string): unknown =>
      (JSON.parse(Buffer.from(out.trim().slice("k8s-ncp-v1.".length), "base64").toString("utf8")) as { accessKey: unknown }).accessKey;
    for (const prog of ["kubeiam", "ncp-iam-authenticator"]) {
      for (const argv of [
        ["--profile", "prod", "--credentialConfig", file, "token", ...ids],
        ["--profile=prod", "token", "--credentialConfig", file, ...ids],
        ["token", "--profile", "prod", "--credentialConfig", file, ...ids],
      ]) {
        const r = await runAs(prog, argv, { HOME: dir });
        assert.equal(r.status, 0, `${prog} ${argv.join(" ")}: ${r.err}`);
        assert.equal(accessKeyOf(r.out), "PRODAKEY000000000002");
      }
      // After the command, a flag written again wins over the one before it.
      const both = await runAs(prog, ["--profile", "prod", "token", "--profile", "DEFAULT", "--credentialConfig", file, ...ids], { HOME: dir });
      assert.equal(accessKeyOf(both.out), "DEFAULTAKEY000000001");
    }
    assertOneLine(await runAs("kubeiam", ["--bogus", "token"], { HOME: dir }), 2, /unknown command "--bogus"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an unknown region code is still used, with one warning naming the stage; a known one draws none", async () => {
  const ids = ["--clusterUuid", "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", "--token-only"];
  const xx = await run(["token", ...ids, "--region", "XX"], {});
  assert.equal(xx.status, 0, xx.err);
  assert.match(xx.out, /^k8s-ncp-v1\./);
  assert.equal(xx.err.split("\n").length, 2, xx.err);
  assert.match(xx.err, /^kubeiam: warning: region XX is not one kubeiam knows \(KR, KRS, SGN, .*\): using IAM stage xx-v1 and API prefix \/vnks\/xx-v2/);
  for (const region of ["KR", "sgn", "JPN", "FKR", "PCS01", "gcs01"]) {
    const r = await run(["token", ...ids, "--region", region], {});
    assert.equal(r.status, 0, r.err);
    assert.equal(r.err, "", region);
  }
  const port = await closedPort();
  const listed = await run(["clusters", "--region", "XX"], { NCLOUD_API_GW: `https://127.0.0.1:${port}` });
  assert.match(listed.err, /warning: region XX is not one kubeiam knows .* \/vnks\/xx-v2/);
});
