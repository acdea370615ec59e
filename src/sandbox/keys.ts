/**
 * The sandbox's key ring: the API keys that its gateway and its clusters accept. Keys are generated
 * at start (crypto.randomBytes) or read from a keys file (`kubeiam sandbox --keys FILE`).
 */
import { randomBytes, randomInt } from "node:crypto";
import { readFile } from "node:fs/promises";
import { yaml } from "../lib/yaml.js";
import { ConfigFileError } from "../lib/errors.js";
import { yamlProblem } from "../lib/yaml-problem.js";
import { KEY_RE, isRecord } from "../lib/validate.js";

/** One API key of the sandbox, and the sub account that owns it. */
export interface SandboxKey {
  accessKey: string;
  secretKey: string;
  /** The owning sub account's id number, as NKS's `mapSubAccounts` names it; generated when absent. */
  subAccountIdNo?: string;
  /** A readable name of the sub account (the Kubernetes user name of the creator). */
  name?: string;
}

/** A key with every field filled in. */
export type SandboxKeyFull = Required<SandboxKey>;

const ID_NO_RE = /^[0-9]{1,20}$/;
const KEY_FIELDS = ["accessKey", "secretKey", "subAccountIdNo", "name"] as const;

/**
 * A fresh random key: a 20-character access key and a 40-character secret, like NCP's.
 *
 * @example
 * ```ts
 * const key = generateSandboxKey("sandbox-admin");
 * console.log(key.accessKey); // "SBX…" (20 characters)
 * ```
 */
export function generateSandboxKey(name: string): SandboxKeyFull {
  return {
    accessKey: `SBX${randomBytes(9).toString("hex").toUpperCase().slice(0, 17)}`,
    secretKey: randomBytes(30).toString("base64url"),
    subAccountIdNo: String(randomInt(100000, 1000000)),
    name,
  };
}

/**
 * A field-naming problem in a keys or mapping file, before the file's name is put in front of it
 * (the loaders turn it into a {@link ConfigFileError}).
 *
 * @example
 * ```ts
 * throw new SandboxFileProblem("keys[0].secretKey is missing");
 * ```
 */
export class SandboxFileProblem extends Error {}

/**
 * Checks one key given in code or in a file, and fills in its sub account number and name.
 * `field` names it in messages (`keys[1]`); a problem never echoes a secret.
 *
 * @example
 * ```ts
 * const key = checkSandboxKey({ accessKey: "NCPTESTACCESSKEY0001", secretKey: "…" }, "keys[0]");
 * ```
 */
export function checkSandboxKey(value: unknown, field: string): SandboxKeyFull {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SandboxFileProblem(`${field} is not a mapping with accessKey and secretKey`);
  }
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !(KEY_FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) {
    throw new SandboxFileProblem(`${field} has unknown field ${JSON.stringify(extra[0])}: use ${KEY_FIELDS.join(", ")}`);
  }
  const key = (name: "accessKey" | "secretKey"): string => {
    const v = record[name];
    if (v === undefined || v === null || v === "") throw new SandboxFileProblem(`${field}.${name} is missing`);
    if (typeof v !== "string") throw new SandboxFileProblem(`${field}.${name} is not a string`);
    if (!KEY_RE.test(v)) throw new SandboxFileProblem(`${field}.${name} holds white space or control characters`);
    return v;
  };
  const accessKey = key("accessKey");
  const secretKey = key("secretKey");
  let idNo = record.subAccountIdNo;
  if (typeof idNo === "number" && Number.isSafeInteger(idNo) && idNo >= 0) idNo = String(idNo);
  if (idNo !== undefined && (typeof idNo !== "string" || !ID_NO_RE.test(idNo))) {
    throw new SandboxFileProblem(`${field}.subAccountIdNo is not a sub account number (digits only)`);
  }
  const name = record.name;
  if (name !== undefined && (typeof name !== "string" || name.trim() === "")) {
    throw new SandboxFileProblem(`${field}.name is not a non-empty string`);
  }
  return {
    accessKey,
    secretKey,
    subAccountIdNo: typeof idNo === "string" ? idNo : String(randomInt(100000, 1000000)),
    name: typeof name === "string" ? name : `subaccount-${accessKey.slice(0, 8).toLowerCase()}`,
  };
}

/**
 * Checks a list of keys: at least one, no access key twice. The first is the clusters' creator.
 *
 * @example
 * ```ts
 * const ring = checkSandboxKeys([{ accessKey, secretKey }]);
 * ```
 */
export function checkSandboxKeys(values: unknown[], field = "keys"): SandboxKeyFull[] {
  if (values.length === 0) throw new SandboxFileProblem(`${field} is empty: give at least one key (the first is the clusters' creator)`);
  const keys = values.map((v, i) => checkSandboxKey(v, `${field}[${i}]`));
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (seen.has(k.accessKey)) throw new SandboxFileProblem(`${field}[${i}].accessKey ${k.accessKey} is given twice`);
    seen.add(k.accessKey);
  });
  return keys;
}

/**
 * Parses the text of a keys file, YAML or JSON: `{keys: [{accessKey, secretKey, subAccountIdNo?, name?}…]}`
 * or the bare list. Throws a {@link ConfigFileError} naming the file and the field.
 *
 * @example
 * ```ts
 * const keys = parseSandboxKeys("keys:\n- accessKey: AK\n  secretKey: SK\n", "keys.yaml");
 * ```
 */
export function parseSandboxKeys(text: string, path: string): SandboxKeyFull[] {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (cause) {
    throw new ConfigFileError(path, `keys file ${path} is not YAML or JSON: ${yamlProblem(firstLine(cause))}`, { cause });
  }
  try {
    const list = Array.isArray(doc) ? doc : isRecord(doc) && Array.isArray(doc.keys) ? doc.keys : undefined;
    if (list === undefined) throw new SandboxFileProblem("keys is missing: write `keys:` with a list of {accessKey, secretKey}");
    if (isRecord(doc)) {
      const extra = Object.keys(doc).filter((k) => k !== "keys");
      if (extra.length > 0) throw new SandboxFileProblem(`unknown top-level field ${JSON.stringify(extra[0])}: only keys is read`);
    }
    return checkSandboxKeys(list);
  } catch (cause) {
    if (cause instanceof SandboxFileProblem) throw new ConfigFileError(path, `keys file ${path}: ${cause.message}`, { cause });
    throw cause;
  }
}

/**
 * Reads and parses a keys file (see {@link parseSandboxKeys}).
 *
 * @example
 * ```ts
 * const keys = await loadSandboxKeysFile("sandbox-keys.yaml");
 * ```
 */
export async function loadSandboxKeysFile(path: string): Promise<SandboxKeyFull[]> {
  return parseSandboxKeys(await readConfig(path, "keys"), path);
}

/**
 * Reads a sandbox config file, turning a missing or unreadable file into a one-line
 * {@link ConfigFileError} that names it.
 *
 * @example
 * ```ts
 * const text = await readConfig("keys.yaml", "keys");
 * ```
 */
export async function readConfig(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EACCES" ? "cannot be read (permission denied)" : code === "EISDIR" ? "is a directory" : `cannot be read (${code ?? "error"})`;
    throw new ConfigFileError(path, `${what} file ${path} ${why}: check the path`, { cause });
  }
}

/**
 * The first line of an error's message, for one-line reports of parser errors.
 *
 * @example
 * ```ts
 * firstLine(new Error("bad\nmore")); // "bad"
 * ```
 */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
}
