/**
 * The audit hash chain's encoding (a vector written out by hand from the rule in audit-chain.ts) and
 * its walk: an intact trail, an edited row, a removed row, a rewritten predecessor, a cut by retention.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { auditRowHash, GENESIS_HASH, verifyAuditChain, type ChainedRow } from "../../src/broker/audit-chain.js";

const ZERO = `0:${"0".repeat(64)}`;

test("version 1 encoding: the JSON array written out by hand, SHA-256, hex, with its version in front", () => {
  assert.equal(GENESIS_HASH, ZERO);
  const text = `["kubeiam-audit",1,"${ZERO}",7,"2026-12-07T03:00:00.000Z","alice","token.issue","prod-kr","issued","127.0.0.1","a1",null,"ncp-main"]`;
  const expected = `1:${createHash("sha256").update(text).digest("hex")}`;
  const got = auditRowHash(ZERO, { id: 7, time: "2026-12-07T03:00:00.000Z", actor: "alice", action: "token.issue", cluster: "prod-kr", outcome: "issued", remote: "127.0.0.1", instance: "a1", credential: "ncp-main" });
  assert.equal(got, expected);
  // Absent and null are the same; a non-ASCII name is hashed as UTF-8.
  const text2 = `["kubeiam-audit",1,"${expected}",8,"t","José","auth",null,"denied",null,"a1","bad_token",null]`;
  assert.equal(
    auditRowHash(expected, { id: 8, time: "t", actor: "José", action: "auth", cluster: null, outcome: "denied", instance: "a1", reason: "bad_token" }),
    `1:${createHash("sha256").update(Buffer.from(text2, "utf8")).digest("hex")}`,
  );
});

function trail(n: number, anchor = GENESIS_HASH, firstId = 1): ChainedRow[] {
  const rows: ChainedRow[] = [];
  let prev = anchor;
  for (let i = 0; i < n; i++) {
    const content = { id: firstId + i * 2, time: new Date(i * 1000).toISOString(), actor: `u${i % 3}`, action: "token.issue", cluster: "c", outcome: "issued", remote: "127.0.0.1", instance: "x", reason: null };
    const hash = auditRowHash(prev, content);
    rows.push({ ...content, prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}

async function* pages(rows: ChainedRow[], size = 3): AsyncGenerator<ChainedRow[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

test("an intact trail verifies across pages, with gaps in the ids (rolled-back inserts)", async () => {
  assert.deepEqual(await verifyAuditChain(pages(trail(10)), GENESIS_HASH), { ok: true, entries: 10 });
  assert.deepEqual(await verifyAuditChain(pages([]), GENESIS_HASH), { ok: true, entries: 0 });
});

test("an edited row is named, and so is a row whose predecessor was removed or rewritten", async () => {
  const edited = trail(10);
  edited[4] = { ...(edited[4] as ChainedRow), outcome: "denied" };
  const r1 = await verifyAuditChain(pages(edited), GENESIS_HASH);
  assert.equal(r1.ok, false);
  assert.equal(!r1.ok && r1.firstBad, 9);
  assert.match(!r1.ok ? r1.reason : "", /entry 9 does not match its hash: it was changed/);

  const removed = trail(10).filter((r) => r.id !== 9);
  const r2 = await verifyAuditChain(pages(removed), GENESIS_HASH);
  assert.equal(!r2.ok && r2.firstBad, 11);
  assert.match(!r2.ok ? r2.reason : "", /entry 11 does not follow entry 7: an entry between them was removed/);

  // The edit covered by a recomputed hash shows at the next row.
  const rewritten = trail(10);
  const row = { ...(rewritten[4] as ChainedRow), outcome: "denied" };
  row.hash = auditRowHash(row.prevHash ?? "", row);
  rewritten[4] = row;
  const r3 = await verifyAuditChain(pages(rewritten), GENESIS_HASH);
  assert.equal(!r3.ok && r3.firstBad, 11);

  const noHash = trail(3);
  noHash[1] = { ...(noHash[1] as ChainedRow), hash: null };
  const r4 = await verifyAuditChain(pages(noHash), GENESIS_HASH);
  assert.equal(!r4.ok && r4.firstBad, 3);
  assert.match(!r4.ok ? r4.reason : "", /carries no chain hash/);
});

test("after a cut, the walk starts from the recorded anchor: the kept rows verify, the first kept row alone removed does not", async () => {
  const all = trail(10);
  const kept = all.slice(4);
  const anchor = all[3]?.hash ?? "";
  assert.deepEqual(await verifyAuditChain(pages(kept), anchor), { ok: true, entries: 6 });
  const r = await verifyAuditChain(pages(kept.slice(1)), anchor);
  assert.equal(!r.ok && r.firstBad, kept[1]?.id);
  assert.match(!r.ok ? r.reason : "", /oldest kept, does not follow the trail's recorded start/);
  // The whole trail read against the genesis anchor, the first row removed: named.
  const r2 = await verifyAuditChain(pages(all.slice(1)), GENESIS_HASH);
  assert.equal(!r2.ok && r2.firstBad, 3);
});
