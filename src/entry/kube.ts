/**
 * `kubeiam/kube`: the cloud-neutral Kubernetes side (ExecCredential, the kubeconfig model, merge and
 * files, the self-refreshing `@kubernetes/client-node` bridge), the cloud contract, the shared cluster
 * types and the typed errors. Named re-exports only. Importing it does not load client-node:
 * `selfRefreshingKubeConfig` and `kubeConfigFor` load it on first call.
 *
 * @example
 * ```ts
 * import { formatExecCredential, type ClusterProvider } from "kubeiam/kube";
 * process.stdout.write(formatExecCredential({ token, expirationTimestamp: expiresAt }));
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
export type { CloudAdapter, CloudTypes, KubeconfigEntriesResult, KubeconfigRequest } from "../contract.js";
export {
  formatExecCredential,
  chooseExecApiVersion,
  execCredentialText,
  EXEC_API_VERSIONS,
  TOKEN_REFRESH_MARGIN_MS,
  refreshAtFor,
  mintedToken,
  DEFAULT_EXEC_API_VERSION,
} from "../kube/exec-credential.js";
export type { ExecCredential, ExecApiVersion, ExecInfo } from "../kube/exec-credential.js";
export {
  clusterEntry,
  execUserEntry,
  tokenUserEntry,
  contextEntry,
  kubeconfigOf,
  serializeKubeconfig,
  parseKubeconfig,
  parseKubeconfigDocument,
  mergeKubeconfigEntries,
  serializeKubeconfigDocument,
} from "../kube/kubeconfig.js";
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
} from "../kube/kubeconfig.js";
export { resolveKubeconfigPath, readKubeconfigFile, loadKubeconfigDocument, writeKubeconfigFile } from "../kube/kubeconfig-file.js";
export type { KubeconfigFile } from "../kube/kubeconfig-file.js";
export { selfRefreshingKubeConfig, createTokenCache, kubeConfigFor } from "../kube/client.js";
export type { TokenMinter, TokenCache, SelfRefreshingCluster, SelfRefreshingKubeConfigOptions } from "../kube/client.js";
