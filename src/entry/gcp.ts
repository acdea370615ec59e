/**
 * `kubeiam/gcp`: GCP GKE alone (access tokens, service-account credentials, the token cache, cluster
 * descriptions, kubeconfig entries, its ClusterProvider and CloudAdapter), the shared cluster types and
 * the typed errors. Named re-exports only. Importing it loads no google-auth-library: the functions
 * that need it load it on first use.
 *
 * @example
 * ```ts
 * import { createGkeProvider, type ClusterInfo } from "kubeiam/gcp";
 * const gke = createGkeProvider({ project: "my-project", location: "us-central1" });
 * const clusters: ClusterInfo[] = await gke.listClusters();
 * ```
 *
 * @packageDocumentation
 */
export {
  ErrorCode,
  KubeiamError,
  UsageError,
  InvalidInputError,
  CredentialsError,
  ConfigFileError,
  TokenError,
  ApiError,
  CloudPermissionError,
  NetworkError,
  KubeconfigError,
  ClusterStateError,
  FileError,
} from "../lib/errors.js";
export type { ErrorCodeValue, TokenErrorCode } from "../lib/errors.js";
export type {
  AccessInfo,
  CloudName,
  ClusterInfo,
  ClusterProvider,
  ClusterRef,
  ClusterStatus,
  KubeconfigMode,
  MintedToken,
  NodeGroupInfo,
  NodeInfo,
} from "../cluster-info.js";
export {
  mintGkeToken,
  signJwtAssertion,
  exchangeJwtAssertion,
  parseGcpCredentialsFile,
  gkeIdentityFingerprint,
  GKE_DEFAULT_SCOPES,
} from "../gcp/token.js";
export type { ServiceAccountKey, GkeCredentials, GkeToken, MintGkeTokenInput } from "../gcp/token.js";
export { readGcpCredentialsFile, resolveGkeCredentials } from "../gcp/credentials.js";
export { readGkeCachedToken, writeGkeCachedToken } from "../gcp/cache.js";
export { getGkeCluster, listGkeClusters } from "../gcp/cluster.js";
export type { GkeCluster, GkeApiOptions, GkeKubeconfigOptions } from "../gcp/cluster.js";
export { createGkeProvider } from "../gcp/provider.js";
export type { GkeProviderOptions } from "../gcp/provider.js";
export { gkeAdapter } from "../gcp/adapter.js";
export type { GkeCloudTypes, GkeAdapterApiOptions } from "../gcp/adapter.js";
