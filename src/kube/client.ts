/**
 * The bridge to `@kubernetes/client-node`: a `KubeConfig` whose user mints bearer tokens in-process
 * and refreshes them before they expire, sharing one mint between concurrent requests. Cloud-neutral:
 * each cloud plugs in its own minter (src/ncp/client.ts, src/provider.ts).
 */
import type { KubeConfig, User } from "@kubernetes/client-node";
import type { ClusterInfo, ClusterProvider, MintedToken } from "../cluster-info.js";
import { KubeconfigError } from "../lib/errors.js";

export type { MintedToken };

/** Mints a token; may be synchronous or not. */
export type TokenMinter = () => MintedToken | Promise<MintedToken>;

/** A cached token that renews itself. */
export interface TokenCache {
  /** A token before its `refreshAt`; mints when needed, one mint at a time. */
  get(): Promise<string>;
  /** How many times the minter ran (for metrics and tests). */
  readonly mints: number;
}

/**
 * Caches a minted token until its `refreshAt` (a minute before it expires: the one margin, applied
 * where it was minted). Concurrent callers that find no valid token share one mint; a failed mint is
 * not cached, so the next call tries again.
 *
 * @example
 * ```ts
 * const cache = createTokenCache(() => mintNcpToken({ signer, cluster }));
 * const token = await cache.get();
 * ```
 */
export function createTokenCache(mint: TokenMinter, options: { now?: () => number } = {}): TokenCache {
  const now = options.now ?? Date.now;
  let current: MintedToken | undefined;
  let pending: Promise<MintedToken> | undefined;
  let mints = 0;
  return {
    get mints() {
      return mints;
    },
    async get() {
      if (current !== undefined && now() < current.refreshAt.getTime()) return current.token;
      pending ??= (async () => {
        try {
          mints++;
          const minted = await mint();
          current = minted;
          return minted;
        } finally {
          pending = undefined;
        }
      })();
      return (await pending).token;
    },
  };
}

/** The cluster a self-refreshing config points at. */
export interface SelfRefreshingCluster {
  /** The entry's name; `cluster` by default. */
  name?: string;
  /** The API server URL. */
  server: string;
  /** The CA bundle, Base64 of PEM (kubeconfig's `certificate-authority-data`). */
  caData?: string;
  tlsServerName?: string;
}

/** Options of {@link selfRefreshingKubeConfig}. */
export interface SelfRefreshingKubeConfigOptions {
  cluster: SelfRefreshingCluster;
  /** Mints a fresh token for the cluster. */
  mintToken: TokenMinter;
  /** The clock; `Date.now` by default. */
  now?: () => number;
  /** Name of the user and context entries; `kubeiam` by default. */
  userName?: string;
}

/** The auth provider name that marks a user whose tokens come from this module. */
const AUTH_PROVIDER = "kubeiam-self-refreshing";

type Authenticator = Parameters<KubeConfig["addAuthenticator"]>[0];

/**
 * A `@kubernetes/client-node` `KubeConfig` for one cluster whose user gets its bearer token from
 * `mintToken`, cached and renewed before expiry (see {@link createTokenCache}). Uses client-node's
 * public `addAuthenticator`: every request (`makeApiClient`, `Watch`, `Exec`) asks it for a token.
 *
 * @example
 * ```ts
 * const kc = await selfRefreshingKubeConfig({
 *   cluster: { server: "https://1.2.3.4:6443", caData },
 *   mintToken: () => myCloud.mint(),
 * });
 * const core = kc.makeApiClient(CoreV1Api);
 * ```
 */
export async function selfRefreshingKubeConfig(options: SelfRefreshingKubeConfigOptions): Promise<KubeConfig & { readonly tokenCache: TokenCache }> {
  // Loaded on first use, not at import: `import("kubeiam")` and the token path stay free of client-node.
  const { KubeConfig } = await import("@kubernetes/client-node");
  const cache = createTokenCache(options.mintToken, options.now === undefined ? {} : { now: options.now });
  const clusterName = options.cluster.name ?? "cluster";
  const userName = options.userName ?? "kubeiam";
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: clusterName,
        server: options.cluster.server,
        skipTLSVerify: false,
        ...(options.cluster.caData === undefined ? {} : { caData: options.cluster.caData }),
        ...(options.cluster.tlsServerName === undefined ? {} : { tlsServerName: options.cluster.tlsServerName }),
      },
    ],
    users: [{ name: userName, authProvider: { name: AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: clusterName, cluster: clusterName, user: userName }],
    currentContext: clusterName,
  });
  const authenticator: Authenticator = {
    isAuthProvider: (user: User) => (user.authProvider as { name?: unknown } | undefined)?.name === AUTH_PROVIDER,
    async applyAuthentication(_user, opts) {
      const token = await cache.get();
      opts.headers = { ...(opts.headers ?? {}), Authorization: `Bearer ${token}` };
    },
  };
  kc.addAuthenticator(authenticator);
  return Object.assign(kc, { tokenCache: cache });
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
  options: { now?: () => number } = {},
): Promise<KubeConfig & { readonly tokenCache: TokenCache }> {
  let target = cluster;
  if (target.access.endpoint === "" || target.access.certificateAuthorityData === undefined) {
    // NKS names clusters by UUID; EKS, GKE and a broker by name.
    target = await provider.getCluster(cluster.ref.cloud === "ncp" ? cluster.ref.clusterUuid : cluster.ref.name);
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
    mintToken: () => provider.mintToken(target.ref),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}
