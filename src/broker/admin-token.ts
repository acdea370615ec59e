/**
 * `kubeiam serve admin-token`: a fresh token for the broker's admin, made on the server host by
 * whoever holds the master key and the database (a lost admin token recovered). The old token stops
 * at once on every instance, and the change is audited before the token is given out.
 */
import { CredentialsError } from "../lib/errors.js";
import { StoreError } from "./errors.js";
import { keyCheckValue } from "./sealing.js";
import { SCHEMA_VERSION } from "./store/migrations.js";
import type { BrokerStore } from "./store/store.js";
import { hashBrokerToken, newBrokerToken } from "./tokens.js";

/** The admin the first start creates, whose token this replaces. */
export const BOOTSTRAP_ADMIN = "admin";

/** The audit action of a replaced admin token. */
export const ADMIN_TOKEN_ACTION = "admin_token.replace";

/** Who asked, for the audit row: the operating-system user and host. */
export interface HostOperator {
  user: string;
  host: string;
}

/** What {@link replaceAdminToken} did. */
export interface AdminTokenResult {
  /** The admin's name. */
  name: string;
  /** The new token: shown once, never stored. */
  token: string;
  /** Whether the admin had to be made again (deleted meanwhile). */
  created: boolean;
}

/**
 * Gives the bootstrap admin a fresh token, after checking that `keys` open this database (its key
 * check matches one of them) and that its schema is this kubeiam's; the old token stops at once and
 * is kept as retired (a failed authentication with it names the admin). The audit row is committed
 * before this resolves, so no token is given out unrecorded. Refuses, changing nothing, with a
 * `CredentialsError` (wrong master key) or a `StoreError` (no broker here, another schema, an admin
 * name held by a plain user).
 *
 * @example
 * ```ts
 * const { token } = await replaceAdminToken(store, keys, new Date(), { user: "root", host: "broker-1" });
 * ```
 */
export async function replaceAdminToken(store: BrokerStore, keys: readonly Buffer[], now: Date, operator: HostOperator): Promise<AdminTokenResult> {
  const meta = new Map((await store.db.selectFrom("kubeiam_meta").select(["key", "value"]).execute().catch((cause: unknown) => {
    // A database with no broker in it has no meta table yet.
    if (/kubeiam_meta|no such table/.test(String((cause as Error).message))) return [];
    throw cause;
  })).map((r) => [r.key, r.value]));
  const version = meta.get("schema_version");
  if (version === undefined) throw new StoreError("the database holds no kubeiam broker: check --db (or KUBEIAM_DB), the same the broker serves from");
  if (version !== String(SCHEMA_VERSION)) {
    throw new StoreError(`the database is at schema version ${version} and this kubeiam writes ${SCHEMA_VERSION}: run the admin-token of the kubeiam that serves it`);
  }
  const stored = meta.get("key_check");
  if (stored === undefined || !keys.some((k) => keyCheckValue(k) === stored)) {
    throw new CredentialsError("the master key does not open this database: give the broker's own (KUBEIAM_MASTER_KEY or --master-key-file); nothing was changed");
  }
  const existing = await store.db.selectFrom("users").select(["role"]).where("name", "=", BOOTSTRAP_ADMIN).executeTakeFirst();
  if (existing !== undefined && existing.role !== "admin") {
    throw new StoreError(`user ${BOOTSTRAP_ADMIN} is not an admin here: an admin may rotate another admin's token with 'kubeiam broker user rotate NAME'; nothing was changed`);
  }
  const token = newBrokerToken();
  let created = false;
  if (existing === undefined || (await store.rotateUserToken(BOOTSTRAP_ADMIN, hashBrokerToken(token), now, "replaced")) === "not-found") {
    if ((await store.createUser(BOOTSTRAP_ADMIN, "admin", hashBrokerToken(token), now)) === "taken") {
      throw new StoreError(`user ${BOOTSTRAP_ADMIN} was added meanwhile by another admin: run 'kubeiam serve admin-token' again`);
    }
    created = true;
  }
  await store.insertAudit([
    {
      time: now.toISOString(),
      actor: "(serve admin-token)",
      action: ADMIN_TOKEN_ACTION,
      outcome: "ok",
      instance: "admin-token",
      reason: `${created ? "admin made again with a fresh token" : "a fresh admin token; the old one stopped"}, on the server host by OS user ${operator.user.slice(0, 64)} on ${operator.host.slice(0, 128)}`,
    },
  ]);
  return { name: BOOTSTRAP_ADMIN, token, created };
}
