/**
 * GKE as the broker sees it (the `CloudEngine` contract of `../cloud-engine.ts`): a service-account
 * key file held per credential; a cluster located by project, location and name, looked up with
 * clusters.get; tokens are the service account's access tokens, or, when the credential names a
 * service account to impersonate, that account's (IAM Credentials generateAccessToken with the held
 * key's token), each reused per credential until a minute before it ends, one refresh in flight at a time.
 */
import type { CloudEngine, EngineObjectSchema, HeldCredential } from "../cloud-engine.js";
import type { ClusterProvider, ClusterRef } from "../cluster-info.js";
import { InvalidInputError, KubeiamError } from "../lib/errors.js";
import { checkServiceAccountEmail } from "./impersonate.js";
import { createGkeProvider } from "./provider.js";
import { parseGcpCredentialsFile, type GkeCredentials } from "./token.js";

/** A GCP service-account key file's JSON, as the broker holds it, and the account it acts as. */
export interface GcpEngineSecrets {
  serviceAccount: Record<string, unknown>;
  /**
   * A service account to impersonate with the key (IAM Credentials generateAccessToken): tokens and
   * look-ups are that account's, so grants whose `as` names such credentials are different Google
   * identities in the cluster's RBAC and audit log.
   */
  impersonateServiceAccount?: string;
}

/** Where a GKE cluster is: its typed reference. */
export type GcpLocator = Extract<ClusterRef, { cloud: "gcp" }>;

const ID = { type: "string", minLength: 1, maxLength: 255 } as const;

const CREDENTIAL_SCHEMA: EngineObjectSchema = {
  type: "object",
  additionalProperties: false,
  required: ["serviceAccount"],
  // A service account key file is one flat object of strings. Nothing nested is accepted, so no
  // later walk over it (JSON.stringify, the key file parser) can be sent 20,000 levels deep.
  properties: {
    serviceAccount: { type: "object", maxProperties: 64, additionalProperties: { type: "string", maxLength: 16_384 } },
    impersonateServiceAccount: { type: "string", minLength: 1, maxLength: 254 },
  },
};

const LOCATOR_SCHEMA: EngineObjectSchema = {
  type: "object",
  additionalProperties: false,
  required: ["project", "location", "cluster"],
  properties: { project: ID, location: ID, cluster: ID },
};

/** How many providers to keep before starting over. */
const MAX_PROVIDERS = 1000;

function keyOf(secrets: GcpEngineSecrets): GkeCredentials {
  return parseGcpCredentialsFile(JSON.stringify(secrets.serviceAccount), "the credential's serviceAccount");
}

/**
 * The GKE engine.
 *
 * @example
 * ```ts
 * const runtime = gcpEngine.start({ now: Date.now });
 * const { token } = await runtime.mint(held, { project, location, cluster });
 * ```
 */
export const gcpEngine: CloudEngine<GcpEngineSecrets, GcpLocator> = {
  id: "gcp",
  title: "GCP GKE",
  credentialSchema: CREDENTIAL_SCHEMA,
  checkCredential(block) {
    const serviceAccount = block.serviceAccount as Record<string, unknown>;
    let kind: string;
    try {
      kind = parseGcpCredentialsFile(JSON.stringify(serviceAccount), "gcp.serviceAccount").kind;
    } catch (error) {
      if (error instanceof KubeiamError) throw new InvalidInputError("serviceAccount", error.message, { cause: error });
      throw error;
    }
    if (kind !== "serviceAccount") throw new InvalidInputError("serviceAccount", 'gcp.serviceAccount must be a service account key file ("type": "service_account")');
    const impersonate = block.impersonateServiceAccount;
    if (typeof impersonate !== "string") return { serviceAccount };
    checkServiceAccountEmail(impersonate, "gcp.impersonateServiceAccount");
    return { serviceAccount, impersonateServiceAccount: impersonate };
  },
  // The Google identity the credential's tokens carry: the account it impersonates, else the key's own.
  credentialSummary: (s): Record<string, string> => {
    const own = s.serviceAccount.client_email;
    const actsAs = s.impersonateServiceAccount ?? (typeof own === "string" ? own : undefined);
    return actsAs === undefined ? {} : { actsAs };
  },
  locatorSchema: LOCATOR_SCHEMA,
  locatorFields: "gcp.project, gcp.location and gcp.cluster",
  locate: (block) => ({ cloud: "gcp", project: String(block.project), location: String(block.location), name: String(block.cluster) }),
  parseLocator(json) {
    const o = json as Partial<GcpLocator> | null;
    if (o?.cloud !== "gcp" || typeof o.project !== "string" || typeof o.location !== "string" || typeof o.name !== "string") {
      throw new InvalidInputError("locator", "the stored GKE cluster locator is not {cloud: gcp, project, location, name}");
    }
    return { cloud: "gcp", project: o.project, location: o.location, name: o.name };
  },
  locatorId: (where) => `projects/${where.project}/locations/${where.location}/clusters/${where.name}`,
  locatorFromInfo(info) {
    if (info.ref?.cloud === "gcp") return info.ref;
    // The id is the cluster's self link or projects/P/locations/L/clusters/C (gcp/cluster.ts).
    const m = /projects\/([^/]+)\/(?:locations|zones)\/([^/]+)\/clusters\/([^/]+)/.exec(info.id);
    return { cloud: "gcp", project: m?.[1] ?? "-", location: m?.[2] ?? info.zone ?? info.region, name: m?.[3] ?? info.name };
  },
  start(options) {
    const http = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
    // A provider per credential (and, for lookups, per location) keeps its access token until its
    // refreshAt, one refresh in flight at a time; one token serves every cluster the account reaches.
    const providers = new Map<string, ClusterProvider>();
    const providerFor = (credential: HeldCredential<GcpEngineSecrets>, project: string, location: string): ClusterProvider => {
      const key = `${credential.cacheKey}|${project}|${location}`;
      let p = providers.get(key);
      if (p === undefined) {
        const secrets = credential.secrets();
        const impersonate = secrets.impersonateServiceAccount;
        p = createGkeProvider({
          project,
          location,
          credentials: keyOf(secrets),
          ...(impersonate === undefined ? {} : { impersonate: { serviceAccount: impersonate, ...(options.iamCredentialsUrl === undefined ? {} : { apiUrl: options.iamCredentialsUrl }) } }),
          ...(options.gkeApiUrl === undefined ? {} : { apiUrl: options.gkeApiUrl }),
          now: options.now,
          ...http,
        });
        if (providers.size >= MAX_PROVIDERS) providers.clear();
        providers.set(key, p);
      }
      return p;
    };
    return {
      lookup: (credential, where) => providerFor(credential, where.project, where.location).getCluster(where.name, { mode: "exec" }),
      mint: (credential, where) => providerFor(credential, "-", "-").mintToken(where),
    };
  },
  cli: {
    credentialHelp: `the service account's key file on stdin (--stdin), or the file GOOGLE_APPLICATION_CREDENTIALS names;
       with --impersonate-service-account the broker acts as that account (IAM Credentials
       generateAccessToken; the key's account needs roles/iam.serviceAccountTokenCreator on it)`,
    credentialFlags: [{ name: "impersonate-service-account", value: "EMAIL", help: "a service account for the broker to act as with the key (add, gcp)" }],
    async credentialBlock(flags, sources, fromStdin) {
      const as = flags["impersonate-service-account"];
      const impersonate = typeof as === "string" ? { impersonateServiceAccount: as } : {};
      if (fromStdin) return { serviceAccount: await sources.stdinJson("the service account's key file"), ...impersonate };
      const file = sources.env("GOOGLE_APPLICATION_CREDENTIALS");
      if (file === undefined) throw new InvalidInputError("keys", "pipe the service account's key file with --stdin, or set GOOGLE_APPLICATION_CREDENTIALS to it");
      return { serviceAccount: await sources.fileJson(file, "GOOGLE_APPLICATION_CREDENTIALS file"), ...impersonate };
    },
    clusterFlags: [
      { name: "project", value: "P", help: "a GKE cluster's project (with --location and --gke-cluster)" },
      { name: "location", value: "L", help: "a GKE cluster's region or zone" },
      { name: "gke-cluster", value: "NAME", help: "a GKE cluster's name" },
    ],
    clusterBlock(flags) {
      const [project, location, cluster] = [flags.project, flags.location, flags["gke-cluster"]];
      if (project === undefined && location === undefined && cluster === undefined) return undefined;
      return { project: project ?? "", location: location ?? "", cluster: cluster ?? "" };
    },
  },
};
