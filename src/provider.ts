/**
 * One interface for a multi-cloud fleet: a {@link ClusterProvider} for NCP NKS, AWS EKS and GCP GKE,
 * and {@link kubeConfigFor}, a self-refreshing `@kubernetes/client-node` KubeConfig for any cluster
 * any of them returns. Each cloud's SDK loads only when its provider is used.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { ClusterInfo, ClusterProvider, KubeconfigMode } from "./cluster-info.js";
import { InvalidInputError, KubeconfigError } from "./lib/errors.js";
import type { HttpOptions } from "./lib/http.js";
import { selfRefreshingKubeConfig, type TokenCache } from "./kube/client.js";
import { getNcpCluster, listNcpClusters, type NcpKubeconfigOptions } from "./ncp/cluster.js";
import { resolveNcpCredentials, type NcpCredentials } from "./ncp/credentials.js";
import { mintNcpToken } from "./ncp/token.js";
import { resolveAwsCredentials } from "./aws/credentials.js";
import { getEksCluster, listEksClusters, type EksKubeconfigOptions } from "./aws/cluster.js";
import { mintEksToken, type AwsCredentials } from "./aws/token.js";
import { getGkeCluster, listGkeClustersRaw, gkeClusterInfo, gkeServerUrl, type GkeApiOptions, type GkeKubeconfigOptions } from "./gcp/cluster.js";
import { mintGkeToken, type GkeCredentials, type GkeToken } from "./gcp/token.js";
import { resolveGkeCredentials } from "./gcp/credentials.js";

/** Options of {@link createNcpProvider}. */
export interface NcpProviderOptions extends Omit<HttpOptions, "service"> {
  region: string;
  /** API key and gateway; found per SPEC section 3 (environment, then ~/.ncloud/configure) when absent. */
  credentials?: NcpCredentials;
  /** How `getCluster` builds kubeconfigs (names, exec command, …); `mode` comes from its own option. */
  kubeconfig?: Omit<NcpKubeconfigOptions, "mode">;
  /** The clock; `Date.now` by default. */
  now?: () => number;
}

/**
 * The NKS clusters of one region as a {@link ClusterProvider}.
 *
 * @example
 * ```ts
 * const nks = createNcpProvider({ region: "KR" });
 * for (const c of await nks.listClusters()) console.log(c.name, c.status);
 * ```
 */
export function createNcpProvider(options: NcpProviderOptions): ClusterProvider {
  const { kubeconfig, ...query } = options;
  let credentials = options.credentials;
  const creds = (): NcpCredentials => (credentials ??= resolveNcpCredentials());
  const now = options.now ?? Date.now;
  return {
    cloud: "ncp",
    listClusters: () => listNcpClusters({ ...query, credentials: creds() }),
    getCluster: (id: string, opts?: { mode?: KubeconfigMode }) =>
      getNcpCluster({ ...query, credentials: creds(), clusterUuid: id, kubeconfig: { ...kubeconfig, ...(opts?.mode === undefined ? {} : { mode: opts.mode }) } }),
    mintToken: async (cluster: ClusterInfo) => {
      const c = creds();
      return mintNcpToken({ accessKey: c.accessKey, secretKey: c.secretKey, clusterUuid: cluster.id, region: cluster.region || options.region, now: now() });
    },
  };
}

/** Options of {@link createEksProvider}. */
export interface EksProviderOptions {
  region: string;
  /** Fixed credentials, or a function that returns fresh ones; the AWS default chain when absent. */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
  /** A profile for the default chain. */
  profile?: string;
  /** A role to assume first. */
  roleArn?: string;
  /** The EKS API endpoint; `AWS_ENDPOINT_URL_EKS` works as well. */
  endpoint?: string;
  /** How `getCluster` builds kubeconfigs (aliases, profile, exec command, …). */
  kubeconfig?: Omit<EksKubeconfigOptions, "mode">;
  /** The clock; `Date.now` by default. */
  now?: () => number;
}

/** Renew a GKE access token this long before it expires. */
const TOKEN_MARGIN_MS = 60 * 1000;

/** Renew chain credentials this long before they expire. */
const CREDENTIALS_MARGIN_MS = 5 * 60 * 1000;

/**
 * The EKS clusters of one region as a {@link ClusterProvider}.
 *
 * @example
 * ```ts
 * const eks = createEksProvider({ region: "us-east-1", profile: "prod" });
 * const cluster = await eks.getCluster("prod-eks");
 * ```
 */
export function createEksProvider(options: EksProviderOptions): ClusterProvider {
  const now = options.now ?? Date.now;
  let cached: AwsCredentials | undefined;
  const creds = async (): Promise<AwsCredentials> => {
    const given = options.credentials;
    if (given !== undefined) return typeof given === "function" ? given() : given;
    if (cached === undefined || (cached.expiration !== undefined && cached.expiration.getTime() - CREDENTIALS_MARGIN_MS <= now())) {
      cached = (
        await resolveAwsCredentials({
          region: options.region,
          ...(options.profile === undefined ? {} : { profile: options.profile }),
          ...(options.roleArn === undefined ? {} : { roleArn: options.roleArn }),
          now: now(),
        })
      ).credentials;
    }
    return cached;
  };
  return {
    cloud: "aws",
    listClusters: async () => listEksClusters({ region: options.region, credentials: await creds(), endpoint: options.endpoint }),
    getCluster: async (id: string, opts?: { mode?: KubeconfigMode }) =>
      getEksCluster({
        region: options.region,
        credentials: await creds(),
        endpoint: options.endpoint,
        name: id,
        kubeconfig: { ...options.kubeconfig, ...(opts?.mode === undefined ? {} : { mode: opts.mode }) },
        now: now(),
      }),
    mintToken: async (cluster: ClusterInfo) =>
      mintEksToken({ credentials: await creds(), clusterName: cluster.name, region: cluster.region || options.region, now: now() }),
  };
}

/** Options of {@link createGkeProvider}. */
export interface GkeProviderOptions extends Omit<HttpOptions, "service"> {
  project: string;
  /** A region or zone, or `-` for every location of the project. */
  location: string;
  /** The credentials; resolved as `kubeiam gke token` does (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC, metadata) when absent. */
  credentials?: GkeCredentials;
  /** The container API base URL; Google's by default. */
  apiUrl?: string;
  /** How `getCluster` builds kubeconfigs (name, credentials file, exec command, …). */
  kubeconfig?: Omit<GkeKubeconfigOptions, "mode">;
  /** The clock; `Date.now` by default. */
  now?: () => number;
}

/**
 * The GKE clusters of one project and location as a {@link ClusterProvider}. One access token serves
 * both the container API and the clusters; it is kept in memory until a minute before it expires.
 *
 * @example
 * ```ts
 * const gke = createGkeProvider({ project: "my-project", location: "europe-west1" });
 * const cluster = await gke.getCluster("prod");
 * ```
 */
export function createGkeProvider(options: GkeProviderOptions): ClusterProvider {
  const { project, location, credentials: given, apiUrl, kubeconfig, now: clock, ...http } = options;
  const now = clock ?? Date.now;
  let credentials = given;
  let current: GkeToken | undefined;
  let pending: Promise<GkeToken> | undefined;
  const token = async (): Promise<GkeToken> => {
    if (current !== undefined && now() < current.expiresAt.getTime() - TOKEN_MARGIN_MS) return current;
    pending ??= mintGkeToken({ credentials: (credentials ??= resolveGkeCredentials({ env: process.env })), now: now(), http }).finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current;
  };
  const api = async (): Promise<GkeApiOptions> => ({ ...http, accessToken: (await token()).token, ...(apiUrl === undefined ? {} : { apiUrl }) });
  return {
    cloud: "gcp",
    listClusters: async () => {
      const clusters = await listGkeClustersRaw({ ...(await api()), project, location });
      return clusters.map((c) => gkeClusterInfo(c, { endpoint: c.endpoint === undefined ? "" : gkeServerUrl(c.endpoint) }));
    },
    getCluster: async (id: string, opts?: { mode?: KubeconfigMode }) => {
      if (location === "-") {
        throw new InvalidInputError("location", "getCluster needs a GKE provider made for one location, not '-': pass the cluster's region or zone");
      }
      const a = await api();
      return getGkeCluster({
        ...a,
        project,
        location,
        cluster: id,
        kubeconfig: { ...kubeconfig, ...(opts?.mode === undefined ? {} : { mode: opts.mode }) },
        ...(current === undefined ? {} : { tokenExpiresAt: current.expiresAt }),
      });
    },
    mintToken: async () => token(),
  };
}

/**
 * A `@kubernetes/client-node` KubeConfig for one cluster of any provider, whose bearer token comes
 * from `provider.mintToken` and is renewed before it expires. When `cluster` lacks its CA (a listing),
 * it is fetched once with `provider.getCluster`.
 *
 * @example
 * ```ts
 * import { CoreV1Api } from "@kubernetes/client-node";
 * const eks = createEksProvider({ region: "us-east-1" });
 * const kc = await kubeConfigFor(eks, await eks.getCluster("prod-eks"));
 * const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "default" });
 * ```
 */
export async function kubeConfigFor(
  provider: ClusterProvider,
  cluster: ClusterInfo,
  options: { now?: () => number; refreshMarginMs?: number } = {},
): Promise<KubeConfig & { readonly tokenCache: TokenCache }> {
  let target = cluster;
  if (target.access.endpoint === "" || target.access.certificateAuthorityData === undefined) {
    // NKS names clusters by UUID; EKS and GKE by name.
    target = await provider.getCluster(cluster.cloud === "ncp" ? cluster.id : cluster.name);
  }
  if (target.access.endpoint === "") {
    throw new KubeconfigError(`cluster ${target.name} has no API endpoint yet: try again when it is running`);
  }
  const ca = target.access.certificateAuthorityData;
  return selfRefreshingKubeConfig({
    cluster: {
      name: `${target.cloud}_${target.region}_${target.name}`,
      server: target.access.endpoint,
      ...(ca === undefined ? {} : { caData: Buffer.from(ca, "utf8").toString("base64") }),
    },
    mintToken: () => provider.mintToken(target),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.refreshMarginMs === undefined ? {} : { refreshMarginMs: options.refreshMarginMs }),
  });
}
