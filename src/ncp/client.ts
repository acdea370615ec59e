/**
 * A `@kubernetes/client-node` KubeConfig for one NKS cluster: the cloud-neutral self-refreshing
 * config of src/kube/client.ts, with the NKS token as its minter.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { HttpOptions } from "../lib/http.js";
import { selfRefreshingKubeConfig, type TokenCache } from "../kube/client.js";
import { createNcpApiClient } from "./api.js";
import { ncpBaseCluster } from "./cluster.js";
import { resolveNcpCredentials, type NcpCredentials } from "./credentials.js";
import { normalizeNcpRegion } from "./region.js";
import { checkClusterUuid, mintNcpToken } from "./token.js";

/** Options of {@link ncpKubeConfig}. */
export interface NcpKubeConfigOptions extends Omit<HttpOptions, "service"> {
  clusterUuid: string;
  region: string;
  /** API key; found per docs/formats.md §4 (environment, then ~/.ncloud/configure) when absent. */
  credentials?: NcpCredentials;
  /**
   * The cluster's endpoint and CA, when known; otherwise they are fetched once from the NKS API
   * (`GET …/clusters/{uuid}/kubeconfig`).
   */
  cluster?: { server: string; caData?: string };
  /** The clock, for minting and for expiry; `Date.now` by default. */
  now?: () => number;
  /** Replace the token this long before it expires; 60 s by default. */
  refreshMarginMs?: number;
}

/**
 * A `@kubernetes/client-node` `KubeConfig` for one NKS cluster that mints `k8s-ncp-v1` tokens
 * in-process (no child process) and renews them before their 15 minutes run out.
 *
 * @example
 * ```ts
 * import { CoreV1Api } from "@kubernetes/client-node";
 * const kc = await ncpKubeConfig({ clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", region: "KR" });
 * const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "default" });
 * ```
 */
export async function ncpKubeConfig(options: NcpKubeConfigOptions): Promise<KubeConfig & { readonly tokenCache: TokenCache }> {
  const clusterUuid = checkClusterUuid(options.clusterUuid);
  const region = normalizeNcpRegion(options.region);
  const credentials = options.credentials ?? (await resolveNcpCredentials());
  const now = options.now ?? Date.now;
  let cluster = options.cluster;
  if (cluster === undefined) {
    const { clusterUuid: _u, region: _r, credentials: _c, cluster: _k, now: _n, refreshMarginMs: _m, ...http } = options;
    const api = createNcpApiClient({ ...http, credentials, region, now });
    const base = ncpBaseCluster(await api.getKubeconfig(clusterUuid), clusterUuid);
    cluster = { server: base.server, ...(base.certificateAuthorityData === undefined ? {} : { caData: base.certificateAuthorityData }) };
  }
  return selfRefreshingKubeConfig({
    cluster: { name: `nks_${region.toLowerCase()}_${clusterUuid}`, ...cluster },
    mintToken: () => mintNcpToken({ accessKey: credentials.accessKey, secretKey: credentials.secretKey, clusterUuid, region, now: now() }),
    now,
    ...(options.refreshMarginMs === undefined ? {} : { refreshMarginMs: options.refreshMarginMs }),
  });
}
