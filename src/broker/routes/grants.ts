/**
 * `/v1/grants/{subject}/{cluster}`: which user, or which group (`group:NAME`), may reach which cluster
 * (`*`: every one), as which credential (`as`) and until when (`expiresAt`). Admins only, except that
 * users may read their own grants.
 */
import type { FastifyInstance } from "fastify";
import { callerOf } from "../access.js";
import { noContent, type BrokerContext } from "../context.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import type { GrantSubject, GrantTerms, StoredGrant } from "../store/store.js";
import { NAME_SCHEMA, USER_NAME_SCHEMA } from "./schemas.js";

/**
 * A grant's subject in a path: a user's name, or `group:` and a group's name; both as
 * {@link USER_NAME_SCHEMA} (identity providers name groups as freely as people).
 */
const SUBJECT_SCHEMA = { type: "string", minLength: 1, maxLength: 260, pattern: `^(group:)?${USER_NAME_SCHEMA.pattern.slice(1)}` } as const;

const GRANT_PARAMS = {
  type: "object",
  required: ["subject", "cluster"],
  properties: { subject: SUBJECT_SCHEMA, cluster: { anyOf: [NAME_SCHEMA, { type: "string", const: "*" }] } },
} as const;

/** RFC 3339 with a zone (`Z` or an offset), seconds required, fractions optional. */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

const GRANT_BODY = {
  anyOf: [
    { type: "null" },
    {
      type: "object",
      additionalProperties: false,
      properties: { as: NAME_SCHEMA, expiresAt: { type: "string", minLength: 1, maxLength: 64 } },
    },
  ],
} as const;

interface GrantBody {
  as?: string;
  expiresAt?: string;
}

/**
 * Reads a subject from its path form (`alice`, `group:platform`).
 *
 * @example
 * ```ts
 * parseGrantSubject("group:platform"); // { kind: "group", name: "platform" }
 * ```
 */
export function parseGrantSubject(text: string): GrantSubject {
  return text.startsWith("group:") ? { kind: "group", name: text.slice("group:".length) } : { kind: "user", name: text };
}

/** How a subject reads in messages and paths. */
function subjectText(s: GrantSubject): string {
  return s.kind === "group" ? `group:${s.name}` : s.name;
}

function bad(message: string): BrokerRefusal {
  return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, message);
}

/** The body's terms, checked: an RFC 3339 end in the future; `as` only on a grant of one cluster. */
function termsOf(body: GrantBody | null | undefined, cluster: string, now: number): GrantTerms {
  const terms: GrantTerms = {};
  if (body === null || body === undefined) return terms;
  if (body.as !== undefined) {
    if (cluster === "*") {
      throw bad("body field as names a credential of one cloud, so it goes on a grant of one cluster, not *: grant clusters one by one with as, or * without it");
    }
    terms.as = body.as;
  }
  if (body.expiresAt !== undefined) {
    const ms = RFC3339_RE.test(body.expiresAt) ? Date.parse(body.expiresAt) : Number.NaN;
    if (Number.isNaN(ms)) throw bad("body field expiresAt is not an RFC 3339 time: give one like 2026-12-07T18:00:00Z");
    if (ms <= now) throw bad("body field expiresAt is not in the future: give a later time, or revoke the grant with DELETE");
    terms.expiresAt = new Date(ms);
  }
  return terms;
}

/** A grant as the API shows it. */
function grantJson(g: StoredGrant, now: number): Record<string, unknown> {
  return { cluster: g.cluster, as: g.as, expiresAt: g.expiresAt, ended: g.expiresAt !== null && Date.parse(g.expiresAt) <= now, createdAt: g.createdAt };
}

/**
 * Registers the grant routes.
 *
 * @example
 * ```ts
 * await grantRoutes(app, ctx);
 * ```
 */
export async function grantRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  const granting = { access: { role: "admin", audit: "grant.put", doing: "granting clusters" } } as const;
  app.put<{ Params: { subject: string; cluster: string }; Body: GrantBody | null }>(
    "/v1/grants/:subject/:cluster",
    {
      config: granting,
      schema: {
        summary: "Let a user or a group (group:NAME) reach a cluster (* for every cluster), optionally as a credential (as) and until a time (expiresAt)",
        params: GRANT_PARAMS,
        body: GRANT_BODY,
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const { cluster } = req.params;
      const subject = parseGrantSubject(req.params.subject);
      const who = subjectText(subject);
      const terms = termsOf(req.body, cluster, ctx.now());
      const r = await ctx.store.putGrant(subject, cluster, terms, new Date(ctx.now()));
      switch (r.result) {
        case "no-user":
          throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${subject.name} does not exist: add them first with POST /v1/users`);
        case "no-cluster":
          throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `cluster ${cluster} does not exist: add it first with POST /v1/clusters, or grant * for every cluster`);
        case "no-credential":
          throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `credential ${terms.as ?? "?"} (body field as) does not exist: list them with GET /v1/credentials, or add it with POST /v1/credentials`);
        case "wrong-cloud":
          throw bad(
            `credential ${terms.as ?? "?"} (body field as) is for ${r.credentialProvider}, but cluster ${cluster} is on ${r.clusterProvider}: name a ${r.clusterProvider} credential`,
          );
        case "ok":
          break;
      }
      const details = [terms.as === undefined ? "" : ` as ${terms.as}`, terms.expiresAt === undefined ? "" : ` until ${terms.expiresAt.toISOString()}`].join("");
      await ctx.record(req, { actor: caller.name, action: "grant.put", cluster, outcome: "ok", reason: `${who}${details}` });
      return noContent(reply);
    },
  );

  const revoking = { access: { role: "admin", audit: "grant.delete", doing: "revoking grants" } } as const;
  app.delete<{ Params: { subject: string; cluster: string } }>(
    "/v1/grants/:subject/:cluster",
    { config: revoking, schema: { summary: "Take a grant back; it stops on the next request", params: GRANT_PARAMS } },
    async (req, reply) => {
      const caller = callerOf(req);
      const { cluster } = req.params;
      const subject = parseGrantSubject(req.params.subject);
      const who = subjectText(subject);
      const result = await ctx.store.deleteGrant(subject, cluster);
      if (result === "no-user") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${subject.name} does not exist: list users with GET /v1/users`);
      if (result === "not-found") {
        const all = cluster !== "*" && (await ctx.store.grantsOf(subject))?.some((g) => g.cluster === "*") === true;
        const through = all ? ` (${who} reaches every cluster through a * grant: revoke that with DELETE /v1/grants/${who}/*)` : "";
        throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `${who} has no grant for ${cluster}${through}: list theirs with GET /v1/grants/${who}`);
      }
      await ctx.record(req, { actor: caller.name, action: "grant.delete", cluster, outcome: "ok", reason: who });
      return noContent(reply);
    },
  );

  app.get<{ Params: { subject: string } }>(
    "/v1/grants/:subject",
    {
      config: { access: { role: "user", audit: "grant.list" } },
      schema: {
        summary: "A user's or group's grants with their as and expiresAt (your own, or anyone's for an admin)",
        params: { type: "object", required: ["subject"], properties: { subject: SUBJECT_SCHEMA } },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const subject = parseGrantSubject(req.params.subject);
      const own = subject.kind === "user" ? caller.name === subject.name : (caller.groups ?? []).includes(subject.name);
      if (!own) await ctx.requireAdmin(req, caller, "grant.list", subject.kind === "user" ? "reading another user's grants" : "reading a group's grants");
      const grants = await ctx.store.grantsOf(subject);
      if (grants === undefined) throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${subject.name} does not exist: list users with GET /v1/users`);
      const now = ctx.now();
      return { ...(subject.kind === "user" ? { user: subject.name } : { group: subject.name }), grants: grants.map((g) => grantJson(g, now)) };
    },
  );
}
