/**
 * `kubeiam/aws`: AWS EKS alone (tokens, credentials, cluster descriptions, kubeconfig entries, its
 * ClusterProvider and CloudAdapter), the shared cluster types and the typed errors. Named re-exports
 * only. Importing it loads no AWS SDK or smithy module: the functions that sign or call AWS load them
 * on first use.
 *
 * @example
 * ```ts
 * import { createEksProvider, type ClusterInfo } from "kubeiam/aws";
 * const eks = createEksProvider({ region: "us-east-1" });
 * const clusters: ClusterInfo[] = await eks.listClusters();
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
  mintEksToken,
  decodeEksToken,
  stsHostFor,
  EKS_TOKEN_PREFIX,
  EKS_TOKEN_TTL_MS,
} from "../aws/token.js";
export type { AwsCredentials, MintEksTokenInput, EksToken, EksTokenClaim } from "../aws/token.js";
export {
  resolveAwsCredentials,
  resolveAwsProfile,
  resolveAwsRegion,
  readAwsSharedFiles,
} from "../aws/credentials.js";
export type { ResolveAwsCredentialsOptions, ResolvedAwsCredentials, AwsSharedFiles } from "../aws/credentials.js";
export { describeEksCluster, listEksClusters, getEksCluster } from "../aws/cluster.js";
export type { EksCluster, EksApiOptions, EksKubeconfigOptions, GetEksClusterOptions } from "../aws/cluster.js";
export { createEksProvider } from "../aws/provider.js";
export type { EksProviderOptions } from "../aws/provider.js";
export { eksAdapter } from "../aws/adapter.js";
export type { EksCloudTypes, EksClusterDescription } from "../aws/adapter.js";
