/**
 * The sandbox under load: N concurrent clients for a fixed time against a cluster endpoint of
 * `kubeiam sandbox` (run as its own process, as a user runs it), each with its own valid token and
 * a keep-alive HTTPS connection, alternating `GET /version` and `GET /api/v1/namespaces`. Counts
 * every failed request and reports requests per second and latency percentiles; optionally the
 * same load against a bare HTTPS server (no authentication, same TLS) measured in the same run, as
 * the baseline of a ratio. Loopback only.
 *
 * Run alone: `node .test-build/bench/sandbox-load.js [clients] [seconds]` (after `npm run build:test`).
 */
import { spawn } from "node:child_process";
import { Agent, createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { buildNcpRequest } from "../src/ncp/api.js";
import { createNcpSigner } from "../src/ncp/sign.js";
import { mintNcpToken, parseNcpTokenTarget } from "../src/ncp/token.js";
import { createLocalCa } from "../src/sandbox/ca.js";

/** Options of {@link runSandboxLoad}. */
export interface SandboxLoadOptions {
  /** Concurrent clients; 50 by default. */
  clients?: number;
  /** How long the clients send, in milliseconds; 10 000 by default. */
  durationMs?: number;
  /**
   * Also measure a bare HTTPS server the same way, as the baseline, in alternated rounds (the two
   * servers run side by side, the one going first swaps every round); false by default.
   */
  baseline?: boolean;
  /** Rounds a side when there is a baseline (`durationMs` is split over them); 6 by default. */
  rounds?: number;
  /** The built CLI; `dist/cli/kubeiam.js` (the bin) of this package by default. */
  cli?: string;
}

/** What one load run measured. */
export interface LoadFigures {
  clients: number;
  durationMs: number;
  requests: number;
  failures: number;
  /** The first few failures, for the report. */
  failureSamples: string[];
  /** Every request's latency in ms, sorted (for combining rounds); absent from a combined figure. */
  latencies?: number[];
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What {@link runSandboxLoad} measured: the sandbox, and the baseline when asked for. */
export interface SandboxLoadResult extends LoadFigures {
  baseline?: LoadFigures;
  /** With a baseline: each round's sandbox req/s over the baseline's in the same round. */
  roundRatios?: number[];
  /** With a baseline: the median of the per-round sandbox req/s over the baseline's. */
  ratio?: number;
}

interface StartLine {
  apiUrl: string;
  accessKey: string;
  secretKey: string;
  clusters: { uuid: string; region: string; status: string; endpoint: string | null }[];
}

const SELF = fileURLToPath(import.meta.url);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Starts a child process that prints one JSON line when ready; resolves with it and a stop function. */
function startChild<T>(args: string[], what: string): Promise<{ line: T; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let errTail = "";
  child.stderr.on("data", (c: Buffer) => (errTail = (errTail + c.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${what} printed no start line within 15 s: ${errTail}`));
    }, 15_000);
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve({ line: JSON.parse(out.slice(0, nl)) as T, stop });
      } catch (e) {
        void stop();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before its start line: ${errTail}`));
    });
  });
}

function get(url: URL, token: string, ca: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, ca, headers: { authorization: `Bearer ${token}`, accept: "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10 s")));
    req.on("error", reject);
    req.end();
  });
}

/** Drives `clients` keep-alive clients for `durationMs` against the URLs, each with its own token. */
async function drive(urls: URL[], tokenFor: () => string, ca: string, clients: number, durationMs: number): Promise<LoadFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  const start = performance.now();
  const end = start + durationMs;
  // A hard cap keeps each loop bounded even on a machine far faster than expected.
  const maxPerClient = Math.ceil(durationMs * 20);
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const token = tokenFor();
      for (let n = 0; n < maxPerClient && performance.now() < end; n++) {
        const t0 = performance.now();
        try {
          const status = await get(urls[(i + n) % urls.length] as URL, token, ca, agent);
          if (status !== 200) {
            failures++;
            if (failureSamples.length < 5) failureSamples.push(`HTTP ${status}`);
          }
        } catch (e) {
          failures++;
          if (failureSamples.length < 5) failureSamples.push(e instanceof Error ? e.message : String(e));
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - start;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    clients,
    durationMs: elapsed,
    requests: latencies.length,
    failures,
    failureSamples,
    latencies,
    requestsPerSecond: (latencies.length / elapsed) * 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
  };
}

/** The sandbox CA, from the gateway's kubeconfig call (signed as any NKS client signs it). */
async function fetchCa(line: StartLine, uuid: string, region: string): Promise<string> {
  const credentials = { accessKey: line.accessKey, secretKey: line.secretKey, apiUrl: line.apiUrl };
  const req = buildNcpRequest({ credentials, region, call: { method: "GET", path: `/clusters/${uuid}/kubeconfig` } });
  const res = await fetch(req.url, { headers: req.headers });
  if (res.status !== 200) throw new Error(`the sandbox's kubeconfig call answered ${res.status}`);
  const body = (await res.json()) as { kubeconfig: string };
  const doc = parseYaml(body.kubeconfig) as { clusters: { cluster: { "certificate-authority-data": string } }[] };
  return Buffer.from(doc.clusters[0]?.cluster["certificate-authority-data"] ?? "", "base64").toString("utf8");
}

/**
 * Runs the load (and the baseline when asked) and resolves with what it measured; every child
 * process is stopped in all cases.
 *
 * @example
 * ```ts
 * const r = await runSandboxLoad({ clients: 50, durationMs: 10_000, baseline: true });
 * console.log(formatSandboxLoad(r));
 * ```
 */
export async function runSandboxLoad(options: SandboxLoadOptions = {}): Promise<SandboxLoadResult> {
  const clients = options.clients ?? 50;
  const durationMs = options.durationMs ?? 10_000;
  if (!Number.isInteger(clients) || clients < 1 || clients > 1000) throw new RangeError("clients must be 1-1000");
  if (!Number.isFinite(durationMs) || durationMs <= 0 || durationMs > 600_000) throw new RangeError("durationMs must be in (0, 600000]");
  const cli = options.cli ?? fileURLToPath(new URL("../../dist/cli/kubeiam.js", import.meta.url));
  const sandbox = await startChild<StartLine>([cli, "sandbox"], "kubeiam sandbox");
  let bare: { line: { endpoint: string; caCertPem: string }; stop: () => Promise<void> } | undefined;
  try {
    const { line } = sandbox;
    const cluster = line.clusters.find((c) => c.status === "RUNNING" && c.endpoint !== null);
    if (cluster?.endpoint == null) throw new Error("the sandbox has no running cluster");
    const ca = await fetchCa(line, cluster.uuid, cluster.region);
    const urls = [new URL("/version", cluster.endpoint), new URL("/api/v1/namespaces", cluster.endpoint)];
    const signer = createNcpSigner(line);
    const target = parseNcpTokenTarget({ clusterUuid: cluster.uuid, region: cluster.region });
    const mint = (): string => mintNcpToken({ signer, cluster: target }).token;
    if (!options.baseline) {
      const alone = await drive(urls, mint, ca, clients, durationMs);
      delete alone.latencies;
      return alone;
    }
    bare = await startChild<{ endpoint: string; caCertPem: string }>([SELF, "--baseline-server"], "the baseline server");
    const bareUrls = [new URL("/version", bare.line.endpoint), new URL("/api/v1/namespaces", bare.line.endpoint)];
    const bareCa = bare.line.caCertPem;
    // Alternated rounds, each side's first swapping every round, after a short warm-up of each: one
    // long run a side measured the machine's mood as much as the servers (32 % to 113 % in two runs).
    const rounds = Math.max(1, Math.floor(options.rounds ?? 6));
    const perRound = Math.max(200, Math.floor(durationMs / rounds));
    await drive(urls, mint, ca, clients, 300);
    await drive(bareUrls, () => "none", bareCa, clients, 300);
    const mine: LoadFigures[] = [];
    const theirs: LoadFigures[] = [];
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        mine.push(await drive(urls, mint, ca, clients, perRound));
        theirs.push(await drive(bareUrls, () => "none", bareCa, clients, perRound));
      } else {
        theirs.push(await drive(bareUrls, () => "none", bareCa, clients, perRound));
        mine.push(await drive(urls, mint, ca, clients, perRound));
      }
    }
    const roundRatios = mine.map((m, i) => m.requestsPerSecond / (theirs[i] as LoadFigures).requestsPerSecond);
    const sorted = [...roundRatios].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const ratio = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    return { ...combine(mine), baseline: combine(theirs), roundRatios, ratio };
  } finally {
    await bare?.stop();
    await sandbox.stop();
  }
}

/** Rounds of one side as one figure: summed requests and time, latencies from every round. */
function combine(rounds: LoadFigures[]): LoadFigures {
  const all = rounds.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const durationMs = rounds.reduce((n, r) => n + r.durationMs, 0);
  return {
    clients: rounds[0]?.clients ?? 0,
    durationMs,
    requests,
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    failureSamples: rounds.flatMap((r) => r.failureSamples).slice(0, 5),
    requestsPerSecond: (requests / durationMs) * 1000,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    maxMs: all.at(-1) ?? 0,
  };
}

/** The baseline: a bare HTTPS server on loopback answering a fixed JSON body, no authentication. */
async function serveBaseline(): Promise<void> {
  const ca = await createLocalCa("kubeiam bench baseline CA", 1);
  const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost"], ips: ["127.0.0.1"] });
  const body = JSON.stringify({ major: "1", minor: "32", gitVersion: "v1.32.8", platform: "linux/amd64" });
  const server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ endpoint: `https://127.0.0.1:${port}`, caCertPem: ca.certPem })}\n`);
  process.once("SIGTERM", () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

function line(label: string, f: LoadFigures): string {
  return `${label}: ${f.clients} clients for ${(f.durationMs / 1000).toFixed(1)} s: ${f.requests} requests, ${f.requestsPerSecond.toFixed(0)} req/s, p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms, max ${f.maxMs.toFixed(1)} ms, ${f.failures} failed${f.failures > 0 ? ` (${f.failureSamples.join("; ")})` : ""}`;
}

/**
 * The figures as report lines: the sandbox, and the baseline with the ratio when measured.
 *
 * @example
 * ```ts
 * console.log(formatSandboxLoad(await runSandboxLoad({ baseline: true })));
 * ```
 */
export function formatSandboxLoad(r: SandboxLoadResult): string {
  const lines = [line("sandbox load (token verified per request)", r)];
  if (r.baseline !== undefined) {
    lines.push(line("baseline (bare HTTPS, no auth)", r.baseline));
    const ratio = r.ratio ?? r.requestsPerSecond / r.baseline.requestsPerSecond;
    const spread = r.roundRatios === undefined ? "" : `; per round ${r.roundRatios.map((x) => `${(x * 100).toFixed(0)}%`).join(" ")} (${r.roundRatios.length} alternated rounds a side)`;
    lines.push(`sandbox / baseline: ${(ratio * 100).toFixed(0)}% of the requests per second (median of the rounds), p99 ${(r.p99Ms / r.baseline.p99Ms).toFixed(2)}x${spread}`);
  }
  return lines.join("\n");
}

// Run alone when executed directly; also the baseline server's entry point.
if (process.argv[1] !== undefined && SELF === process.argv[1]) {
  if (process.argv[2] === "--baseline-server") {
    await serveBaseline();
  } else {
    const clients = Number(process.argv[2] ?? 50);
    const seconds = Number(process.argv[3] ?? 10);
    const result = await runSandboxLoad({ clients, durationMs: seconds * 1000, baseline: true });
    process.stdout.write(`${formatSandboxLoad(result)}\n`);
    const failed = result.failures + (result.baseline?.failures ?? 0);
    process.exit(failed === 0 ? 0 : 1);
  }
}
