/**
 * Broker tokens: `kbi_` and 43 Base64url characters (32 random bytes), kept only as SHA-256 digests.
 */
import { createHash, randomBytes } from "node:crypto";

/** The prefix of every broker token. */
export const BROKER_TOKEN_PREFIX = "kbi_";

const TOKEN_RE = /^kbi_[A-Za-z0-9_-]{43}$/;

/**
 * A new broker token: 32 random bytes, Base64url, after `kbi_`.
 *
 * @example
 * ```ts
 * const token = newBrokerToken(); // "kbi_" + 43 characters
 * ```
 */
export function newBrokerToken(): string {
  return `${BROKER_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/**
 * Whether a string has a broker token's shape (it may still be unknown or revoked).
 *
 * @example
 * ```ts
 * isBrokerTokenShape("kbi_" + "A".repeat(43)); // true
 * ```
 */
export function isBrokerTokenShape(text: string): boolean {
  return TOKEN_RE.test(text);
}

/**
 * The digest the store keeps of a token: SHA-256 of its UTF-8 text, lower-case hex.
 *
 * @example
 * ```ts
 * const user = await store.userByTokenHash(hashBrokerToken(token));
 * ```
 */
export function hashBrokerToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * What the store keeps of a token that stopped working (rotated away, or its user deleted), to name
 * its former owner when it is presented again: a SHA-256 of its digest under a label. It is no
 * digest of the token itself, so copying it into the users table authenticates nothing, and the
 * digest cannot be read back from it.
 *
 * @example
 * ```ts
 * const owner = await store.retiredTokenOwner(retiredTokenDigest(hashBrokerToken(token)));
 * ```
 */
export function retiredTokenDigest(tokenHash: string): string {
  return createHash("sha256").update(`kubeiam retired broker token\0${tokenHash}`, "utf8").digest("hex");
}
