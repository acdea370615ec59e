/**
 * Master-key rotation: every credential (and every sign-in session's and sign-in in progress's sealed secret) re-sealed under the keyring's first key in one transaction,
 * and the database's key check moved to that key, while instances holding the keyring keep serving
 * (they open values of either key; see sealing.ts).
 */
import { sql, type Kysely } from "kysely";
import { CredentialsError } from "../lib/errors.js";
import { credentialAad } from "./credential-secrets.js";
import { StoreError } from "./errors.js";
import { keyCheckValue, masterKeyId, openSealed, sealSecret, sealedKeyId } from "./sealing.js";
import { SCHEMA_VERSION } from "./store/migrations.js";
import type { StoreDialect } from "./store/open.js";
import type { BrokerDatabase } from "./store/schema.js";
import type { BrokerProvider } from "./store/store.js";

/** What a rekey did. */
export interface RekeyResult {
  /** Credentials re-sealed under the first key. */
  resealed: number;
  /** Credentials that were sealed under it already. */
  unchanged: number;
  /** The first key's id, which every credential now names. */
  keyId: string;
}

/**
 * Re-seals every credential under `keys[0]`, opening each with whichever key of `keys` sealed it, in
 * one transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: the rows locked FOR UPDATE, so a credential
 * replaced meanwhile waits or is re-read), and records `keys[0]` as the key the database is sealed
 * under. Refuses, changing nothing, when the schema is not this kubeiam's, the keyring holds none of
 * the database's keys, or a credential does not open under any key of it.
 *
 * @example
 * ```ts
 * const { resealed } = await rekeyStore(store.db, "postgres", [newKey, oldKey]);
 * ```
 */
export async function rekeyStore(db: Kysely<BrokerDatabase>, dialect: StoreDialect, keys: readonly Buffer[]): Promise<RekeyResult> {
  const sealing = keys[0];
  if (sealing === undefined) throw new TypeError("rekeyStore needs at least one key");
  const keyId = masterKeyId(sealing);
  return db.connection().execute(async (conn) => {
    await sql.raw(dialect === "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN").execute(conn);
    try {
      const meta = new Map((await conn.selectFrom("kubeiam_meta").select(["key", "value"]).execute()).map((r) => [r.key, r.value]));
      const version = meta.get("schema_version");
      if (version !== String(SCHEMA_VERSION)) {
        throw new StoreError(
          version === undefined
            ? "the database holds no kubeiam broker: check --db, or start 'kubeiam serve' on it first"
            : `the database is at schema version ${version} and this kubeiam writes ${SCHEMA_VERSION}: start 'kubeiam serve' of the same version on it first, then rekey`,
        );
      }
      const stored = meta.get("key_check");
      if (stored !== undefined && !keys.some((k) => keyCheckValue(k) === stored)) {
        throw new CredentialsError("the database's keys were sealed under a master key that is not in the keyring: give the current key after the new one (KUBEIAM_MASTER_KEY=\"NEW,OLD\")");
      }
      let q = conn.selectFrom("credentials").select(["id", "name", "provider", "sealed"]).orderBy("name");
      if (dialect === "postgres") q = q.forUpdate();
      const rows = await q.execute();
      let resealed = 0;
      for (const row of rows) {
        if (sealedKeyId(row.sealed) === keyId) continue;
        const aad = credentialAad(row.id, row.provider as BrokerProvider);
        let plaintext: string;
        try {
          plaintext = openSealed(keys, row.sealed, aad);
        } catch (cause) {
          throw new CredentialsError(`credential ${row.name} does not open under any key of the keyring: add the key it was sealed with after the new one, then rekey again (nothing was changed)`, { cause });
        }
        await conn.updateTable("credentials").set({ sealed: sealSecret(sealing, plaintext, aad) }).where("id", "=", row.id).execute();
        resealed += 1;
      }
      // The identity provider's refresh tokens kept with sessions (sessions.ts), sealed the same way.
      let sq = conn.selectFrom("sessions").select(["id", "idp_refresh"]).where("idp_refresh", "is not", null);
      if (dialect === "postgres") sq = sq.forUpdate();
      for (const row of await sq.execute()) {
        if (row.idp_refresh === null || sealedKeyId(row.idp_refresh) === keyId) continue;
        const aad = `session:${row.id}`;
        let plaintext: string;
        try {
          plaintext = openSealed(keys, row.idp_refresh, aad);
        } catch (cause) {
          throw new CredentialsError("a sign-in session does not open under any key of the keyring: add the key it was sealed with after the new one, then rekey again (nothing was changed)", { cause });
        }
        await conn.updateTable("sessions").set({ idp_refresh: sealSecret(sealing, plaintext, aad) }).where("id", "=", row.id).execute();
      }
      // Sign-ins in flight (login-requests.ts): the PKCE verifier and the IdP refresh token awaiting the poll.
      let lq = conn.selectFrom("login_requests").select(["id", "pkce_verifier", "idp_refresh"]).where((eb) => eb.or([eb("pkce_verifier", "is not", null), eb("idp_refresh", "is not", null)]));
      if (dialect === "postgres") lq = lq.forUpdate();
      for (const row of await lq.execute()) {
        const aad = `login:${row.id}`;
        const reseal = (value: string | null): string | null => {
          if (value === null || sealedKeyId(value) === keyId) return value;
          try {
            return sealSecret(sealing, openSealed(keys, value, aad), aad);
          } catch (cause) {
            throw new CredentialsError("a sign-in in progress does not open under any key of the keyring: add the key it was sealed with after the new one, then rekey again (nothing was changed)", { cause });
          }
        };
        const pkce = reseal(row.pkce_verifier);
        const idp = reseal(row.idp_refresh);
        if (pkce === row.pkce_verifier && idp === row.idp_refresh) continue;
        await conn.updateTable("login_requests").set({ pkce_verifier: pkce, idp_refresh: idp }).where("id", "=", row.id).execute();
      }
      const check = keyCheckValue(sealing);
      if (stored === undefined) await conn.insertInto("kubeiam_meta").values({ key: "key_check", value: check }).execute();
      else await conn.updateTable("kubeiam_meta").set({ value: check }).where("key", "=", "key_check").execute();
      await sql.raw("COMMIT").execute(conn);
      return { resealed, unchanged: rows.length - resealed, keyId };
    } catch (error) {
      await sql.raw("ROLLBACK").execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
