/**
 * The EKS clusters of one region as a {@link ClusterProvider}, on top of {@link eksAdapter}.
 */
import type { ClusterProvider, ClusterRef, KubeconfigMode } from "../cluster-info.js";
import { InvalidInputError } from "../lib/errors.js";
import { onFirstUse } from "../lib/lazy.js";
import type { EksKubeconfigOptions } from "./cluster.js";
import type { AwsCredentials } from "./token.js";

/** Options of {@link createEksProvider}. */
export interface EksProviderOptions {
  region: string;
  /** Fixed credentials, or a function that returns fresh ones; the AWS default chain when absent. */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
  /** A profile for the default chain. */
  profile?: string;
  /** A role to assume first. */
  roleArn?: string;
  /** The EKS API endpoint; `AWS_ENDPOINT_URL_EKS` works as well. */
  endpoint?: string;
  /** How `getCluster` builds kubeconfigs (aliases, profile, exec command, …). */
  kubeconfig?: Omit<EksKubeconfigOptions, "mode">;
  /** The clock; `Date.now` by default. */
  now?: () => number;
}

/** The EKS side (the AWS SDK's credential chain, DescribeCluster, signing), loaded with the first call that needs it. */
const adapter = onFirstUse(async () => (await import("./adapter.js")).eksAdapter);

/** Renew chain credentials this long before they expire. */
const CREDENTIALS_MARGIN_MS = 5 * 60 * 1000;

/**
 * The EKS clusters of one region as a {@link ClusterProvider}.
 *
 * @example
 * ```ts
 * const eks = createEksProvider({ region: "us-east-1", profile: "prod" });
 * const cluster = await eks.getCluster("prod-eks");
 * ```
 */
export function createEksProvider(options: EksProviderOptions): ClusterProvider {
  const { region } = options;
  const now = options.now ?? Date.now;
  const api = { endpoint: options.endpoint };
  let cached: AwsCredentials | undefined;
  const creds = async (): Promise<AwsCredentials> => {
    const given = options.credentials;
    if (given !== undefined) return typeof given === "function" ? given() : given;
    if (cached === undefined || (cached.expiration !== undefined && cached.expiration.getTime() - CREDENTIALS_MARGIN_MS <= now())) {
      cached = await (await adapter()).resolveCredentials({
        region,
        ...(options.profile === undefined ? {} : { profile: options.profile }),
        ...(options.roleArn === undefined ? {} : { roleArn: options.roleArn }),
        now: now(),
      });
    }
    return cached;
  };
  return {
    cloud: "aws",
    listClusters: async () => (await adapter()).listClusters({ credentials: await creds(), scope: { region }, api }),
    getCluster: async (id: string, opts?: { mode?: KubeconfigMode }) =>
      (await adapter()).getCluster({
        credentials: await creds(),
        cluster: { region, name: id },
        kubeconfig: { ...options.kubeconfig, ...(opts?.mode === undefined ? {} : { mode: opts.mode }) },
        api,
        now: now(),
      }),
    mintToken: async (ref: ClusterRef) => {
      if (ref.cloud !== "aws") throw new InvalidInputError("cluster", `an EKS provider mints for EKS clusters, not for a cluster of ${ref.cloud}: use that cloud's provider`);
      return (await adapter()).mintToken({ credentials: await creds(), cluster: { name: ref.name, region: ref.region }, now: now() });
    },
  };
}
