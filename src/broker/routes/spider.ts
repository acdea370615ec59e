/**
 * cb-spider's cluster routes, served by the broker (BROKER.md "cb-spider compatible"): the token an
 * exec kubeconfig written by cb-spider fetches with `curl -u user:token`, and the cluster list and
 * detail with cb-spider's field names. HTTP Basic with a kubeiam user and broker token (Bearer works
 * too); errors as cb-spider's `{"message":"…"}`. Tokens go through the same path as `/v1`: grant
 * check, mint, audit row committed before the answer.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ClusterInfo, ClusterStatus, NodeGroupInfo } from "../../cluster-info.js";
import { rfc3339Seconds } from "../../kube/exec-credential.js";
import type { BrokerContext } from "../context.js";
import { BrokerReason, BrokerRefusal } from "../errors.js";
import { issueClusterToken, storedClusterInfo } from "../issue.js";
import { brokerKubeconfig } from "../kubeconfig.js";
import type { StoredCluster } from "../store/store.js";

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

function nodeGroup(g: NodeGroupInfo, clusterStatus: SpiderStatus): SpiderNodeGroupInfo {
  const raw = (g.status ?? "").toLowerCase();
  const status: SpiderStatus = raw === "" ? clusterStatus : raw === "running" || raw === "active" ? "Active" : raw.startsWith("creat") ? "Creating" : raw.startsWith("delet") ? "Deleting" : raw.startsWith("updat") ? "Updating" : "Inactive";
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
 * A stored cluster in cb-spider's ClusterInfo shape. `IId.NameId` is the broker's cluster name (the
 * one cb-spider's kubeconfigs ask for), `IId.SystemId` the cloud's own id; `AccessInfo.Kubeconfig`
 * is the broker's exec kubeconfig for that cluster.
 *
 * @example
 * ```ts
 * const info = spiderClusterInfo(storedCluster, "https://broker.example:8750");
 * ```
 */
export function spiderClusterInfo(cluster: StoredCluster, server: string): SpiderClusterInfo {
  let info: ClusterInfo | undefined;
  try {
    info = storedClusterInfo(cluster);
  } catch {
    info = undefined;
  }
  const status = spiderStatus(info?.status ?? cluster.status);
  return {
    IId: { NameId: cluster.name, SystemId: info?.id ?? "" },
    Version: info?.k8sVersion ?? "",
    Network: {
      VpcIID: { NameId: info?.network.vpcName ?? "", SystemId: info?.network.vpcId ?? "" },
      SubnetIIDs: (info?.network.subnetIds ?? []).map((s) => ({ NameId: "", SystemId: s })),
      SecurityGroupIIDs: (info?.network.securityGroupIds ?? []).map((s) => ({ NameId: "", SystemId: s })),
      KeyValueList: [],
    },
    NodeGroupList: (info?.nodeGroups ?? []).map((g) => nodeGroup(g, status)),
    AccessInfo: { Endpoint: cluster.endpoint, Kubeconfig: brokerKubeconfig({ cluster, server, mode: "exec" }) },
    Addons: { KeyValueList: [] },
    Status: status,
    CreatedTime: (info?.createdAt ?? new Date(cluster.createdAt)).toISOString(),
    TagList: [],
    KeyValueList: [
      { Key: "Provider", Value: cluster.provider },
      { Key: "Region", Value: cluster.region },
      { Key: "ConnectionName", Value: cluster.connection },
    ],
  };
}

interface SpiderQuery {
  ConnectionName?: string;
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
  await app.register(
    async (spider) => {
      spider.setErrorHandler((error: FastifyError | BrokerRefusal, req, reply: FastifyReply) => {
        if (error instanceof BrokerRefusal) {
          if (error.retryAfter !== undefined) void reply.header("retry-after", String(error.retryAfter));
          return reply.code(error.status).send({ message: error.message });
        }
        req.log.error({ err: { type: (error as Error).name, message: (error as Error).message } }, "failed");
        return reply.code(500).send({ message: "the broker failed to answer: see its log, and retry" });
      });

      spider.get("/cluster", async (req) => {
        const user = await ctx.authenticate(req);
        const connection = connectionOf(req);
        const clusters = (await ctx.store.clustersFor(user)).filter((c) => c.connection === connection);
        return { cluster: clusters.map((c) => spiderClusterInfo(c, ctx.publicUrl(req))) };
      });

      spider.get("/cluster/:Name", async (req) => {
        const user = await ctx.authenticate(req);
        const connection = connectionOf(req);
        const name = (req.params as { Name: string }).Name;
        const cluster = (await ctx.store.clustersFor(user)).find((c) => c.name === name && c.connection === connection);
        if (cluster === undefined) throw notInConnection(name, connection);
        return spiderClusterInfo(cluster, ctx.publicUrl(req));
      });

      spider.get("/cluster/:Name/token", async (req, reply) => {
        const user = await ctx.authenticate(req);
        const connection = connectionOf(req);
        const name = (req.params as { Name: string }).Name;
        const access = await ctx.store.clusterAccess(user, name);
        if (access !== undefined && access.cluster.connection !== connection) {
          // Audited like every other token refusal.
          await ctx.record(req, { actor: user.name, action: "token.issue.spider", cluster: name, outcome: "denied", reason: "wrong_connection" });
          throw notInConnection(name, connection);
        }
        const issued = await issueClusterToken(ctx, req, user, name, "spider");
        // cb-spider's answer, field for field, with the expiry cb-spider leaves out (a minute early, as /v1).
        return reply.send({
          apiVersion: "client.authentication.k8s.io/v1",
          kind: "ExecCredential",
          status: { token: issued.token, expirationTimestamp: rfc3339Seconds(new Date(issued.expiresAt.getTime() - 60_000)) },
        });
      });
    },
    { prefix: "/spider" },
  );
}
