/**
 * A `@kubernetes/client-node` KubeConfig for one NKS cluster: the cloud-neutral self-refreshing
 * config of src/kube/client.ts, with the NKS token as its minter. That module and the kubeconfig
 * parser load with the first call, not with kubeiam/ncp.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { HttpOptions } from "../lib/http.js";
import type { TokenCache } from "../kube/client.js";
import { createNcpApiClient } from "./api.js";
import { resolveNcpCredentials, type NcpCredentials } from "./credentials.js";
import { createNcpSigner } from "./sign.js";
import { mintNcpToken, parseNcpTokenTarget } from "./token.js";

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
}

/**
 * A `@kubernetes/client-node` `KubeConfig` for one NKS cluster that mints `k8s-ncp-v1` tokens
 * in-process (no child process) and renews them at their `refreshAt`, 4 of their 5 minutes on.
 *
 * @example
 * ```ts
 * import { CoreV1Api } from "@kubernetes/client-node";
 * const kc = await ncpKubeConfig({ clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", region: "KR" });
 * const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "default" });
 * ```
 */
export async function ncpKubeConfig(options: NcpKubeConfigOptions): Promise<KubeConfig & { readonly tokenCache: TokenCache }> {
  // Parsed and checked once, here; each refresh only signs.
  const target = parseNcpTokenTarget(options);
  const { clusterUuid } = target;
  const region = target.region.code;
  const credentials = options.credentials ?? (await resolveNcpCredentials());
  const signer = createNcpSigner(credentials);
  const now = options.now ?? Date.now;
  let cluster = options.cluster;
  if (cluster === undefined) {
    const { clusterUuid: _u, region: _r, credentials: _c, cluster: _k, now: _n, ...http } = options;
    const api = createNcpApiClient({ ...http, credentials, region, now });
    const text = await api.getKubeconfig(clusterUuid);
    const { ncpBaseCluster } = await import("./kubeconfig.js");
    const base = ncpBaseCluster(text, clusterUuid);
    cluster = { server: base.server, ...(base.certificateAuthorityData === undefined ? {} : { caData: base.certificateAuthorityData }) };
  }
  const { selfRefreshingKubeConfig } = await import("../kube/client.js");
  return selfRefreshingKubeConfig({
    cluster: { name: `nks_${region.toLowerCase()}_${clusterUuid}`, ...cluster },
    mintToken: () => mintNcpToken({ signer, cluster: target, now: now() }),
    now,
  });
}
