/**
 * One audit entry as `GET /v1/audit` answers it: declared once, here, for the route that writes it,
 * the web console's Audit page and `kubeiam broker audit` that read it. Types and one mapping only, so
 * a client may import it without the server.
 */
import type { AuditEntry } from "./store/store.js";

/** An audit entry on the wire (BROKER.md "REST API": `GET /v1/audit`); the chain's columns stay inside. */
export interface AuditEntryAnswer {
  id: number;
  /** ISO 8601, UTC. */
  time: string;
  actor: string;
  action: string;
  cluster: string | null;
  /** `issued`, `denied`, `error`, `ok`, … */
  outcome: string;
  /** The caller's address. */
  remote: string | null;
  /** The broker instance that wrote it. */
  instance: string;
  reason: string | null;
  /** The credential a token was minted with (token rows only). */
  credential: string | null;
}

/** The fields of {@link AuditEntryAnswer}, in the order the route writes them. */
export const AUDIT_ENTRY_FIELDS = ["id", "time", "actor", "action", "cluster", "outcome", "remote", "instance", "reason", "credential"] as const satisfies readonly (keyof AuditEntryAnswer)[];

/**
 * A stored audit row as the route answers it.
 *
 * @example
 * ```ts
 * return { entries: (await ctx.store.listAudit({ limit: 100 })).map(auditEntryAnswer) };
 * ```
 */
export function auditEntryAnswer(e: AuditEntry): AuditEntryAnswer {
  return {
    id: e.id,
    time: e.time,
    actor: e.actor,
    action: e.action,
    cluster: e.cluster ?? null,
    outcome: e.outcome,
    remote: e.remote ?? null,
    instance: e.instance,
    reason: e.reason ?? null,
    credential: e.credential ?? null,
  };
}
