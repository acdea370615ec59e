/**
 * Finds GCP credentials (docs/formats.md §7): the key file named, `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's
 * ADC file, else Application Default Credentials. The file edge of the GKE path: token.ts stays pure.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigFileError, CredentialsError, KubeiamError } from "../lib/errors.js";
import { readUserFile } from "../lib/read-file.js";
import { parseGcpCredentialsFile, type GkeCredentials } from "./token.js";

/**
 * Reads a credentials file (a service-account key or an ADC file); a FIFO (`<(…)`) is read too.
 *
 * @example
 * ```ts
 * const creds = await readGcpCredentialsFile("/secrets/sa.json");
 * ```
 */
export async function readGcpCredentialsFile(path: string): Promise<GkeCredentials> {
  let text: string;
  try {
    text = (await readUserFile(path, { what: "GCP credentials file" })).text;
  } catch (cause) {
    if (cause instanceof KubeiamError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CredentialsError(`GCP credentials file ${path} does not exist: give the right path, or fix GOOGLE_APPLICATION_CREDENTIALS`, { cause, field: "credentialsFile", value: path });
    throw new ConfigFileError(path, `cannot read GCP credentials file ${path} (${code ?? "error"}): check its permissions`, { cause, field: "credentialsFile" });
  }
  return parseGcpCredentialsFile(text, path);
}

/**
 * The credentials to use: the file named, else `GOOGLE_APPLICATION_CREDENTIALS`, else gcloud's ADC
 * file when it exists, else ADC as google-auth-library finds it (the metadata server).
 *
 * @example
 * ```ts
 * const creds = await resolveGkeCredentials({ file: undefined, env: process.env });
 * ```
 */
export async function resolveGkeCredentials(options: { file?: string | undefined; env: Record<string, string | undefined> }): Promise<GkeCredentials> {
  const named = options.file?.trim() || options.env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
  if (named) return readGcpCredentialsFile(named);
  const configDir = options.env.CLOUDSDK_CONFIG?.trim() || join(options.env.HOME || homedir(), ".config", "gcloud");
  const adcFile = join(configDir, "application_default_credentials.json");
  try {
    return parseGcpCredentialsFile((await readUserFile(adcFile, { what: "GCP credentials file" })).text, adcFile);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return { kind: "adc" };
    if (cause instanceof KubeiamError) throw cause;
    throw new ConfigFileError(adcFile, `cannot read GCP credentials file ${adcFile} (${(cause as NodeJS.ErrnoException).code ?? "error"}): check its permissions`, { cause });
  }
}
