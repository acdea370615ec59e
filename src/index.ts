/**
 * kubeiam's public API, and only that: named re-exports, never `export *`.
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
  NetworkError,
  KubeconfigError,
  ClusterStateError,
} from "./errors.js";
export type { ErrorCodeValue, TokenErrorCode } from "./errors.js";

// NCP NKS: token, signing, regions, credentials
export { signNcpRequest, ncpStringToSign } from "./ncp/sign.js";
export type { NcpSignInput } from "./ncp/sign.js";
export { ncpStage, ncpApiPrefix, normalizeNcpRegion } from "./ncp/region.js";
export {
  mintNcpToken,
  decodeNcpToken,
  verifyNcpToken,
  checkClusterUuid,
  ncpTokenPath,
  NCP_TOKEN_PREFIX,
  NCP_TOKEN_TTL_MS,
} from "./ncp/token.js";
export type {
  MintNcpTokenInput,
  NcpToken,
  NcpTokenClaim,
  VerifyNcpTokenOptions,
  VerifiedNcpToken,
  TimeInput,
} from "./ncp/token.js";
export { resolveNcpCredentials, defaultNcpConfigFile, DEFAULT_NCP_API_URL } from "./ncp/credentials.js";
export type { NcpCredentials, ResolvedNcpCredentials, ResolveNcpCredentialsOptions } from "./ncp/credentials.js";

// Kubernetes: exec credentials
export {
  formatExecCredential,
  parseExecInfo,
  parseExecApiVersion,
  EXEC_API_VERSIONS,
  DEFAULT_EXEC_API_VERSION,
} from "./kube/exec-credential.js";
export type { ExecCredential, ExecApiVersion, ExecInfo } from "./kube/exec-credential.js";

// Multi-cloud: AWS EKS, GCP GKE, and one ClusterProvider interface for all three clouds
export {
  mintEksToken,
  decodeEksToken,
  stsHostFor,
  checkAwsRegion,
  checkEksClusterName,
  EKS_TOKEN_PREFIX,
  EKS_TOKEN_TTL_MS,
  EKS_TOKEN_REFRESH_MS,
} from "./aws/token.js";
export type { AwsCredentials, MintEksTokenInput, EksToken, EksTokenClaim } from "./aws/token.js";
export {
  resolveAwsCredentials,
  resolveAwsProfile,
  resolveAwsRegion,
  readAwsSharedFiles,
  DEFAULT_EKS_ROLE_SESSION_NAME,
} from "./aws/credentials.js";
export type { ResolveAwsCredentialsOptions, ResolvedAwsCredentials, AwsSharedFiles } from "./aws/credentials.js";
export {
  describeEksCluster,
  listEksClusterNames,
  listEksNodeGroups,
  listEksClusters,
  getEksCluster,
  eksKubeconfigEntries,
  eksClusterInfo,
  assertEksClusterReady,
  normalizeEksClusterStatus,
  parseEksCluster,
  EKS_EXEC_COMMAND,
} from "./aws/cluster.js";
export type { EksCluster, EksApiOptions, EksKubeconfigOptions, GetEksClusterOptions } from "./aws/cluster.js";
export {
  mintGkeToken,
  signJwtAssertion,
  exchangeJwtAssertion,
  parseGcpCredentialsFile,
  readGcpCredentialsFile,
  resolveGkeCredentials,
  gkeIdentityFingerprint,
  GKE_DEFAULT_SCOPES,
} from "./gcp/token.js";
export type { ServiceAccountKey, GkeCredentials, GkeToken, MintGkeTokenInput } from "./gcp/token.js";
export { defaultGkeCacheDir, gkeCacheFile, readGkeCachedToken, writeGkeCachedToken, GKE_CACHE_MARGIN_MS } from "./gcp/cache.js";
export {
  getGkeCluster,
  getGkeClusterRaw,
  listGkeClustersRaw,
  gkeKubeconfigEntries,
  gkeClusterInfo,
  gkeServerUrl,
  assertGkeClusterReady,
  checkGkeClusterRef,
  normalizeGkeClusterStatus,
  parseGkeCluster,
  GKE_API_URL,
  GKE_EXEC_COMMAND,
} from "./gcp/cluster.js";
export type { GkeCluster, GkeApiOptions, GkeKubeconfigOptions } from "./gcp/cluster.js";
export { createNcpProvider, createEksProvider, createGkeProvider, kubeConfigFor } from "./provider.js";
export type { NcpProviderOptions, EksProviderOptions, GkeProviderOptions } from "./provider.js";
