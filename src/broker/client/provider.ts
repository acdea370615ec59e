/**
 * A {@link ClusterProvider} backed by a kubeiam broker: the clusters the caller is granted, their
 * kubeconfigs, and tokens minted by the broker with keys the program never holds. With
 * `kubeConfigFor` it gives a self-refreshing `@kubernetes/client-node` client through the broker,
 * with no process spawned. One keep-alive connection pool per provider.
 */
import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { brokerProxyUrlFor } from "../../lib/proxy-env.js";
import type { CloudName, ClusterInfo, ClusterProvider, ClusterRef, ClusterStatus, KubeconfigMode } from "../../cluster-info.js";
import { ApiError, InvalidInputError } from "../../lib/errors.js";
import { onFirstUse } from "../../lib/lazy.js";
import type { BrokerCluster, BrokerConnection } from "./api.js";
import { normalizeBrokerServer } from "./server-url.js";

/** The broker's REST client and the kubeconfig parser, loaded with the first call. */
const api = onFirstUse(async () => import("./api.js"));
const kubeconfigs = onFirstUse(async () => import("../../kube/kubeconfig.js"));
/** Where a broker token is found when none is given (the environment, `kubeiam broker login`'s file). */
const savedTokens = onFirstUse(async () => import("./credentials.js"));

/** Options of {@link createBrokerProvider}. */
export interface BrokerProviderOptions {
  /** The broker's URL (`https://broker.example:8750`). */
  server: string;
  /** The broker token (`kbi_…`); `KUBEIAM_BROKER_TOKEN`, then `kubeiam broker login`'s file, when absent. */
  token?: string;
  /** PEM of a private CA that signed the broker's certificate. */
  ca?: string;
  /** Milliseconds for each call to the broker; 15 000 by default. */
  timeoutMs?: number;
}

const CLOUDS: readonly CloudName[] = ["ncp", "aws", "gcp"];
const STATUSES: readonly ClusterStatus[] = ["Creating", "Active", "Inactive", "Updating", "Deleting"];

function toClusterInfo(server: string, c: BrokerCluster): ClusterInfo {
  const cloud = CLOUDS.find((x) => x === c.provider);
  if (cloud === undefined) {
    throw new ApiError(`broker ${server} lists cluster ${JSON.stringify(c.name)} on provider ${JSON.stringify(c.provider)}, which this kubeiam does not know: update kubeiam`, { status: 200 });
  }
  const raw = c.status ?? "";
  const status = STATUSES.find((s) => s.toLowerCase() === raw.toLowerCase()) ?? "Unknown";
  return {
    cloud,
    name: c.name,
    // Through a broker the cluster is known by its broker name; the cloud's own id stays on the server.
    id: c.name,
    region: c.region,
    status,
    rawStatus: raw,
    network: { subnetIds: [], securityGroupIds: [] },
    nodeGroups: [],
    access: { endpoint: c.endpoint },
    ref: { cloud: "broker", server, name: c.name },
  };
}

/**
 * The clusters a broker grants the caller, as a {@link ClusterProvider}. `getCluster` takes the
 * broker's cluster name and returns the endpoint, CA and kubeconfig; `mintToken` asks the broker for
 * a token (each answer is audited on the broker). Errors: `BrokerRefusal` (code `ERR_BROKER`) when
 * the broker says no (`status` 401 bad token, 403 no grant, 404 unknown cluster, …), `ApiError` for
 * an answer that is not the broker's, `NetworkError` when the broker is unreachable.
 *
 * @example
 * ```ts
 * import { CoreV1Api } from "@kubernetes/client-node";
 * const broker = createBrokerProvider({ server: "https://broker.example:8750", token: process.env.KUBEIAM_BROKER_TOKEN });
 * const kc = await kubeConfigFor(broker, await broker.getCluster("prod-kr"));
 * const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "default" });
 * ```
 */
export function createBrokerProvider(options: BrokerProviderOptions): ClusterProvider & { readonly server: string } {
  const server = normalizeBrokerServer(options.server);
  let token = options.token;
  // The agent, and node:http or node:https with it, are made on the first call, not with the provider;
  // the promise is kept (not the agent) so that calls made at once share one pool.
  let agent: Promise<HttpAgent | HttpsAgent> | undefined;
  const conn = async (): Promise<BrokerConnection> => {
    token ??= await (await savedTokens()).resolveBrokerToken(server, process.env);
    // Behind a proxy, the plugin's routing (env, one tunnel per call); else one keep-alive agent.
    const routed = brokerProxyUrlFor(new URL(server), process.env) !== undefined;
    const pool = routed
      ? undefined
      : (agent ??= server.startsWith("https:")
          ? import("node:https").then(({ Agent }) => new Agent({ keepAlive: true }))
          : import("node:http").then(({ Agent }) => new Agent({ keepAlive: true })));
    return {
      server,
      token,
      ...(pool === undefined ? { env: process.env } : { agent: await pool }),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    };
  };
  return {
    cloud: "broker",
    server,
    listClusters: async () => (await (await api()).listBrokerClusters(await conn())).map((c) => toClusterInfo(server, c)),
    getCluster: async (name: string, opts?: { mode?: KubeconfigMode }) => {
      const mode = opts?.mode ?? "exec";
      const c = await conn();
      const { listBrokerClusters, fetchBrokerKubeconfig } = await api();
      const [list, text] = await Promise.all([listBrokerClusters(c), fetchBrokerKubeconfig(c, name, mode)]);
      const listed = list.find((c) => c.name === name);
      if (listed === undefined) {
        throw new ApiError(`broker ${server} does not list cluster ${JSON.stringify(name)} among yours: 'kubeiam broker clusters --server ${server}' lists them`, { status: 404 });
      }
      const kubeconfig = (await kubeconfigs()).parseKubeconfig(text);
      const contextName = kubeconfig.currentContext;
      const clusterName = kubeconfig.contexts.find((c) => c.name === contextName)?.context.cluster ?? kubeconfig.clusters[0]?.name;
      const entry = kubeconfig.clusters.find((c) => c.name === clusterName);
      if (entry === undefined) {
        throw new ApiError(`broker ${server} answered a kubeconfig for ${JSON.stringify(name)} without a cluster entry: update the broker`, { status: 200 });
      }
      const info = toClusterInfo(server, listed);
      const ca = entry.cluster.certificateAuthorityData;
      info.access = {
        endpoint: entry.cluster.server,
        ...(ca === undefined ? {} : { certificateAuthorityData: Buffer.from(ca, "base64").toString("utf8") }),
        kubeconfig: text,
        mode,
      };
      return info;
    },
    mintToken: async (ref: ClusterRef) => {
      if (ref.cloud !== "broker") throw new InvalidInputError("cluster", `a broker provider mints for the broker's clusters (a ClusterInfo's ref from its listClusters or getCluster), not for a cluster of ${ref.cloud}`);
      const t = await (await api()).fetchBrokerToken(await conn(), ref.name);
      // The broker announces when to come back (its expirationTimestamp, the margin already taken);
      // the token's real end is not on the wire, so that moment stands for both.
      return { token: t.token, expiresAt: t.expiresAt, refreshAt: t.expiresAt };
    },
  };
}
