/**
 * The cache of resolved temporary AWS credentials (an assumed role, an SSO or `credential_process`
 * profile), so that kubectl's every call does not cost an STS round trip or an MFA prompt: one 0600
 * file per identity (profile, role, external id, session name) under `~/.kube/cache/kubeiam/aws`,
 * used until 5 minutes before the credentials expire. Long-lived keys are never written. A server
 * (the broker) keeps the same entries in memory instead ({@link AwsCredentialMemory}): it must never
 * write cloud credentials to disk unsealed.
 */
import { lazyBuiltin } from "../lib/builtin.js";
import { join } from "node:path";
import { kubeiamCacheRoot, readPrivateJson, writePrivateJson } from "../lib/cache-file.js";
import { toEpochMs, type TimeInput } from "../lib/time.js";
import type { AwsCredentials } from "./token.js";

// Not `import`: on `kubeiam eks token`'s path, which needs node:crypto here only for a cached role (lib/builtin.ts).
const crypto = lazyBuiltin("node:crypto");

/** Cached credentials are used until this long before they expire: 5 minutes. */
export const AWS_CACHE_MARGIN_MS = 5 * 60 * 1000;

/** What the cached credentials stand for; every field is part of the file's name. */
export interface AwsCacheIdentity {
  /** The profile (`--profile`, `AWS_PROFILE`); absent for the default chain. */
  profile?: string | undefined;
  /** The role assumed with `--role-arn`. */
  roleArn?: string | undefined;
  /** The external id given with the role. */
  externalId?: string | undefined;
  /** The role session name. */
  sessionName?: string | undefined;
  /** Without a profile: the access key id of `AWS_ACCESS_KEY_ID`, so two users of one machine never share. */
  sourceAccessKeyId?: string | undefined;
  /** The shared config and credentials files the profile was read from. */
  configFile?: string | undefined;
  credentialsFile?: string | undefined;
}

/**
 * The folder of the AWS credential cache: `~/.kube/cache/kubeiam/aws`.
 *
 * @example
 * ```ts
 * defaultAwsCacheDir({ HOME: "/home/me" }); // "/home/me/.kube/cache/kubeiam/aws"
 * ```
 */
export function defaultAwsCacheDir(env: Record<string, string | undefined>): string {
  return join(kubeiamCacheRoot(env), "aws");
}

/**
 * The cache key of an identity: SHA-256 hex of its fields in a fixed order (no secret is among them).
 *
 * @example
 * ```ts
 * awsCacheKey({ profile: "prod", roleArn: "arn:aws:iam::123456789012:role/eks" }); // 64 hex characters
 * ```
 */
export function awsCacheKey(identity: AwsCacheIdentity): string {
  const fields = [
    identity.profile,
    identity.roleArn,
    identity.externalId,
    identity.sessionName,
    identity.sourceAccessKeyId,
    identity.configFile,
    identity.credentialsFile,
  ].map((v) => v ?? null);
  return crypto().createHash("sha256").update(JSON.stringify(["kubeiam-aws-v1", ...fields]), "utf8").digest("hex");
}

/** The file name of an identity's cache entry (and `.lock` beside it). */
export function awsCacheFileName(identity: AwsCacheIdentity): string {
  return `aws-${awsCacheKey(identity)}.json`;
}

/**
 * The cached credentials of an identity, when they stay valid for more than 5 minutes.
 * A missing, malformed, foreign or loosely-permitted file is a miss, never an error.
 *
 * @example
 * ```ts
 * const hit = await readAwsCachedCredentials(dir, { profile: "sso-dev" }, Date.now());
 * ```
 */
export async function readAwsCachedCredentials(dir: string, identity: AwsCacheIdentity, now?: TimeInput): Promise<AwsCredentials | undefined> {
  const rec = await readPrivateJson(join(dir, awsCacheFileName(identity)));
  if (rec === undefined || rec.version !== 1 || rec.cloud !== "aws" || rec.key !== awsCacheKey(identity)) return undefined;
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = rec;
  if (typeof accessKeyId !== "string" || typeof secretAccessKey !== "string" || typeof sessionToken !== "string" || typeof expiration !== "string") {
    return undefined;
  }
  const expires = new Date(expiration);
  const hit = { accessKeyId, secretAccessKey, sessionToken, expiration: expires };
  return Number.isNaN(expires.getTime()) || !awsCredentialsFresh(hit, now) ? undefined : hit;
}

/**
 * Whether cached credentials may still be used: they have no expiry (long-lived keys), or it lies
 * more than {@link AWS_CACHE_MARGIN_MS} ahead of `now`.
 *
 * @example
 * ```ts
 * awsCredentialsFresh({ accessKeyId, secretAccessKey, expiration: new Date(Date.now() + 3_600_000) }, Date.now()); // true
 * ```
 */
export function awsCredentialsFresh(credentials: AwsCredentials, now?: TimeInput): boolean {
  const end = credentials.expiration?.getTime();
  return end === undefined || toEpochMs(now) < end - AWS_CACHE_MARGIN_MS;
}

/** How many identities an {@link AwsCredentialMemory} keeps before dropping the stale ones. */
const MEMORY_LIMIT = 1000;

/**
 * The credential cache of a long-running process, in memory: entries per identity key, used while
 * {@link awsCredentialsFresh}, and one resolution in flight per key (concurrent callers share it;
 * a failure is not kept, so the next caller tries again).
 *
 * @example
 * ```ts
 * const memory = new AwsCredentialMemory(Date.now);
 * const role = await memory.get(awsCacheKey({ roleArn, sourceAccessKeyId }), () => assumeAwsRole(input));
 * ```
 */
export class AwsCredentialMemory {
  readonly #now: () => number;
  readonly #entries = new Map<string, AwsCredentials>();
  readonly #pending = new Map<string, Promise<AwsCredentials>>();

  /** `now` is the clock that freshness is judged against. */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** The fresh credentials of `key`, else those `resolve` gives (one call at a time per key). */
  async get(key: string, resolve: () => Promise<AwsCredentials>): Promise<AwsCredentials> {
    const hit = this.#entries.get(key);
    if (hit !== undefined && awsCredentialsFresh(hit, this.#now())) return hit;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = resolve().then(
        (fresh) => {
          this.#pending.delete(key);
          this.#store(key, fresh);
          return fresh;
        },
        (error: unknown) => {
          this.#pending.delete(key);
          throw error;
        },
      );
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Forgets every entry (a credential deleted or rotated leaves nothing behind). */
  clear(): void {
    this.#entries.clear();
  }

  /** How many identities are held. */
  get size(): number {
    return this.#entries.size;
  }

  #store(key: string, credentials: AwsCredentials): void {
    if (this.#entries.size >= MEMORY_LIMIT) {
      const now = this.#now();
      for (const [k, v] of this.#entries) if (!awsCredentialsFresh(v, now)) this.#entries.delete(k);
      if (this.#entries.size >= MEMORY_LIMIT) this.#entries.clear();
    }
    this.#entries.set(key, credentials);
  }
}

/**
 * Caches temporary credentials under their identity. Credentials without a session token and an
 * expiry (long-lived keys) are refused: they already live in the user's own files. Returns a
 * one-line problem instead of throwing.
 *
 * @example
 * ```ts
 * const problem = await writeAwsCachedCredentials(dir, identity, assumed);
 * ```
 */
export async function writeAwsCachedCredentials(dir: string, identity: AwsCacheIdentity, credentials: AwsCredentials): Promise<string | undefined> {
  if (credentials.sessionToken === undefined || !(credentials.expiration instanceof Date)) return undefined;
  const describe: Record<string, string> = {};
  for (const k of ["profile", "roleArn", "externalId", "sessionName"] as const) {
    const v = identity[k];
    if (v !== undefined) describe[k] = v;
  }
  return writePrivateJson(dir, awsCacheFileName(identity), {
    version: 1,
    cloud: "aws",
    key: awsCacheKey(identity),
    identity: describe,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiration: credentials.expiration.toISOString(),
  });
}
