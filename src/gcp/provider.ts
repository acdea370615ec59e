/**
 * The GKE clusters of one project and location as a {@link ClusterProvider}, on top of {@link gkeAdapter}.
 */
import type { ClusterProvider, ClusterRef, KubeconfigMode } from "../cluster-info.js";
import { InvalidInputError } from "../lib/errors.js";
import type { HttpOptions } from "../lib/http.js";
import type { GkeAdapterApiOptions } from "./adapter.js";
import type { GkeKubeconfigOptions } from "./cluster.js";
import { onFirstUse } from "../lib/lazy.js";
import { GKE_DEFAULT_SCOPES, mintGkeToken, type GkeCredentials, type GkeToken } from "./token.js";

/** Options of {@link createGkeProvider}. */
export interface GkeProviderOptions extends Omit<HttpOptions, "service"> {
  project: string;
  /** A region or zone, or `-` for every location of the project. */
  location: string;
  /** The credentials; resolved as `kubeiam gke token` does (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC, metadata) when absent. */
  credentials?: GkeCredentials;
  /** The container API base URL; Google's by default. */
  apiUrl?: string;
  /**
   * A service account to act as: every token (and so every API call) is that account's, from IAM
   * Credentials generateAccessToken with the credentials' own token. `apiUrl` is IAM Credentials'.
   */
  impersonate?: { serviceAccount: string; apiUrl?: string };
  /** How `getCluster` builds kubeconfigs (name, credentials file, exec command, …). */
  kubeconfig?: Omit<GkeKubeconfigOptions, "mode">;
  /** The clock; `Date.now` by default. */
  now?: () => number;
}

/** The container API side (ADC, clusters.get, kubeconfigs), loaded with the first call that needs it. */
const adapter = onFirstUse(async () => (await import("./adapter.js")).gkeAdapter);
/** IAM Credentials, loaded when a provider first acts as another service account. */
const impersonation = onFirstUse(async () => import("./impersonate.js"));

/**
 * The GKE clusters of one project and location as a {@link ClusterProvider}. One access token serves
 * both the container API and the clusters; it is kept in memory until its `refreshAt` (a minute before it expires).
 *
 * @example
 * ```ts
 * const gke = createGkeProvider({ project: "my-project", location: "europe-west1" });
 * const cluster = await gke.getCluster("prod");
 * ```
 */
export function createGkeProvider(options: GkeProviderOptions): ClusterProvider {
  const { project, location, credentials: given, apiUrl, impersonate, kubeconfig, now: clock, ...http } = options;
  const now = clock ?? Date.now;
  let credentials = given;
  let current: GkeToken | undefined;
  let pending: Promise<GkeToken> | undefined;
  const creds = async (): Promise<GkeCredentials> => (credentials ??= await (await adapter()).resolveCredentials({ env: process.env }));
  const token = async (): Promise<GkeToken> => {
    if (current !== undefined && now() < current.refreshAt.getTime()) return current;
    pending ??= creds()
      .then(async (c) => {
        const own = await mintGkeToken({ credentials: c, now: now(), http });
        if (impersonate === undefined) return own;
        // The held key's token lives an hour and is asked again only when the impersonated one is
        // renewed, under the same one-refresh-in-flight.
        return (await impersonation()).generateServiceAccountToken({
          accessToken: own.token,
          caller: c.kind === "serviceAccount" ? c.key.clientEmail : "the held credentials",
          serviceAccount: impersonate.serviceAccount,
          // As gke-gcloud-auth-plugin asks: cloud-platform, and the e-mail GKE's RBAC names users by.
          scopes: GKE_DEFAULT_SCOPES,
          apiUrl: impersonate.apiUrl,
          now: now(),
          http,
        });
      })
      .finally(() => {
        pending = undefined;
      });
    current = await pending;
    return current;
  };
  const api = async (): Promise<GkeAdapterApiOptions> => ({ ...http, accessToken: await token(), ...(apiUrl === undefined ? {} : { apiUrl }) });
  return {
    cloud: "gcp",
    listClusters: async () => (await adapter()).listClusters({ credentials: await creds(), scope: { project, location }, api: await api() }),
    getCluster: async (id: string, opts?: { mode?: KubeconfigMode }) => {
      if (location === "-") {
        throw new InvalidInputError("location", "getCluster needs a GKE provider made for one location, not '-': pass the cluster's region or zone");
      }
      return (await adapter()).getCluster({
        credentials: await creds(),
        cluster: { project, location, cluster: id },
        kubeconfig: { ...kubeconfig, ...(opts?.mode === undefined ? {} : { mode: opts.mode }) },
        api: await api(),
      });
    },
    // A GKE access token is the identity's, good for every cluster it may reach: the reference is only checked.
    mintToken: async (ref: ClusterRef) => {
      if (ref.cloud !== "gcp") throw new InvalidInputError("cluster", `a GKE provider mints for GKE clusters, not for a cluster of ${ref.cloud}: use that cloud's provider`);
      return token();
    },
  };
}
