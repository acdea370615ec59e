/**
 * The broker's tables as Kysely sees them: one schema for SQLite and PostgreSQL. Times are ISO 8601
 * text (UTC, milliseconds), ids are random UUIDs except the audit's, which counts up.
 */
import type { Generated } from "kysely";

/** `kubeiam_meta`: the schema version and the master key check value. */
export interface MetaTable {
  key: string;
  value: string;
}

/** `users`: people and programs holding a broker token (its SHA-256 only). */
export interface UsersTable {
  id: string;
  name: string;
  role: string;
  token_hash: string;
  created_at: string;
  token_created_at: string;
  /** Where the user came from: `token` (added by an admin, holds a broker token) or `oidc` (signed in; no static token). */
  source: Generated<string>;
}

/** `credentials`: a cloud key, sealed under the master key with `credential:<id>:<provider>` as AAD. */
export interface CredentialsTable {
  id: string;
  name: string;
  provider: string;
  sealed: string;
  created_at: string;
}

/**
 * `clusters`: a cluster the broker serves: what locates it in its cloud, and what kubeconfigs need
 * (endpoint, CA), looked up through its cloud's API at registration. What else the cloud says about it
 * (version, node groups: cb-spider's shapes) is asked of the cloud when wanted, never copied here.
 */
export interface ClustersTable {
  id: string;
  name: string;
  provider: string;
  credential_id: string;
  region: string;
  connection: string;
  endpoint: string;
  ca_data: string | null;
  /** The cluster's status when it was registered. */
  status: string;
  /**
   * What locates the cluster in its cloud (its engine's locator) as JSON. Null only on a row from
   * before schema 4 that schema 6 could not locate from the ClusterInfo it dropped (tokens for it are
   * refused, naming the fix).
   */
  locator: string | null;
  created_at: string;
}

/**
 * `grants`: a user (`user_id`) or a group (`group_name`) may reach a cluster (`cluster_id`; NULL for
 * `*`, every cluster), acting as `as_credential_id` (NULL: the cluster's own credential) until
 * `expires_at` (NULL: no end). Deleting the user or the cluster deletes the grant.
 */
export interface GrantsTable {
  id: string;
  user_id: string | null;
  group_name: string | null;
  cluster_id: string | null;
  as_credential_id: string | null;
  expires_at: string | null;
  created_at: string;
}

/** `audit`: one row per token answer, admin change and failed authentication. */
export interface AuditTable {
  id: Generated<number>;
  time: string;
  actor: string;
  action: string;
  cluster: string | null;
  outcome: string;
  remote: string | null;
  instance: string;
  reason: string | null;
  /** The credential a token was minted with (token rows only). */
  credential: string | null;
  /** The predecessor's `hash` (see audit-chain.ts); null only in rows no broker wrote. */
  prev_hash: string | null;
  /** `<version>:<hex SHA-256>` over this row's content and `prev_hash` (audit-chain.ts). */
  hash: string | null;
}

/** `sessions`: a signed-in person's session (BROKER.md "Signing in"): digests of its tokens, the IdP's refresh token sealed. */
export interface SessionsTable {
  id: string;
  user_id: string;
  /** How the session began: `oidc` (the identity provider), `token` (a broker token, the console). */
  source: string;
  role: string;
  /** The person's groups as a JSON array of strings. */
  groups: string;
  access_hash: string;
  access_expires_at: string;
  refresh_hash: string;
  /** The identity provider's refresh token, sealed under the master key with `session:<id>` as AAD. */
  idp_refresh: string | null;
  created_at: string;
  renewed_at: string;
  /** The session's hard end (`--session-max` after it began). */
  ends_at: string;
}

/** `login_requests`: a device-flow sign-in in progress (RFC 8628), shared by every instance. */
export interface LoginRequestsTable {
  id: string;
  /** SHA-256 of the device code. */
  device_hash: string;
  user_code: string;
  status: string;
  /** The OAuth `state` sent to the IdP (random, one use). */
  state: string | null;
  /** SHA-256 of the browser cookie that started the sign-in. */
  binding: string | null;
  nonce: string | null;
  /** The PKCE code verifier, sealed with `login:<id>` as AAD. */
  pkce_verifier: string | null;
  /** Why a sign-in was refused (one sentence, no secret). */
  reason: string | null;
  user_id: string | null;
  role: string | null;
  groups: string | null;
  /** The identity provider's refresh token, sealed with `login:<id>` as AAD, until the poll takes it. */
  idp_refresh: string | null;
  created_at: string;
  expires_at: string;
  polled_at: string | null;
}

/**
 * `retired_tokens`: a broker token that stopped working, by a digest of its digest (never anything
 * that authenticates), with whose it was: failed authentications with it name that user.
 */
export interface RetiredTokensTable {
  digest: string;
  user_name: string;
  /** `rotated` (by an admin), `deleted` (the user), `replaced` (`serve admin-token`). */
  why: string;
  retired_at: string;
}

/** Every table of the broker's store. */
export interface BrokerDatabase {
  kubeiam_meta: MetaTable;
  users: UsersTable;
  credentials: CredentialsTable;
  clusters: ClustersTable;
  grants: GrantsTable;
  audit: AuditTable;
  sessions: SessionsTable;
  login_requests: LoginRequestsTable;
  retired_tokens: RetiredTokensTable;
}
