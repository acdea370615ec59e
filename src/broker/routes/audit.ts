/**
 * `GET /v1/audit`: the audit trail, newest first, filtered by user or cluster, paged back with
 * `before` or forward (oldest first) with `after`; `GET /v1/audit/verify`: the hash chain walked.
 */
import type { FastifyInstance } from "fastify";
import type { BrokerContext } from "../context.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { auditEntryAnswer } from "../audit-entry.js";

const DIGITS = { type: "string", pattern: "^[0-9]{1,15}$" } as const;

/**
 * Registers the audit route (admins only).
 *
 * @example
 * ```ts
 * await auditRoutes(app, ctx);
 * ```
 */
export async function auditRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  app.get<{ Querystring: { user?: string; cluster?: string; limit?: string; before?: string; after?: string } }>(
    "/v1/audit",
    {
      config: { access: { role: "admin", audit: "audit.read", doing: "reading the audit trail" } },
      schema: {
        summary: "The audit trail, newest first; filter by user or cluster, page back with before, or forward (oldest first) with after",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { user: { type: "string", maxLength: 200 }, cluster: { type: "string", maxLength: 200 }, limit: DIGITS, before: DIGITS, after: DIGITS },
        },
      },
    },
    async (req) => {
      const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
      if (limit < 1 || limit > 10_000) throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, `query field limit must be 1 to 10000, not ${limit}`);
      if (req.query.before !== undefined && req.query.after !== undefined) {
        throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "query fields before and after go different ways: give one of them");
      }
      const entries = await ctx.store.listAudit({
        limit,
        ...(req.query.user === undefined ? {} : { user: req.query.user }),
        ...(req.query.cluster === undefined ? {} : { cluster: req.query.cluster }),
        ...(req.query.before === undefined ? {} : { before: Number(req.query.before) }),
        ...(req.query.after === undefined ? {} : { after: Number(req.query.after) }),
      });
      return { entries: entries.map(auditEntryAnswer) };
    },
  );

  app.get(
    "/v1/audit/verify",
    {
      config: { access: { role: "admin", audit: "audit.verify", doing: "verifying the audit trail" } },
      schema: {
        summary: "Walks the audit trail's hash chain: ok with the count, or the first entry edited or whose neighbour was removed",
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            required: ["ok"],
            properties: { ok: { type: "boolean" }, entries: { type: "integer" }, firstBad: { type: "integer" }, reason: { type: "string" } },
          },
        },
      },
    },
    async () => {
      const result = await ctx.store.verifyAudit();
      return result.ok ? { ok: true, entries: result.entries } : { ok: false, firstBad: result.firstBad, reason: result.reason };
    },
  );
}
