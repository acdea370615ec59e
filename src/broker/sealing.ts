/**
 * Sealing of cloud secrets at rest: AES-256-GCM under the master key, with the row's identity as
 * associated data (a sealed value copied to another row does not open), and a key check value that
 * tells whether a database was sealed under this master key without opening anything. The master key
 * may be a keyring ("new,old"): the first key seals, every key opens, and each sealed value names the
 * key that sealed it (its key id), so a rotation knows what is left to re-seal.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { CredentialsError } from "../lib/errors.js";

/** Format version 1 (AES-256-GCM, 96-bit IV, 128-bit tag): `v1.<iv>.<ct>.<tag>`, read only now. */
const SEALED_V1 = "v1";
/** Format version 2: version 1 with the sealing key's id in front, `v2.<key id>.<iv>.<ct>.<tag>`. */
const SEALED_V2 = "v2";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What the key check value is an HMAC of; changing it would orphan every database. */
const KEY_CHECK_LABEL = "kubeiam broker master key check v1";
/** What a key id is an HMAC of. */
const KEY_ID_LABEL = "kubeiam broker master key id v1";

/**
 * Reads a master key given as Base64 (standard or URL-safe, padded or not): exactly 32 bytes.
 *
 * @example
 * ```ts
 * const key = parseMasterKey(process.env.KUBEIAM_MASTER_KEY ?? "");
 * ```
 */
export function parseMasterKey(text: string, source = "the master key"): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new CredentialsError(`${source} is not Base64: give 32 random bytes in Base64, for example from 'openssl rand -base64 32'`);
  }
  const key = Buffer.from(trimmed.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  if (key.length !== 32) {
    throw new CredentialsError(`${source} is ${key.length} bytes, not 32: give 32 random bytes in Base64, for example from 'openssl rand -base64 32'`);
  }
  return key;
}

/**
 * Parses a master keyring: one or more keys as {@link parseMasterKey} reads them, separated by
 * commas (`new,old`). The first seals; all open. The same key twice is refused.
 *
 * @example
 * ```ts
 * const [sealing, ...retired] = parseMasterKeyring(process.env.KUBEIAM_MASTER_KEY ?? "");
 * ```
 */
export function parseMasterKeyring(text: string, source = "the master key"): Buffer[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length > 1 && parts.some((p) => p === "")) {
    throw new CredentialsError(`${source} has an empty entry in its keyring: write the keys separated by single commas, the sealing key first ("NEW,OLD")`);
  }
  const keys = parts.map((p, i) => parseMasterKey(p, parts.length === 1 ? source : `key ${i + 1} of ${source}`));
  const ids = keys.map(masterKeyId);
  const twice = ids.findIndex((id, i) => ids.indexOf(id) !== i);
  if (twice >= 0) throw new CredentialsError(`key ${twice + 1} of ${source} repeats an earlier one: list each key once, the sealing key first`);
  return keys;
}

/**
 * A master key's id: the first 8 bytes of HMAC-SHA256(key, "kubeiam broker master key id v1"),
 * hex. Sealed values carry it; it reveals nothing of the key.
 *
 * @example
 * ```ts
 * masterKeyId(key); // "3f0a9c…" (16 hex digits)
 * ```
 */
export function masterKeyId(key: Buffer): string {
  return createHmac("sha256", key).update(KEY_ID_LABEL, "utf8").digest("hex").slice(0, 16);
}

/**
 * Seals a secret: `v2.<key id>.<iv>.<ciphertext>.<tag>`, the last three Base64url. `aad` names the
 * row the value belongs to (for example `credential:<id>:ncp`); opening it under another name fails.
 *
 * @example
 * ```ts
 * const sealed = sealSecret(masterKey, JSON.stringify(secrets), `credential:${id}:ncp`);
 * ```
 */
export function sealSecret(key: Buffer, plaintext: string | Buffer, aad: string | Buffer, iv: Buffer = randomBytes(IV_BYTES)): string {
  if (key.length !== 32) throw new TypeError("sealSecret needs a 32-byte key");
  if (iv.length !== IV_BYTES) throw new TypeError("sealSecret needs a 12-byte IV");
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(typeof aad === "string" ? Buffer.from(aad, "utf8") : aad);
  const ct = Buffer.concat([cipher.update(typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext), cipher.final()]);
  return [SEALED_V2, masterKeyId(key), iv.toString("base64url"), ct.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/**
 * The id of the key a value was sealed under, or `undefined` for a version 1 value (sealed before
 * key ids, under the key the database's key check names).
 *
 * @example
 * ```ts
 * if (sealedKeyId(row.sealed) !== masterKeyId(keys[0])) needsRekey.push(row.name);
 * ```
 */
export function sealedKeyId(sealed: string): string | undefined {
  const parts = sealed.split(".");
  return parts[0] === SEALED_V2 && parts.length === 5 ? parts[1] : undefined;
}

/**
 * Opens a value sealed by {@link sealSecret} for the same `aad`, with the key of the keyring whose
 * id it names (a version 1 value: each key in turn). Throws {@link CredentialsError} (never showing
 * the value) when the key is not in the keyring, or the key, the row or the bytes differ.
 *
 * @example
 * ```ts
 * const secrets = JSON.parse(openSealed([newKey, oldKey], row.sealed, `credential:${row.id}:ncp`));
 * ```
 */
export function openSealed(keys: Buffer | readonly Buffer[], sealed: string, aad: string): string {
  const ring = Buffer.isBuffer(keys) ? [keys] : keys;
  const parts = sealed.split(".");
  let candidates: readonly Buffer[] = ring;
  let body: (string | undefined)[];
  if (parts[0] === SEALED_V2 && parts.length === 5) {
    const kid = parts[1];
    candidates = ring.filter((k) => masterKeyId(k) === kid);
    if (candidates.length === 0) {
      throw new CredentialsError(`the sealed value for ${aad} was sealed under master key id ${kid ?? "?"}, which is not in the keyring: add that key after the sealing one (KUBEIAM_MASTER_KEY="NEW,OLD")`);
    }
    body = parts.slice(2);
  } else if (parts[0] === SEALED_V1 && parts.length === 4) {
    body = parts.slice(1);
  } else {
    throw new CredentialsError(`a sealed value for ${aad} is not in the v1 or v2 format: the database was changed by hand`);
  }
  const [ivText, ctText, tagText] = body;
  if (ivText === undefined || ctText === undefined || tagText === undefined) {
    throw new CredentialsError(`a sealed value for ${aad} is damaged: the database was changed by hand`);
  }
  const iv = Buffer.from(ivText, "base64url");
  const tag = Buffer.from(tagText, "base64url");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new CredentialsError(`a sealed value for ${aad} is damaged: the database was changed by hand`);
  }
  let cause: unknown;
  for (const key of candidates) {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ctText, "base64url")), decipher.final()]).toString("utf8");
    } catch (error) {
      cause = error;
    }
  }
  throw new CredentialsError(`the sealed value for ${aad} does not open under this master key, or belongs to another row`, { cause });
}

/**
 * The key check value of a master key: the first 16 bytes of HMAC-SHA256(key, label), hex. It tells
 * two keys apart and reveals nothing of the key.
 *
 * @example
 * ```ts
 * if (stored !== keyCheckValue(masterKey)) throw new CredentialsError("sealed under another master key");
 * ```
 */
export function keyCheckValue(key: Buffer): string {
  return createHmac("sha256", key).update(KEY_CHECK_LABEL, "utf8").digest("hex").slice(0, 32);
}
