/**
 * One import for a program that manages a fleet: each cloud's {@link ClusterProvider} factory, and
 * {@link kubeConfigFor}, a self-refreshing `@kubernetes/client-node` KubeConfig for any cluster any
 * of them returns. The factories live in their clouds' folders; each cloud's SDK loads only when its
 * provider is used.
 */
export { createNcpProvider } from "./ncp/provider.js";
export type { NcpProviderOptions } from "./ncp/provider.js";
export { createEksProvider } from "./aws/provider.js";
export type { EksProviderOptions } from "./aws/provider.js";
export { createGkeProvider } from "./gcp/provider.js";
export type { GkeProviderOptions } from "./gcp/provider.js";
export { kubeConfigFor } from "./kube/client.js";
export type { ClusterProvider, ClusterInfo } from "./cluster-info.js";
