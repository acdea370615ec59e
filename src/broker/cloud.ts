/**
 * The broker's one door to the clouds: a {@link ClusterProvider} per held credential (NKS, EKS, GKE
 * alike), used to look a cluster up when it is registered and to mint its tokens afterwards. Providers
 * are kept per credential and place, so a GKE access token is reused until a minute before it ends,
 * with one refresh in flight at a time (the GKE provider's own cache). An AWS credential with a role
 * (`aws.roleArn`) assumes it at STS with the held keys and signs with the role's temporary keys, kept
 * in memory only (never on disk unsealed) until 5 minutes before they expire, one AssumeRole in flight
 * per credential.
 */
import type { ClusterInfo, ClusterProvider, ClusterRef, MintedToken } from "../cluster-info.js";
import { DEFAULT_NCP_API_URL } from "../ncp/credentials.js";
import { parseGcpCredentialsFile } from "../gcp/token.js";
// Each cloud's own provider module, not ../provider.js, which also pulls in @kubernetes/client-node.
import { createEksProvider } from "../aws/provider.js";
import { createGkeProvider } from "../gcp/provider.js";
import { createNcpProvider } from "../ncp/provider.js";
import { assumeAwsRole } from "../aws/assume-role.js";
import { AwsCredentialMemory, awsCacheKey } from "../aws/cache.js";
import type { AwsCredentials } from "../aws/token.js";
import type { BrokerProvider } from "./store/store.js";

/** An NCP API key as the broker holds it. */
export interface NcpSecrets {
  accessKey: string;
  secretKey: string;
  apiUrl?: string;
}

/** The role session name the broker assumes roles with, unless the credential names one. */
export const BROKER_ROLE_SESSION_NAME = "kubeiam-broker";

/** AWS keys as the broker holds them, and the role to assume with them. */
export interface AwsSecrets {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** A role to assume (AssumeRole) with these keys; tokens are signed with the role's keys. */
  roleArn?: string;
  /** The external id the role's trust policy asks for. */
  externalId?: string;
  /** The role session name; {@link BROKER_ROLE_SESSION_NAME} by default. */
  sessionName?: string;
}

/** A GCP service-account key file's JSON. */
export interface GcpSecrets {
  serviceAccount: Record<string, unknown>;
}

/** A credential's secrets, opened. */
export type CredentialSecrets =
  | { provider: "ncp"; ncp: NcpSecrets }
  | { provider: "aws"; aws: AwsSecrets }
  | { provider: "gcp"; gcp: GcpSecrets };

/** Where a cluster lives in its cloud, as registered. */
export type ClusterLocator =
  | { provider: "ncp"; region: string; clusterUuid: string }
  | { provider: "aws"; region: string; clusterName: string }
  | { provider: "gcp"; project: string; location: string; cluster: string };

/** Options of {@link CloudGateway}. */
export interface CloudGatewayOptions {
  /** The clock. */
  now: () => number;
  /** The EKS API endpoint (tests, private endpoints); `AWS_ENDPOINT_URL_EKS` works as well. */
  eksEndpoint?: string;
  /** The STS endpoint for roles (tests, private endpoints); `AWS_ENDPOINT_URL_STS` works as well. */
  stsEndpoint?: string;
  /** The environment whose HTTPS_PROXY, NO_PROXY and AWS_CA_BUNDLE the AWS clients follow; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** The GKE container API base URL (tests); Google's by default. */
  gkeApiUrl?: string;
  /** Milliseconds one cloud API try may take. */
  timeoutMs?: number;
}

/** How many providers to keep before starting over (each is small; GKE's holds one access token). */
const MAX_PROVIDERS = 1000;

/**
 * Looks clusters up and mints their tokens through the one provider contract.
 *
 * @example
 * ```ts
 * const cloud = new CloudGateway({ now: Date.now });
 * const info = await cloud.lookup(credentialKey, secrets, { provider: "ncp", region: "KR", clusterUuid });
 * const { token, expiresAt } = await cloud.mint(credentialKey, () => secrets, "ncp", info);
 * ```
 */
export class CloudGateway {
  readonly #options: CloudGatewayOptions;
  readonly #providers = new Map<string, ClusterProvider>();
  /** Assumed roles' temporary keys, per credential (row and sealed bytes) and role. */
  readonly #roles: AwsCredentialMemory;

  constructor(options: CloudGatewayOptions) {
    this.#options = options;
    this.#roles = new AwsCredentialMemory(options.now);
  }

  /**
   * The cluster as its cloud describes it, looked up with these secrets. `cacheKey` names the
   * credential as in {@link CloudGateway.mint}, so a role assumed here serves the tokens that follow.
   */
  async lookup(cacheKey: string, secrets: CredentialSecrets, where: ClusterLocator): Promise<ClusterInfo> {
    const provider = this.#provider(cacheKey, secrets, placeOf(where));
    const id = where.provider === "ncp" ? where.clusterUuid : where.provider === "aws" ? where.clusterName : where.cluster;
    const info = await provider.getCluster(id, { mode: "exec" });
    // The kubeconfig the cloud's tools would write is not ours to keep: the broker writes its own.
    const { kubeconfig: _dropped, mode: _mode, ...access } = info.access;
    return { ...info, access };
  }

  /**
   * A token for a registered cluster. `cacheKey` names the credential row and its sealed bytes, so a
   * provider (and GKE's cached access token) is reused only for the very same secrets.
   */
  async mint(cacheKey: string, secrets: () => CredentialSecrets, provider: BrokerProvider, info: ClusterInfo): Promise<MintedToken> {
    const place = provider === "gcp" ? "gcp" : `${provider}:${info.region}`;
    const key = `${cacheKey}|${place}`;
    let p = this.#providers.get(key);
    if (p === undefined) {
      const s = secrets();
      p = this.#provider(cacheKey, s, s.provider === "gcp" ? { project: "-", location: "-" } : { region: info.region });
      if (this.#providers.size >= MAX_PROVIDERS) this.#providers.clear();
      this.#providers.set(key, p);
    }
    return p.mintToken(refOf(provider, info));
  }

  #provider(cacheKey: string, secrets: CredentialSecrets, place: { region?: string; project?: string; location?: string }): ClusterProvider {
    const now = this.#options.now;
    const http = this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs };
    switch (secrets.provider) {
      case "ncp":
        return createNcpProvider({
          region: place.region ?? "KR",
          credentials: { accessKey: secrets.ncp.accessKey, secretKey: secrets.ncp.secretKey, apiUrl: secrets.ncp.apiUrl ?? DEFAULT_NCP_API_URL },
          now,
          ...http,
        });
      case "aws": {
        const region = place.region ?? "us-east-1";
        return createEksProvider({
          region,
          credentials: this.#awsCredentials(cacheKey, secrets.aws, region),
          ...(this.#options.eksEndpoint === undefined ? {} : { endpoint: this.#options.eksEndpoint }),
          now,
        });
      }
      case "gcp":
        return createGkeProvider({
          project: place.project ?? "-",
          location: place.location ?? "-",
          credentials: parseGcpCredentialsFile(JSON.stringify(secrets.gcp.serviceAccount), "the credential's serviceAccount"),
          ...(this.#options.gkeApiUrl === undefined ? {} : { apiUrl: this.#options.gkeApiUrl }),
          now,
          ...http,
        });
    }
  }

  /** The AWS credentials a provider signs with: the held keys, or the role they assume (kept in memory). */
  #awsCredentials(cacheKey: string, aws: AwsSecrets, region: string): AwsCredentials | (() => Promise<AwsCredentials>) {
    const { accessKeyId, secretAccessKey, sessionToken, roleArn, externalId } = aws;
    const base: AwsCredentials = { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
    if (roleArn === undefined) return base;
    const sessionName = aws.sessionName ?? BROKER_ROLE_SESSION_NAME;
    // The role's keys work in every region of its partition: one entry per credential and role, not per region.
    const key = `${cacheKey}|${awsCacheKey({ roleArn, externalId, sessionName, sourceAccessKeyId: accessKeyId })}`;
    const { stsEndpoint, env } = this.#options;
    return () =>
      this.#roles.get(key, () =>
        assumeAwsRole({ credentials: base, roleArn, sessionName, externalId, region, stsEndpoint, env: env ?? process.env, now: this.#options.now() }),
      );
  }
}

/** The cluster's reference: its info's own, or, for an info stored before infos carried one, read from its fields. */
function refOf(provider: BrokerProvider, info: ClusterInfo & { ref?: ClusterRef }): ClusterRef {
  if (info.ref !== undefined) return info.ref;
  switch (provider) {
    case "ncp":
      return { cloud: "ncp", region: info.region, clusterUuid: info.id };
    case "aws":
      return { cloud: "aws", region: info.region, name: info.name };
    case "gcp": {
      const m = /projects\/([^/]+)\/locations\/([^/]+)\/clusters\//.exec(info.id);
      return { cloud: "gcp", project: m?.[1] ?? "-", location: m?.[2] ?? info.zone ?? info.region, name: info.name };
    }
  }
}

function placeOf(where: ClusterLocator): { region?: string; project?: string; location?: string } {
  return where.provider === "gcp" ? { project: where.project, location: where.location } : { region: where.region };
}
