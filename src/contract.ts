/**
 * The contract every cloud implements: the same four operations, with the same names and shapes, on
 * NCP NKS (src/ncp/adapter.ts), AWS EKS (src/aws/adapter.ts) and GCP GKE (src/gcp/adapter.ts):
 *
 * 1. `resolveCredentials`: find credentials where the cloud's own tools look (environment, files,
 *    metadata); never prompt.
 * 2. `mintToken`: a bearer token for one cluster, `{ token, expiresAt, refreshAt }`: when it really
 *    stops working, and when to replace it (a minute before, `refreshAtFor` in src/kube/exec-credential.ts).
 * 3. `describeCluster`, `getCluster`, `listClusters`: the cloud's own description of a cluster, and
 *    clusters as the shared {@link ClusterInfo}.
 * 4. `kubeconfigEntries`: the cluster, user and context entries for a described cluster, in `exec`
 *    mode (a plugin that mints tokens) or `embed` mode (a token minted now, and when it expires).
 *
 * Each cloud's `ClusterProvider` factory (`createNcpProvider`, …) sits on its adapter, and so does
 * the CLI's kubeconfig flow (src/cli/kubeconfig-flow.ts).
 *
 * ## Adding a cloud (Azure AKS, say)
 *
 * Copy `src/gcp/` to `src/azure/` and rewrite its files; they never import another cloud (the wall
 * test, test/walls.test.ts, fails if one does), only `src/lib/`, `src/kube/` and these types:
 *
 * - `token.ts`: mint the token; pure (credentials, cluster and `now` in, a `MintedToken` out, made by
 *   `mintedToken(token, expiresAt)` so that the refresh margin is the same everywhere).
 * - `credentials.ts`: the credential lookup, the only file of the cloud that reads the environment.
 * - `cluster.ts`: the cloud's REST (or SDK) calls, checked, mapped into `ClusterInfo`, and the
 *   kubeconfig entries (exec command: `kubeiam aks token …`).
 * - `adapter.ts`: the `CloudAdapter` object tying the four operations together.
 * - `provider.ts`: `createAksProvider`, the `ClusterProvider` on top of the adapter.
 * - `engine.ts`: `aksEngine`, the broker's view of the cloud (`CloudEngine`, src/cloud-engine.ts):
 *   the credential block it holds and checks, the locator of a cluster, lookup and mint, and the CLI
 *   flags of `broker credential add` / `broker cluster add`; then one line in src/broker/engines.ts.
 *   (The broker's store still lists the providers in a CHECK constraint: a migration widens it.)
 *
 * Then, outside the folder: add `"azure"` to `CloudName` (src/cluster-info.ts); a command
 * `src/cli/aks.ts` whose `update-kubeconfig` calls `applyKubeconfigEntries` (src/cli/kubeconfig-flow.ts)
 * and whose `token` prints through `printExecCredential`; register it in src/cli/main.ts; re-export
 * from src/index.ts and from a subpath entry `src/entry/azure.ts` (named re-exports, as the other
 * clouds' entries); add `"./azure"` to package.json's `exports`; tests under test/azure/.
 */
import type { ClusterInfo, CloudName, KubeconfigMode, MintedToken } from "./cluster-info.js";
import type { KubeconfigEntries } from "./kube/kubeconfig.js";
import type { TimeInput } from "./lib/time.js";

/**
 * The types one cloud plugs into {@link CloudAdapter}.
 *
 * @example
 * ```ts
 * interface AksTypes extends CloudTypes {
 *   credentials: AzureCredentials; credentialOptions: ResolveAzureCredentialsOptions;
 *   scope: { subscription: string; resourceGroup: string }; clusterRef: { subscription: string; resourceGroup: string; name: string };
 *   cluster: AksCluster; kubeconfigOptions: AksKubeconfigOptions; api: AksApiOptions;
 * }
 * ```
 */
export interface CloudTypes {
  /** What `resolveCredentials` returns and every other operation takes. */
  credentials: unknown;
  /** Where `resolveCredentials` looks: environment, profile, files. */
  credentialOptions: unknown;
  /** Where clusters live: a region (NKS, EKS), a project and location (GKE). */
  scope: object;
  /** One cluster: its scope and its id or name. */
  clusterRef: object;
  /** The cloud's own description of one cluster: what its kubeconfig entries are built from. */
  cluster: unknown;
  /** How the entries are named and which exec plugin they run. */
  kubeconfigOptions: object;
  /** How to reach the cloud's API: fetch, timeouts, endpoint overrides, a signal. */
  api: object;
}

/** Kubeconfig entries for one cluster, and, in `embed` mode, when the embedded token stops working. */
export interface KubeconfigEntriesResult {
  entries: KubeconfigEntries;
  /** Set in `embed` mode only: when the embedded token stops working. */
  tokenExpiresAt?: Date;
  /** Set in `embed` mode only: when to replace it (a minute before `tokenExpiresAt`). */
  tokenRefreshAt?: Date;
}

/** How `getCluster` and `kubeconfigEntries` build kubeconfig entries: the cloud's options and the mode. */
export type KubeconfigRequest<T extends CloudTypes> = T["kubeconfigOptions"] & {
  /** `exec` (default): the user runs the cloud's token command; `embed`: the user holds a token minted now. */
  mode?: KubeconfigMode;
};

/**
 * What one cloud implements. Every operation takes one input object and returns a promise, so a
 * caller (a provider factory, the CLI, the broker) treats every cloud alike.
 *
 * @example
 * ```ts
 * const credentials = await ncpAdapter.resolveCredentials({ profile: "prod" });
 * const cluster = await ncpAdapter.describeCluster({ credentials, cluster: { region: "KR", clusterUuid } });
 * const { entries } = await ncpAdapter.kubeconfigEntries({ credentials, cluster, kubeconfig: { mode: "exec" } });
 * ```
 */
export interface CloudAdapter<T extends CloudTypes> {
  /** The cloud, as `ClusterInfo.cloud` names it. */
  readonly cloud: CloudName;
  /** Finds credentials where the cloud's own tools look; throws `CredentialsError` when there are none. */
  resolveCredentials(options: T["credentialOptions"]): Promise<T["credentials"]>;
  /** A fresh bearer token for one cluster. */
  mintToken(input: { credentials: T["credentials"]; cluster: T["clusterRef"]; now?: TimeInput; api?: T["api"] }): Promise<MintedToken>;
  /** One cluster as the cloud describes it, with what its kubeconfig entries need. */
  describeCluster(input: { credentials: T["credentials"]; cluster: T["clusterRef"]; api?: T["api"] }): Promise<T["cluster"]>;
  /** One cluster as a {@link ClusterInfo}, with a ready kubeconfig in `access.kubeconfig` unless `kubeconfig` is `false`. */
  getCluster(input: {
    credentials: T["credentials"];
    cluster: T["clusterRef"];
    kubeconfig?: KubeconfigRequest<T> | false;
    api?: T["api"];
    now?: TimeInput;
  }): Promise<ClusterInfo>;
  /** The clusters of one scope, as {@link ClusterInfo}s without kubeconfigs. */
  listClusters(input: { credentials: T["credentials"]; scope: T["scope"]; api?: T["api"] }): Promise<ClusterInfo[]>;
  /** The kubeconfig entries for a described cluster; refuses (`ClusterStateError`) one that cannot be reached yet. */
  kubeconfigEntries(input: {
    credentials: T["credentials"];
    cluster: T["cluster"];
    kubeconfig?: KubeconfigRequest<T>;
    now?: TimeInput;
    api?: T["api"];
  }): Promise<KubeconfigEntriesResult>;
}
