/**
 * `kubeiam/broker`: the client side of a kubeiam broker (a ClusterProvider through the broker, its REST
 * API as a client sees it, the saved broker token), with the shared cluster types and the typed errors.
 * Named re-exports only. Importing it loads none of the broker server's packages (fastify, the stores).
 *
 * @example
 * ```ts
 * import { createBrokerProvider, type ClusterInfo } from "kubeiam/broker";
 * const broker = createBrokerProvider({ server: "https://broker.example.com" });
 * const clusters: ClusterInfo[] = await broker.listClusters();
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
export { BrokerRefusal, BrokerReason, StoreError } from "../broker/errors.js";
export type { BrokerReasonValue } from "../broker/errors.js";
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
export { createBrokerProvider } from "../broker/client/provider.js";
export type { BrokerProviderOptions } from "../broker/client/provider.js";
export { fetchBrokerToken, listBrokerClusters, fetchBrokerKubeconfig } from "../broker/client/api.js";
export type { BrokerConnection, BrokerToken, BrokerCluster } from "../broker/client/api.js";
export { resolveBrokerToken } from "../broker/client/credentials.js";

