/**
 * The one cluster shape that NKS, EKS and GKE share, and the provider interface each cloud offers.
 * Types only, importing nothing: each cloud's `cluster.ts` maps its API's answer into these, and
 * src/contract.ts says what a cloud must implement around them.
 */

/** A cluster's lifecycle, normalised across clouds. The cloud's own word stays in `rawStatus`. */
export type ClusterStatus = "Creating" | "Active" | "Inactive" | "Updating" | "Deleting" | "Unknown";

/** The clouds kubeiam knows. */
export type CloudName = "ncp" | "aws" | "gcp";

/** One node of a node group. */
export interface NodeInfo {
  name: string;
  /** The cloud's own node or instance id, when it has one. */
  id?: string;
  status?: string;
  privateIp?: string;
  publicIp?: string;
}

/** A node pool (NKS, GKE) or managed node group (EKS). */
export interface NodeGroupInfo {
  name: string;
  /** The cloud's own id of the group, when it has one. */
  id?: string;
  status?: string;
  /** Desired node count. */
  nodeCount?: number;
  /** Kubernetes version of the group's nodes, when the cloud says. */
  k8sVersion?: string;
  /** Instance type or server spec. */
  instanceType?: string;
  nodes: NodeInfo[];
}

/** How a kubeconfig's user gets its credentials. */
export type KubeconfigMode = "exec" | "embed";

/** What a program needs to reach the cluster. */
export interface AccessInfo {
  /** The API server URL (`https://…`). */
  endpoint: string;
  /** The API server's CA bundle, PEM, when known. */
  certificateAuthorityData?: string;
  /** A complete kubeconfig for this one cluster, in the mode asked for, as YAML text. */
  kubeconfig?: string;
  /** The mode of `kubeconfig`. */
  mode?: KubeconfigMode;
  /** When `mode` is `embed`: when the embedded token stops working. */
  tokenExpiresAt?: Date;
}

/** One managed cluster, the same shape on every cloud. */
export interface ClusterInfo {
  cloud: CloudName;
  /** The cluster's name. */
  name: string;
  /** The cloud's own id: the UUID on NKS, the ARN on EKS, the self link or id on GKE. */
  id: string;
  region: string;
  /** Zone or location, when the cluster has one. */
  zone?: string;
  k8sVersion?: string;
  status: ClusterStatus;
  /** The cloud's own status word (`RUNNING`, `ACTIVE`, …). */
  rawStatus: string;
  network: {
    vpcId?: string;
    vpcName?: string;
    subnetIds: string[];
    /** Security groups (AWS), ACGs (NCP) or network tags (GCP). */
    securityGroupIds: string[];
  };
  nodeGroups: NodeGroupInfo[];
  createdAt?: Date;
  access: AccessInfo;
}

/**
 * What every cloud can do for a program that manages a fleet: the clusters of one region (or project
 * and location), one cluster with a ready kubeconfig, and tokens. Each cloud has one factory
 * (`createNcpProvider`, `createEksProvider`, `createGkeProvider`) built on its `CloudAdapter` (src/contract.ts).
 *
 * @example
 * ```ts
 * const providers: ClusterProvider[] = [createNcpProvider({ region: "KR" }), createEksProvider({ region: "us-east-1" })];
 * for (const p of providers) for (const c of await p.listClusters()) console.log(p.cloud, c.name, c.status);
 * ```
 */
export interface ClusterProvider {
  /** The cloud it speaks to, or `broker` for a kubeiam broker, whose clusters may be on any cloud. */
  readonly cloud: CloudName | "broker";
  /** The clusters in the provider's region or location. */
  listClusters(): Promise<ClusterInfo[]>;
  /** One cluster, with a ready kubeconfig in `access.kubeconfig`. */
  getCluster(id: string, options?: { mode?: KubeconfigMode }): Promise<ClusterInfo>;
  /** A fresh bearer token for the cluster, and when it stops working. */
  mintToken(cluster: ClusterInfo): Promise<MintedToken>;
}

/** A bearer token and the moment it stops working. */
export interface MintedToken {
  token: string;
  expiresAt: Date;
}
