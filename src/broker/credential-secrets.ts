/**
 * A credential's secrets between the REST body and the store: checked per provider, sealed with the
 * row's identity (`credential:<id>:<provider>`) as associated data, and opened again for minting.
 */
import { checkAwsExternalId, checkAwsRoleArn, checkAwsRoleSessionName } from "../aws/assume-role.js";
import { parseGcpCredentialsFile } from "../gcp/token.js";
import { KubeiamError } from "../lib/errors.js";
import type { AwsSecrets, CredentialSecrets, GcpSecrets, NcpSecrets } from "./cloud.js";
import { BrokerReason, BrokerRefusal } from "./errors.js";
import { openSealed, sealSecret } from "./sealing.js";
import type { BrokerProvider, StoredCredential } from "./store/store.js";

/** The body of `POST /v1/credentials`, after schema validation. */
export interface CredentialBody {
  name: string;
  provider: BrokerProvider;
  ncp?: { accessKey: string; secretKey: string; apiUrl?: string };
  aws?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; roleArn?: string; externalId?: string; sessionName?: string };
  gcp?: { serviceAccount: Record<string, unknown> };
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function bad(message: string): BrokerRefusal {
  return new BrokerRefusal(400, BrokerReason.BAD_REQUEST, message);
}

/**
 * The secrets of a credential body, checked: exactly the provider's block, an https API URL (plain
 * http only on loopback), a usable service-account key. Messages name the field, never its value.
 *
 * @example
 * ```ts
 * const secrets = credentialSecretsOf({ name: "ncp-main", provider: "ncp", ncp: { accessKey, secretKey } });
 * ```
 */
export function credentialSecretsOf(body: CredentialBody): CredentialSecrets {
  for (const other of ["ncp", "aws", "gcp"] as const) {
    if (other !== body.provider && body[other] !== undefined) {
      throw bad(`body field ${other} does not belong to a ${body.provider} credential: send only ${body.provider}`);
    }
  }
  switch (body.provider) {
    case "ncp": {
      const ncp = body.ncp;
      if (ncp === undefined) throw bad("body field ncp is missing: send ncp.accessKey and ncp.secretKey");
      if (ncp.apiUrl !== undefined) {
        let url: URL;
        try {
          url = new URL(ncp.apiUrl);
        } catch {
          throw bad("body field ncp.apiUrl is not a URL: give the API gateway, for example https://ncloud.apigw.ntruss.com");
        }
        if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
          throw bad("body field ncp.apiUrl must be an https URL (plain http only on loopback)");
        }
      }
      return { provider: "ncp", ncp: { accessKey: ncp.accessKey, secretKey: ncp.secretKey, ...(ncp.apiUrl === undefined ? {} : { apiUrl: ncp.apiUrl.replace(/\/+$/, "") }) } };
    }
    case "aws": {
      const aws = body.aws;
      if (aws === undefined) throw bad("body field aws is missing: send aws.accessKeyId and aws.secretAccessKey");
      if (aws.roleArn === undefined) {
        for (const field of ["externalId", "sessionName"] as const) {
          if (aws[field] !== undefined) throw bad(`body field aws.${field} goes with aws.roleArn: name the role to assume, or leave ${field} out`);
        }
      }
      // Checked here, so a role the broker could never assume is refused before it is stored.
      try {
        if (aws.roleArn !== undefined) checkAwsRoleArn(aws.roleArn);
        if (aws.sessionName !== undefined) checkAwsRoleSessionName(aws.sessionName);
        if (aws.externalId !== undefined) checkAwsExternalId(aws.externalId);
      } catch (error) {
        if (error instanceof KubeiamError) throw bad(`body field aws.${error.field ?? "roleArn"}: ${error.message}`);
        throw error;
      }
      return {
        provider: "aws",
        aws: {
          accessKeyId: aws.accessKeyId,
          secretAccessKey: aws.secretAccessKey,
          ...(aws.sessionToken === undefined ? {} : { sessionToken: aws.sessionToken }),
          ...(aws.roleArn === undefined ? {} : { roleArn: aws.roleArn }),
          ...(aws.externalId === undefined ? {} : { externalId: aws.externalId }),
          ...(aws.sessionName === undefined ? {} : { sessionName: aws.sessionName }),
        },
      };
    }
    case "gcp": {
      const gcp = body.gcp;
      if (gcp === undefined) throw bad("body field gcp is missing: send gcp.serviceAccount, the service account's key file JSON");
      let kind: string;
      try {
        kind = parseGcpCredentialsFile(JSON.stringify(gcp.serviceAccount), "gcp.serviceAccount").kind;
      } catch (error) {
        if (error instanceof KubeiamError) throw bad(`body field ${error.message}`);
        throw error;
      }
      if (kind !== "serviceAccount") throw bad('body field gcp.serviceAccount must be a service account key file ("type": "service_account")');
      return { provider: "gcp", gcp: { serviceAccount: gcp.serviceAccount } };
    }
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
  const inner = secrets.provider === "ncp" ? secrets.ncp : secrets.provider === "aws" ? secrets.aws : secrets.gcp;
  return sealSecret(masterKey, JSON.stringify(inner), credentialAad(id, secrets.provider));
}

/**
 * Opens a stored credential's secrets (throws `CredentialsError` when they were sealed for another row or key).
 *
 * @example
 * ```ts
 * const secrets = openCredential(masterKey, row);
 * ```
 */
export function openCredential(masterKey: Buffer, row: StoredCredential): CredentialSecrets {
  // The plaintext was checked by credentialSecretsOf before sealing, and GCM proves it unchanged since.
  const inner: unknown = JSON.parse(openSealed(masterKey, row.sealed, credentialAad(row.id, row.provider)));
  switch (row.provider) {
    case "ncp":
      return { provider: "ncp", ncp: inner as NcpSecrets };
    case "aws":
      return { provider: "aws", aws: inner as AwsSecrets };
    case "gcp":
      return { provider: "gcp", gcp: inner as GcpSecrets };
  }
}
