/**
 * `kubeiam/sandbox`: a local NCP API gateway and NKS cluster endpoints that check signatures and
 * tokens for real, and the scripted demo behind `npm run demo`, with the shared cluster types and the
 * typed errors. Named re-exports only. Importing it loads no npm package: the CA's x509 library loads
 * when `startSandbox` runs, and `@kubernetes/client-node` (the demo drives the clusters with it) when
 * `runDemo` runs.
 *
 * @example
 * ```ts
 * import { startSandbox } from "kubeiam/sandbox";
 * const sandbox = await startSandbox();
 * console.log(sandbox.apiUrl);
 * await sandbox.close();
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
export { startSandbox } from "../sandbox/index.js";
export type {
  Sandbox,
  SandboxOptions,
  SandboxClusterSummary,
  SandboxClusterSpec,
  SandboxKey,
  SandboxMapping,
  SandboxIdentity,
} from "../sandbox/index.js";
export { runDemo } from "../demo.js";
export type { DemoOptions } from "../demo.js";
