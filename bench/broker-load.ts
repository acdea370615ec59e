/**
 * The broker under load: `kubeiam serve` (its own process, as operators run it) holding the key of a
 * `kubeiam sandbox`, and N keep-alive clients asking `GET /v1/clusters/{name}/token` for an NKS
 * cluster, each answer a real mint with its audit row committed before it is sent; against the same
 * server's `GET /healthz` (one store round trip, no mint, no audit) as the baseline, in alternated
 * rounds of the same run. Every answer is checked (200 and an ExecCredential with a k8s-ncp-v1
 * token); anything else counts as failed. Loopback only.
 *
 * Run alone: `node .test-build/bench/broker-load.js [clients] [seconds] [postgres-url]`.
 */
import { Agent, request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { newMasterKey, restOk, startCliChild, type ReadyChild, type SandboxLine, type ServeLine } from "../test/helpers/serve-process.js";

/** Options of {@link runBrokerLoad}. */
export interface BrokerLoadOptions {
  /** Concurrent keep-alive clients; 64 by default. */
  clients?: number;
  /** Total measuring time, split over the alternated rounds of both sides; 12 000 ms by default. */
  durationMs?: number;
  /** Rounds per side; 6 by default. */
  rounds?: number;
  /** A PostgreSQL URL; the embedded store (SQLite in a temp folder) when absent. */
  db?: string;
}

/** One side's figures. */
export interface BrokerSide {
  requests: number;
  failures: number;
  failureSamples: string[];
  /** Median of the rounds' rates. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What {@link runBrokerLoad} measured. */
export interface BrokerLoadResult {
  store: string;
  clients: number;
  rounds: number;
  token: BrokerSide;
  healthz: BrokerSide;
  /** token req/s over healthz req/s. */
  ratio: number;
  /** Each round's token req/s over the /healthz req/s of the same round. */
  roundRatios: number[];
  /** How many broker tokens the token requests took turns with. */
  callers: number;
  /**
   * The share of the measured token requests whose access the broker answered from what it kept
   * (its /metrics, kubeiam_broker_access_cache_total); undefined where it keeps nothing (SQLite).
   */
  keptShare: number | undefined;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function get(url: URL, token: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}`, accept: "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error("no answer within 15 s")));
    req.on("error", reject);
    req.end();
  });
}

interface Round {
  requests: number;
  failures: number;
  samples: string[];
  latencies: number[];
  elapsedMs: number;
}

/** Broker tokens taken in turn, where the last round left off. */
class Turns {
  #next = 0;
  constructor(readonly tokens: readonly string[]) {}
  take(): string {
    return this.tokens[this.#next++ % this.tokens.length] as string;
  }
}

/** One round: `clients` loops for `ms`, every answer checked by `ok`; requests take `turns`. */
async function round(url: URL, turns: Turns, agent: Agent, clients: number, ms: number, ok: (status: number, body: string) => boolean): Promise<Round> {
  const r: Round = { requests: 0, failures: 0, samples: [], latencies: [], elapsedMs: 0 };
  const start = performance.now();
  const end = start + ms;
  const cap = Math.ceil(ms * 20);
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let n = 0; n < cap && performance.now() < end; n++) {
        const t0 = performance.now();
        try {
          const res = await get(url, turns.take(), agent);
          if (!ok(res.status, res.body)) {
            r.failures++;
            if (r.samples.length < 5) r.samples.push(`HTTP ${res.status} ${res.body.slice(0, 120)}`);
          }
        } catch (e) {
          r.failures++;
          if (r.samples.length < 5) r.samples.push(e instanceof Error ? e.message : String(e));
        }
        r.latencies.push(performance.now() - t0);
        r.requests++;
      }
    }),
  );
  r.elapsedMs = performance.now() - start;
  return r;
}

function side(rounds: Round[]): BrokerSide {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const rates = rounds.map((r) => (r.requests / r.elapsedMs) * 1000).sort((a, b) => a - b);
  const mid = rates.length >> 1;
  const medianRate = rates.length % 2 === 1 ? (rates[mid] ?? 0) : ((rates[mid - 1] ?? 0) + (rates[mid] ?? 0)) / 2;
  return {
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    failureSamples: rounds.flatMap((r) => r.samples).slice(0, 5),
    requestsPerSecond: medianRate,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
  };
}

const isToken = (status: number, body: string): boolean => {
  if (status !== 200) return false;
  const parsed = JSON.parse(body) as { kind?: unknown; status?: { token?: unknown } };
  return parsed.kind === "ExecCredential" && typeof parsed.status?.token === "string" && parsed.status.token.startsWith("k8s-ncp-v1.");
};
const isHealthy = (status: number, body: string): boolean => status === 200 && body.includes('"ok"');

/** A broker holding a sandbox's key, with one NKS cluster and one user granted it. */
export interface BenchBroker {
  url: string;
  /** The user's broker token. */
  token: string;
  /** The broker's cluster name. */
  cluster: string;
  /** The store as the ready line names it. */
  db: string;
  /** The bootstrap admin's token. */
  adminToken: string;
  stop(): Promise<void>;
}

/** How {@link startBenchBroker} starts the broker besides the store. */
export interface BenchBrokerOptions {
  /** More `kubeiam serve` flags (for example `--audit-retention 1h`). */
  serveArgs?: string[];
  /**
   * Runs on the embedded store's file after a first start has migrated it and made the admin, with
   * no broker running; the broker then starts again with `serveArgs`.
   */
  prefill?: (path: string) => Promise<void>;
}

/**
 * Starts `kubeiam sandbox` and `kubeiam serve` (children), registers the sandbox's running cluster as
 * `bench-nks` and a user `bench` granted it. `db` is a PostgreSQL URL, or the embedded store when absent.
 *
 * @example
 * ```ts
 * const b = await startBenchBroker();
 * // … GET b.url/v1/clusters/bench-nks/token with b.token …
 * await b.stop();
 * ```
 */
export async function startBenchBroker(db?: string, options: BenchBrokerOptions = {}): Promise<BenchBroker> {
  const dir = mkdtempSync(join(tmpdir(), "kubeiam-bench-broker-"));
  const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  let sandbox: ReadyChild<SandboxLine> | undefined;
  let broker: ReadyChild<ServeLine> | undefined;
  const stop = async (): Promise<void> => {
    await broker?.stop();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    sandbox = await startCliChild<SandboxLine>(["sandbox"], baseEnv);
    // Request logs stay on (one JSON line each on stderr, read and dropped here), as in production.
    const store = db ?? `sqlite:${join(dir, "broker.db")}`;
    const serveEnv = { ...baseEnv, KUBEIAM_MASTER_KEY: newMasterKey() };
    broker = await startCliChild<ServeLine>(["serve", "--db", store, "--listen", "127.0.0.1:0", ...(options.prefill === undefined ? (options.serveArgs ?? []) : [])], serveEnv);
    const adminToken = broker.line.adminToken;
    if (adminToken === undefined) throw new Error("the broker printed no admin token: its database was not empty");
    if (options.prefill !== undefined) {
      if (!store.startsWith("sqlite:")) throw new Error("prefill is for the embedded store");
      await broker.stop();
      await options.prefill(store.slice("sqlite:".length));
      broker = await startCliChild<ServeLine>(["serve", "--db", store, "--listen", "127.0.0.1:0", ...(options.serveArgs ?? [])], serveEnv);
    }
    const { url } = broker.line;
    const s = sandbox.line;
    const cluster = s.clusters.find((c) => c.status === "RUNNING" && c.endpoint !== null);
    if (cluster === undefined) throw new Error("the sandbox has no running cluster");
    await restOk(url, adminToken, "POST", "/v1/credentials", { name: "bench", provider: "ncp", ncp: { accessKey: s.accessKey, secretKey: s.secretKey, apiUrl: s.apiUrl } }, 201);
    await restOk(url, adminToken, "POST", "/v1/clusters", { name: "bench-nks", credential: "bench", region: cluster.region, ncp: { clusterUuid: cluster.uuid } }, 201);
    const user = await restOk(url, adminToken, "POST", "/v1/users", { name: "bench", role: "user" }, 201);
    await restOk(url, adminToken, "PUT", "/v1/grants/bench/bench-nks", undefined, 204);
    return { url, token: (user.body as { token: string }).token, cluster: "bench-nks", db: broker.line.db, adminToken, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts a sandbox and a broker, registers the sandbox's cluster and one granted user, drives the
 * load in alternated rounds, and stops both children in every case.
 *
 * @example
 * ```ts
 * const r = await runBrokerLoad({ clients: 64, durationMs: 12_000 });
 * console.log(formatBrokerLoad(r));
 * ```
 */
export async function runBrokerLoad(options: BrokerLoadOptions = {}): Promise<BrokerLoadResult> {
  const b = await startBenchBroker(options.db);
  try {
    return await measureBrokerLoad(b, options);
  } finally {
    await b.stop();
  }
}

/**
 * Adds `count` users granted the bench's cluster (16 requests at a time) and returns their broker
 * tokens: token requests that take turns with more callers than the broker answers in a second never
 * find one's access kept (access-cache.ts), so they measure the store's full work per request.
 *
 * @example
 * ```ts
 * const callers = await addBenchCallers(b, 4000);
 * await measureBrokerLoad(b, { clients: 64, tokens: callers });
 * ```
 */
export async function addBenchCallers(b: BenchBroker, count: number): Promise<string[]> {
  const tokens: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const name = `caller-${i}`;
        const user = await restOk(b.url, b.adminToken, "POST", "/v1/users", { name, role: "user" }, 201);
        await restOk(b.url, b.adminToken, "PUT", `/v1/grants/${name}/${b.cluster}`, undefined, 204);
        tokens.push((user.body as { token: string }).token);
      }
    }),
  );
  return tokens;
}

/** The broker's access-cache counters (its /metrics, open from loopback); undefined where it has none. */
async function accessCacheCounts(b: BenchBroker, agent: Agent): Promise<{ hit: number; miss: number } | undefined> {
  const res = await get(new URL("/metrics", b.url), b.adminToken, agent);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  const of = (result: string): number | undefined => {
    const m = new RegExp(`^kubeiam_broker_access_cache_total\\{result="${result}"\\} (\\d+)$`, "m").exec(res.body);
    return m === null ? undefined : Number(m[1]);
  };
  const hit = of("hit");
  const miss = of("miss");
  // A broker that keeps nothing (the embedded store) never counts either.
  if (hit === undefined && miss === undefined) return undefined;
  return { hit: hit ?? 0, miss: miss ?? 0 };
}

/** How long each side runs before the measured rounds, at each client count. */
const WARM_UP_MS = 1_500;

/**
 * Drives the load against a broker already started by {@link startBenchBroker}, in alternated rounds
 * of its token route and its /healthz, after a short warm-up of each; one broker serves several
 * client counts in turn.
 *
 * @example
 * ```ts
 * const b = await startBenchBroker();
 * for (const clients of [1, 16, 64, 256]) console.log(formatBrokerLoad(await measureBrokerLoad(b, { clients, durationMs: 6_000 })));
 * await b.stop();
 * ```
 */
export async function measureBrokerLoad(b: BenchBroker, options: Omit<BrokerLoadOptions, "db"> & { tokens?: readonly string[] } = {}): Promise<BrokerLoadResult> {
  const clients = options.clients ?? 64;
  const tokens = new Turns(options.tokens ?? [b.token]);
  const one = new Turns([b.token]);
  const rounds = options.rounds ?? 6;
  const durationMs = options.durationMs ?? 12_000;
  const perRound = Math.max(200, Math.floor(durationMs / (2 * rounds)));
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  try {
    const tokenUrl = new URL(`/v1/clusters/${b.cluster}/token`, b.url);
    const healthUrl = new URL("/healthz", b.url);
    // Warm-up: connections open, JIT warm, store caches and prepared statements filled. 300 ms was
    // not enough for the token route: its first measured round ran at 0.21-0.36 of /healthz where
    // the later ones ran at 0.35-0.55, in almost every run.
    await round(tokenUrl, tokens, agent, clients, WARM_UP_MS, isToken);
    await round(healthUrl, one, agent, clients, WARM_UP_MS, isHealthy);
    const tokenRounds: Round[] = [];
    const healthRounds: Round[] = [];
    const countsBefore = await accessCacheCounts(b, agent);
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        tokenRounds.push(await round(tokenUrl, tokens, agent, clients, perRound, isToken));
        healthRounds.push(await round(healthUrl, one, agent, clients, perRound, isHealthy));
      } else {
        healthRounds.push(await round(healthUrl, one, agent, clients, perRound, isHealthy));
        tokenRounds.push(await round(tokenUrl, tokens, agent, clients, perRound, isToken));
      }
    }
    const countsAfter = await accessCacheCounts(b, agent);
    const hits = countsBefore === undefined || countsAfter === undefined ? undefined : countsAfter.hit - countsBefore.hit;
    const misses = countsBefore === undefined || countsAfter === undefined ? undefined : countsAfter.miss - countsBefore.miss;
    const t = side(tokenRounds);
    const h = side(healthRounds);
    const rate = (r: Round): number => (r.requests / r.elapsedMs) * 1000;
    return {
      store: b.db.startsWith("sqlite:") ? "embedded (SQLite)" : "PostgreSQL",
      clients,
      rounds,
      token: t,
      healthz: h,
      ratio: t.requestsPerSecond / h.requestsPerSecond,
      roundRatios: tokenRounds.map((r, i) => rate(r) / rate(healthRounds[i] as Round)),
      callers: tokens.tokens.length,
      keptShare: hits === undefined || misses === undefined || hits + misses === 0 ? undefined : hits / (hits + misses),
    };
  } finally {
    agent.destroy();
  }
}

function sideLine(label: string, s: BrokerSide): string {
  return `${label.padEnd(36)} ${s.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  max ${s.maxMs.toFixed(1)} ms  ${s.requests} requests, ${s.failures} failed${s.failures > 0 ? ` (${s.failureSamples.join("; ")})` : ""}`;
}

/**
 * The figures as report lines.
 *
 * @example
 * ```ts
 * console.log(formatBrokerLoad(await runBrokerLoad()));
 * ```
 */
export function formatBrokerLoad(r: BrokerLoadResult): string {
  return [
    `store: ${r.store}; ${r.clients} keep-alive clients; ${r.callers === 1 ? "one caller" : `${r.callers} callers taking turns`}; medians of ${r.rounds} alternated rounds a side; per-round token/healthz ${r.roundRatios.map((x) => x.toFixed(2)).join(" ")}`,
    `access ${r.keptShare === undefined ? "read from the store for every token request (this store keeps none)" : `kept from the last second for ${(r.keptShare * 100).toFixed(1)}% of the token requests, read from the store for the rest`}`,
    sideLine("GET /v1/clusters/{name}/token (NKS)", r.token),
    sideLine("GET /healthz (same server)", r.healthz),
  ].join("\n");
}

const SELF = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && SELF === process.argv[1]) {
  const clients = Number(process.argv[2] ?? 64);
  const seconds = Number(process.argv[3] ?? 12);
  const r = await runBrokerLoad({ clients, durationMs: seconds * 1000, ...(process.argv[4] === undefined ? {} : { db: process.argv[4] }) });
  process.stdout.write(`${formatBrokerLoad(r)}\nratio token/healthz: ${r.ratio.toFixed(2)}\n`);
  process.exit(r.token.failures + r.healthz.failures === 0 ? 0 : 1);
}
