/**
 * Finds NCP API credentials (docs/formats.md §4): the environment first, then `~/.ncloud/configure`.
 * Reads only; never prompts and never writes the file (kubectl runs us non-interactively).
 */
import { builtin } from "../lib/builtin.js";
import { ConfigFileError, CredentialsError, KubeiamError } from "../lib/errors.js";
import { quoted } from "../lib/printable.js";
// Types only: the file reader (node:fs/promises and friends) loads when a configure file is read, so
// that `token` with keys in the environment, run on every kubectl call, does not pay for it.
import type { UserFile } from "../lib/read-file.js";
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
  /** The configure file; defaults to `~/.ncloud/configure` under `HOME`. A FIFO (`<(…)`) or `/dev/null` is read too. */
  configFile?: string;
  /** Stops waiting on a configure file that is a FIFO nobody writes to. */
  signal?: AbortSignal;
}

/** The default configure file for a given environment: `$HOME/.ncloud/configure`. */
export function defaultNcpConfigFile(env: Record<string, string | undefined> = process.env): string {
  // Required here, not imported: kubeiam/ncp's import and `token` need neither (lib/builtin.ts), and
  // node:os only when HOME is unset.
  return builtin("node:path").join(env.HOME || builtin("node:os").homedir(), ".ncloud", "configure");
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
 * found, {@link ConfigFileError} when the file exists but cannot be read or parsed, and
 * {@link FileError} when the path is a socket or block device, or a FIFO that never ends.
 *
 * @example
 * ```ts
 * const creds = await resolveNcpCredentials({ profile: "prod" });
 * console.error(`using ${creds.accessKey} from ${creds.source}`);
 * ```
 */
export async function resolveNcpCredentials(options: ResolveNcpCredentialsOptions = {}): Promise<ResolvedNcpCredentials> {
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
  const file = await readConfigure(path, options.configFile !== undefined || named, options.signal);
  if (file === undefined) {
    throw new CredentialsError(
      "no NCP credentials found: set NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY, or write them to ~/.ncloud/configure or another configure file",
      { field: "configFile" },
    );
  }
  const section = file.sections.get(profile);
  if (section === undefined) {
    const known = [...file.sections.keys()].filter((name) => (file.sections.get(name)?.size ?? 0) > 0 || name !== "DEFAULT");
    if (known.length === 0) {
      throw new CredentialsError(
        `${path} has no profiles: add a [${profile}] section with ncloud_access_key_id and ncloud_secret_access_key (as 'ncloud configure' writes it), or set NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY`,
      );
    }
    throw new CredentialsError(
      `profile "${profile}" is not in ${path}${known.length ? ` (it has: ${known.map((k) => (/^[\w.-]+$/.test(k) ? k : quoted(k, 40))).join(", ")})` : ""}: choose one of those, or add a [${profile}] section`,
      { field: "profile", value: profile },
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

/**
 * Where credentials came from, in words for a log line (never the secret): the environment, or a
 * profile of a configure file, and the access key.
 *
 * @example
 * ```ts
 * describeNcpCredentialSource(await resolveNcpCredentials()); // "profile DEFAULT of /home/me/.ncloud/configure, access key NCP…"
 * ```
 */
export function describeNcpCredentialSource(c: ResolvedNcpCredentials): string {
  const where = c.source === "env" ? "the environment (NCLOUD_ACCESS_KEY_ID)" : `profile ${c.profile ?? "DEFAULT"} of ${c.path ?? "the configure file"}`;
  return `${where}, access key ${c.accessKey}`;
}

interface ConfigureFile {
  /** Section name to its keys and values. */
  sections: Map<string, Map<string, string>>;
  mode: number;
}

/** Reads and parses the configure file; `undefined` when it does not exist and was not asked for by name. */
async function readConfigure(path: string, required: boolean, signal: AbortSignal | undefined): Promise<ConfigureFile | undefined> {
  let text: string;
  let mode: number;
  let regular: boolean;
  try {
    const { readUserFile } = await import("../lib/read-file.js");
    const file: UserFile = await readUserFile(path, { what: "credential file", ...(signal === undefined ? {} : { signal }) });
    ({ text, mode } = file);
    regular = file.kind === "regular file";
  } catch (cause) {
    if (cause instanceof KubeiamError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      if (!required) return undefined;
      throw new CredentialsError(`credential file ${path} does not exist: create it, or give the right path`, { cause, field: "configFile", value: path });
    }
    if (code === "EISDIR") throw new ConfigFileError(path, `credential file ${path} is a directory: pass the configure file itself`, { cause });
    throw new ConfigFileError(path, `cannot read credential file ${path} (${code ?? "error"}): check its permissions`, { cause });
  }
  // A pipe's or device's mode says nothing about who can read the keys: only a file's is checked.
  return { sections: parseConfigure(path, text), mode: regular ? mode : 0o600 };
}

/**
 * Parses a configure file as gopkg.in/ini.v1 (the official tool's reader, default options) does for
 * it: `[prod.eu]` is one section and may be followed by a comment, keys before any section belong to
 * DEFAULT, `=` or `:` ends a key, `#` and `;` start comments, values are read by {@link iniValue}.
 * Written here rather than loaded (the `ini` package costs `token` ~10 ms of start-up), and stricter:
 * a stray line is more likely a paste gone wrong, so it is refused, naming the line but never its
 * content (it may be a key). Values spanning lines (continuations, open quotes) are refused too.
 */
function parseConfigure(path: string, text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  const sectionNamed = (name: string): Map<string, string> => {
    let section = sections.get(name);
    if (section === undefined) sections.set(name, (section = new Map()));
    return section;
  };
  const malformed = (i: number, why = 'expected "[profile]" or "key = value"'): ConfigFileError =>
    new ConfigFileError(path, `credential file ${path} is malformed at line ${i + 1}: ${why}`);
  let current = "DEFAULT";
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      // go-ini takes the name up to the last "]" and drops what follows as a comment.
      const close = line.lastIndexOf("]");
      const name = close === -1 ? "" : line.slice(1, close).trim();
      const rest = close === -1 ? "" : line.slice(close + 1).trim();
      if (name === "" || (rest !== "" && !rest.startsWith("#") && !rest.startsWith(";"))) throw malformed(i);
      current = name;
      sectionNamed(name);
      continue;
    }
    const eq = line.search(/[=:]/);
    if (eq <= 0) throw malformed(i);
    const value = iniValue(line.slice(eq + 1));
    if (value === undefined) throw malformed(i, "a value that goes on over several lines is not supported: put it on one line");
    sectionNamed(current).set(line.slice(0, eq).trim(), value);
  }
  return sections;
}

/**
 * A value as gopkg.in/ini.v1's `readValue` reads it with default options: one opening with a
 * backtick or `"""` runs to the last such quote on the line, comment characters and all; any other
 * value is trimmed, cut at its first `#` or `;` (an inline comment) and trimmed again, and then loses
 * one pair of surrounding `'` or `"` quotes when that quote does not also appear inside.
 * `undefined` for a value that go-ini would continue on the next line (an open quote, a trailing `\\`).
 */
function iniValue(raw: string): string | undefined {
  let line = raw.trimStart();
  if (line === "") return "";
  const quote = line.length > 3 && line.startsWith('"""') ? '"""' : line.startsWith("`") ? "`" : undefined;
  if (quote !== undefined) {
    const end = line.lastIndexOf(quote);
    return end < quote.length ? undefined : line.slice(quote.length, end);
  }
  line = line.trim();
  if (line.endsWith("\\")) return undefined;
  const comment = line.search(/[#;]/);
  if (comment !== -1) line = line.slice(0, comment).trim();
  for (const q of ["'", '"']) {
    if (line.length >= 2 && line.startsWith(q) && line.endsWith(q) && line.indexOf(q, 1) === line.length - 1) return line.slice(1, -1);
  }
  return line;
}
