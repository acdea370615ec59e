/**
 * cb-spider's cluster routes, served by the broker (BROKER.md "cb-spider compatible"): the token an
 * exec kubeconfig written by cb-spider fetches with `curl -u user:token`, and the cluster list and
 * detail with cb-spider's field names, built as cb-spider builds them: from what the cloud says when
 * asked (the broker keeps only what locates a cluster and what its kubeconfigs need). HTTP Basic with a kubeiam user and broker token (Bearer works
 * too); errors as cb-spider's `{"message":"…"}`. Tokens go through the same path as `/v1`: grant
 * check, mint, audit row committed before the answer.
 *
 * `AccessInfo.Kubeconfig` is what cb-spider puts there: by default its `sh -c ". ~/.cb-spider/.spider-credential
 * && curl …"` user, pointed at this broker's own token route, so a cb-spider user's tooling works
 * unchanged. cb-spider's `KubeconfigType` query parameter picks another form: `native` (cb-spider: the
 * cloud's own plugin; here kubeiam's own, `kubeiam broker token`, since the cloud's plugin would need
 * the cloud key the broker exists to hold) or `embed` (a token in the kubeconfig, one cluster at a time).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ClusterInfo, ClusterStatus, NodeGroupInfo } from "../../cluster-info.js";
import { rfc3339Seconds } from "../../kube/exec-credential.js";
import { callerOf, tokenAccessOf } from "../access.js";
import type { BrokerContext } from "../context.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { storedEngine, storedLocator } from "../cluster-locator.js";
import { openCredential } from "../credential-secrets.js";
import { cloudRefusal, issueClusterToken } from "../issue.js";
import { brokerKubeconfig } from "../kubeconfig.js";
import { logServerRefusal } from "../outage-log.js";
import type { StoredCluster } from "../store/store.js";
import { sendRefusal } from "../refusals.js";
import { toRefusal } from "../server.js";
import { nameParams } from "./schemas.js";

/** cb-spider's IID: the user's name for a resource and the cloud's own id. */
export interface SpiderIID {
  NameId: string;
  SystemId: string;
}

/** cb-spider's node group (the fields this broker can fill). */
export interface SpiderNodeGroupInfo {
  IId: SpiderIID;
  ImageIID: SpiderIID;
  VMSpecName: string;
  RootDiskType: string;
  RootDiskSize: string;
  KeyPairIID: SpiderIID;
  OnAutoScaling: boolean;
  DesiredNodeSize: number;
  MinNodeSize: number;
  MaxNodeSize: number;
  Status: SpiderStatus;
  Nodes: SpiderIID[];
  KeyValueList: { Key: string; Value: string }[];
}

/** cb-spider's cluster and node group states. */
export type SpiderStatus = "Creating" | "Active" | "Inactive" | "Updating" | "Deleting";

/** cb-spider's ClusterInfo, as its REST API answers it. */
export interface SpiderClusterInfo {
  IId: SpiderIID;
  Version: string;
  Network: { VpcIID: SpiderIID; SubnetIIDs: SpiderIID[]; SecurityGroupIIDs: SpiderIID[]; KeyValueList: { Key: string; Value: string }[] };
  NodeGroupList: SpiderNodeGroupInfo[];
  AccessInfo: { Endpoint: string; Kubeconfig: string };
  Addons: { KeyValueList: { Key: string; Value: string }[] };
  Status: SpiderStatus;
  CreatedTime: string;
  TagList: { Key: string; Value: string }[];
  KeyValueList: { Key: string; Value: string }[];
}

const EMPTY_IID: SpiderIID = { NameId: "", SystemId: "" };

/** kubeiam's normalised status in cb-spider's words; cb-spider has no "Unknown". */
function spiderStatus(status: ClusterStatus | string | undefined): SpiderStatus {
  switch (status) {
    case "Creating":
    case "Active":
    case "Updating":
    case "Deleting":
    case "Inactive":
      return status;
    default:
      return "Inactive";
  }
}

/** A node group in cb-spider's shape; its status word from the cloud (NKS says `RUN`, EKS `ACTIVE`, GKE `RUNNING`) in cb-spider's. */
function nodeGroup(g: NodeGroupInfo, clusterStatus: SpiderStatus): SpiderNodeGroupInfo {
  const raw = (g.status ?? "").toLowerCase();
  const status: SpiderStatus = raw === "" ? clusterStatus : raw === "run" || raw === "running" || raw === "active" ? "Active" : raw.startsWith("creat") ? "Creating" : raw.startsWith("delet") ? "Deleting" : raw.startsWith("updat") ? "Updating" : "Inactive";
  return {
    IId: { NameId: g.name, SystemId: g.id ?? g.name },
    ImageIID: EMPTY_IID,
    VMSpecName: g.instanceType ?? "",
    RootDiskType: "",
    RootDiskSize: "",
    KeyPairIID: EMPTY_IID,
    OnAutoScaling: false,
    DesiredNodeSize: g.nodeCount ?? g.nodes.length,
    MinNodeSize: 0,
    MaxNodeSize: 0,
    Status: status,
    Nodes: g.nodes.map((n) => ({ NameId: n.name, SystemId: n.id ?? n.name })),
    KeyValueList: g.k8sVersion === undefined ? [] : [{ Key: "Version", Value: g.k8sVersion }],
  };
}

/**
 * A stored cluster in cb-spider's ClusterInfo shape, from what its cloud says now (`live`, from
 * {@link lookUpLive}) and, for what the broker keeps itself, the row: `IId.NameId` is the broker's
 * cluster name (the one cb-spider's kubeconfigs ask for), `IId.SystemId` the cloud's own id,
 * `AccessInfo` the stored endpoint and the kubeconfig given (see {@link SpiderKubeconfigType}). Without
 * `live` (the cloud did not answer), the answer holds what the locator and the row tell: the id the
 * locator gives, the status at registration, and empty Version, Network and NodeGroupList, as
 * cb-spider leaves what it does not know.
 *
 * @example
 * ```ts
 * const info = spiderClusterInfo(storedCluster, brokerKubeconfig({ cluster: storedCluster, server, mode: "spider" }), await lookUpLive(ctx, req, storedCluster));
 * ```
 */
export function spiderClusterInfo(cluster: StoredCluster, kubeconfig: string, live: ClusterInfo | undefined): SpiderClusterInfo {
  const status = spiderStatus(live?.status ?? cluster.status);
  return {
    IId: { NameId: cluster.name, SystemId: live?.id ?? locatorIdOf(cluster) },
    Version: live?.k8sVersion ?? "",
    Network: {
      VpcIID: { NameId: live?.network.vpcName ?? "", SystemId: live?.network.vpcId ?? "" },
      SubnetIIDs: (live?.network.subnetIds ?? []).map((s) => ({ NameId: "", SystemId: s })),
      SecurityGroupIIDs: (live?.network.securityGroupIds ?? []).map((s) => ({ NameId: "", SystemId: s })),
      KeyValueList: [],
    },
    NodeGroupList: (live?.nodeGroups ?? []).map((g) => nodeGroup(g, status)),
    AccessInfo: { Endpoint: cluster.endpoint, Kubeconfig: kubeconfig },
    Addons: { KeyValueList: [] },
    Status: status,
    CreatedTime: (live?.createdAt ?? new Date(cluster.createdAt)).toISOString(),
    TagList: [],
    KeyValueList: [
      { Key: "Provider", Value: cluster.provider },
      { Key: "Region", Value: cluster.region },
      { Key: "ConnectionName", Value: cluster.connection },
    ],
  };
}

/** The cloud's id of a cluster as its locator gives it; empty when the row has no usable locator. */
function locatorIdOf(cluster: StoredCluster): string {
  try {
    return storedEngine(cluster).locatorId(storedLocator(cluster));
  } catch {
    return "";
  }
}

/** How many clusters of one answer are looked up at once. */
const LOOKUPS_AT_ONCE = 8;

/** How long a cloud's answer about a cluster serves /spider answers (cb-spider asks on every call; callers poll). */
const LOOKUP_FRESH_MS = 15_000;

/** How many clusters' answers to keep before starting over. */
const MAX_RECENT_LOOKUPS = 1000;

/**
 * The clouds' recent answers about clusters, so that a client polling `/spider/cluster` (cb-tumblebug
 * asks for a kubeconfig with a token on every use) does not turn each call into cloud API calls: an
 * answer serves for {@link LOOKUP_FRESH_MS}, lookups of one cluster in flight are shared, and a
 * failed lookup is not kept (the next call asks again). Keyed by the cluster row and its credential's
 * row and sealed bytes, so a replaced key or a re-registered cluster asks anew.
 *
 * @example
 * ```ts
 * const recent = new RecentLookups(Date.now);
 * const info = await recent.get(`${cluster.id}|${cred.id}|${cred.sealed}`, () => ctx.cloud.lookup(held, locator));
 * ```
 */
export class RecentLookups {
  readonly #now: () => number;
  readonly #entries = new Map<string, { at: number; answer: Promise<ClusterInfo> }>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The answer kept for `key` while fresh, else `lookup()`'s (kept when it succeeds). */
  get(key: string, lookup: () => Promise<ClusterInfo>): Promise<ClusterInfo> {
    const now = this.#now();
    const kept = this.#entries.get(key);
    if (kept !== undefined && now - kept.at < LOOKUP_FRESH_MS) return kept.answer;
    if (this.#entries.size >= MAX_RECENT_LOOKUPS) this.#entries.clear();
    const answer = lookup();
    const entry = { at: now, answer };
    this.#entries.set(key, entry);
    answer.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return answer;
  }
}

/**
 * What the clusters' clouds say about them now (or within {@link LOOKUP_FRESH_MS}, from `recent`),
 * looked up with each cluster's own credential, as cb-spider asks its driver on every GetCluster and
 * ListCluster; at most {@link LOOKUPS_AT_ONCE} at a time. A cluster whose cloud does not answer (unreachable, refused, the cluster gone) maps to
 * undefined, with a warning in the log naming the cloud's reason: the answer then says what the broker
 * knows without it.
 *
 * @example
 * ```ts
 * const live = await lookUpLive(ctx, req, clusters, recent);
 * const info = spiderClusterInfo(clusters[0], kubeconfig, live.get(clusters[0].id));
 * ```
 */
export async function lookUpLive(ctx: BrokerContext, req: FastifyRequest, clusters: readonly StoredCluster[], recent: RecentLookups): Promise<Map<string, ClusterInfo | undefined>> {
  const credentials = await ctx.store.credentialsById(clusters.map((c) => c.credentialId));
  const found = new Map<string, ClusterInfo | undefined>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let c = clusters[next++]; c !== undefined; c = clusters[next++]) {
      const cluster = c;
      const cred = credentials.get(cluster.credentialId);
      try {
        if (cred === undefined) throw new BrokerRefusal(404, BrokerReason.NOT_FOUND, `looking up cluster ${cluster.name}: its credential was deleted meanwhile`);
        const held = { provider: cred.provider, cacheKey: `${cred.id}|${cred.sealed}`, open: () => openCredential(ctx.masterKeys, cred).secrets };
        const info = await recent.get(`${cluster.id}|${held.cacheKey}`, () => ctx.cloud.lookup(held, ctx.locators.of(cluster)));
        found.set(cluster.id, info);
      } catch (error) {
        const refusal = cloudRefusal(error, `looking up cluster ${cluster.name}`);
        req.log.warn({ cluster: cluster.name, err: { type: (error as Error).name, code: refusal.reason, message: refusal.message } }, "cloud lookup failed: answering with what the broker keeps");
        found.set(cluster.id, undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUPS_AT_ONCE, clusters.length) }, worker));
  return found;
}

interface SpiderQuery {
  ConnectionName?: unknown;
  KubeconfigType?: unknown;
}

/**
 * The values of cb-spider's `KubeconfigType` query parameter the broker honours: absent (or empty, as
 * cb-spider treats it) for cb-spider's sh/curl user, `native` for `kubeiam broker token`, `embed` for a
 * token in the kubeconfig.
 */
export type SpiderKubeconfigType = "spider" | "native" | "embed";

const KUBECONFIG_TYPES: ReadonlyMap<string, SpiderKubeconfigType> = new Map([
  ["", "spider"],
  ["native", "native"],
  ["embed", "embed"],
]);

/**
 * The kubeconfig form a `/spider/cluster` request asks for; a 400 for anything else (exact values
 * only: cb-spider compares `KubeconfigType == "native"`, so `Native` would silently be its default).
 *
 * @example
 * ```ts
 * spiderKubeconfigType({ KubeconfigType: "native" }); // "native"
 * ```
 */
export function spiderKubeconfigType(query: SpiderQuery): SpiderKubeconfigType {
  const given = query.KubeconfigType ?? "";
  const type = typeof given === "string" ? KUBECONFIG_TYPES.get(given) : undefined;
  if (type === undefined) {
    const shown = typeof given === "string" ? JSON.stringify(given.slice(0, 40)) : "given more than once";
    throw new BrokerRefusal(
      400,
      BrokerReason.BAD_REQUEST,
      `KubeconfigType ${shown} is not known: leave it out for cb-spider's sh/curl kubeconfig, or give native (runs 'kubeiam broker token') or embed (carries a token)`,
    );
  }
  return type;
}

function connectionOf(req: FastifyRequest): string {
  const c = (req.query as SpiderQuery).ConnectionName;
  if (typeof c !== "string" || c.trim() === "") {
    throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "ConnectionName is required: add ?ConnectionName=<the cluster's connection>");
  }
  return c;
}

function notInConnection(name: string, connection: string): BrokerRefusal {
  return new BrokerRefusal(404, BrokerReason.NOT_FOUND, `cluster ${name} is not one of yours in connection ${connection}: list yours with GET /spider/cluster?ConnectionName=${connection}`);
}

/**
 * Registers `GET /spider/cluster`, `GET /spider/cluster/:Name` and `GET /spider/cluster/:Name/token`,
 * answering every refusal as `{"message":"…"}`.
 *
 * @example
 * ```ts
 * await spiderRoutes(app, ctx);
 * ```
 */
export async function spiderRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  const recent = new RecentLookups(ctx.now);
  await app.register(
    async (spider) => {
      // The broker's own mapping (validation 400, store 503, …), in cb-spider's shape (refusals.ts).
      spider.setErrorHandler((error: FastifyError | BrokerRefusal, req, reply: FastifyReply) => {
        const refusal = toRefusal(error);
        logServerRefusal(req, error, refusal, ctx.outage);
        return sendRefusal(req, reply, refusal);
      });

      spider.get("/cluster", { config: { access: { role: "user" } }, schema: { summary: "cb-spider: the caller's clusters in a connection, as ClusterInfo" } }, async (req) => {
        const user = callerOf(req);
        const connection = connectionOf(req);
        const type = spiderKubeconfigType(req.query as SpiderQuery);
        if (type === "embed") {
          // Each cluster's kubeconfig would mint (and audit) a token nobody may use: one at a time.
          throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, "KubeconfigType=embed mints a token, so it is given one cluster at a time: ask GET /spider/cluster/{Name}?ConnectionName=…&KubeconfigType=embed");
        }
        const server = ctx.publicUrl(req);
        const clusters = (await ctx.store.clustersFor(user, new Date(ctx.now()))).filter((c) => c.connection === connection);
        const live = await lookUpLive(ctx, req, clusters, recent);
        return { cluster: clusters.map((c) => spiderClusterInfo(c, brokerKubeconfig({ cluster: c, server, mode: type === "native" ? "exec" : "spider" }), live.get(c.id))) };
      });

      spider.get("/cluster/:Name", { config: { access: { role: "user", audit: "token.issue.spider.kubeconfig" } }, schema: { summary: "cb-spider: one cluster as ClusterInfo", params: nameParams("Name") } }, async (req) => {
        const user = callerOf(req);
        const connection = connectionOf(req);
        const type = spiderKubeconfigType(req.query as SpiderQuery);
        const name = (req.params as { Name: string }).Name;
        const cluster = (await ctx.store.clustersFor(user, new Date(ctx.now()))).find((c) => c.name === name && c.connection === connection);
        if (cluster === undefined) throw notInConnection(name, connection);
        const server = ctx.publicUrl(req);
        if (type === "embed") {
          const issued = await issueClusterToken(ctx, req, user, name, "spider.kubeconfig");
          const live = await lookUpLive(ctx, req, [issued.cluster], recent);
          return spiderClusterInfo(issued.cluster, brokerKubeconfig({ cluster: issued.cluster, server, mode: "embed", token: issued.token }), live.get(issued.cluster.id));
        }
        const live = await lookUpLive(ctx, req, [cluster], recent);
        return spiderClusterInfo(cluster, brokerKubeconfig({ cluster, server, mode: type === "native" ? "exec" : "spider" }), live.get(cluster.id));
      });

      const tokenAccess = { access: { role: "user", audit: "token.issue.spider", tokenFor: (req: FastifyRequest) => (req.params as { Name: string }).Name } } as const;
      spider.get("/cluster/:Name/token", { config: tokenAccess, schema: { summary: "cb-spider: an ExecCredential for the cluster (a grant needed)", params: nameParams("Name") } }, async (req, reply) => {
        const name = (req.params as { Name: string }).Name;
        const { user, access } = tokenAccessOf(req);
        const connection = connectionOf(req);
        if (access !== undefined && access.cluster.connection !== connection) {
          // Audited like every other token refusal.
          await ctx.record(req, { actor: user.name, action: "token.issue.spider", cluster: name, outcome: "denied", reason: "wrong_connection" });
          throw notInConnection(name, connection);
        }
        const issued = await issueClusterToken(ctx, req, user, name, "spider", { access });
        // cb-spider's answer, field for field, with the expiry cb-spider leaves out (a minute early, as /v1).
        return reply.send({
          apiVersion: "client.authentication.k8s.io/v1",
          kind: "ExecCredential",
          status: { token: issued.token, expirationTimestamp: rfc3339Seconds(issued.refreshAt) },
        });
      });
    },
    { prefix: "/spider" },
  );
}
