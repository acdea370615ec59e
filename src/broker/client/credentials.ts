/**
 * Where a broker client finds its broker token: `KUBEIAM_BROKER_TOKEN`, else the entry for that
 * server in `~/.kubeiam/credentials.json` (written by `kubeiam broker login`: 0600, atomic, one
 * entry per server). Also the checks of a server URL and of a token's form, shared by every client.
 */
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { ConfigFileError, CredentialsError, KubeiamError } from "../../lib/errors.js";
import { readUserFile } from "../../lib/read-file.js";
import { normalizeBrokerServer } from "./server-url.js";

export { normalizeBrokerServer } from "./server-url.js";

/** A broker token: `kbi_` and 43 Base64url characters (32 random bytes), BROKER.md "Authentication". */
export const BROKER_TOKEN_RE = /^kbi_[A-Za-z0-9_-]{43}$/;

/** The environment variable that wins over the credentials file. */
export const BROKER_TOKEN_ENV = "KUBEIAM_BROKER_TOKEN";

/**
 * Checks the form of a broker token; the message never repeats the value.
 *
 * @example
 * ```ts
 * checkBrokerToken(process.env.KUBEIAM_BROKER_TOKEN ?? "", "KUBEIAM_BROKER_TOKEN");
 * ```
 */
export function checkBrokerToken(token: string, where: string): string {
  if (!BROKER_TOKEN_RE.test(token)) {
    throw new CredentialsError(`${where} does not hold a broker token (kbi_ followed by 43 characters): ask the broker's admin for yours`);
  }
  return token;
}

/**
 * The credentials file: `~/.kubeiam/credentials.json`.
 *
 * @example
 * ```ts
 * brokerCredentialsFile({ HOME: "/home/me" }); // "/home/me/.kubeiam/credentials.json"
 * ```
 */
export function brokerCredentialsFile(env: Record<string, string | undefined>): string {
  return join(env.HOME || homedir(), ".kubeiam", "credentials.json");
}

/**
 * A session from `kubeiam broker login --device` (BROKER.md "Signing in"): the access token (kbs_…)
 * with its end, the refresh token (kbr_…) that renews it, and a random id of this sign-in that keys
 * the ExecCredential cache (a new sign-in, perhaps as someone else, never reads the old one's).
 */
export interface BrokerSessionEntry {
  accessToken: string;
  /** When the access token stops (RFC 3339). */
  accessExpiresAt: string;
  refreshToken: string;
  loginId: string;
}

/**
 * One server's entry: a broker token, or a session; and the PEM of the CA that signed the broker's
 * certificate when `broker login --ca-file` named one (used by later commands to that server
 * without the flag; an explicit `--ca-file` wins).
 */
export type BrokerCredentialsEntry = ({ token: string; session?: undefined } | { token?: undefined; session: BrokerSessionEntry }) & { ca?: string };

/** The file's content: one token or session per server URL. */
export interface BrokerCredentialsFileContent {
  version: 1;
  servers: Record<string, BrokerCredentialsEntry>;
}

const SESSION_ACCESS_RE = /^kbs_[A-Za-z0-9_-]{43}$/;
const SESSION_REFRESH_RE = /^kbr_[A-Za-z0-9_-]{43}$/;

function sessionEntryOf(value: unknown): BrokerSessionEntry | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.accessToken !== "string" || !SESSION_ACCESS_RE.test(v.accessToken)) return undefined;
  if (typeof v.refreshToken !== "string" || !SESSION_REFRESH_RE.test(v.refreshToken)) return undefined;
  if (typeof v.accessExpiresAt !== "string" || Number.isNaN(Date.parse(v.accessExpiresAt))) return undefined;
  if (typeof v.loginId !== "string" || !/^[A-Za-z0-9_-]{8,64}$/.test(v.loginId)) return undefined;
  return { accessToken: v.accessToken, accessExpiresAt: v.accessExpiresAt, refreshToken: v.refreshToken, loginId: v.loginId };
}

function modeText(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, "0");
}

/**
 * Refuses the credentials file's folder (~/.kubeiam) when others may write to it (they could put
 * their own credentials.json in place: a token for their broker) or read it: it is created 0700, as
 * ssh keeps ~/.ssh. A missing folder is fine (login creates it).
 */
async function checkPrivateFolder(folder: string): Promise<void> {
  const { stat } = await import("node:fs/promises");
  let mode: number;
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) return;
    mode = info.mode;
  } catch {
    return;
  }
  // Only the kubeiam folder itself: a file named elsewhere (tests, tools) lives where its caller chose.
  if ((mode & 0o077) !== 0 && basename(folder) === ".kubeiam") {
    throw new CredentialsError(`${folder} may be ${(mode & 0o022) !== 0 ? "written" : "read"} by others (mode ${modeText(mode)}): make it the owner's only with 'chmod 700 ${folder}'`);
  }
}

/**
 * Reads the credentials file; a missing file reads as empty. A malformed one is an error naming the
 * file (and never its content).
 *
 * @example
 * ```ts
 * const { servers } = await readBrokerCredentials("/home/me/.kubeiam/credentials.json");
 * ```
 */
export async function readBrokerCredentials(path: string): Promise<BrokerCredentialsFileContent> {
  await checkPrivateFolder(dirname(path));
  let text: string;
  try {
    const file = await readUserFile(path, { what: "broker credentials file" });
    // Like ssh with a private key: tokens that others may read are refused, not used.
    if (file.kind === "regular file" && (file.mode & 0o077) !== 0) {
      throw new CredentialsError(`${path} may be read by others (mode ${modeText(file.mode)}): make it the owner's only with 'chmod 600 ${path}'`);
    }
    text = file.text;
  } catch (cause) {
    if (cause instanceof KubeiamError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { version: 1, servers: {} };
    throw new ConfigFileError(path, `cannot read ${path} (${code ?? "error"}): check its permissions`, { cause });
  }
  const bad = (): never => {
    throw new ConfigFileError(path, `${path} is not a kubeiam credentials file: remove it and run 'kubeiam broker login' again`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return bad();
  const servers = (parsed as { servers?: unknown }).servers ?? {};
  if (typeof servers !== "object" || servers === null || Array.isArray(servers)) return bad();
  const out: BrokerCredentialsFileContent = { version: 1, servers: {} };
  for (const [server, entry] of Object.entries(servers as Record<string, unknown>)) {
    const token = (entry as { token?: unknown } | null)?.token;
    const session = (entry as { session?: unknown } | null)?.session;
    const ca = (entry as { ca?: unknown } | null)?.ca;
    if (ca !== undefined && (typeof ca !== "string" || !ca.includes("-----BEGIN CERTIFICATE-----"))) return bad();
    const withCa = ca === undefined ? {} : { ca };
    if (typeof token === "string") out.servers[server] = { token, ...withCa };
    else if (session !== undefined) {
      const s = sessionEntryOf(session);
      if (s === undefined) return bad();
      out.servers[server] = { session: s, ...withCa };
    } else return bad();
  }
  return out;
}

/**
 * Keeps a token for a server in the credentials file (with the broker's CA, when given), replacing
 * that server's entry and keeping the others: written to a temporary file (0600) and renamed over
 * the old one, in a 0700 folder.
 *
 * @example
 * ```ts
 * await saveBrokerToken(brokerCredentialsFile(process.env), "https://broker.example:8750", token);
 * ```
 */
export async function saveBrokerToken(path: string, server: string, token: string, ca?: string): Promise<void> {
  await saveBrokerEntry(path, server, { token: checkBrokerToken(token, "the token given"), ...(ca === undefined ? {} : { ca }) });
}

/**
 * Keeps one server's entry (a token, a session, or none to forget it) in the credentials file, as
 * {@link saveBrokerToken} does: the others stay, 0600, atomic.
 *
 * @example
 * ```ts
 * await saveBrokerEntry(brokerCredentialsFile(process.env), server, { session });
 * ```
 */
export async function saveBrokerEntry(path: string, server: string, entry: BrokerCredentialsEntry | undefined): Promise<void> {
  const content = await readBrokerCredentials(path);
  const key = normalizeBrokerServer(server);
  // The CA remembered for the server stays with its new token or renewed session unless one is given.
  const ca = entry?.ca ?? content.servers[key]?.ca;
  if (entry === undefined) delete content.servers[key];
  else content.servers[key] = { ...entry, ...(ca === undefined ? {} : { ca }) };
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Loaded here: the exec plugin only reads this file, and need not load node:crypto for it.
    const { writeFileAtomic } = await import("../../lib/fs.js");
    await writeFileAtomic(path, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  } catch (cause) {
    throw new ConfigFileError(path, `cannot write ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"}): check the folder's permissions`, { cause });
  }
}

/**
 * The broker token to send to a server: `KUBEIAM_BROKER_TOKEN` when set, else the file's entry for
 * that server. Throws {@link CredentialsError} saying how to log in when there is none.
 *
 * @example
 * ```ts
 * const token = await resolveBrokerToken("https://broker.example:8750", process.env);
 * ```
 */
export async function resolveBrokerToken(
  server: string,
  env: Record<string, string | undefined>,
  options: { ca?: string; signal?: AbortSignal; now?: () => number } = {},
): Promise<string> {
  const fromEnv = env[BROKER_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return checkBrokerToken(fromEnv.trim(), BROKER_TOKEN_ENV);
  const key = normalizeBrokerServer(server);
  const path = brokerCredentialsFile(env);
  const entry = (await readBrokerCredentials(path)).servers[key];
  if (entry === undefined) {
    throw new CredentialsError(`no broker token for ${key}: run 'kubeiam broker login --server ${key}' with your token on stdin, or set ${BROKER_TOKEN_ENV}`);
  }
  if (entry.session !== undefined) {
    // A signed-in session: its access token, renewed first when it ran out (session.ts).
    const { sessionAccessToken } = await import("./session.js");
    return (await sessionAccessToken(key, env, options)).accessToken;
  }
  return checkBrokerToken(entry.token, `the entry for ${key} in ${path}`);
}
