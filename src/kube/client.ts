/**
 * The bridge to `@kubernetes/client-node`: a `KubeConfig` whose user mints bearer tokens in-process
 * and refreshes them before they expire, sharing one mint between concurrent requests. Generic
 * underneath ({@link selfRefreshingKubeConfig}); {@link ncpKubeConfig} plugs in the NKS token.
 */
import { KubeConfig, type User } from "@kubernetes/client-node";
import type { HttpOptions } from "../lib/http.js";
import { createNcpApiClient } from "../ncp/api.js";
import { ncpBaseCluster } from "../ncp/cluster.js";
import { resolveNcpCredentials, type NcpCredentials } from "../ncp/credentials.js";
import { normalizeNcpRegion } from "../ncp/region.js";
import { checkClusterUuid, mintNcpToken } from "../ncp/token.js";

/** A bearer token and when it stops working. */
export interface MintedToken {
  token: string;
  expiresAt: Date;
}

/** Mints a token; may be synchronous or not. */
export type TokenMinter = () => MintedToken | Promise<MintedToken>;

/** How long before expiry a token is replaced by default: 60 seconds. */
export const DEFAULT_REFRESH_MARGIN_MS = 60_000;

/** A cached token that renews itself. */
export interface TokenCache {
  /** A token good for at least the margin; mints when needed, one mint at a time. */
  get(): Promise<string>;
  /** How many times the minter ran (for metrics and tests). */
  readonly mints: number;
}

/**
 * Caches a minted token until `marginMs` before its expiry. Concurrent callers that find no valid
 * token share one mint; a failed mint is not cached, so the next call tries again.
 *
 * @example
 * ```ts
 * const cache = createTokenCache(() => mintNcpToken({ ...creds, clusterUuid, region }));
 * const token = await cache.get();
 * ```
 */
export function createTokenCache(mint: TokenMinter, options: { now?: () => number; marginMs?: number } = {}): TokenCache {
  const now = options.now ?? Date.now;
  const margin = options.marginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  let current: MintedToken | undefined;
  let pending: Promise<MintedToken> | undefined;
  let mints = 0;
  return {
    get mints() {
      return mints;
    },
    async get() {
      if (current !== undefined && now() < current.expiresAt.getTime() - margin) return current.token;
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
  /** Replace the token this long before it expires; 60 s by default. */
  refreshMarginMs?: number;
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
 * const kc = selfRefreshingKubeConfig({
 *   cluster: { server: "https://1.2.3.4:6443", caData },
 *   mintToken: () => myCloud.mint(),
 * });
 * const core = kc.makeApiClient(CoreV1Api);
 * ```
 */
export function selfRefreshingKubeConfig(options: SelfRefreshingKubeConfigOptions): KubeConfig & { readonly tokenCache: TokenCache } {
  const cache = createTokenCache(options.mintToken, {
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.refreshMarginMs === undefined ? {} : { marginMs: options.refreshMarginMs }),
  });
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

/** Options of {@link ncpKubeConfig}. */
export interface NcpKubeConfigOptions extends Omit<HttpOptions, "service"> {
  clusterUuid: string;
  region: string;
  /** API key; found per SPEC section 3 (environment, then ~/.ncloud/configure) when absent. */
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
  const credentials = options.credentials ?? resolveNcpCredentials();
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
