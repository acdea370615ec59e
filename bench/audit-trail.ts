/**
 * The audit trail's costs, as ratios measured in the same run:
 * - verification: walking N chained rows (`BrokerStore.verifyAudit`, hashes recomputed) against reading
 *   the same rows in the same pages without hashing, on the embedded store; and the time per million;
 * - retention: the broker's token route while a retention pass removes many old rows (batches of
 *   500, off the request path) against the same broker once the pass is over.
 *
 * Run alone: `node .test-build/bench/audit-trail.js [rows] [old-rows]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { appendAudit } from "../src/broker/store/audit-store.js";
import { openStore, parseStoreLocation } from "../src/broker/store/open.js";
import { migrateStore } from "../src/broker/store/migrations.js";
import type { BrokerDatabase } from "../src/broker/store/schema.js";
import { BrokerStore, type AuditRecord } from "../src/broker/store/store.js";
import { hashBrokerToken, newBrokerToken } from "../src/broker/tokens.js";
import { startBenchBroker } from "./broker-load.js";

/** What {@link runAuditVerifyBench} measured. */
export interface AuditVerifyResult {
  rows: number;
  /** Seconds to walk and check the chain. */
  verifySeconds: number;
  /** Seconds to read the same rows in the same pages, unchecked. */
  readSeconds: number;
  /** verifySeconds / readSeconds. */
  ratio: number;
  /** verifySeconds scaled to a million rows. */
  secondsPerMillion: number;
}

/** `n` rows as a busy broker writes them. */
function rowsAt(start: number, n: number, time: (i: number) => string): AuditRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = start + k;
    return { time: time(i), actor: `user${i % 97}`, action: "token.issue", cluster: `cluster-${i % 13}`, outcome: "issued", remote: `10.0.${(i >> 8) & 255}.${i & 255}`, instance: "bench" };
  });
}

/** Appends `n` chained rows to a migrated SQLite file, in batches of 2,000 (SQLite allows 32,766 bound values a statement), on a connection of its own. */
export async function fillAudit(path: string, n: number, time: (i: number) => string): Promise<void> {
  const sqlite = new Database(path, { timeout: 10_000 });
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  const db = new Kysely<BrokerDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    for (let i = 0; i < n; i += 2000) await appendAudit(db, "sqlite", rowsAt(i, Math.min(2000, n - i), time));
  } finally {
    await db.destroy();
  }
}

/**
 * Fills a fresh embedded store with `rows` chained audit rows, then walks the chain, alternated with
 * unchecked reads of the same pages (three rounds each, medians).
 *
 * @example
 * ```ts
 * const r = await runAuditVerifyBench(1_000_000);
 * ```
 */
export async function runAuditVerifyBench(rows: number): Promise<AuditVerifyResult> {
  const dir = mkdtempSync(join(tmpdir(), "kubeiam-bench-audit-"));
  try {
    const location = parseStoreLocation(`sqlite:${join(dir, "b.db")}`, { home: dir, cwd: dir });
    const s = await openStore(location);
    try {
      await migrateStore(s.db, { dialect: s.dialect, keyCheck: "bench", bootstrapTokenHash: hashBrokerToken(newBrokerToken()), now: new Date() });
      await fillAudit(location.dialect === "sqlite" ? location.path : "", rows, (i) => new Date(Date.UTC(2026, 0, 1) + i).toISOString());
      const store = new BrokerStore(s.db, s.dialect, { snapshot: s.snapshot });
      const read = async (): Promise<number> => {
        let n = 0;
        await s.snapshot(async (db) => {
          for (let after = 0; ; ) {
            const page = await db.selectFrom("audit").selectAll().where("id", ">", after).orderBy("id").limit(5000).execute();
            if (page.length === 0) return;
            n += page.length;
            after = Number(page[page.length - 1]?.id);
            await new Promise((r) => setImmediate(r));
          }
        });
        return n;
      };
      const verifyTimes: number[] = [];
      const readTimes: number[] = [];
      for (let round = 0; round < 3; round++) {
        let t = performance.now();
        const v = await store.verifyAudit();
        verifyTimes.push((performance.now() - t) / 1000);
        if (!v.ok || v.entries !== rows) throw new Error(`the bench's own trail did not verify: ${JSON.stringify(v)}`);
        t = performance.now();
        if ((await read()) !== rows) throw new Error("the unchecked read saw another number of rows");
        readTimes.push((performance.now() - t) / 1000);
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
      const verifySeconds = median(verifyTimes);
      const readSeconds = median(readTimes);
      return { rows, verifySeconds, readSeconds, ratio: verifySeconds / readSeconds, secondsPerMillion: (verifySeconds * 1_000_000) / rows };
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One side of the retention bench. */
export interface TokenRounds {
  rounds: number;
  requests: number;
  failures: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** What {@link runRetentionBench} measured. */
export interface RetentionBenchResult {
  oldRows: number;
  clients: number;
  duringPruning: TokenRounds;
  afterPruning: TokenRounds;
  /** p50 while pruning / p50 after. */
  p50Ratio: number;
  /** token rate while pruning / rate after. */
  rateRatio: number;
}

function get(url: URL, token: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error("no answer within 15 s")));
    req.on("error", reject);
    req.end();
  });
}

async function tokenRound(url: URL, token: string, agent: Agent, clients: number, ms: number): Promise<{ latencies: number[]; failures: number; elapsedMs: number }> {
  const latencies: number[] = [];
  let failures = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() - start < ms) {
        const t0 = performance.now();
        const r = await get(url, token, agent).catch(() => ({ status: 0, body: "" }));
        if (r.status !== 200) failures++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, failures, elapsedMs: performance.now() - start };
}

function summarise(rounds: { latencies: number[]; failures: number; elapsedMs: number }[]): TokenRounds {
  const all = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const at = (p: number): number => all[Math.min(all.length - 1, Math.max(0, Math.ceil((p / 100) * all.length) - 1))] ?? 0;
  const requests = all.length;
  const seconds = rounds.reduce((s, r) => s + r.elapsedMs, 0) / 1000;
  return { rounds: rounds.length, requests, failures: rounds.reduce((n, r) => n + r.failures, 0), requestsPerSecond: requests / seconds, p50Ms: at(50), p99Ms: at(99) };
}

/**
 * A broker on the embedded store with `oldRows` audit rows from long ago and `--audit-retention 1h`:
 * token rounds while its retention pass removes them, then as many rounds once the pass is over.
 *
 * @example
 * ```ts
 * const r = await runRetentionBench({ oldRows: 200_000 });
 * ```
 */
export async function runRetentionBench(options: { oldRows?: number; clients?: number; roundMs?: number } = {}): Promise<RetentionBenchResult> {
  const oldRows = options.oldRows ?? 200_000;
  const clients = options.clients ?? 16;
  const roundMs = options.roundMs ?? 1_000;
  const b = await startBenchBroker(undefined, {
    serveArgs: ["--audit-retention", "1h"],
    prefill: (path) => fillAudit(path, oldRows, (i) => new Date(Date.UTC(2000, 0, 1) + i).toISOString()),
  });
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  try {
    const tokenUrl = new URL(`/v1/clusters/${b.cluster}/token`, b.url);
    const oldest = async (): Promise<string> => {
      const r = await get(new URL("/v1/audit?after=0&limit=1", b.url), b.adminToken, agent);
      return (JSON.parse(r.body) as { entries: { time: string }[] }).entries[0]?.time ?? "";
    };
    const pruning = async (): Promise<boolean> => (await oldest()) < "2001-01-01";
    if (!(await pruning())) throw new Error("the old rows were gone before the first round: give more of them");
    const during: Awaited<ReturnType<typeof tokenRound>>[] = [];
    while (await pruning()) {
      during.push(await tokenRound(tokenUrl, b.token, agent, clients, roundMs));
      if (during.length > 120) throw new Error("the retention pass did not finish within two minutes");
    }
    // The last round may have straddled the pass's end: counted only when there are others.
    if (during.length > 1) during.pop();
    const afterRounds: Awaited<ReturnType<typeof tokenRound>>[] = [];
    for (let i = 0; i < Math.max(3, during.length); i++) afterRounds.push(await tokenRound(tokenUrl, b.token, agent, clients, roundMs));
    const d = summarise(during);
    const a = summarise(afterRounds);
    return { oldRows, clients, duringPruning: d, afterPruning: a, p50Ratio: d.p50Ms / a.p50Ms, rateRatio: d.requestsPerSecond / a.requestsPerSecond };
  } finally {
    agent.destroy();
    await b.stop();
  }
}

/** Report lines for both. */
export function formatAuditBench(v: AuditVerifyResult | undefined, r: RetentionBenchResult | undefined): string {
  const lines: string[] = [];
  if (v !== undefined) {
    lines.push(
      `verify ${v.rows} chained rows (embedded store)   ${v.verifySeconds.toFixed(2)} s   (${v.secondsPerMillion.toFixed(2)} s per million)`,
      `read the same rows, unchecked         ${v.readSeconds.toFixed(2)} s`,
      `ratio verify/read                     ${v.ratio.toFixed(2)}`,
    );
  }
  if (r !== undefined) {
    const side = (label: string, s: TokenRounds): string =>
      `${label.padEnd(38)}${s.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  ${s.rounds} rounds, ${s.requests} requests, ${s.failures} failed`;
    lines.push(
      `retention: ${r.oldRows} old rows removed in batches of 500 while ${r.clients} clients ask for tokens`,
      side("token route while pruning", r.duringPruning),
      side("token route after pruning", r.afterPruning),
      `ratio p50 pruning/after ${r.p50Ratio.toFixed(2)}; rate pruning/after ${r.rateRatio.toFixed(2)}`,
    );
  }
  return lines.join("\n");
}

const SELF = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && SELF === process.argv[1]) {
  const v = await runAuditVerifyBench(Number(process.argv[2] ?? 1_000_000));
  const r = await runRetentionBench({ oldRows: Number(process.argv[3] ?? 200_000) });
  process.stdout.write(`${formatAuditBench(v, r)}\n`);
}
