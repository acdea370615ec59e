/**
 * kubeiam's public API, and only that: named re-exports, never `export *`.
 *
 * The root holds what most programs need, curated as jose curates its root: every error class, every
 * shared type, the pure token functions of each cloud (mint, decode, verify, sign, ExecCredentials)
 * and the factories (a provider per cloud and for a broker, the client-node bridge). Each area's
 * further functions are on its subpath, as the same objects: cluster look-ups, API clients, credential
 * resolution and the adapters on `kubeiam/ncp`, `kubeiam/aws` and `kubeiam/gcp`; the kubeconfig model
 * and files on `kubeiam/kube`; the broker's REST client on `kubeiam/broker`; the sandbox on
 * `kubeiam/sandbox`. Their types are exported here too (types cost nothing at run time).
 *
 * Importing it loads kubeiam's own modules and Node built-ins, and no npm package; a provider loads its
 * cloud's API side with its first call (test/entry-points.test.ts pins it; `npm run bench` measures it).
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
} from "./lib/errors.js";
export type { ErrorCodeValue, TokenErrorCode, KubeiamErrorOptions } from "./lib/errors.js";
export { BrokerRefusal, BrokerReason, StoreError } from "./broker/errors.js";
export type { BrokerReasonValue } from "./broker/errors.js";

// NCP NKS: token, signing, regions, credentials
export { signNcpRequest, ncpStringToSign, createNcpSigner } from "./ncp/sign.js";
export type { NcpSignInput, NcpSigner } from "./ncp/sign.js";
export { ncpStage, ncpApiPrefix, parseNcpRegion } from "./ncp/region.js";
export type { NcpRegion } from "./ncp/region.js";
export {
  mintNcpToken,
  parseNcpTokenTarget,
  decodeNcpToken,
  verifyNcpToken,
  NCP_TOKEN_PREFIX,
  NCP_TOKEN_TTL_MS,
} from "./ncp/token.js";
export type {
  MintNcpTokenInput,
  NcpTokenTarget,
  NcpTokenClaim,
  VerifyNcpTokenOptions,
  VerifiedNcpToken,
} from "./ncp/token.js";
export type { TimeInput } from "./lib/time.js";
export type { NcpCredentials, ResolvedNcpCredentials, ResolveNcpCredentialsOptions } from "./ncp/credentials.js";

// Kubernetes: exec credentials
export {
  formatExecCredential,
  chooseExecApiVersion,
  execCredentialText,
  EXEC_API_VERSIONS,
  TOKEN_REFRESH_MARGIN_MS,
  refreshAtFor,
  mintedToken,
  DEFAULT_EXEC_API_VERSION,
} from "./kube/exec-credential.js";
export type { ExecCredential, ExecApiVersion, ExecCredentialLayout } from "./kube/exec-credential.js";

// The HTTP edge, the NKS API, cluster info, the kubeconfig model and files (their functions: kubeiam/ncp, kubeiam/kube), the client-node bridge
export { sendHttpRequest } from "./lib/http.js";
export type { FetchLike, FetchInit, FetchResponseLike, HttpOptions, HttpRequest, HttpResponse, HttpAttempt } from "./lib/http.js";
export type { NcpApiClient, NcpApiClientOptions, NcpCluster, NcpNodePool, NcpWorkerNode, NcpCall, NcpCallContext, BuildNcpRequestInput } from "./ncp/api.js";
export type { NcpClusterDescription, GetNcpClusterOptions, NcpClusterQuery } from "./ncp/cluster.js";
export type { NcpKubeconfigOptions } from "./ncp/kubeconfig.js";
export type {
  Kubeconfig,
  KubeconfigCluster,
  KubeconfigUser,
  KubeconfigContext,
  KubeconfigExec,
  KubeconfigClusterEntry,
  KubeconfigUserEntry,
  KubeconfigContextEntry,
  KubeconfigEntries,
  KubeconfigDocument,
  KubeconfigFormat,
  ExecEnvVar,
  ExecInteractiveMode,
  MergeKubeconfigOptions,
  MergeKubeconfigResult,
} from "./kube/kubeconfig.js";
export type { KubeconfigFile } from "./kube/kubeconfig-file.js";
export { selfRefreshingKubeConfig, createTokenCache } from "./kube/client.js";
export type { MintedToken, TokenMinter, TokenCache, SelfRefreshingCluster, SelfRefreshingKubeConfigOptions } from "./kube/client.js";
export type { NcpKubeConfigOptions } from "./ncp/client.js";

// Multi-cloud: AWS EKS, GCP GKE (cluster look-ups and credentials: kubeiam/aws, kubeiam/gcp), and one ClusterProvider interface for all three clouds
export {
  mintEksToken,
  decodeEksToken,
  stsHostFor,
  EKS_TOKEN_PREFIX,
  EKS_TOKEN_TTL_MS,
} from "./aws/token.js";
export type { AwsCredentials, MintEksTokenInput, EksToken, EksTokenClaim } from "./aws/token.js";
export type { ResolveAwsCredentialsOptions, ResolvedAwsCredentials, AwsSharedFiles } from "./aws/credentials.js";
export type { EksCluster, EksApiOptions, EksKubeconfigOptions, GetEksClusterOptions } from "./aws/cluster.js";
export {
  mintGkeToken,
  signJwtAssertion,
  exchangeJwtAssertion,
  parseGcpCredentialsFile,
  gkeIdentityFingerprint,
  GKE_DEFAULT_SCOPES,
} from "./gcp/token.js";
export type { ServiceAccountKey, GkeCredentials, GkeToken, MintGkeTokenInput } from "./gcp/token.js";
export type { GkeCluster, GkeApiOptions, GkeKubeconfigOptions } from "./gcp/cluster.js";
export { createNcpProvider } from "./ncp/provider.js";
export type { NcpProviderOptions } from "./ncp/provider.js";
export { createEksProvider } from "./aws/provider.js";
export type { EksProviderOptions } from "./aws/provider.js";
export { createGkeProvider } from "./gcp/provider.js";
export type { GkeProviderOptions } from "./gcp/provider.js";
export { kubeConfigFor } from "./kube/client.js";

// The contract each cloud implements (its implementations, ncpAdapter, eksAdapter and gkeAdapter, on each cloud's subpath), and the shapes every cloud shares
export type { CloudAdapter, CloudTypes, KubeconfigEntriesResult, KubeconfigRequest } from "./contract.js";
export type { NcpCloudTypes, NcpApiOptions } from "./ncp/adapter.js";
export type { EksCloudTypes, EksClusterDescription } from "./aws/adapter.js";
export type { GkeCloudTypes, GkeAdapterApiOptions } from "./gcp/adapter.js";
export type {
  AccessInfo,
  CloudName,
  ClusterInfo,
  ClusterProvider,
  ClusterRef,
  ClusterStatus,
  KubeconfigMode,
  NodeGroupInfo,
  NodeInfo,
} from "./cluster-info.js";

// Sandbox (startSandbox: kubeiam/sandbox): a local NCP API gateway and NKS cluster endpoints that check signatures and tokens for real
export type {
  Sandbox,
  SandboxOptions,
  SandboxClusterSummary,
  SandboxClusterSpec,
  SandboxKey,
  SandboxMapping,
  SandboxIdentity,
} from "./sandbox/index.js";

// Broker clients: a ClusterProvider through a kubeiam broker (its REST client and the connection pool
// load with the first request; the REST functions themselves are on kubeiam/broker)
export { createBrokerProvider } from "./broker/client/provider.js";
export type { BrokerProviderOptions } from "./broker/client/provider.js";
export type { BrokerConnection, BrokerToken, BrokerCluster } from "./broker/client/api.js";

