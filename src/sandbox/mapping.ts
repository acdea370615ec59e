/**
 * Identity mapping as NKS's `ncp-auth` ConfigMap does it: `mapSubAccounts` maps a sub account (or,
 * in the sandbox, an access key) to a Kubernetes user name and groups; the key that created the
 * clusters is always in `system:masters`. And a small RBAC: `clusterRoleBindings` bind users or groups
 * to `view` (get, list, watch) or `cluster-admin` (everything); `system:masters` is always
 * cluster-admin and `system:authenticated` (everyone mapped) always view.
 */
import { yaml } from "../lib/yaml.js";
import { ConfigFileError } from "../lib/errors.js";
import { yamlProblem } from "../lib/yaml-problem.js";
import { isRecord } from "../lib/validate.js";
import { SandboxFileProblem, firstLine, readConfig, type SandboxKeyFull } from "./keys.js";

/** One `mapSubAccounts` entry: whom it matches (a sub account number or an access key) and who they are in the cluster. */
export interface SandboxMappingEntry {
  subAccountIdNo?: string;
  accessKey?: string;
  username: string;
  groups: string[];
}

/** The cluster roles the sandbox knows: `view` reads, `cluster-admin` does everything. */
export type SandboxClusterRole = "view" | "cluster-admin";

/** A ClusterRoleBinding, reduced to what the sandbox enforces: a role, and the users and groups bound to it. */
export interface SandboxRoleBinding {
  clusterRole: SandboxClusterRole;
  users?: string[];
  groups?: string[];
}

/** The sandbox's `ncp-auth`, and the RBAC its clusters enforce. */
export interface SandboxMapping {
  mapSubAccounts: SandboxMappingEntry[];
  /** Bindings besides the built-in ones (`system:masters`: cluster-admin; `system:authenticated`: view). */
  clusterRoleBindings?: SandboxRoleBinding[];
}

/** The bindings every sandbox cluster has, as a fresh cluster's RBAC would let these groups in. */
export const BUILTIN_ROLE_BINDINGS: readonly SandboxRoleBinding[] = [
  { clusterRole: "cluster-admin", groups: ["system:masters"] },
  { clusterRole: "view", groups: ["system:authenticated"] },
];

const ROLES: readonly SandboxClusterRole[] = ["view", "cluster-admin"];
const READ_VERBS = new Set(["get", "list", "watch"]);

/**
 * Whether an identity may do `verb` (Kubernetes verbs: get, list, watch, create, delete…): allowed
 * when a binding of `cluster-admin` names them or one of their groups, or, for reading, one of `view`.
 *
 * @example
 * ```ts
 * sandboxAllows({ username: "bob", uid: "1", groups: ["system:authenticated"], creator: false }, "delete", mapping); // false
 * ```
 */
export function sandboxAllows(who: SandboxIdentity, verb: string, mapping: SandboxMapping): boolean {
  const bindings = [...BUILTIN_ROLE_BINDINGS, ...(mapping.clusterRoleBindings ?? [])];
  const roles = new Set(
    bindings.filter((b) => (b.users ?? []).includes(who.username) || (b.groups ?? []).some((g) => who.groups.includes(g))).map((b) => b.clusterRole),
  );
  return roles.has("cluster-admin") || (roles.has("view") && READ_VERBS.has(verb));
}

function checkBinding(value: unknown, field: string): SandboxRoleBinding {
  if (!isRecord(value)) throw new SandboxFileProblem(`${field} is not a mapping with clusterRole and users or groups`);
  const extra = Object.keys(value).filter((k) => !["clusterRole", "users", "groups"].includes(k));
  if (extra.length > 0) throw new SandboxFileProblem(`${field} has unknown field ${JSON.stringify(extra[0])}: use clusterRole, users, groups`);
  const role = value.clusterRole;
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
    throw new SandboxFileProblem(`${field}.clusterRole must be one of ${ROLES.join(", ")}`);
  }
  const binding: SandboxRoleBinding = { clusterRole: role as SandboxClusterRole };
  for (const list of ["users", "groups"] as const) {
    const v = value[list];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.trim() === "")) throw new SandboxFileProblem(`${field}.${list} is not a list of names`);
    binding[list] = v as string[];
  }
  if (binding.users === undefined && binding.groups === undefined) throw new SandboxFileProblem(`${field} binds no one: give users or groups`);
  return binding;
}

/** Who a verified key is in the cluster (what `kubectl auth whoami` shows). */
export interface SandboxIdentity {
  username: string;
  uid: string;
  groups: string[];
  /** True for the clusters' creator (always `system:masters`). */
  creator: boolean;
}

const ENTRY_FIELDS = ["subAccountIdNo", "accessKey", "username", "groups"] as const;

function checkEntry(value: unknown, field: string): SandboxMappingEntry {
  if (!isRecord(value)) throw new SandboxFileProblem(`${field} is not a mapping with subAccountIdNo, username and groups`);
  const extra = Object.keys(value).filter((k) => !(ENTRY_FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) throw new SandboxFileProblem(`${field} has unknown field ${JSON.stringify(extra[0])}: use ${ENTRY_FIELDS.join(", ")}`);
  let idNo = value.subAccountIdNo;
  if (typeof idNo === "number" && Number.isSafeInteger(idNo) && idNo >= 0) idNo = String(idNo);
  if (idNo !== undefined && (typeof idNo !== "string" || !/^[0-9]{1,20}$/.test(idNo))) {
    throw new SandboxFileProblem(`${field}.subAccountIdNo is not a sub account number (digits only)`);
  }
  const accessKey = value.accessKey;
  if (accessKey !== undefined && (typeof accessKey !== "string" || accessKey.trim() === "")) {
    throw new SandboxFileProblem(`${field}.accessKey is not a non-empty string`);
  }
  if ((idNo === undefined) === (accessKey === undefined)) {
    throw new SandboxFileProblem(`${field} must name exactly one of subAccountIdNo and accessKey`);
  }
  const username = value.username;
  if (username === undefined || username === null || username === "") throw new SandboxFileProblem(`${field}.username is missing`);
  if (typeof username !== "string" || username.trim() === "") throw new SandboxFileProblem(`${field}.username is not a string`);
  const groups = value.groups ?? [];
  if (!Array.isArray(groups)) throw new SandboxFileProblem(`${field}.groups is not a list of group names`);
  groups.forEach((g, i) => {
    if (typeof g !== "string" || g.trim() === "") throw new SandboxFileProblem(`${field}.groups[${i}] is not a group name`);
  });
  const entry: SandboxMappingEntry = { username, groups: groups as string[] };
  if (typeof idNo === "string") entry.subAccountIdNo = idNo;
  if (typeof accessKey === "string") entry.accessKey = accessKey;
  return entry;
}

/**
 * Checks a mapping given in code or read from a file: `{mapSubAccounts: [...]}`, where the list may
 * also be YAML text (as in the ConfigMap's `data`), or the whole `ncp-auth` ConfigMap.
 *
 * @example
 * ```ts
 * const mapping = checkSandboxMapping({ mapSubAccounts: [{ subAccountIdNo: "100200", username: "alice", groups: ["dev"] }] });
 * ```
 */
export function checkSandboxMapping(value: unknown): SandboxMapping {
  let top: unknown = value;
  let prefix = "";
  if (isRecord(top) && top.kind === "ConfigMap") {
    if (!isRecord(top.data)) throw new SandboxFileProblem("data is missing: the ncp-auth ConfigMap holds data.mapSubAccounts");
    top = top.data;
    prefix = "data.";
  }
  if (!isRecord(top)) throw new SandboxFileProblem("the mapping is not a mapping: write `mapSubAccounts:` with a list");
  const extra = Object.keys(top).filter((k) => k !== "mapSubAccounts" && k !== "clusterRoleBindings");
  if (extra.length > 0) throw new SandboxFileProblem(`unknown field ${JSON.stringify(prefix + extra[0])}: only ${prefix}mapSubAccounts and clusterRoleBindings are read`);
  const rawBindings = top.clusterRoleBindings;
  if (rawBindings !== undefined && !Array.isArray(rawBindings)) throw new SandboxFileProblem("clusterRoleBindings is not a list");
  const bindings = rawBindings?.map((b, i) => checkBinding(b, `clusterRoleBindings[${i}]`));
  let list = top.mapSubAccounts;
  if (typeof list === "string") {
    try {
      list = yaml().parse(list);
    } catch (cause) {
      throw new SandboxFileProblem(`${prefix}mapSubAccounts is text but not YAML: ${yamlProblem(firstLine(cause))}`);
    }
  }
  if (list === undefined || list === null) throw new SandboxFileProblem(`${prefix}mapSubAccounts is missing`);
  if (!Array.isArray(list)) throw new SandboxFileProblem(`${prefix}mapSubAccounts is not a list`);
  return { mapSubAccounts: list.map((e, i) => checkEntry(e, `${prefix}mapSubAccounts[${i}]`)), ...(bindings === undefined ? {} : { clusterRoleBindings: bindings }) };
}

/**
 * Parses the text of a mapping file (YAML or JSON; see {@link checkSandboxMapping}). Throws a
 * {@link ConfigFileError} naming the file and the field.
 *
 * @example
 * ```ts
 * const mapping = parseSandboxMapping("mapSubAccounts:\n- accessKey: AK2\n  username: bob\n", "mapping.yaml");
 * ```
 */
export function parseSandboxMapping(text: string, path: string): SandboxMapping {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (cause) {
    throw new ConfigFileError(path, `mapping file ${path} is not YAML or JSON: ${yamlProblem(firstLine(cause))}`, { cause });
  }
  try {
    return checkSandboxMapping(doc);
  } catch (cause) {
    if (cause instanceof SandboxFileProblem) throw new ConfigFileError(path, `mapping file ${path}: ${cause.message}`, { cause });
    throw cause;
  }
}

/**
 * Reads and parses a mapping file.
 *
 * @example
 * ```ts
 * const mapping = await loadSandboxMappingFile("ncp-auth.yaml");
 * ```
 */
export async function loadSandboxMappingFile(path: string): Promise<SandboxMapping> {
  return parseSandboxMapping(await readConfig(path, "mapping"), path);
}

/**
 * Who a verified key is in the cluster, or `undefined` when the key's sub account is not mapped
 * (NKS then refuses it). A `mapSubAccounts` entry that names the key's access key wins over one
 * that names its sub account; the creator is in `system:masters` whatever the mapping says.
 *
 * @example
 * ```ts
 * const who = resolveSandboxIdentity(key, mapping, creator);
 * if (who) console.log(who.username, who.groups);
 * ```
 */
export function resolveSandboxIdentity(key: SandboxKeyFull, mapping: SandboxMapping, creator: SandboxKeyFull): SandboxIdentity | undefined {
  const entry =
    mapping.mapSubAccounts.find((e) => e.accessKey === key.accessKey) ??
    mapping.mapSubAccounts.find((e) => e.subAccountIdNo === key.subAccountIdNo);
  const isCreator = key.accessKey === creator.accessKey;
  if (entry === undefined && !isCreator) return undefined;
  const groups = [...(entry?.groups ?? [])];
  if (isCreator && !groups.includes("system:masters")) groups.unshift("system:masters");
  if (!groups.includes("system:authenticated")) groups.push("system:authenticated");
  return { username: entry?.username ?? key.name, uid: key.subAccountIdNo, groups, creator: isCreator };
}
