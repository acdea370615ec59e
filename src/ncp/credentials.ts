/**
 * Finds NCP API credentials (docs/formats.md §4): the environment first, then `~/.ncloud/configure`.
 * Reads only; never prompts and never writes the file (kubectl runs us non-interactively).
 */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigFileError, CredentialsError } from "../lib/errors.js";
import { quoted } from "../lib/printable.js";
import { nonEmpty } from "../lib/validate.js";

/** The NCP API Gateway that NCP's own tools use when none is configured. */
export const DEFAULT_NCP_API_URL = "https://ncloud.apigw.ntruss.com";

/** An NCP API key and the gateway it is for. */
export interface NcpCredentials {
  accessKey: string;
  secretKey: string;
  /** The API Gateway base URL (`https://ncloud.apigw.ntruss.com`). */
  apiUrl: string;
}

/** Credentials with where they were found. */
export interface ResolvedNcpCredentials extends NcpCredentials {
  /** `env`, or `file` for a configure file. */
  source: "env" | "file";
  /** The configure file read, when `source` is `file`. */
  path?: string;
  /** The file's section used, when `source` is `file`. */
  profile?: string;
  /** Things worth telling the user on stderr, such as a configure file that others can read. */
  warnings: string[];
}

/** Options of {@link resolveNcpCredentials}. */
export interface ResolveNcpCredentialsOptions {
  /** The environment to read; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** The configure file's section; defaults to `NCLOUD_PROFILE`, then `DEFAULT`. */
  profile?: string;
  /** The configure file; defaults to `~/.ncloud/configure` under `HOME`. */
  configFile?: string;
}

/** The default configure file for a given environment: `$HOME/.ncloud/configure`. */
export function defaultNcpConfigFile(env: Record<string, string | undefined> = process.env): string {
  return join(env.HOME || homedir(), ".ncloud", "configure");
}

/**
 * Resolves NCP credentials: the first complete source wins (docs/formats.md §4).
 *
 * 1. `NCLOUD_ACCESS_KEY_ID` (or `NCLOUD_ACCESS_KEY`) with `NCLOUD_SECRET_ACCESS_KEY` (or `NCLOUD_SECRET_KEY`);
 *    the API URL from `NCLOUD_API_GW`, else the default gateway.
 * 2. The configure file's section (`profile`, else `NCLOUD_PROFILE`, else `DEFAULT`), keys
 *    `ncloud_access_key_id`, `ncloud_secret_access_key`, `ncloud_api_url`.
 *
 * A profile asked for by name must exist. Throws {@link CredentialsError} when nothing usable is
 * found and {@link ConfigFileError} when the file exists but cannot be read or parsed.
 *
 * @example
 * ```ts
 * const creds = resolveNcpCredentials({ profile: "prod" });
 * console.error(`using ${creds.accessKey} from ${creds.source}`);
 * ```
 */
export function resolveNcpCredentials(options: ResolveNcpCredentialsOptions = {}): ResolvedNcpCredentials {
  const env = options.env ?? process.env;
  const envAccess = nonEmpty(env.NCLOUD_ACCESS_KEY_ID) ?? nonEmpty(env.NCLOUD_ACCESS_KEY);
  const envSecret = nonEmpty(env.NCLOUD_SECRET_ACCESS_KEY) ?? nonEmpty(env.NCLOUD_SECRET_KEY);
  const envUrl = nonEmpty(env.NCLOUD_API_GW);
  const explicitProfile = nonEmpty(options.profile);
  if (envAccess !== undefined && envSecret !== undefined) {
    return { accessKey: envAccess, secretKey: envSecret, apiUrl: envUrl ?? DEFAULT_NCP_API_URL, source: "env", warnings: [] };
  }

  const path = options.configFile ?? defaultNcpConfigFile(env);
  const profile = explicitProfile ?? nonEmpty(env.NCLOUD_PROFILE) ?? "DEFAULT";
  const named = explicitProfile !== undefined || nonEmpty(env.NCLOUD_PROFILE) !== undefined;
  const file = readConfigure(path, options.configFile !== undefined || named);
  if (file === undefined) {
    throw new CredentialsError(
      "no NCP credentials found: set NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY, or write them to ~/.ncloud/configure (or pass --credentialConfig FILE)",
    );
  }
  const section = file.sections.get(profile);
  if (section === undefined) {
    const known = [...file.sections.keys()];
    throw new CredentialsError(
      `profile "${profile}" is not in ${path}${known.length ? ` (it has: ${known.map((k) => (/^[\w.-]+$/.test(k) ? k : quoted(k, 40))).join(", ")})` : ""}: pass --profile with one of those, or add a [${profile}] section`,
    );
  }
  const accessKey = nonEmpty(section.get("ncloud_access_key_id"));
  const secretKey = nonEmpty(section.get("ncloud_secret_access_key"));
  if (accessKey === undefined || secretKey === undefined) {
    const missing = [accessKey === undefined ? "ncloud_access_key_id" : "", secretKey === undefined ? "ncloud_secret_access_key" : ""].filter(Boolean);
    throw new CredentialsError(`profile "${profile}" in ${path} has no ${missing.join(" or ")}: add ${missing.length > 1 ? "them" : "it"} to the [${profile}] section`);
  }
  const apiUrl = nonEmpty(section.get("ncloud_api_url")) ?? envUrl ?? DEFAULT_NCP_API_URL;
  const warnings: string[] = [];
  if ((file.mode & 0o077) !== 0) {
    warnings.push(`${path} can be read by other users (mode ${(file.mode & 0o777).toString(8)}): run chmod 600 ${path}`);
  }
  return { accessKey, secretKey, apiUrl, source: "file", path, profile, warnings };
}

interface ConfigureFile {
  /** Section name to its keys and values. */
  sections: Map<string, Map<string, string>>;
  mode: number;
}

/** Reads and parses the configure file; `undefined` when it does not exist and was not asked for by name. */
function readConfigure(path: string, required: boolean): ConfigureFile | undefined {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      if (!required) return undefined;
      throw new CredentialsError(`credential file ${path} does not exist: create it, or pass --credentialConfig with the right path`, { cause });
    }
    if (code === "EISDIR") throw new ConfigFileError(path, `credential file ${path} is a directory: pass the configure file itself`, { cause });
    throw new ConfigFileError(path, `cannot read credential file ${path} (${code ?? "error"}): check its permissions`, { cause });
  }
  return { sections: parseConfigure(path, text), mode };
}

/**
 * Parses a configure file as gopkg.in/ini.v1 (the official tool's reader) does for it: `[prod.eu]` is
 * one section, keys before any section belong to DEFAULT, `#` and `;` start comments, a value may be
 * quoted. Written here rather than loaded (the `ini` package costs `token` ~10 ms of start-up), and
 * stricter: a stray line is more likely a paste gone wrong, so it is refused, naming the line but
 * never its content (it may be a key).
 */
function parseConfigure(path: string, text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  const sectionNamed = (name: string): Map<string, string> => {
    let section = sections.get(name);
    if (section === undefined) sections.set(name, (section = new Map()));
    return section;
  };
  let current = "DEFAULT";
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const header = /^\[([^\]]*)\]$/.exec(line);
    const name = header?.[1]?.trim();
    const eq = line.indexOf("=");
    if (name) {
      current = name;
      sectionNamed(name);
    } else if (header === null && eq > 0) {
      sectionNamed(current).set(line.slice(0, eq).trim(), iniValue(line.slice(eq + 1).trim()));
    } else {
      throw new ConfigFileError(path, `credential file ${path} is malformed at line ${i + 1}: expected "[profile]" or "key = value"`);
    }
  }
  return sections;
}

/** A value without its quotes, or without an inline comment when unquoted. */
function iniValue(raw: string): string {
  const quote = raw[0];
  if ((quote === '"' || quote === "'" || quote === "`") && raw.length >= 2 && raw.endsWith(quote)) return raw.slice(1, -1);
  const comment = raw.search(/[#;]/);
  return comment === -1 ? raw : raw.slice(0, comment).trim();
}
