/**
 * A credential's secrets between the REST body and the store: checked by the provider's engine,
 * sealed with the row's identity (`credential:<id>:<provider>`) as associated data, and opened again
 * for minting.
 */
import { KubeiamError } from "../lib/errors.js";
import { ENGINES, engineFor } from "./engines.js";
import { BrokerReason, BrokerRefusal } from "./errors.js";
import { openSealed, sealSecret } from "./sealing.js";
import type { BrokerProvider, StoredCredential } from "./store/store.js";

/** The body of `POST /v1/credentials`, after schema validation: the name, the provider and its block. */
export interface CredentialBody {
  name: string;
  provider: BrokerProvider;
  [block: string]: unknown;
}

/** A credential's secrets, opened: the engine's own shape (`ncp/engine.ts`, …). */
export interface CredentialSecrets {
  provider: BrokerProvider;
  secrets: unknown;
}

function bad(message: string): BrokerRefusal {
  return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, message);
}

/**
 * The secrets of a credential body, checked by the provider's engine: exactly the provider's block,
 * then what the schema cannot say (URLs, role ARNs, key files). Messages name the field, never its value.
 *
 * @example
 * ```ts
 * const secrets = credentialSecretsOf({ name: "ncp-main", provider: "ncp", ncp: { accessKey, secretKey } });
 * ```
 */
export function credentialSecretsOf(body: CredentialBody): CredentialSecrets {
  const engine = engineFor(body.provider);
  if (engine === undefined) throw bad(`body field provider must be one of ${ENGINES.map((e) => JSON.stringify(e.id)).join(", ")}`);
  for (const other of ENGINES) {
    if (other.id !== body.provider && body[other.id] !== undefined) {
      throw bad(`body field ${other.id} does not belong to a ${body.provider} credential: send only ${body.provider}`);
    }
  }
  const block = body[engine.id];
  if (block === undefined || block === null || typeof block !== "object") {
    throw bad(`body field ${engine.id} is missing: send ${engine.id}.${engine.credentialSchema.required.join(` and ${engine.id}.`)}`);
  }
  try {
    return { provider: engine.id, secrets: engine.checkCredential(block as Record<string, unknown>) };
  } catch (error) {
    if (error instanceof KubeiamError) throw bad(`body field ${error.message}`);
    throw error;
  }
}

/** The associated data that binds a sealed value to its row. */
export function credentialAad(id: string, provider: BrokerProvider): string {
  return `credential:${id}:${provider}`;
}

/**
 * Seals a credential's secrets for the row `id`.
 *
 * @example
 * ```ts
 * const sealed = sealCredential(masterKey, id, secrets);
 * ```
 */
export function sealCredential(masterKey: Buffer, id: string, secrets: CredentialSecrets): string {
  return sealSecret(masterKey, JSON.stringify(secrets.secrets), credentialAad(id, secrets.provider));
}

/**
 * Opens a stored credential's secrets with the master key or keyring (throws `CredentialsError` when
 * they were sealed for another row, or under a key the keyring lacks).
 *
 * @example
 * ```ts
 * const { secrets } = openCredential(ctx.masterKeys, row);
 * ```
 */
export function openCredential(masterKey: Buffer | readonly Buffer[], row: StoredCredential): CredentialSecrets {
  // The plaintext was checked by the engine before sealing, and GCM proves it unchanged since.
  return { provider: row.provider, secrets: JSON.parse(openSealed(masterKey, row.sealed, credentialAad(row.id, row.provider))) as unknown };
}

/**
 * What a listing shows of a credential besides its name and provider (its engine's
 * `credentialSummary`: an NCP key's API URL), opened with the keyring; nothing when the engine shows
 * nothing or the value does not open (a start refuses that, so only a row changed behind its back).
 *
 * @example
 * ```ts
 * credentialSummary(ctx.masterKeys, row); // { apiUrl: "https://ncloud.apigw.ntruss.com" }
 * ```
 */
export function credentialSummary(masterKey: Buffer | readonly Buffer[], row: StoredCredential): Record<string, string> {
  const engine = engineFor(row.provider);
  if (engine?.credentialSummary === undefined) return {};
  let opened: CredentialSecrets;
  try {
    opened = openCredential(masterKey, row);
  } catch {
    return {};
  }
  return engine.credentialSummary(opened.secrets);
}
