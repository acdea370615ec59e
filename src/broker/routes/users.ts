/**
 * `/v1/users`: add a user (their token shown once), list, delete, rotate a token. Admins only.
 */
import type { FastifyInstance } from "fastify";
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
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          required: ["name"],
          properties: { name: USER_NAME_SCHEMA, role: { type: "string", enum: ["admin", "user"] } },
        },
      },
    },
    async (req, reply) => {
      const caller = await ctx.authenticate(req);
      await ctx.requireAdmin(req, caller, "adding users");
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

  app.get("/v1/users", async (req) => {
    const caller = await ctx.authenticate(req);
    await ctx.requireAdmin(req, caller, "listing users");
    return { users: await ctx.store.listUsers() };
  });

  app.delete<{ Params: { name: string } }>("/v1/users/:name", { schema: { params: USER_PARAMS } }, async (req, reply) => {
    const caller = await ctx.authenticate(req);
    await ctx.requireAdmin(req, caller, "deleting users");
    const { name } = req.params;
    if (name === caller.name) {
      throw new BrokerRefusal(409, BrokerReason.IN_USE, `you cannot delete your own user ${name}: ask another admin`);
    }
    if ((await ctx.store.deleteUser(name)) === "not-found") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${name} does not exist: list users with GET /v1/users`);
    await ctx.record(req, { actor: caller.name, action: "user.delete", outcome: "ok", reason: name });
    return noContent(reply);
  });

  app.post<{ Params: { name: string } }>("/v1/users/:name/token", { schema: { params: USER_PARAMS } }, async (req) => {
    const caller = await ctx.authenticate(req);
    await ctx.requireAdmin(req, caller, "rotating tokens");
    const { name } = req.params;
    const token = newBrokerToken();
    if ((await ctx.store.rotateUserToken(name, hashBrokerToken(token), new Date(ctx.now()))) === "not-found") {
      throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `user ${name} does not exist: list users with GET /v1/users`);
    }
    await ctx.record(req, { actor: caller.name, action: "user.rotate", outcome: "ok", reason: name });
    return { token };
  });
}
