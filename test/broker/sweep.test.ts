/**
 * Housekeeping off the request path: a running broker's sweeper removes sessions past their end and
 * device sign-ins long expired on its own timer (no request needed), and keeps live ones. Bounded
 * waits only; the broker's clock is moved, not waited for.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type RunningBroker } from "../../src/broker/serve.js";
import { Sweeper } from "../../src/broker/sweeper.js";
import { askUntil, captureLines } from "./helpers.js";

let dir: string;
let broker: RunningBroker;
let clock = Date.now();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kubeiam-sweep-"));
  broker = await startBroker({
    db: `sqlite:${join(dir, "b.db")}`,
    listen: "127.0.0.1:0",
    masterKey: randomBytes(32).toString("base64"),
    home: dir,
    cwd: dir,
    logStream: captureLines().stream,
    now: () => clock,
    sessionMaxMs: 3600_000,
    sweepIntervalMs: 50,
  });
});
after(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a running broker sweeps sessions past their end and sign-ins long expired on its own, and keeps live ones", async () => {
  const db = broker.ctx.store.db;
  const user = await broker.ctx.store.signedInUser("sam@example.com", new Date(clock));
  const ended = await broker.ctx.sessions.create({ userId: user.id, source: "oidc", role: "user", groups: [] });
  const stale = randomUUID();
  const iso = (offset: number) => new Date(clock + offset).toISOString();
  await db
    .insertInto("login_requests")
    .values({ id: stale, device_hash: randomBytes(32).toString("hex"), user_code: "STAL-EONE", status: "pending", created_at: iso(-3 * 3600_000), expires_at: iso(-2 * 3600_000) })
    .execute();
  const fresh = randomUUID();
  await db.insertInto("login_requests").values({ id: fresh, device_hash: randomBytes(32).toString("hex"), user_code: "FRES-HONE", status: "pending", created_at: iso(0), expires_at: iso(600_000) }).execute();
  // An hour on: the first session is past its end; a new one is live.
  clock += 3600_000 + 1;
  const live = await broker.ctx.sessions.create({ userId: user.id, source: "oidc", role: "user", groups: [] });
  const exists = async (table: "sessions" | "login_requests", id: string) => (await db.selectFrom(table).select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
  await askUntil("the ended session and the stale sign-in swept", async () => !(await exists("sessions", ended.id)) && !(await exists("login_requests", stale)), (swept) => swept, 10_000);
  assert.ok(await exists("sessions", live.id), "a live session stays");
  assert.ok(await exists("login_requests", fresh), "a sign-in within its hour stays");
});

test("a sweep pass whose store fails tells onError and goes on with the other table", async () => {
  const errors: unknown[] = [];
  const swept: unknown[] = [];
  const sweeper = new Sweeper(
    { sessions: async () => { throw new Error("store away"); }, loginRequests: async () => 2 },
    { onError: (e) => errors.push(e), onSwept: (r) => swept.push(r) },
  );
  assert.deepEqual(await sweeper.sweepOnce(), { sessions: 0, loginRequests: 2 });
  assert.equal(errors.length, 1);
  assert.deepEqual(swept, [{ sessions: 0, loginRequests: 2 }]);
});
