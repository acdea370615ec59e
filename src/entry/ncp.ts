/**
 * `kubeiam/ncp`: NAVER Cloud NKS alone (tokens, signing, regions, credentials, the signed API client,
 * cluster descriptions, kubeconfig entries, its ClusterProvider and CloudAdapter), the shared cluster
 * types and the typed errors. Named re-exports only, never `export *`. Importing it loads no
 * `@kubernetes/client-node` (`ncpKubeConfig` loads it on first call), no AWS SDK, no google-auth-library.
 *
 * @example
 * ```ts
 * import { mintNcpToken, type ClusterInfo } from "kubeiam/ncp";
 * const { token } = mintNcpToken({ signer: createNcpSigner({ accessKey, secretKey }), cluster: parseNcpTokenTarget({ clusterUuid, region: "KR" }) });
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
export type { TimeInput } from "../lib/time.js";
export { signNcpRequest, ncpStringToSign, createNcpSigner } from "../ncp/sign.js";
export type { NcpSignInput, NcpSigner } from "../ncp/sign.js";
export { ncpStage, ncpApiPrefix, parseNcpRegion } from "../ncp/region.js";
export type { NcpRegion } from "../ncp/region.js";
export {
  mintNcpToken,
  parseNcpTokenTarget,
  decodeNcpToken,
  verifyNcpToken,
  NCP_TOKEN_PREFIX,
  NCP_TOKEN_TTL_MS,
} from "../ncp/token.js";
export type { MintNcpTokenInput, NcpTokenTarget, NcpTokenClaim, VerifyNcpTokenOptions, VerifiedNcpToken } from "../ncp/token.js";
export { resolveNcpCredentials, DEFAULT_NCP_API_URL } from "../ncp/credentials.js";
export type { NcpCredentials, ResolvedNcpCredentials, ResolveNcpCredentialsOptions } from "../ncp/credentials.js";
export { createNcpApiClient, buildNcpRequest, checkNcpResponse } from "../ncp/api.js";
export type { NcpApiClient, NcpApiClientOptions, NcpCluster, NcpNodePool, NcpWorkerNode, NcpCall, NcpCallContext, BuildNcpRequestInput } from "../ncp/api.js";
export { getNcpCluster, listNcpClusters } from "../ncp/cluster.js";
export type { NcpClusterDescription, GetNcpClusterOptions, NcpClusterQuery } from "../ncp/cluster.js";
export type { NcpKubeconfigOptions } from "../ncp/kubeconfig.js";
export { ncpKubeConfig } from "../ncp/client.js";
export type { NcpKubeConfigOptions } from "../ncp/client.js";
export { createNcpProvider } from "../ncp/provider.js";
export type { NcpProviderOptions } from "../ncp/provider.js";
export { ncpAdapter } from "../ncp/adapter.js";
export type { NcpCloudTypes, NcpApiOptions } from "../ncp/adapter.js";
