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
