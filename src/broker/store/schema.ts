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
}

/** `credentials`: a cloud key, sealed under the master key with `credential:<id>:<provider>` as AAD. */
export interface CredentialsTable {
  id: string;
  name: string;
  provider: string;
  sealed: string;
  created_at: string;
}

/** `clusters`: a cluster the broker serves, looked up once through its cloud's API. */
export interface ClustersTable {
  id: string;
  name: string;
  provider: string;
  credential_id: string;
  region: string;
  connection: string;
  endpoint: string;
  ca_data: string | null;
  status: string;
  /** The cloud's ClusterInfo as JSON (without kubeconfig), what minting and cb-spider's shapes need. */
  info: string;
  created_at: string;
}

/** `grants`: which user may reach which cluster (`*`: every cluster). */
export interface GrantsTable {
  user_id: string;
  cluster: string;
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
}

/** Every table of the broker's store. */
export interface BrokerDatabase {
  kubeiam_meta: MetaTable;
  users: UsersTable;
  credentials: CredentialsTable;
  clusters: ClustersTable;
  grants: GrantsTable;
  audit: AuditTable;
}
