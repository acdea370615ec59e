/**
 * The audit trail's hash chain: each row's `hash` is SHA-256 over its own content and its
 * predecessor's hash, so an edited row, or a row removed from the middle, shows when the chain is
 * walked. This module defines the canonical encoding (once, versioned) and the walk; the store
 * appends and reads.
 *
 * The rule the verifier knows: rows are chained in `id` order, one chain per store. Appends
 * serialise on the chain's head (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory transaction lock
 * held to the commit), and the ids of a batch are drawn under that lock, so id order, chain order
 * and commit order are the same, also with several instances on one PostgreSQL.
 *
 * Canonical encoding, version 1 (landed after the audit's `credential` column, which it covers; a
 * column added later comes in as version 2, and rows keep verifying under the version they were
 * written with):
 *   hash = "1:" + hex(SHA-256(UTF-8(JSON.stringify(["kubeiam-audit", 1, prev, id, time, actor,
 *          action, cluster, outcome, remote, instance, reason, credential]))))
 * where `prev` is the predecessor's `hash` (or {@link GENESIS_HASH} for the first row ever, or the
 * retention anchor after old rows were pruned), absent columns are JSON `null`, `id` a JSON number,
 * and JSON.stringify is ECMAScript's (no spaces). Every column of the row's content is in the list:
 * whoever adds a column to the audit table adds a version here with that column in it.
 */
import { createHash } from "node:crypto";
import type { AuditRecord } from "./store/store.js";

/** The predecessor hash of the first row of a trail that was never pruned. */
export const GENESIS_HASH = "0:0000000000000000000000000000000000000000000000000000000000000000";

/** The columns each encoding version hashes, in order (after the label, the version, `prev` and `id`). */
export const AUDIT_CHAIN_ENCODINGS = {
  1: ["time", "actor", "action", "cluster", "outcome", "remote", "instance", "reason", "credential"],
} as const satisfies Record<number, readonly (keyof AuditRecord)[]>;

/** The version new rows are written with. */
export const AUDIT_CHAIN_VERSION = 1;

/** A row's content as the chain sees it: the row as written (every column but `hash` and `prev_hash`), and its id. */
export type ChainedContent = AuditRecord & { id: number };

/** A row as read back for verification. */
export interface ChainedRow extends ChainedContent {
  prevHash: string | null;
  hash: string | null;
}

/**
 * The hash of a row under encoding `version` (the current one by default).
 *
 * @example
 * ```ts
 * const hash = auditRowHash(GENESIS_HASH, { id: 1, time, actor: "alice", action: "token.issue", outcome: "issued", instance: "a1" });
 * ```
 */
export function auditRowHash(prev: string, row: ChainedContent, version: keyof typeof AUDIT_CHAIN_ENCODINGS = AUDIT_CHAIN_VERSION): string {
  const fields = AUDIT_CHAIN_ENCODINGS[version];
  const values: unknown[] = ["kubeiam-audit", version, prev, row.id];
  const record = row as unknown as Record<string, unknown>;
  for (const f of fields) values.push(record[f] ?? null);
  return `${version}:${createHash("sha256").update(JSON.stringify(values), "utf8").digest("hex")}`;
}

/** The version a stored hash was written with, when it is one this kubeiam knows. */
function versionOf(hash: string): keyof typeof AUDIT_CHAIN_ENCODINGS | undefined {
  const m = /^(\d+):[0-9a-f]{64}$/.exec(hash);
  const v = Number(m?.[1]);
  return v in AUDIT_CHAIN_ENCODINGS ? (v as keyof typeof AUDIT_CHAIN_ENCODINGS) : undefined;
}

/** What a walk of the chain found. */
export type AuditVerification = { ok: true; entries: number } | { ok: false; firstBad: number; reason: string; entries: number };

/**
 * Walks rows in id order (pages as they come) from `anchor`, the predecessor hash the oldest kept
 * row must carry. Stops at the first row whose own hash does not match its content (edited), or
 * whose predecessor hash is not the hash of the row before it (a row before it removed or rewritten).
 *
 * @example
 * ```ts
 * const result = await verifyAuditChain(store.auditChainPages(), GENESIS_HASH);
 * ```
 */
export async function verifyAuditChain(pages: AsyncIterable<ChainedRow[]>, anchor: string): Promise<AuditVerification> {
  let prev = anchor;
  let prevId: number | undefined;
  let entries = 0;
  for await (const page of pages) {
    for (const row of page) {
      const bad = (reason: string): AuditVerification => ({ ok: false, firstBad: row.id, reason, entries });
      if (row.hash === null || row.prevHash === null) return bad(`entry ${row.id} carries no chain hash: it was added to the table by hand, not by a broker`);
      const version = versionOf(row.hash);
      if (version === undefined) return bad(`entry ${row.id} has a hash in no format this kubeiam knows: it was edited, or written by a newer kubeiam`);
      if (auditRowHash(row.prevHash, row, version) !== row.hash) return bad(`entry ${row.id} does not match its hash: it was changed after it was written`);
      if (row.prevHash !== prev) {
        return bad(
          prevId === undefined
            ? `entry ${row.id}, the oldest kept, does not follow the trail's recorded start: entries before it were removed outside retention`
            : `entry ${row.id} does not follow entry ${prevId}: an entry between them was removed, or entry ${prevId} was rewritten`,
        );
      }
      prev = row.hash;
      prevId = row.id;
      entries += 1;
    }
  }
  return { ok: true, entries };
}
