/**
 * `/v1/clusters`: register a cluster (looked up through its cloud with a held credential, nothing
 * kept when that fails), list the caller's clusters, delete one, and the two things users come for:
 * a token (`…/token`, an ExecCredential) and a kubeconfig (`…/kubeconfig`).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ClusterInfo } from "../../cluster-info.js";
import { formatExecCredential, type ExecApiVersion } from "../../kube/exec-credential.js";
import type { CloudEngine } from "../../cloud-engine.js";
import { callerOf, tokenAccessOf } from "../access.js";
import { noContent, type BrokerContext } from "../context.js";
import { openCredential } from "../credential-secrets.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { ENGINES, engineFor } from "../engines.js";
import { cloudRefusal, issueClusterToken, noGrantRefusal } from "../issue.js";
import { brokerKubeconfig } from "../kubeconfig.js";
import type { BrokerProvider } from "../store/store.js";
import { NAME_SCHEMA, nameParams } from "./schemas.js";

/** The body of `POST /v1/clusters`: the cluster's locator in its cloud's block, each engine's schema. */
const CLUSTER_BODY = {
  type: "object",
  additionalProperties: false,
  required: ["name", "credential", "region"],
  properties: {
    name: NAME_SCHEMA,
    credential: NAME_SCHEMA,
    region: { type: "string", minLength: 1, maxLength: 64 },
    connection: NAME_SCHEMA,
    ...Object.fromEntries(ENGINES.map((e) => [e.id, e.locatorSchema])),
  },
} as const;

interface ClusterBody {
  name: string;
  credential: string;
  region: string;
  connection?: string;
  [block: string]: unknown;
}

const API_VERSIONS: Record<string, ExecApiVersion> = {
  v1: "client.authentication.k8s.io/v1",
  v1beta1: "client.authentication.k8s.io/v1beta1",
  "client.authentication.k8s.io/v1": "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1": "client.authentication.k8s.io/v1beta1",
};

/** Where the body says the cluster is, in the block of the credential's cloud, and that cloud's engine. */
function locatorOf(body: ClusterBody, provider: BrokerProvider): { engine: CloudEngine; locator: unknown } {
  const engine = engineFor(provider);
  const given = ENGINES.filter((e) => body[e.id] !== undefined).map((e) => e.id);
  if (engine === undefined) throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, `credential ${body.credential} is for ${provider}, which this broker does not serve: delete it`);
  if (given.length !== 1 || given[0] !== provider) {
    throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, `credential ${body.credential} is for ${provider}: send ${engine.locatorFields}${given.length > 0 ? `, not ${given.join(" and ")}` : ""}`);
  }
  return { engine, locator: engine.locate(body[provider] as Record<string, unknown>, body.region) };
}

/** The cluster a request names in its path, for its audit rows. */
const pathName = (req: FastifyRequest): string | undefined => {
  const name = (req.params as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name : undefined;
};

/** The cluster a request names in its body (when it has one), for its audit rows. */
const bodyName = (req: FastifyRequest): string | undefined => {
  const name = (req.body as { name?: unknown } | null | undefined)?.name;
  return typeof name === "string" ? name : undefined;
};

/**
 * Registers the cluster routes.
 *
 * @example
 * ```ts
 * await clusterRoutes(app, ctx);
 * ```
 */
export async function clusterRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  const adding = { access: { role: "admin", audit: "cluster.create", doing: "adding clusters", cluster: bodyName } } as const;
  app.post<{ Body: ClusterBody }>("/v1/clusters", { config: adding, schema: { summary: "Register a cluster, looked up through its cloud with a held credential", body: CLUSTER_BODY } }, async (req, reply) => {
    const caller = callerOf(req);
    const body = req.body;
    const credential = await ctx.store.credentialByName(body.credential);
    if (credential === undefined) {
      throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `credential ${body.credential} does not exist: add it first with POST /v1/credentials`);
    }
    const { engine, locator } = locatorOf(body, credential.provider);
    if (await ctx.store.clusterExists(body.name)) {
      throw new BrokerRefusal(409, BrokerReason.CONFLICT, `cluster ${body.name} already exists: pick another name, or delete it first`);
    }
    let info: ClusterInfo;
    try {
      info = await ctx.cloud.lookup({ provider: credential.provider, cacheKey: `${credential.id}|${credential.sealed}`, open: () => openCredential(ctx.masterKeys, credential).secrets }, locator);
    } catch (error) {
      throw cloudRefusal(error, `looking up cluster ${body.name} with credential ${credential.name}`);
    }
    const result = await ctx.store.createCluster(
      {
        name: body.name,
        provider: credential.provider,
        credentialId: credential.id,
        region: body.region,
        connection: body.connection ?? credential.name,
        endpoint: info.access.endpoint,
        caData: info.access.certificateAuthorityData ?? null,
        status: info.status,
        locator: JSON.stringify(locator),
      },
      new Date(ctx.now()),
    );
    if (result === "taken") throw new BrokerRefusal(409, BrokerReason.CONFLICT, `cluster ${body.name} already exists: pick another name, or delete it first`);
    if (result === "not-found") throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `credential ${body.credential} was deleted meanwhile: add it again`);
    await ctx.record(req, { actor: caller.name, action: "cluster.create", cluster: body.name, outcome: "ok", reason: `${engine.id} ${info.id}` });
    return reply.code(201).send({ name: body.name, provider: credential.provider, region: body.region, endpoint: info.access.endpoint, status: info.status });
  });

  app.get("/v1/clusters", { config: { access: { role: "user" } }, schema: { summary: "The caller's clusters (an admin's: all)" } }, async (req) => {
    const caller = callerOf(req);
    const clusters = await ctx.store.clustersFor(caller, new Date(ctx.now()));
    return {
      clusters: clusters.map((c) => ({ name: c.name, provider: c.provider, region: c.region, endpoint: c.endpoint, status: c.status, connection: c.connection })),
    };
  });

  const deleting = { access: { role: "admin", audit: "cluster.delete", doing: "deleting clusters", cluster: pathName } } as const;
  app.delete<{ Params: { name: string } }>("/v1/clusters/:name", { config: deleting, schema: { summary: "Forget a cluster and its grants", params: nameParams("name") } }, async (req, reply) => {
    const caller = callerOf(req);
    const { name } = req.params;
    if ((await ctx.store.deleteCluster(name)) === "not-found") {
      throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `cluster ${name} does not exist: list them with GET /v1/clusters`);
    }
    await ctx.record(req, { actor: caller.name, action: "cluster.delete", cluster: name, outcome: "ok" });
    return noContent(reply);
  });

  app.get<{ Params: { name: string }; Querystring: { apiVersion?: string } }>(
    "/v1/clusters/:name/token",
    {
      // The one-query path: caller, cluster, credential and grant read together by the access hook.
      config: { access: { role: "user", audit: "token.issue", tokenFor: (req) => (req.params as { name: string }).name } },
      schema: {
        summary: "An ExecCredential for the cluster (a grant needed); audited before it is sent",
        params: nameParams("name"),
        querystring: { type: "object", additionalProperties: false, properties: { apiVersion: { type: "string", enum: Object.keys(API_VERSIONS) } } },
      },
    },
    async (req) => {
      const { user, access } = tokenAccessOf(req);
      const apiVersion = API_VERSIONS[req.query.apiVersion ?? "v1"];
      const issued = await issueClusterToken(ctx, req, user, req.params.name, "v1", { access });
      return formatExecCredential({ token: issued.token, expirationTimestamp: issued.refreshAt, ...(apiVersion === undefined ? {} : { apiVersion }) });
    },
  );

  app.get<{ Params: { name: string }; Querystring: { mode?: "exec" | "embed" } }>(
    "/v1/clusters/:name/kubeconfig",
    {
      config: { access: { role: "user", audit: "token.issue.kubeconfig", cluster: pathName } },
      schema: {
        summary: "A kubeconfig for the cluster: exec (runs 'kubeiam broker token') or embed (carries a token)",
        params: nameParams("name"),
        querystring: { type: "object", additionalProperties: false, properties: { mode: { type: "string", enum: ["exec", "embed"] } } },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const mode = req.query.mode ?? "exec";
      const server = ctx.publicUrl(req);
      let yaml: string;
      if (mode === "embed") {
        const issued = await issueClusterToken(ctx, req, caller, req.params.name, "kubeconfig");
        yaml = brokerKubeconfig({ cluster: issued.cluster, server, mode: "embed", token: issued.token });
      } else {
        const access = await ctx.store.clusterAccess(caller, req.params.name, new Date(ctx.now()));
        if (access === undefined) throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `cluster ${req.params.name} is not known to this broker: list yours with 'kubeiam broker clusters'`);
        if (!access.granted) throw noGrantRefusal(caller, req.params.name, access);
        yaml = brokerKubeconfig({ cluster: access.cluster, server, mode: "exec" });
      }
      return reply.header("content-type", "application/yaml; charset=utf-8").send(yaml);
    },
  );
}
