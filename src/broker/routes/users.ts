/**
 * `/v1/users`: add a user (their token shown once), list, delete, rotate a token. Admins only
 * (declared per route: `config.access`, enforced by the access hook of `../access.ts`).
 */
import type { FastifyInstance } from "fastify";
import { callerOf } from "../access.js";
import { noContent, type BrokerContext } from "../context.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { hashBrokerToken, newBrokerToken } from "../tokens.js";
import { USER_NAME_SCHEMA } from "./schemas.js";

const USER_PARAMS = { type: "object", required: ["name"], properties: { name: USER_NAME_SCHEMA } } as const;

/**
 * Registers the user routes.
 *
 * @example
 * ```ts
 * await userRoutes(app, ctx);
 * ```
 */
export async function userRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  app.post<{ Body: { name: string; role?: "admin" | "user" } }>(
    "/v1/users",
    {
      config: { access: { role: "admin", audit: "user.create", doing: "adding users" } },
      schema: {
        summary: "Add a user; their broker token is in this answer only",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["name"],
          properties: { name: USER_NAME_SCHEMA, role: { type: "string", enum: ["admin", "user"] } },
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const { name } = req.body;
      const role = req.body.role ?? "user";
      const token = newBrokerToken();
      if ((await ctx.store.createUser(name, role, hashBrokerToken(token), new Date(ctx.now()))) === "taken") {
        throw new BrokerRefusal(409, BrokerReason.CONFLICT, `user ${name} already exists: pick another name, or rotate their token with POST /v1/users/${name}/token`);
      }
      await ctx.record(req, { actor: caller.name, action: "user.create", outcome: "ok", reason: `${name} (${role})` });
      return reply.code(201).send({ name, role, token });
    },
  );

  const listing = { access: { role: "admin", audit: "user.list", doing: "listing users" } } as const;
  app.get("/v1/users", { config: listing, schema: { summary: "List users and their roles" } }, async () => ({ users: await ctx.store.listUsers() }));

  const deleting = { access: { role: "admin", audit: "user.delete", doing: "deleting users" } } as const;
  app.delete<{ Params: { name: string } }>("/v1/users/:name", { config: deleting, schema: { summary: "Delete a user; their token stops at once", params: USER_PARAMS } }, async (req, reply) => {
    const caller = callerOf(req);
    const { name } = req.params;
    if (name === caller.name) {
      throw new BrokerRefusal(409, BrokerReason.IN_USE, `you cannot delete your own user ${name}: ask another admin`);
    }
    if ((await ctx.store.deleteUser(name, new Date(ctx.now()))) === "not-found") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${name} does not exist: list users with GET /v1/users`);
    await ctx.record(req, { actor: caller.name, action: "user.delete", outcome: "ok", reason: name });
    return noContent(reply);
  });

  const rotating = { access: { role: "admin", audit: "user.rotate", doing: "rotating tokens" } } as const;
  app.post<{ Params: { name: string } }>("/v1/users/:name/token", { config: rotating, schema: { summary: "Rotate a user's broker token; the old one stops at once", params: USER_PARAMS } }, async (req) => {
    const caller = callerOf(req);
    const { name } = req.params;
    const token = newBrokerToken();
    if ((await ctx.store.rotateUserToken(name, hashBrokerToken(token), new Date(ctx.now()))) === "not-found") {
      throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${name} does not exist: list users with GET /v1/users`);
    }
    await ctx.record(req, { actor: caller.name, action: "user.rotate", outcome: "ok", reason: name });
    return { token };
  });
}
