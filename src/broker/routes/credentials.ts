/**
 * `/v1/credentials`: cloud keys the broker holds, sealed at rest and never returned. Admins only.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { callerOf } from "../access.js";
import { noContent, type BrokerContext } from "../context.js";
import { credentialSecretsOf, credentialSummary, sealCredential, type CredentialBody } from "../credential-secrets.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { ENGINES, ENGINE_IDS } from "../engines.js";
import { NAME_SCHEMA, nameParams } from "./schemas.js";

/** The body of `POST /v1/credentials`: a name, a provider, and that provider's block, each engine's schema. */
const CREDENTIAL_BODY = {
  type: "object",
  additionalProperties: false,
  required: ["name", "provider"],
  properties: {
    name: NAME_SCHEMA,
    provider: { type: "string", enum: ENGINE_IDS },
    ...Object.fromEntries(ENGINES.map((e) => [e.id, e.credentialSchema])),
  },
} as const;

/** The body of `PUT /v1/credentials/{name}`: the same as adding, the name optional (the path names it). */
const UPDATE_BODY = { ...CREDENTIAL_BODY, required: ["provider"] } as const;

/** What adding or updating answers. */
const CREDENTIAL_ANSWER = { type: "object", additionalProperties: false, required: ["name", "provider"], properties: { name: { type: "string" }, provider: { type: "string" } } } as const;

/** What listing answers: names, providers, what each engine shows (an NCP key's `apiUrl`), never a secret. */
const LIST_ANSWER = {
  type: "object",
  additionalProperties: false,
  required: ["credentials"],
  properties: {
    credentials: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "provider", "createdAt"],
        properties: { name: { type: "string" }, provider: { type: "string" }, apiUrl: { type: "string", description: "NCP: the API gateway the key is used at" },
          actsAs: { type: "string", description: "GCP: the service account its tokens are (the impersonated one, else the key's own); AWS: the role it assumes" },
          createdAt: { type: "string" } },
      },
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
  const adding = { access: { role: "admin", audit: "credential.create", doing: "adding credentials" } } as const;
  app.post<{ Body: CredentialBody }>("/v1/credentials", { config: adding, schema: { summary: "Hold a cloud credential, sealed; never returned", body: CREDENTIAL_BODY } }, async (req, reply) => {
    const caller = callerOf(req);
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

  const updating = { access: { role: "admin", audit: "credential.update", doing: "updating credentials" } } as const;
  app.put<{ Params: { name: string }; Body: { name?: string; provider: string; [block: string]: unknown } }>(
    "/v1/credentials/:name",
    {
      config: updating,
      schema: {
        summary: "Replace a credential's secrets in place (same body as adding it); clusters and grants that use it mint with the new ones from the next request",
        params: nameParams("name"),
        body: UPDATE_BODY,
        response: { 200: CREDENTIAL_ANSWER },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const { name } = req.params;
      const body = req.body;
      if (body.name !== undefined && body.name !== name) {
        throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, `body field name (${body.name}) is not the credential in the path (${name}): a credential cannot be renamed; leave name out or make them equal`);
      }
      const secrets = credentialSecretsOf({ ...body, name });
      const replaced = await ctx.store.replaceCredential(name, secrets.provider, (id) => sealCredential(ctx.masterKey, id, secrets));
      if (replaced.result === "not-found") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `credential ${name} does not exist: add it with POST /v1/credentials`);
      if (replaced.result === "wrong-cloud") {
        throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, `credential ${name} is for ${replaced.provider}, not ${secrets.provider}: send provider ${replaced.provider} with a ${replaced.provider} block, or add a new credential`);
      }
      await ctx.record(req, { actor: caller.name, action: "credential.update", outcome: "ok", reason: `${name} (${secrets.provider})` });
      return { name, provider: secrets.provider };
    },
  );

  const listing = { access: { role: "admin", audit: "credential.list", doing: "listing credentials" } } as const;
  app.get("/v1/credentials", { config: listing, schema: { summary: "Credential names, providers, where an NCP key points (apiUrl) and whom a GCP or role-assuming AWS credential acts as (actsAs); never their secrets", response: { 200: LIST_ANSWER } } }, async () => {
    const rows = await ctx.store.listCredentials();
    return { credentials: rows.map((c) => ({ name: c.name, provider: c.provider, ...credentialSummary(ctx.masterKeys, c), createdAt: c.createdAt })) };
  });

  const deleting = { access: { role: "admin", audit: "credential.delete", doing: "deleting credentials" } } as const;
  app.delete<{ Params: { name: string } }>("/v1/credentials/:name", { config: deleting, schema: { summary: "Delete a credential no cluster uses", params: nameParams("name") } }, async (req, reply) => {
    const caller = callerOf(req);
    const { name } = req.params;
    const { result, usedBy } = await ctx.store.deleteCredential(name);
    if (result === "not-found") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `credential ${name} does not exist: list them with GET /v1/credentials`);
    if (result === "in-use") {
      throw new BrokerRefusal(409, BrokerReason.IN_USE, `credential ${name} is still used by ${usedBy ?? "a cluster or a grant"}: delete the clusters that use it, and revoke the grants that act as it, first`);
    }
    await ctx.record(req, { actor: caller.name, action: "credential.delete", outcome: "ok", reason: name });
    return noContent(reply);
  });
}
