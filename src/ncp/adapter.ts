/**
 * NCP NKS as a {@link CloudAdapter}: the four operations of src/contract.ts over this folder's
 * credential lookup, token, API client and kubeconfig builder (src/ncp/kubeconfig.ts, loaded by
 * kubeconfigEntries, the first call that needs it).
 */
import type { CloudAdapter, CloudTypes } from "../contract.js";
import { ClusterStateError } from "../lib/errors.js";
import type { HttpOptions } from "../lib/http.js";
import { toEpochMs } from "../lib/time.js";
import { assertNcpClusterReady, describeNcpCluster, getNcpCluster, listNcpClusters, type NcpClusterDescription } from "./cluster.js";
import { resolveNcpCredentials, type NcpCredentials, type ResolveNcpCredentialsOptions } from "./credentials.js";
import type { NcpKubeconfigOptions } from "./kubeconfig.js";
import { parseNcpRegion } from "./region.js";
import { createNcpSigner } from "./sign.js";
import { mintNcpToken, parseNcpTokenTarget } from "./token.js";

/** How the NKS adapter reaches the API: HTTP options, and the clock that signs requests. */
export interface NcpApiOptions extends Omit<HttpOptions, "service"> {
  /** The clock used to sign requests; `Date.now` by default. */
  now?: () => number;
}

/** The types NKS plugs into the contract. */
export interface NcpCloudTypes extends CloudTypes {
  credentials: NcpCredentials;
  credentialOptions: ResolveNcpCredentialsOptions;
  scope: { region: string };
  clusterRef: { region: string; clusterUuid: string };
  cluster: NcpClusterDescription;
  kubeconfigOptions: Omit<NcpKubeconfigOptions, "mode">;
  api: NcpApiOptions;
}

/**
 * NCP NKS's implementation of the cloud contract.
 *
 * @example
 * ```ts
 * const credentials = await ncpAdapter.resolveCredentials({});
 * const { token, expiresAt } = await ncpAdapter.mintToken({ credentials, cluster: { region: "KR", clusterUuid } });
 * ```
 */
export const ncpAdapter: CloudAdapter<NcpCloudTypes> = {
  cloud: "ncp",
  async resolveCredentials(options) {
    return resolveNcpCredentials(options);
  },
  async mintToken({ credentials, cluster, now }) {
    return mintNcpToken({ signer: createNcpSigner(credentials), cluster: parseNcpTokenTarget(cluster), ...(now === undefined ? {} : { now }) });
  },
  async describeCluster({ credentials, cluster, api }) {
    return describeNcpCluster({ ...api, credentials, region: cluster.region, clusterUuid: cluster.clusterUuid });
  },
  async getCluster({ credentials, cluster, kubeconfig, api, now }) {
    const clock = api?.now ?? (now === undefined ? undefined : () => toEpochMs(now));
    return getNcpCluster({
      ...api,
      ...(clock === undefined ? {} : { now: clock }),
      credentials,
      region: cluster.region,
      clusterUuid: cluster.clusterUuid,
      ...(kubeconfig === undefined ? {} : { kubeconfig }),
    });
  },
  async listClusters({ credentials, scope, api }) {
    return listNcpClusters({ ...api, credentials, region: scope.region });
  },
  async kubeconfigEntries({ credentials, cluster: described, kubeconfig, now }) {
    const { cluster } = described;
    const region = parseNcpRegion(described.region);
    assertNcpClusterReady(cluster, region);
    if (described.baseKubeconfig === undefined) {
      throw new ClusterStateError(`cluster ${cluster.name} (${cluster.uuid}) in region ${region.code || "KR"} has no kubeconfig yet: try again when its status is RUNNING`);
    }
    const { ncpKubeconfigEntries } = await import("./kubeconfig.js");
    return ncpKubeconfigEntries({ cluster, baseKubeconfig: described.baseKubeconfig, region, options: kubeconfig ?? {}, credentials, now: toEpochMs(now) });
  },
};
