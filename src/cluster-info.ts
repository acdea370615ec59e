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
  /** When `mode` is `embed`: when to replace the embedded token (a minute before `tokenExpiresAt`). */
  tokenRefreshAt?: Date;
}

/**
 * What locates one cluster for minting, typed per cloud: NKS by region and UUID, EKS by region and
 * name, GKE by project, location and name, and a broker's cluster by its broker and its name there.
 * Every {@link ClusterInfo} carries its own (`ref`); {@link ClusterProvider.mintToken} takes one.
 *
 * @example
 * ```ts
 * const ref: ClusterRef = { cloud: "ncp", region: "KR", clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b" };
 * const { token, refreshAt } = await createNcpProvider({ region: "KR" }).mintToken(ref);
 * ```
 */
export type ClusterRef =
  | { cloud: "ncp"; region: string; clusterUuid: string }
  | { cloud: "aws"; region: string; name: string }
  | { cloud: "gcp"; project: string; location: string; name: string }
  | { cloud: "broker"; server: string; name: string };

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
  /** What locates this cluster for {@link ClusterProvider.mintToken}. */
  ref: ClusterRef;
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
  /**
   * A fresh bearer token for one cluster (a `ClusterInfo`'s `ref`), when it stops working and when
   * to replace it. Refuses (`InvalidInputError`) a reference to another cloud's cluster.
   */
  mintToken(cluster: ClusterRef): Promise<MintedToken>;
}

/**
 * A bearer token, the moment it really stops working, and the moment to replace it: a minute before
 * (`refreshAtFor` in src/kube/exec-credential.ts, the one place that margin is applied). An
 * ExecCredential's `expirationTimestamp` is `refreshAt`, so kubectl comes back in time.
 */
export interface MintedToken {
  token: string;
  /** When the token stops being accepted: an NKS token 5 minutes after signing, an EKS token 15. */
  expiresAt: Date;
  /** When to stop using it and mint another: `expiresAt` less a minute. */
  refreshAt: Date;
}
