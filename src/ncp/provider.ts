/**
 * The NKS clusters of one region as a {@link ClusterProvider}, on top of {@link ncpAdapter}.
 */
import type { ClusterProvider, ClusterRef, KubeconfigMode } from "../cluster-info.js";
import { InvalidInputError } from "../lib/errors.js";
import type { HttpOptions } from "../lib/http.js";
import { onFirstUse } from "../lib/lazy.js";
import { createNcpSigner, type NcpSigner } from "./sign.js";
import { mintNcpToken, parseNcpTokenTarget, type NcpTokenTarget } from "./token.js";
import type { NcpKubeconfigOptions } from "./kubeconfig.js";
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

/** The NKS API side (cluster look-ups, kubeconfigs, credential files), loaded with the first call that needs it. */
const adapter = onFirstUse(async () => (await import("./adapter.js")).ncpAdapter);

/** How many parsed clusters a provider keeps for minting before starting over. */
const MAX_PARSED = 1000;

/**
 * The NKS clusters of one region as a {@link ClusterProvider}. It holds its key's signer (made once)
 * and each cluster it mints for, parsed once, so that a mint is an HMAC and a few concatenations.
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
  const creds = async (): Promise<NcpCredentials> => (credentials ??= await (await adapter()).resolveCredentials({}));
  let signer: NcpSigner | undefined;
  const parsed = new Map<string, NcpTokenTarget>();
  const target = (ref: ClusterRef): NcpTokenTarget => {
    if (ref.cloud !== "ncp") throw new InvalidInputError("cluster", `an NKS provider mints for NKS clusters, not for a cluster of ${ref.cloud}: use that cloud's provider`);
    const key = `${ref.region}\n${ref.clusterUuid}`;
    let hit = parsed.get(key);
    if (hit === undefined) {
      hit = parseNcpTokenTarget(ref);
      if (parsed.size >= MAX_PARSED) parsed.clear();
      parsed.set(key, hit);
    }
    return hit;
  };
  return {
    cloud: "ncp",
    listClusters: async () => (await adapter()).listClusters({ credentials: await creds(), scope: { region }, api }),
    getCluster: async (id: string, opts?: { mode?: KubeconfigMode }) =>
      (await adapter()).getCluster({
        credentials: await creds(),
        cluster: { region, clusterUuid: id },
        kubeconfig: { ...kubeconfig, ...(opts?.mode === undefined ? {} : { mode: opts.mode }) },
        api,
      }),
    mintToken: async (ref: ClusterRef) => {
      const cluster = target(ref);
      signer ??= createNcpSigner(await creds());
      return mintNcpToken({ signer, cluster, now: now() });
    },
  };
}
