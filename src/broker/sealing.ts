/**
 * Sealing of cloud secrets at rest: AES-256-GCM under the master key, with the row's identity as
 * associated data (a sealed value copied to another row does not open), and a key check value that
 * tells whether a database was sealed under this master key without opening anything.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { CredentialsError } from "../lib/errors.js";

/** The prefix of every sealed value: format version 1 (AES-256-GCM, 96-bit IV, 128-bit tag). */
const SEALED_V1 = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What the key check value is an HMAC of; changing it would orphan every database. */
const KEY_CHECK_LABEL = "kubeiam broker master key check v1";

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
 * Seals a secret: `v1.<iv>.<ciphertext>.<tag>`, each part Base64url. `aad` names the row the value
 * belongs to (for example `credential:<id>:ncp`); opening it under another name fails.
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
  return [SEALED_V1, iv.toString("base64url"), ct.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/**
 * Opens a value sealed by {@link sealSecret} for the same `aad`. Throws {@link CredentialsError}
 * (never showing the value) when the key, the row or the bytes differ.
 *
 * @example
 * ```ts
 * const secrets = JSON.parse(openSealed(masterKey, row.sealed, `credential:${row.id}:ncp`));
 * ```
 */
export function openSealed(key: Buffer, sealed: string, aad: string): string {
  const parts = sealed.split(".");
  const [version, ivText, ctText, tagText] = parts;
  if (parts.length !== 4 || version !== SEALED_V1 || ivText === undefined || ctText === undefined || tagText === undefined) {
    throw new CredentialsError(`a sealed value for ${aad} is not in the v1 format: the database was changed by hand`);
  }
  const iv = Buffer.from(ivText, "base64url");
  const tag = Buffer.from(tagText, "base64url");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new CredentialsError(`a sealed value for ${aad} is damaged: the database was changed by hand`);
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, "base64url")), decipher.final()]).toString("utf8");
  } catch (cause) {
    throw new CredentialsError(`the sealed value for ${aad} does not open under this master key, or belongs to another row`, { cause });
  }
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
