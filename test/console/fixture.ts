/**
 * The world the console's browser tests (and `npm run screenshots`) run in: the sandbox (an NCP API
 * and two running clusters), a broker started in-process on a temp SQLite store that holds the
 * sandbox's key as credential `sandbox`, clusters `bars-kr` and `bars-sgn` over the sandbox's KR and
 * SGN clusters, and user `alice` granted `bars-kr` only. Everything lives in one temp folder; the
 * broker's log is kept to print when a test fails.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { call, captureLines } from "../broker/helpers.js";
import { CLI } from "../broker/serve-helpers.js";

/** The running world. */
export interface ConsoleFixture {
  dir: string;
  /** A folder with `kubeiam` (the built CLI) for PATH, as an installed package provides it. */
  bin: string;
  sandbox: Sandbox;
  broker: RunningBroker;
  base: string;
  admin: string;
  alice: string;
  /** The broker's log lines so far. */
  log: string[];
  close(): Promise<void>;
}

/**
 * Starts the sandbox and the broker and sets them up as the console tests expect.
 *
 * @example
 * ```ts
 * const world = await startConsoleFixture();
 * // … world.base, world.alice …
 * await world.close();
 * ```
 */
export async function startConsoleFixture(): Promise<ConsoleFixture> {
  const dir = mkdtempSync(join(tmpdir(), "kubeiam-console-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(CLI, join(bin, "kubeiam"));
  const log = captureLines();
  let sandbox: Sandbox | undefined;
  let broker: RunningBroker | undefined;
  try {
    sandbox = await startSandbox();
    const kr = sandbox.clusters.find((c) => c.status === "RUNNING" && c.region === "KR");
    const sgn = sandbox.clusters.find((c) => c.status === "RUNNING" && c.region === "SGN");
    assert.ok(kr && sgn, "the sandbox runs a KR and an SGN cluster");
    broker = await startBroker({
      db: `sqlite:${join(dir, "broker.db")}`,
      listen: "127.0.0.1:0",
      masterKey: randomBytes(32).toString("base64"),
      home: dir,
      cwd: dir,
      logStream: log.stream,
      instance: "console-test",
    });
    const admin = broker.adminToken;
    assert.ok(admin !== undefined, "the first start creates an admin");
    const base = broker.url;
    const ok = async (status: number, method: string, path: string, body?: unknown): Promise<any> => {
      const r = await call(base, method, path, { token: admin, ...(body === undefined ? {} : { body }) });
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      return r.json;
    };
    await ok(201, "POST", "/v1/credentials", { name: "sandbox", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } });
    await ok(201, "POST", "/v1/clusters", { name: "bars-kr", credential: "sandbox", region: "KR", ncp: { clusterUuid: kr.uuid } });
    await ok(201, "POST", "/v1/clusters", { name: "bars-sgn", credential: "sandbox", region: "SGN", ncp: { clusterUuid: sgn.uuid } });
    const alice = (await ok(201, "POST", "/v1/users", { name: "alice", role: "user" })).token as string;
    await ok(204, "PUT", "/v1/grants/alice/bars-kr");
    const running = { sandbox, broker };
    return {
      dir,
      bin,
      sandbox,
      broker,
      base,
      admin,
      alice,
      log: log.lines,
      close: async () => {
        await running.broker.close();
        await running.sandbox.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await broker?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
