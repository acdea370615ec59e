/**
 * AWS EKS as a {@link CloudAdapter}: the four operations of src/contract.ts over this folder's
 * credential chain, token, DescribeCluster and kubeconfig builder.
 */
import type { CloudAdapter, CloudTypes } from "../contract.js";
import { toEpochMs } from "../lib/time.js";
import {
  describeEksCluster,
  eksKubeconfigEntries,
  getEksCluster,
  listEksClusters,
  type EksApiOptions,
  type EksCluster,
  type EksKubeconfigOptions,
} from "./cluster.js";
import { resolveAwsCredentials, type ResolveAwsCredentialsOptions } from "./credentials.js";
import { mintEksToken, type AwsCredentials } from "./token.js";

/** One EKS cluster as DescribeCluster told it, and the region it was asked in. */
export interface EksClusterDescription {
  region: string;
  cluster: EksCluster;
}

/** The types EKS plugs into the contract. */
export interface EksCloudTypes extends CloudTypes {
  credentials: AwsCredentials;
  credentialOptions: ResolveAwsCredentialsOptions;
  scope: { region: string };
  /** `name` is the cluster's name, or its id for a local cluster on Outposts. */
  clusterRef: { region: string; name: string };
  cluster: EksClusterDescription;
  kubeconfigOptions: Omit<EksKubeconfigOptions, "mode">;
  api: Pick<EksApiOptions, "endpoint" | "client" | "onAttempt" | "env">;
}

/**
 * AWS EKS's implementation of the cloud contract. The AWS SDK loads on first use.
 *
 * @example
 * ```ts
 * const credentials = await eksAdapter.resolveCredentials({ region: "us-east-1", profile: "prod" });
 * const info = await eksAdapter.getCluster({ credentials, cluster: { region: "us-east-1", name: "prod-eks" } });
 * ```
 */
export const eksAdapter: CloudAdapter<EksCloudTypes> = {
  cloud: "aws",
  async resolveCredentials(options) {
    return (await resolveAwsCredentials(options)).credentials;
  },
  async mintToken({ credentials, cluster, now }) {
    const { token, expiresAt, refreshAt } = await mintEksToken({ credentials, clusterName: cluster.name, region: cluster.region, ...(now === undefined ? {} : { now }) });
    return { token, expiresAt, refreshAt };
  },
  async describeCluster({ credentials, cluster, api }) {
    return { region: cluster.region, cluster: await describeEksCluster({ ...api, credentials, region: cluster.region, name: cluster.name }) };
  },
  async getCluster({ credentials, cluster, kubeconfig, api, now }) {
    return getEksCluster({
      ...api,
      credentials,
      region: cluster.region,
      name: cluster.name,
      ...(kubeconfig === undefined ? {} : { kubeconfig }),
      ...(now === undefined ? {} : { now: toEpochMs(now) }),
    });
  },
  async listClusters({ credentials, scope, api }) {
    return listEksClusters({ ...api, credentials, region: scope.region });
  },
  async kubeconfigEntries({ credentials, cluster: described, kubeconfig, now }) {
    return eksKubeconfigEntries({
      cluster: described.cluster,
      region: described.region,
      options: kubeconfig ?? {},
      credentials,
      ...(now === undefined ? {} : { now: toEpochMs(now) }),
    });
  },
};
