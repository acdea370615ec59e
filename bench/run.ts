/**
 * `npm run bench`: kubeiam's performance figures (DESIGN.md, Performance), each a ratio against a
 * baseline measured side by side in the same run, from medians of alternated runs.
 *
 * Flags: `--quick` (short smoke run), `--json` (one JSON object of all figures on stdout; the
 * report goes to stderr), `--check` (exit 1 when a target is missed), `--only a,b` (case ids).
 * A case that fails to run (a child that exits non-zero, a wrong token) always exits 1.
 *
 * Run: `npm run bench [-- --quick]` (builds dist and .test-build, then runs .test-build/bench/run.js).
 */
import { createHmac } from "node:crypto";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createNcpSigner, ncpStringToSign } from "../src/ncp/sign.js";
import { decodeNcpToken, mintNcpToken, ncpTokenPath, parseNcpTokenTarget } from "../src/ncp/token.js";
import { compareRates, timeCommands, type CommandSpec, type CommandTiming } from "./measure.js";
import { formatSandboxLoad, runSandboxLoad } from "./sandbox-load.js";
import { formatBrokerLoad, runBrokerLoad, startBenchBroker } from "./broker-load.js";
import { startTestPostgres } from "../test/helpers/postgres.js";

/** How long and how often each case measures. */
interface Settings {
  quick: boolean;
  mint: { rounds: number; roundMs: number; warmupMs: number };
  startupRuns: number;
  awsRuns: number;
  warmupRuns: number;
  /** The sandbox load's duration; `undefined` keeps runSandboxLoad's default (10 s). */
  sandboxMs: number | undefined;
  /** The broker load's total duration (both sides, all rounds). */
  brokerMs: number;
  /** The child processes' environment: fake keys only, nothing of the user's cloud config. */
  env: NodeJS.ProcessEnv;
}

const FULL = { mint: { rounds: 21, roundMs: 150, warmupMs: 500 }, startupRuns: 21, awsRuns: 7, warmupRuns: 2, sandboxMs: undefined, brokerMs: 12_000 };
const QUICK = { mint: { rounds: 3, roundMs: 100, warmupMs: 100 }, startupRuns: 5, awsRuns: 3, warmupRuns: 1, sandboxMs: 2_000, brokerMs: 2_400 };

/** A figure held against a target of DESIGN.md or of the issue. */
interface Check {
  name: string;
  value: number;
  target: string;
  pass: boolean;
}

/** What one case reports: lines for people, figures for scripts, checks against targets. */
interface Outcome {
  lines: string[];
  figures: Record<string, unknown>;
  checks: Check[];
  skipped?: string;
}

interface BenchCase {
  id: string;
  title: string;
  run: (s: Settings) => Promise<Outcome>;
}

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

// The keys and cluster of the SGN golden vector (test/fixtures/ncp-token-vectors.json; the token
// format is docs/formats.md §1), here in region KR (the common case); fake keys only.
const NCP = {
  accessKey: "NCPTESTACCESSKEY0001",
  secretKey: "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001",
  clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b",
  region: "KR",
};
const FAKE_AWS = { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

const MINT_TARGET = 0.7;
const STARTUP_TARGET = 1.5;
/** Issue 9: `import("kubeiam")` within 1.5x of `node -e 0` (target), never above 2x (hard ceiling). */
const IMPORT_TARGET = 1.5;
const IMPORT_CEILING = 2;
const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** Issue 12: broker token requests per second at least half the same server's /healthz rate. */
const BROKER_LOAD_TARGET = 0.5;
/** Issue 12: `kubeiam broker token` start-up within 1.3x of `kubeiam token`. */
const BROKER_STARTUP_TARGET = 1.3;
const BROKER_CLIENTS = 64;

// ---------------------------------------------------------------------------------------------
// Formatting

const fmtRate = (v: number): string => `${Math.round(v).toLocaleString("en-US")} ops/s`;
const fmtMs = (v: number): string => `${v.toFixed(1)} ms`;
const fmtRatio = (v: number): string => v.toFixed(2);
const verdict = (pass: boolean): string => (pass ? "PASS" : "FAIL");

function timingLine(t: CommandTiming): string {
  return `${t.name.padEnd(28)} median ${fmtMs(t.medianMs).padStart(9)}  (min ${fmtMs(t.minMs)}, max ${fmtMs(t.maxMs)}, ${t.runs} runs)`;
}

// ---------------------------------------------------------------------------------------------
// Commands

/** Checks that a command printed an ExecCredential whose token has the given prefix. */
function expectExecCredential(prefix: string): (stdout: string) => void {
  return (stdout) => {
    const parsed: unknown = JSON.parse(stdout);
    const status = typeof parsed === "object" && parsed !== null ? (parsed as { kind?: unknown; status?: { token?: unknown } }) : {};
    if (status.kind !== "ExecCredential" || typeof status.status?.token !== "string" || !status.status.token.startsWith(prefix)) {
      throw new Error(`expected an ExecCredential with a ${prefix}… token, got: ${stdout.slice(0, 200)}`);
    }
  };
}

function nodeE0(env: NodeJS.ProcessEnv): CommandSpec {
  return { name: "node -e 0", file: process.execPath, args: ["-e", "0"], env };
}

function kubeiamToken(env: NodeJS.ProcessEnv): CommandSpec {
  return {
    name: "kubeiam token",
    file: process.execPath,
    args: [CLI, "token", "--clusterUuid", NCP.clusterUuid, "--region", NCP.region],
    env,
    check: expectExecCredential("k8s-ncp-v1."),
  };
}

function kubeiamEksToken(env: NodeJS.ProcessEnv): CommandSpec {
  return {
    name: "kubeiam eks token",
    file: process.execPath,
    args: [CLI, "eks", "token", "--cluster-name", "demo", "--region", "us-east-1"],
    env,
    check: expectExecCredential("k8s-aws-v1."),
  };
}

function awsGetToken(file: string, env: NodeJS.ProcessEnv): CommandSpec {
  return {
    name: "aws eks get-token",
    file,
    args: ["eks", "get-token", "--cluster-name", "demo", "--region", "us-east-1"],
    env,
    check: expectExecCredential("k8s-aws-v1."),
  };
}

/** The first executable named `name` on PATH, or undefined. */
function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The children's environment: the user's, less every cloud and kubectl variable, plus fake keys and
 * AWS config files that are empty, so that no child reads real credentials or the metadata service.
 */
function childEnv(dir: string): NodeJS.ProcessEnv {
  const empty = join(dir, "empty");
  writeFileSync(empty, "");
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AWS_|NCLOUD_|GOOGLE_|CLOUDSDK_|KUBERNETES_EXEC_INFO$|KUBECONFIG$)/.test(k)) env[k] = v;
  }
  return {
    ...env,
    NCLOUD_ACCESS_KEY_ID: NCP.accessKey,
    NCLOUD_SECRET_ACCESS_KEY: NCP.secretKey,
    ...FAKE_AWS,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: empty,
    AWS_SHARED_CREDENTIALS_FILE: empty,
  };
}

// ---------------------------------------------------------------------------------------------
// Cases

/** 1. mintNcpToken against a bare HMAC-SHA256 over the same string to sign. */
async function mintCase(s: Settings): Promise<Outcome> {
  const input = { ...NCP, now: 1767225600000 };
  const stringToSign = ncpStringToSign({
    method: "GET",
    uri: ncpTokenPath(NCP.clusterUuid, NCP.region),
    timestamp: String(input.now),
    accessKey: NCP.accessKey,
  });
  const bare = (): string => createHmac("sha256", NCP.secretKey).update(stringToSign).digest("base64");
  // As the CLI, a provider and the broker hold them: the signer and the parsed cluster made once.
  const signer = createNcpSigner(NCP);
  const cluster = parseNcpTokenTarget(NCP);
  const mint = (): string => mintNcpToken({ signer, cluster, now: input.now }).token;
  // Same work signed on both sides: the token must carry exactly the bare signature.
  if (decodeNcpToken(mint()).signature !== bare()) throw new Error("mintNcpToken signed something other than the bare string to sign");
  const r = compareRates(mint, bare, s.mint);
  const pass = r.ratio >= MINT_TARGET;
  return {
    lines: [
      `mintNcpToken (full token)    ${fmtRate(r.subject).padStart(16)}`,
      `bare createHmac().digest()   ${fmtRate(r.baseline).padStart(16)}`,
      `ratio mint/bare              ${fmtRatio(r.ratio).padStart(16)}   target >= ${MINT_TARGET.toFixed(2)}   ${verdict(pass)}`,
      `  medians of ${r.rounds} alternated rounds of ${r.roundMs} ms a side; per-round ratios ${fmtRatio(Math.min(...r.roundRatios))}-${fmtRatio(Math.max(...r.roundRatios))}`,
    ],
    figures: { mintOpsPerSecond: r.subject, bareOpsPerSecond: r.baseline, ratio: r.ratio, roundRatios: r.roundRatios, rounds: r.rounds, roundMs: r.roundMs },
    checks: [{ name: "mint/bare HMAC rate", value: r.ratio, target: `>= ${MINT_TARGET}`, pass }],
  };
}

/** 2. The whole `kubeiam token` process against `node -e 0`. */
async function startupCase(s: Settings): Promise<Outcome> {
  const [bare, token] = timeCommands([nodeE0(s.env), kubeiamToken(s.env)], { runs: s.startupRuns, warmup: s.warmupRuns }) as [CommandTiming, CommandTiming];
  const ratio = token.medianMs / bare.medianMs;
  const pass = ratio <= STARTUP_TARGET;
  return {
    lines: [
      timingLine(bare),
      timingLine(token),
      `ratio token/node            ${fmtRatio(ratio).padStart(10)}   target <= ${STARTUP_TARGET.toFixed(2)}   ${verdict(pass)}   (+${fmtMs(token.medianMs - bare.medianMs)} over bare node)`,
    ],
    figures: { nodeE0: bare, kubeiamToken: token, ratio },
    checks: [{ name: "kubeiam token / node -e 0 wall time", value: ratio, target: `<= ${STARTUP_TARGET}`, pass }],
  };
}

/**
 * 2b. A process that does `import("kubeiam")` by package name (resolved through the exports map to the
 * built dist/index.js, from the package's own folder) against `node -e 0`. It prints the number of
 * exports, checked, so that a failed import cannot pass for a fast one.
 */
async function importCase(s: Settings): Promise<Outcome> {
  const importRoot: CommandSpec = {
    name: 'import("kubeiam")',
    file: process.execPath,
    args: ["--input-type=module", "-e", 'const m = await import("kubeiam"); process.stdout.write(String(Object.keys(m).length));'],
    env: s.env,
    cwd: REPO,
    check: (stdout) => {
      if (!(Number(stdout) > 100)) throw new Error(`import("kubeiam") printed ${JSON.stringify(stdout.slice(0, 200))}, not its export count`);
    },
  };
  const [bare, imp] = timeCommands([{ ...nodeE0(s.env), cwd: REPO }, importRoot], { runs: s.startupRuns, warmup: s.warmupRuns }) as [CommandTiming, CommandTiming];
  const ratio = imp.medianMs / bare.medianMs;
  const pass = ratio <= IMPORT_TARGET;
  const underCeiling = ratio <= IMPORT_CEILING;
  return {
    lines: [
      timingLine(bare),
      timingLine(imp),
      `ratio import/node           ${fmtRatio(ratio).padStart(10)}   target <= ${IMPORT_TARGET.toFixed(2)}   ${verdict(pass)}   ceiling <= ${IMPORT_CEILING.toFixed(2)}   ${verdict(underCeiling)}   (+${fmtMs(imp.medianMs - bare.medianMs)} over bare node)`,
    ],
    figures: { nodeE0: bare, importKubeiam: imp, ratio },
    checks: [
      { name: 'import("kubeiam") / node -e 0 wall time', value: ratio, target: `<= ${IMPORT_TARGET}`, pass },
      { name: 'import("kubeiam") / node -e 0 hard ceiling', value: ratio, target: `<= ${IMPORT_CEILING}`, pass: underCeiling },
    ],
  };
}

/** 3. `kubeiam token` and `kubeiam eks token` against `aws eks get-token`, when aws is on PATH. */
async function awsCase(s: Settings): Promise<Outcome> {
  const aws = findOnPath("aws");
  if (aws === undefined) return { lines: [], figures: { skipped: "aws not on PATH" }, checks: [], skipped: "aws not on PATH" };
  const [awsT, ncpT, eksT] = timeCommands([awsGetToken(aws, s.env), kubeiamToken(s.env), kubeiamEksToken(s.env)], {
    runs: s.awsRuns,
    warmup: s.warmupRuns,
  }) as [CommandTiming, CommandTiming, CommandTiming];
  const ncpRatio = ncpT.medianMs / awsT.medianMs;
  const eksRatio = eksT.medianMs / awsT.medianMs;
  return {
    lines: [
      `aws: ${aws}`,
      timingLine(awsT),
      timingLine(ncpT),
      timingLine(eksT),
      `ratio kubeiam token / aws eks get-token       ${fmtRatio(ncpRatio).padStart(6)}   (${fmtRatio(1 / ncpRatio)}x faster)`,
      `ratio kubeiam eks token / aws eks get-token   ${fmtRatio(eksRatio).padStart(6)}   (${fmtRatio(1 / eksRatio)}x faster)`,
    ],
    figures: { aws, awsEksGetToken: awsT, kubeiamToken: ncpT, kubeiamEksToken: eksT, ncpTokenRatio: ncpRatio, eksTokenRatio: eksRatio },
    checks: [],
  };
}

/** 4. The sandbox cluster endpoint under 50 keep-alive clients with real tokens, against bare HTTPS. */
async function sandboxCase(s: Settings): Promise<Outcome> {
  const r = await runSandboxLoad(s.sandboxMs === undefined ? { baseline: true } : { baseline: true, durationMs: s.sandboxMs });
  const failures = r.failures + (r.baseline?.failures ?? 0);
  const ratio = r.baseline === undefined ? Number.NaN : r.requestsPerSecond / r.baseline.requestsPerSecond;
  return {
    lines: formatSandboxLoad(r).split("\n"),
    figures: { ...r, ratio },
    checks: [{ name: "sandbox load: failed requests", value: failures, target: "0", pass: failures === 0 }],
  };
}

/** 5 and 6. The broker's token route under 64 keep-alive clients against its own /healthz, on each store. */
async function brokerLoadCase(s: Settings, store: "embedded" | "postgres"): Promise<Outcome> {
  let pg: Awaited<ReturnType<typeof startTestPostgres>> | undefined;
  try {
    if (store === "postgres") pg = await startTestPostgres();
    const db = pg === undefined ? undefined : await pg.newDatabase("kubeiam_bench");
    const r = await runBrokerLoad({ clients: BROKER_CLIENTS, durationMs: s.brokerMs, ...(db === undefined ? {} : { db }) });
    const failures = r.token.failures + r.healthz.failures;
    const pass = r.ratio >= BROKER_LOAD_TARGET;
    return {
      lines: [
        ...formatBrokerLoad(r).split("\n"),
        `ratio token/healthz         ${fmtRatio(r.ratio).padStart(10)}   target >= ${BROKER_LOAD_TARGET.toFixed(2)}   ${verdict(pass)}   (token p99 ${fmtMs(r.token.p99Ms)})`,
      ],
      figures: { ...r },
      checks: [
        { name: `broker token/healthz rate, ${store} store`, value: r.ratio, target: `>= ${BROKER_LOAD_TARGET}`, pass },
        { name: `broker load, ${store} store: failed requests`, value: failures, target: "0", pass: failures === 0 },
      ],
    };
  } finally {
    await pg?.stop();
  }
}

/** 7. The whole `kubeiam broker token` process (a real broker on loopback) against `kubeiam token`. */
async function brokerStartupCase(s: Settings): Promise<Outcome> {
  const b = await startBenchBroker();
  try {
    const brokerToken: CommandSpec = {
      name: "kubeiam broker token",
      file: process.execPath,
      args: [CLI, "broker", "token", "--server", b.url, "--cluster", b.cluster],
      env: { ...s.env, KUBEIAM_BROKER_TOKEN: b.token },
      check: expectExecCredential("k8s-ncp-v1."),
    };
    const [token, broker] = timeCommands([kubeiamToken(s.env), brokerToken], { runs: s.startupRuns, warmup: s.warmupRuns }) as [CommandTiming, CommandTiming];
    const ratio = broker.medianMs / token.medianMs;
    const pass = ratio <= BROKER_STARTUP_TARGET;
    return {
      lines: [
        timingLine(token),
        timingLine(broker),
        `ratio broker token/token    ${fmtRatio(ratio).padStart(10)}   target <= ${BROKER_STARTUP_TARGET.toFixed(2)}   ${verdict(pass)}   (+${fmtMs(broker.medianMs - token.medianMs)}, the broker's answer included)`,
      ],
      figures: { kubeiamToken: token, kubeiamBrokerToken: broker, ratio },
      checks: [{ name: "kubeiam broker token / kubeiam token wall time", value: ratio, target: `<= ${BROKER_STARTUP_TARGET}`, pass }],
    };
  } finally {
    await b.stop();
  }
}

const CASES: BenchCase[] = [
  { id: "mint", title: "In-process minting: mintNcpToken vs bare createHmac('sha256') over the same string to sign", run: mintCase },
  { id: "startup", title: "Whole process: kubeiam token vs node -e 0", run: startupCase },
  { id: "import", title: 'Whole process: import("kubeiam") by package name vs node -e 0', run: importCase },
  { id: "aws", title: "Whole process: kubeiam token and kubeiam eks token vs aws eks get-token (same fake keys)", run: awsCase },
  { id: "sandbox", title: "Sandbox under load: cluster endpoint (token verified per request) vs bare HTTPS", run: sandboxCase },
  { id: "broker", title: `Broker under load, embedded store: GET /v1/clusters/{name}/token (NKS) vs /healthz, ${BROKER_CLIENTS} keep-alive clients`, run: (s) => brokerLoadCase(s, "embedded") },
  { id: "broker-pg", title: `Broker under load, PostgreSQL: GET /v1/clusters/{name}/token (NKS) vs /healthz, ${BROKER_CLIENTS} keep-alive clients`, run: (s) => brokerLoadCase(s, "postgres") },
  { id: "broker-startup", title: "Whole process: kubeiam broker token (real broker on loopback) vs kubeiam token", run: brokerStartupCase },
];

// ---------------------------------------------------------------------------------------------
// Driver

function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch} ${release()}`,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    loadavg: loadavg().map((v) => Number(v.toFixed(2))),
  };
}

function header(m: Record<string, unknown>, s: Settings): string[] {
  const mode = s.quick ? "quick (smoke run: short rounds, few runs; figures are rough)" : "full";
  return [
    `kubeiam bench, ${String(m.date)}`,
    `node ${String(m.node)} on ${String(m.platform)}; ${String(m.cpus)} CPUs (${String(m.cpuModel)}); load average ${(m.loadavg as number[]).join(" ")}`,
    `mode: ${mode}`,
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: "boolean" }, json: { type: "boolean" }, check: { type: "boolean" }, only: { type: "string" } },
  });
  const out = values.json === true ? process.stderr : process.stdout;
  const say = (text: string): boolean => out.write(`${text}\n`);
  const only = values.only?.split(",").map((id) => id.trim());
  const unknown = only?.filter((id) => !CASES.some((c) => c.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown case ${unknown.join(", ")}: the cases are ${CASES.map((c) => c.id).join(", ")}`);

  const dir = mkdtempSync(join(tmpdir(), "kubeiam-bench-"));
  const settings: Settings = { ...(values.quick === true ? QUICK : FULL), quick: values.quick === true, env: childEnv(dir) };
  const m = machine();
  const results: Record<string, unknown> = {};
  const checks: Check[] = [];
  const errors: string[] = [];
  header(m, settings).forEach(say);
  try {
    for (const [i, c] of CASES.entries()) {
      if (only !== undefined && !only.includes(c.id)) continue;
      say(`\n${i + 1}. ${c.title}`);
      try {
        const o = await c.run(settings);
        if (o.skipped !== undefined) say(`   skipped (${o.skipped})`);
        o.lines.forEach((l) => say(`   ${l}`));
        results[c.id] = { ...o.figures, checks: o.checks };
        checks.push(...o.checks);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        say(`   ERROR: ${message}`);
        results[c.id] = { error: message };
        errors.push(`${c.id}: ${message}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  say("\nSummary");
  for (const c of checks) say(`   ${verdict(c.pass)}  ${c.name}: ${Number.isInteger(c.value) ? c.value : fmtRatio(c.value)} (target ${c.target})`);
  for (const e of errors) say(`   ERROR ${e}`);
  const missed = checks.filter((c) => !c.pass).length;
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify({ machine: m, mode: settings.quick ? "quick" : "full", cases: results, missedTargets: missed, errors }, null, 2)}\n`);
  }
  if (errors.length > 0) return 1;
  return values.check === true && missed > 0 ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (e) {
  // Bad flags or case ids: one line, no stack.
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
}
