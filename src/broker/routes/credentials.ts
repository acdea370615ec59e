/**
 * `/v1/credentials`: cloud keys the broker holds, sealed at rest and never returned. Admins only.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { noContent, type BrokerContext } from "../context.js";
import { credentialSecretsOf, sealCredential, type CredentialBody } from "../credential-secrets.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { NAME_SCHEMA, SECRET_SCHEMA, nameParams } from "./schemas.js";

const URL_SCHEMA = { type: "string", minLength: 1, maxLength: 2048 } as const;

const CREDENTIAL_BODY = {
  type: "object",
  additionalProperties: false,
  required: ["name", "provider"],
  properties: {
    name: NAME_SCHEMA,
    provider: { type: "string", enum: ["ncp", "aws", "gcp"] },
    ncp: {
      type: "object",
      additionalProperties: false,
      required: ["accessKey", "secretKey"],
      properties: { accessKey: SECRET_SCHEMA, secretKey: SECRET_SCHEMA, apiUrl: URL_SCHEMA },
    },
    aws: {
      type: "object",
      additionalProperties: false,
      required: ["accessKeyId", "secretAccessKey"],
      properties: {
        accessKeyId: SECRET_SCHEMA,
        secretAccessKey: SECRET_SCHEMA,
        sessionToken: SECRET_SCHEMA,
        roleArn: SECRET_SCHEMA,
        externalId: SECRET_SCHEMA,
        sessionName: SECRET_SCHEMA,
      },
    },
    gcp: {
      type: "object",
      additionalProperties: false,
      required: ["serviceAccount"],
      properties: { serviceAccount: { type: "object" } },
    },
  },
} as const;

/**
 * Registers the credential routes.
 *
 * @example
 * ```ts
 * await credentialRoutes(app, ctx);
 * ```
 */
export async function credentialRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  app.post<{ Body: CredentialBody }>("/v1/credentials", { schema: { body: CREDENTIAL_BODY } }, async (req, reply) => {
    const caller = await ctx.authenticate(req);
    await ctx.requireAdmin(req, caller, "adding credentials");
    const body = req.body;
    const secrets = credentialSecretsOf(body);
    const id = randomUUID();
    const sealed = sealCredential(ctx.masterKey, id, secrets);
    if ((await ctx.store.createCredential({ id, name: body.name, provider: body.provider, sealed }, new Date(ctx.now()))) === "taken") {
      throw new BrokerRefusal(409, BrokerReason.CONFLICT, `credential ${body.name} already exists: pick another name, or delete it first`);
    }
    await ctx.record(req, { actor: caller.name, action: "credential.create", outcome: "ok", reason: `${body.name} (${body.provider})` });
    return reply.code(201).send({ name: body.name, provider: body.provider });
  });

  app.get("/v1/credentials", async (req) => {
    const caller = await ctx.authenticate(req);
    await ctx.requireAdmin(req, caller, "listing credentials");
    return { credentials: (await ctx.store.listCredentials()).map((c) => ({ name: c.name, provider: c.provider, createdAt: c.createdAt })) };
  });

  app.delete<{ Params: { name: string } }>("/v1/credentials/:name", { schema: { params: nameParams("name") } }, async (req, reply) => {
    const caller = await ctx.authenticate(req);
    await ctx.requireAdmin(req, caller, "deleting credentials");
    const { name } = req.params;
    const { result, usedBy } = await ctx.store.deleteCredential(name);
    if (result === "not-found") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `credential ${name} does not exist: list them with GET /v1/credentials`);
    if (result === "in-use") {
      throw new BrokerRefusal(409, BrokerReason.IN_USE, `credential ${name} is still used by cluster ${usedBy ?? "(another)"}: delete the clusters that use it first`);
    }
    await ctx.record(req, { actor: caller.name, action: "credential.delete", outcome: "ok", reason: name });
    return noContent(reply);
  });
}
