/**
 * `/v1/grants/{user}/{cluster}`: which user may reach which cluster (`*`: every one). Admins only.
 */
import type { FastifyInstance } from "fastify";
import { callerOf } from "../access.js";
import { noContent, type BrokerContext } from "../context.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { NAME_SCHEMA, USER_NAME_SCHEMA } from "./schemas.js";

const GRANT_PARAMS = {
  type: "object",
  required: ["user", "cluster"],
  properties: { user: USER_NAME_SCHEMA, cluster: { anyOf: [NAME_SCHEMA, { type: "string", const: "*" }] } },
} as const;

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
  app.put<{ Params: { user: string; cluster: string } }>("/v1/grants/:user/:cluster", { config: granting, schema: { summary: "Let a user reach a cluster (* for every cluster)", params: GRANT_PARAMS } }, async (req, reply) => {
    const caller = callerOf(req);
    const { user, cluster } = req.params;
    const result = await ctx.store.putGrant(user, cluster, new Date(ctx.now()));
    if (result === "no-user") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${user} does not exist: add them first with POST /v1/users`);
    if (result === "no-cluster") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `cluster ${cluster} does not exist: add it first with POST /v1/clusters, or grant * for every cluster`);
    await ctx.record(req, { actor: caller.name, action: "grant.put", cluster, outcome: "ok", reason: user });
    return noContent(reply);
  });

  const revoking = { access: { role: "admin", audit: "grant.delete", doing: "revoking grants" } } as const;
  app.delete<{ Params: { user: string; cluster: string } }>("/v1/grants/:user/:cluster", { config: revoking, schema: { summary: "Take a grant back; it stops on the next request", params: GRANT_PARAMS } }, async (req, reply) => {
    const caller = callerOf(req);
    const { user, cluster } = req.params;
    const result = await ctx.store.deleteGrant(user, cluster);
    if (result === "no-user") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${user} does not exist: list users with GET /v1/users`);
    if (result === "not-found") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${user} has no grant for ${cluster}: list theirs with GET /v1/grants/${user}`);
    await ctx.record(req, { actor: caller.name, action: "grant.delete", cluster, outcome: "ok", reason: user });
    return noContent(reply);
  });

  app.get<{ Params: { user: string } }>(
    "/v1/grants/:user",
    {
      config: { access: { role: "user", audit: "grant.list" } },
      schema: { summary: "A user's grants (your own, or anyone's for an admin)", params: { type: "object", required: ["user"], properties: { user: USER_NAME_SCHEMA } } },
    },
    async (req) => {
      const caller = callerOf(req);
      if (caller.name !== req.params.user) await ctx.requireAdmin(req, caller, "grant.list", "reading another user's grants");
      return { user: req.params.user, grants: await ctx.store.grantsOf(req.params.user) };
    },
  );
}
