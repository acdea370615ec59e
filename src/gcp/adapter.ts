/**
 * GCP GKE as a {@link CloudAdapter}: the four operations of src/contract.ts over this folder's
 * credential lookup, access token, container API client and kubeconfig builder. One access token
 * serves both the container API and the clusters; pass one in `api.accessToken` to reuse it.
 */
import type { CloudAdapter, CloudTypes } from "../contract.js";
import type { HttpOptions } from "../lib/http.js";
import type { TimeInput } from "../lib/time.js";
import { assertGkeClusterReady, getGkeCluster, getGkeClusterRaw, gkeKubeconfigEntries, listGkeClusters, type GkeCluster, type GkeKubeconfigOptions } from "./cluster.js";
import { resolveGkeCredentials } from "./credentials.js";
import { mintGkeToken, type GkeCredentials, type GkeToken } from "./token.js";

/** How the GKE adapter reaches Google: HTTP options, the container API's URL, and a token to reuse. */
export interface GkeAdapterApiOptions extends Omit<HttpOptions, "service"> {
  /** The container API base URL; Google's by default. */
  apiUrl?: string | undefined;
  /** An access token already minted for these credentials (a cache hit); a new one is minted when absent. */
  accessToken?: GkeToken | undefined;
}

/** The types GKE plugs into the contract. */
export interface GkeCloudTypes extends CloudTypes {
  credentials: GkeCredentials;
  credentialOptions: { file?: string | undefined; env: Record<string, string | undefined> };
  scope: { project: string; location: string };
  clusterRef: { project: string; location: string; cluster: string };
  cluster: GkeCluster;
  kubeconfigOptions: Omit<GkeKubeconfigOptions, "mode">;
  api: GkeAdapterApiOptions;
}

async function accessToken(credentials: GkeCredentials, api: GkeAdapterApiOptions | undefined, now?: TimeInput): Promise<GkeToken> {
  if (api?.accessToken !== undefined) return api.accessToken;
  const { apiUrl: _u, accessToken: _t, ...http } = api ?? {};
  return mintGkeToken({ credentials, http, ...(now === undefined ? {} : { now }) });
}

function apiOptions(api: GkeAdapterApiOptions | undefined, token: GkeToken): Omit<HttpOptions, "service"> & { accessToken: string; apiUrl?: string } {
  const { apiUrl, accessToken: _t, ...http } = api ?? {};
  return { ...http, accessToken: token.token, ...(apiUrl === undefined ? {} : { apiUrl }) };
}

/**
 * GCP GKE's implementation of the cloud contract. google-auth-library loads only for credentials
 * other than a service-account key.
 *
 * @example
 * ```ts
 * const credentials = await gkeAdapter.resolveCredentials({ env: process.env });
 * const clusters = await gkeAdapter.listClusters({ credentials, scope: { project: "my-project", location: "-" } });
 * ```
 */
export const gkeAdapter: CloudAdapter<GkeCloudTypes> = {
  cloud: "gcp",
  async resolveCredentials(options) {
    return resolveGkeCredentials(options);
  },
  async mintToken({ credentials, api, now }) {
    // A GKE access token is the identity's, good for every cluster it may reach.
    return accessToken(credentials, api, now);
  },
  async describeCluster({ credentials, cluster, api }) {
    const token = await accessToken(credentials, api);
    return getGkeClusterRaw({ ...apiOptions(api, token), ...cluster });
  },
  async getCluster({ credentials, cluster, kubeconfig, api, now }) {
    const token = await accessToken(credentials, api, now);
    return getGkeCluster({
      ...apiOptions(api, token),
      ...cluster,
      ...(kubeconfig === undefined ? {} : { kubeconfig }),
      tokenExpiresAt: token.expiresAt,
      tokenRefreshAt: token.refreshAt,
    });
  },
  async listClusters({ credentials, scope, api }) {
    const token = await accessToken(credentials, api);
    return listGkeClusters({ ...apiOptions(api, token), ...scope });
  },
  async kubeconfigEntries({ credentials, cluster, kubeconfig, now, api }) {
    if ((kubeconfig?.mode ?? "exec") === "exec") return { entries: gkeKubeconfigEntries({ cluster, options: kubeconfig ?? {} }) };
    assertGkeClusterReady(cluster); // before minting a token for nothing
    const token = await accessToken(credentials, api, now);
    return { entries: gkeKubeconfigEntries({ cluster, options: kubeconfig ?? {}, token: token.token }), tokenExpiresAt: token.expiresAt, tokenRefreshAt: token.refreshAt };
  },
};
