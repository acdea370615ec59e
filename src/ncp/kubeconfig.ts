/**
 * The kubeconfig entries that give access to one NKS cluster (docs/formats.md §5): names as the
 * official ncp-iam-authenticator picks them, the server and CA read from the NKS API's own kubeconfig,
 * and the user in exec mode (a plugin that mints tokens) or embed mode (a fresh token, good for 5
 * minutes, to be replaced after 4). Apart from src/ncp/cluster.ts because it needs the kubeconfig
 * parser and writer (src/kube/kubeconfig.ts, and yaml on first use): getNcpCluster, the adapter and
 * ncpKubeConfig load it when they build a kubeconfig, so that importing kubeiam/ncp does not.
 */
import type { AccessInfo, KubeconfigMode } from "../cluster-info.js";
import { ApiError, KubeconfigError } from "../lib/errors.js";
import { given } from "../lib/validate.js";
import { DEFAULT_EXEC_API_VERSION, type ExecApiVersion } from "../kube/exec-credential.js";
import {
  clusterEntry,
  contextEntry,
  execUserEntry,
  kubeconfigOf,
  parseKubeconfig,
  serializeKubeconfig,
  tokenUserEntry,
  type KubeconfigCluster,
  type KubeconfigEntries,
} from "../kube/kubeconfig.js";
import type { NcpCluster } from "./api.js";
import type { NcpCredentials } from "./credentials.js";
import { ncpRegionOf, type NcpRegion } from "./region.js";
import { createNcpSigner } from "./sign.js";
import { checkClusterUuid, mintNcpToken, parseNcpTokenTarget } from "./token.js";

/** The command that the official kubeconfig runs as its exec plugin. */
export const NCP_EXEC_COMMAND = "ncp-iam-authenticator";

/** The cluster name in the NKS API's own kubeconfig, which the official tool renames. */
const NKS_BASE_CLUSTER_NAME = "kubernetes";

/** Cluster, user and context names for a kubeconfig. */
export interface NcpKubeconfigNames {
  cluster: string;
  user: string;
  context: string;
}

/**
 * The names the official tool gives (docs/formats.md §5): `nks_{region}_{clusterName}_{uuid}` for cluster
 * and user; the context takes that name too, or `user@cluster` when either was named, unless it is
 * named itself (`contextName`, the CLI's `--alias`, as `aws eks update-kubeconfig --alias` names it).
 *
 * @example
 * ```ts
 * ncpKubeconfigNames({ region: "KR", clusterName: "demo", clusterUuid: uuid });
 * // { cluster: "nks_kr_demo_<uuid>", user: "nks_kr_demo_<uuid>", context: "nks_kr_demo_<uuid>" }
 * ```
 */
export function ncpKubeconfigNames(input: {
  region: string | NcpRegion;
  clusterName: string;
  clusterUuid: string;
  kubeconfigClusterName?: string | undefined;
  userName?: string | undefined;
  contextName?: string | undefined;
}): NcpKubeconfigNames {
  const fallback = `nks_${ncpRegionOf(input.region).code.toLowerCase()}_${input.clusterName}_${input.clusterUuid}`;
  const cluster = given(input.kubeconfigClusterName) ?? fallback;
  const user = given(input.userName) ?? fallback;
  const named = given(input.kubeconfigClusterName) !== undefined || given(input.userName) !== undefined;
  return { cluster, user, context: given(input.contextName) ?? (named ? `${user}@${cluster}` : cluster) };
}

/** How to build the kubeconfig of a cluster. */
export interface NcpKubeconfigOptions {
  /** `exec` (default): the user runs the token command; `embed`: the user holds a fresh token. */
  mode?: KubeconfigMode;
  /** Name of the kubeconfig's cluster entry (default per {@link ncpKubeconfigNames}). */
  clusterName?: string;
  /** Name of the kubeconfig's user entry (default per {@link ncpKubeconfigNames}). */
  userName?: string;
  /** Name of the kubeconfig's context entry (default per {@link ncpKubeconfigNames}). */
  contextName?: string;
  /** The exec plugin command: `ncp-iam-authenticator` by default; a name on PATH or an absolute path. */
  execCommand?: string;
  /** Arguments put before `token` (for example the script path when the command is `node`). */
  execCommandArgs?: string[];
  /** The exec apiVersion: v1beta1 by default, as the official tool writes. */
  execApiVersion?: ExecApiVersion;
  /** A configure file to name with `--credentialConfig` (leave unset for the default one). */
  credentialConfig?: string;
  /** A profile to name with `--profile`. */
  profile?: string;
}

/** What {@link ncpKubeconfigEntries} needs. */
export interface NcpKubeconfigInput {
  cluster: NcpCluster;
  /** The YAML text of the NKS API's own kubeconfig for the cluster. */
  baseKubeconfig: string;
  /** A region code, or one parsed already ({@link parseNcpRegion}). */
  region: string | NcpRegion;
  options?: NcpKubeconfigOptions;
  /** Needed in `embed` mode only. */
  credentials?: NcpCredentials;
  /** The time to sign an embedded token at. */
  now?: number;
}

/**
 * Reads the NKS API's kubeconfig and returns the cluster's server and CA data, checked.
 *
 * @example
 * ```ts
 * const { server, certificateAuthorityData } = ncpBaseCluster(await api.getKubeconfig(uuid), uuid);
 * ```
 */
export function ncpBaseCluster(baseKubeconfig: string, clusterUuid: string): KubeconfigCluster {
  const bad = (detail: string, cause?: unknown): ApiError =>
    new ApiError(`the NKS API's kubeconfig for cluster ${clusterUuid} is not usable: ${detail}`, { status: 200 }, cause === undefined ? undefined : { cause });
  let clusters;
  try {
    clusters = parseKubeconfig(baseKubeconfig).clusters;
  } catch (cause) {
    if (cause instanceof KubeconfigError) throw bad(cause.message, cause);
    throw cause;
  }
  const index = clusters.findIndex((c) => c.name === NKS_BASE_CLUSTER_NAME);
  const at = index >= 0 ? index : clusters.length === 1 ? 0 : -1;
  const entry = clusters[at];
  if (entry === undefined) {
    throw bad(clusters.length === 0 ? "clusters is empty" : `none of its ${clusters.length} clusters is named "${NKS_BASE_CLUSTER_NAME}"`);
  }
  const ca = entry.cluster.certificateAuthorityData;
  if (ca === undefined || ca === "") throw bad(`clusters[${at}].cluster.certificate-authority-data is missing`);
  if (!pemOf(ca).includes("-----BEGIN CERTIFICATE-----")) throw bad(`clusters[${at}].cluster.certificate-authority-data is not a Base64 PEM certificate`);
  if (!/^https:\/\//.test(entry.cluster.server)) throw bad(`clusters[${at}].cluster.server ${JSON.stringify(entry.cluster.server)} is not an https URL`);
  return { server: entry.cluster.server, certificateAuthorityData: ca };
}

function pemOf(base64: string): string {
  return Buffer.from(base64, "base64").toString("utf8");
}

/**
 * The cluster, user and context entries that give access to one NKS cluster, per docs/formats.md §5.
 * Exec mode: `ncp-iam-authenticator token --clusterUuid U --region R [--credentialConfig F] [--profile P]`.
 * Embed mode: `user.token` holds a token minted now; `tokenExpiresAt` says when it stops working.
 *
 * @deprecated Use `ncpAdapter.kubeconfigEntries` (src/ncp/adapter.ts): the same entries in the shape
 * every cloud shares (the `CloudAdapter` contract of src/contract.ts: async, one input object, a cluster from
 * `ncpAdapter.describeCluster`, which also refuses a cluster that is not ready). This function stays
 * exported, unchanged, for existing callers; the adapter is built on it.
 *
 * @example
 * ```ts
 * // Before:
 * const { entries } = ncpKubeconfigEntries({ cluster, baseKubeconfig, region: "KR" });
 * // Now:
 * const described = await ncpAdapter.describeCluster({ credentials, cluster: { region: "KR", clusterUuid } });
 * const { entries: same } = await ncpAdapter.kubeconfigEntries({ credentials, cluster: described });
 * mergeKubeconfigEntries(doc, same, { overwrite: false });
 * ```
 */
export function ncpKubeconfigEntries(input: NcpKubeconfigInput): { entries: KubeconfigEntries; tokenExpiresAt?: Date; tokenRefreshAt?: Date } {
  const parsed = ncpRegionOf(input.region);
  const region = parsed.code;
  const options = input.options ?? {};
  const uuid = checkClusterUuid(input.cluster.uuid);
  const names = ncpKubeconfigNames({
    region: parsed,
    clusterName: input.cluster.name,
    clusterUuid: uuid,
    kubeconfigClusterName: options.clusterName,
    userName: options.userName,
    contextName: options.contextName,
  });
  const cluster = clusterEntry(names.cluster, ncpBaseCluster(input.baseKubeconfig, uuid));
  const context = contextEntry(names.context, { cluster: names.cluster, user: names.user });
  if ((options.mode ?? "exec") === "embed") {
    if (input.credentials === undefined) throw new KubeconfigError("embed mode needs credentials to mint the token");
    const minted = mintNcpToken({ signer: createNcpSigner(input.credentials), cluster: parseNcpTokenTarget({ clusterUuid: uuid, region: parsed }), now: input.now ?? Date.now() });
    return { entries: { cluster, user: tokenUserEntry(names.user, minted.token), context }, tokenExpiresAt: minted.expiresAt, tokenRefreshAt: minted.refreshAt };
  }
  const args = [...(options.execCommandArgs ?? []), "token", "--clusterUuid", uuid, "--region", region];
  if (options.credentialConfig !== undefined && options.credentialConfig.trim() !== "") args.push("--credentialConfig", options.credentialConfig);
  if (options.profile !== undefined && options.profile.trim() !== "") args.push("--profile", options.profile);
  const user = execUserEntry(names.user, {
    command: options.execCommand ?? NCP_EXEC_COMMAND,
    args,
    apiVersion: options.execApiVersion ?? DEFAULT_EXEC_API_VERSION,
  });
  return { entries: { cluster, user, context } };
}

/**
 * What {@link getNcpCluster} puts in `access` for a cluster that has a kubeconfig: the endpoint and
 * CA (PEM) of its entries, and those entries as a one-cluster kubeconfig (YAML) in the mode asked for.
 *
 * @example
 * ```ts
 * const access = ncpKubeconfigAccess({ cluster, baseKubeconfig: await api.getKubeconfig(uuid), region: "KR" });
 * ```
 */
export function ncpKubeconfigAccess(input: NcpKubeconfigInput): AccessInfo {
  const built = ncpKubeconfigEntries(input);
  const access: AccessInfo = { endpoint: built.entries.cluster.cluster.server };
  const ca = built.entries.cluster.cluster.certificateAuthorityData;
  if (ca !== undefined) access.certificateAuthorityData = pemOf(ca);
  access.kubeconfig = serializeKubeconfig(kubeconfigOf(built.entries));
  access.mode = input.options?.mode ?? "exec";
  if (built.tokenExpiresAt !== undefined) access.tokenExpiresAt = built.tokenExpiresAt;
  if (built.tokenRefreshAt !== undefined) access.tokenRefreshAt = built.tokenRefreshAt;
  return access;
}
