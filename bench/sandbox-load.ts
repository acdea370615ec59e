/**
 * The sandbox under load: N concurrent clients for a fixed time against a cluster endpoint of
 * `kubeiam sandbox` (run as its own process, as a user runs it), each with its own valid token and
 * a keep-alive HTTPS connection, alternating `GET /version` and `GET /api/v1/namespaces`. Counts
 * every failed request and reports requests per second and latency percentiles. Loopback only.
 *
 * Run alone: `node .test-build/bench/sandbox-load.js [clients] [seconds]` (after `npm run build:test`).
 */
import { spawn } from "node:child_process";
import { Agent, request } from "node:https";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { buildNcpRequest } from "../src/ncp/api.js";
import { mintNcpToken } from "../src/ncp/token.js";

/** Options of {@link runSandboxLoad}. */
export interface SandboxLoadOptions {
  /** Concurrent clients; 50 by default. */
  clients?: number;
  /** How long the clients send, in milliseconds; 10 000 by default. */
  durationMs?: number;
  /** The built CLI; `dist/cli/main.js` of this package by default. */
  cli?: string;
}

/** What a load run measured. */
export interface SandboxLoadResult {
  clients: number;
  durationMs: number;
  requests: number;
  failures: number;
  /** The first few failures, for the report. */
  failureSamples: string[];
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface StartLine {
  apiUrl: string;
  accessKey: string;
  secretKey: string;
  clusters: { uuid: string; region: string; status: string; endpoint: string | null }[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Starts `kubeiam sandbox` and resolves with its start line and a stop function. */
function startSandboxProcess(cli: string): Promise<{ line: StartLine; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [cli, "sandbox"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let errTail = "";
  child.stderr.on("data", (c: Buffer) => (errTail = (errTail + c.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`kubeiam sandbox printed no start line within 15 s: ${errTail}`));
    }, 15_000);
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve({ line: JSON.parse(out.slice(0, nl)) as StartLine, stop });
      } catch (e) {
        void stop();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kubeiam sandbox exited (${code}) before its start line: ${errTail}`));
    });
  });
}

function get(url: URL, token: string, ca: string | undefined, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}`, accept: "application/json" }, ...(ca ? { ca } : {}) }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10 s")));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Runs the load and resolves with what it measured; the sandbox process is stopped in all cases.
 *
 * @example
 * ```ts
 * const r = await runSandboxLoad({ clients: 50, durationMs: 10_000 });
 * console.log(`${r.requestsPerSecond.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(1)} ms, ${r.failures} failed`);
 * ```
 */
export async function runSandboxLoad(options: SandboxLoadOptions = {}): Promise<SandboxLoadResult> {
  const clients = options.clients ?? 50;
  const durationMs = options.durationMs ?? 10_000;
  if (!Number.isInteger(clients) || clients < 1 || clients > 1000) throw new RangeError("clients must be 1-1000");
  if (!Number.isFinite(durationMs) || durationMs <= 0 || durationMs > 600_000) throw new RangeError("durationMs must be in (0, 600000]");
  const cli = options.cli ?? fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
  const { line, stop } = await startSandboxProcess(cli);
  try {
    const cluster = line.clusters.find((c) => c.status === "RUNNING" && c.endpoint !== null);
    if (cluster?.endpoint == null) throw new Error("the sandbox has no running cluster");
    // The endpoint's CA is served in the kubeconfig; fetch it as a client would.
    const ca = await fetchCa(line, cluster.uuid, cluster.region);
    const agent = new Agent({ keepAlive: true, maxSockets: clients });
    const paths = [new URL("/version", cluster.endpoint), new URL("/api/v1/namespaces", cluster.endpoint)];
    const latencies: number[] = [];
    const failureSamples: string[] = [];
    let failures = 0;
    const start = performance.now();
    const end = start + durationMs;
    // A hard cap keeps each loop bounded even on a machine far faster than expected.
    const maxPerClient = Math.ceil(durationMs * 20);
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const { token } = mintNcpToken({ accessKey: line.accessKey, secretKey: line.secretKey, clusterUuid: cluster.uuid, region: cluster.region });
        for (let n = 0; n < maxPerClient && performance.now() < end; n++) {
          const t0 = performance.now();
          try {
            const status = await get(paths[(i + n) % 2] as URL, token, ca, agent);
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
      requestsPerSecond: (latencies.length / elapsed) * 1000,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? 0,
    };
  } finally {
    await stop();
  }
}

/** The sandbox CA, from the gateway's kubeconfig call (signed like any NKS client would). */
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
 * One line for the bench report.
 *
 * @example
 * ```ts
 * console.log(formatSandboxLoad(await runSandboxLoad()));
 * ```
 */
export function formatSandboxLoad(r: SandboxLoadResult): string {
  return `sandbox load: ${r.clients} clients for ${(r.durationMs / 1000).toFixed(1)} s: ${r.requests} requests, ${r.requestsPerSecond.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms, ${r.failures} failed${r.failures > 0 ? ` (${r.failureSamples.join("; ")})` : ""}`;
}

// Run alone when executed directly.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const clients = Number(process.argv[2] ?? 50);
  const seconds = Number(process.argv[3] ?? 10);
  const result = await runSandboxLoad({ clients, durationMs: seconds * 1000 });
  process.stdout.write(`${formatSandboxLoad(result)}\n`);
  process.exit(result.failures === 0 ? 0 : 1);
}
