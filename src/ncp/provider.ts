/**
 * The NKS clusters of one region as a {@link ClusterProvider}, on top of {@link ncpAdapter}.
 */
import type { ClusterInfo, ClusterProvider, KubeconfigMode } from "../cluster-info.js";
import type { HttpOptions } from "../lib/http.js";
import { ncpAdapter } from "./adapter.js";
import type { NcpKubeconfigOptions } from "./cluster.js";
import type { NcpCredentials } from "./credentials.js";

/** Options of {@link createNcpProvider}. */
export interface NcpProviderOptions extends Omit<HttpOptions, "service"> {
  region: string;
  /** API key and gateway; found per docs/formats.md §4 (environment, then ~/.ncloud/configure) when absent. */
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
  const { region, credentials: given, kubeconfig, now: clock, ...http } = options;
  const now = clock ?? Date.now;
  const api = { ...http, now };
  let credentials = given;
  const creds = async (): Promise<NcpCredentials> => (credentials ??= await ncpAdapter.resolveCredentials({}));
  return {
    cloud: "ncp",
    listClusters: async () => ncpAdapter.listClusters({ credentials: await creds(), scope: { region }, api }),
    getCluster: async (id: string, opts?: { mode?: KubeconfigMode }) =>
      ncpAdapter.getCluster({
        credentials: await creds(),
        cluster: { region, clusterUuid: id },
        kubeconfig: { ...kubeconfig, ...(opts?.mode === undefined ? {} : { mode: opts.mode }) },
        api,
      }),
    mintToken: async (cluster: ClusterInfo) =>
      ncpAdapter.mintToken({ credentials: await creds(), cluster: { clusterUuid: cluster.id, region: cluster.region || region }, now: now() }),
  };
}
