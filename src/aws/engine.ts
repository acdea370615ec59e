/**
 * EKS as the broker sees it (the `CloudEngine` contract of `../cloud-engine.ts`): AWS keys held per
 * credential, optionally with a role to assume at STS (its temporary keys kept in memory only, renewed
 * 5 minutes before they expire, one AssumeRole in flight per credential); a cluster located by region
 * and name, looked up with DescribeCluster; tokens presigned locally with the keys (or the role's).
 */
import type { CloudEngine, EngineObjectSchema, HeldCredential } from "../cloud-engine.js";
import type { ClusterProvider, ClusterRef } from "../cluster-info.js";
import { InvalidInputError, KubeiamError } from "../lib/errors.js";
import { assumeAwsRole, checkAwsExternalId, checkAwsRoleArn, checkAwsRoleSessionName } from "./assume-role.js";
import { AwsCredentialMemory, awsCacheKey } from "./cache.js";
import { createEksProvider } from "./provider.js";
import type { AwsCredentials } from "./token.js";

/** The role session name the broker assumes roles with, unless the credential names one. */
export const BROKER_ROLE_SESSION_NAME = "kubeiam-broker";

/** AWS keys as the broker holds them, and the role to assume with them. */
export interface AwsEngineSecrets {
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

/** Where an EKS cluster is: its typed reference. */
export type AwsLocator = Extract<ClusterRef, { cloud: "aws" }>;

/** How many providers (one per credential and region) to keep before starting over. */
const MAX_PROVIDERS = 1000;

const SECRET = { type: "string", minLength: 1, maxLength: 4096 } as const;
const ID = { type: "string", minLength: 1, maxLength: 255 } as const;
const OPTIONAL = ["sessionToken", "roleArn", "externalId", "sessionName"] as const;

const CREDENTIAL_SCHEMA: EngineObjectSchema = {
  type: "object",
  additionalProperties: false,
  required: ["accessKeyId", "secretAccessKey"],
  properties: { accessKeyId: SECRET, secretAccessKey: SECRET, sessionToken: SECRET, roleArn: SECRET, externalId: SECRET, sessionName: SECRET },
};

const LOCATOR_SCHEMA: EngineObjectSchema = { type: "object", additionalProperties: false, required: ["clusterName"], properties: { clusterName: ID } };

function str(block: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const v = block[field];
  return typeof v === "string" ? v : undefined;
}

/**
 * The EKS engine.
 *
 * @example
 * ```ts
 * const runtime = awsEngine.start({ now: Date.now });
 * const { token } = await runtime.mint(held, { region: "us-east-2", name: "prod" });
 * ```
 */
export const awsEngine: CloudEngine<AwsEngineSecrets, AwsLocator> = {
  id: "aws",
  title: "AWS EKS",
  credentialSchema: CREDENTIAL_SCHEMA,
  checkCredential(block) {
    const roleArn = str(block, "roleArn");
    if (roleArn === undefined) {
      for (const field of ["externalId", "sessionName"] as const) {
        if (block[field] !== undefined) throw new InvalidInputError(field, `aws.${field} goes with aws.roleArn: name the role to assume, or leave ${field} out`);
      }
    }
    // Checked here, so a role the broker could never assume is refused before it is stored.
    try {
      if (roleArn !== undefined) checkAwsRoleArn(roleArn);
      const sessionName = str(block, "sessionName");
      if (sessionName !== undefined) checkAwsRoleSessionName(sessionName);
      const externalId = str(block, "externalId");
      if (externalId !== undefined) checkAwsExternalId(externalId);
    } catch (error) {
      if (error instanceof KubeiamError) throw new InvalidInputError(error.field ?? "roleArn", `aws.${error.field ?? "roleArn"}: ${error.message}`, { cause: error });
      throw error;
    }
    const secrets: AwsEngineSecrets = { accessKeyId: str(block, "accessKeyId") ?? "", secretAccessKey: str(block, "secretAccessKey") ?? "" };
    for (const field of OPTIONAL) {
      const v = str(block, field);
      if (v !== undefined) secrets[field] = v;
    }
    return secrets;
  },
  // The role its tokens act as (an account id is not a secret); a bare key's own user is not known without a call.
  credentialSummary: (s): Record<string, string> => (s.roleArn === undefined ? {} : { actsAs: s.roleArn }),
  locatorSchema: LOCATOR_SCHEMA,
  locatorFields: "aws.clusterName",
  locate: (block, region) => ({ cloud: "aws", region, name: str(block, "clusterName") ?? "" }),
  parseLocator(json) {
    const o = json as Partial<AwsLocator> | null;
    if (o?.cloud !== "aws" || typeof o.region !== "string" || typeof o.name !== "string") throw new InvalidInputError("locator", "the stored EKS cluster locator is not {cloud: aws, region, name}");
    return { cloud: "aws", region: o.region, name: o.name };
  },
  locatorId: (where) => where.name,
  locatorFromInfo: (info) => (info.ref?.cloud === "aws" ? info.ref : { cloud: "aws", region: info.region, name: info.name }),
  start(options) {
    // Assumed roles' temporary keys, per credential (row and sealed bytes) and role.
    const roles = new AwsCredentialMemory(options.now);
    /**
     * The keys to sign with: the held ones, or the role they assume (kept in memory, per role session).
     * A person's tokens come from a role session named after them; look-ups at registration from the
     * credential's own session name (or the broker's).
     */
    const signingKeys = async (cacheKey: string, aws: AwsEngineSecrets, region: string, person: string | undefined): Promise<AwsCredentials> => {
      const { accessKeyId, secretAccessKey, sessionToken, roleArn, externalId } = aws;
      const base: AwsCredentials = { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
      if (roleArn === undefined) return base;
      const sessionName = person === undefined ? (aws.sessionName ?? BROKER_ROLE_SESSION_NAME) : personRoleSessionName(person);
      // The role's keys work in every region of its partition: one entry per credential and role, not per region.
      const key = `${cacheKey}|${awsCacheKey({ roleArn, externalId, sessionName, sourceAccessKeyId: accessKeyId })}`;
      return roles.get(key, () =>
        assumeAwsRole({ credentials: base, roleArn, sessionName, externalId, region, stsEndpoint: options.stsEndpoint, env: options.env ?? process.env, now: options.now() }),
      );
    };
    const providers = new Map<string, ClusterProvider>();
    const providerFor = (credential: HeldCredential<AwsEngineSecrets>, region: string): ClusterProvider => {
      const person = credential.person;
      const key = `${credential.cacheKey}|${region}${person === undefined ? "" : `|${personRoleSessionName(person)}`}`;
      let p = providers.get(key);
      if (p === undefined) {
        const secrets = credential.secrets();
        p = createEksProvider({
          region,
          credentials: () => signingKeys(credential.cacheKey, secrets, region, person),
          ...(options.eksEndpoint === undefined ? {} : { endpoint: options.eksEndpoint }),
          now: options.now,
        });
        if (providers.size >= MAX_PROVIDERS) providers.clear();
        providers.set(key, p);
      }
      return p;
    };
    return {
      lookup: (credential, where) => providerFor(credential, where.region).getCluster(where.name, { mode: "exec" }),
      mint: (credential, where) => providerFor(credential, where.region).mintToken(where),
    };
  },
  cli: {
    credentialHelp: `AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or --stdin with that JSON;
       with --role-arn the broker assumes that role with these keys (AssumeRole) and signs
       tokens with the role's temporary keys, kept in memory and renewed 5 minutes before expiry`,
    credentialFlags: [
      { name: "role-arn", value: "ARN", help: "a role for the broker to assume with the keys (add, aws)" },
      { name: "external-id", value: "ID", help: "the external id the role's trust policy asks for (add, aws)" },
      { name: "session-name", value: "NAME", help: "the role session name (add, aws; default: kubeiam-broker)" },
    ],
    async credentialBlock(flags, sources, fromStdin) {
      const role: Record<string, string> = {};
      for (const [flag, field] of [["role-arn", "roleArn"], ["external-id", "externalId"], ["session-name", "sessionName"]] as const) {
        const v = flags[flag];
        if (typeof v === "string") role[field] = v;
      }
      if (fromStdin) return { ...(await sources.stdinJson('{"accessKeyId","secretAccessKey","sessionToken"?,"roleArn"?}')), ...role };
      const accessKeyId = sources.env("AWS_ACCESS_KEY_ID");
      const secretAccessKey = sources.env("AWS_SECRET_ACCESS_KEY");
      if (accessKeyId === undefined || secretAccessKey === undefined) {
        throw new InvalidInputError("keys", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: export them, or pipe the keys as JSON with --stdin (never as arguments)");
      }
      const sessionToken = sources.env("AWS_SESSION_TOKEN");
      return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }), ...role };
    },
    clusterFlags: [{ name: "cluster-name", value: "NAME", help: "an EKS cluster's name" }],
    clusterBlock: (flags) => (typeof flags["cluster-name"] === "string" ? { clusterName: flags["cluster-name"] } : undefined),
  },
};

/**
 * The role session name for a person's tokens: `kubeiam-<user>`, within STS's rules (2 to 64 of
 * letters, digits and `+=,.@_-`): any other character becomes `-`, and the whole is cut to 64. EKS
 * access entries (`{{SessionName}}`) and CloudTrail then show who it was.
 *
 * @example
 * ```ts
 * personRoleSessionName("carol@example.com"); // "kubeiam-carol@example.com"
 * ```
 */
export function personRoleSessionName(user: string): string {
  return `kubeiam-${user}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}
