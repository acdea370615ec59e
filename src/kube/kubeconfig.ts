/**
 * The kubeconfig of every cloud: a typed model, parsing with errors that name the exact field,
 * builders for cluster, user and context entries, and a merge into an existing document that keeps
 * what it does not own (other entries, their order, comments, unknown fields). Pure: no files, no
 * environment; src/kube/kubeconfig-file.ts is the file edge.
 */
import type { Document, YAMLMap, YAMLSeq } from "yaml";
import { yaml } from "../lib/yaml.js";
import { KubeconfigError } from "../lib/errors.js";
import { yamlProblem } from "../lib/yaml-problem.js";
import { isRecord as isRec } from "../lib/validate.js";
import { DEFAULT_EXEC_API_VERSION, EXEC_API_VERSIONS, type ExecApiVersion } from "./exec-credential.js";

/** How to reach a cluster's API server. */
export interface KubeconfigCluster {
  /** The API server URL (`https://…`). */
  server: string;
  /** The CA bundle, Base64 of PEM, as kubeconfig's `certificate-authority-data` holds it. */
  certificateAuthorityData?: string;
  tlsServerName?: string;
  insecureSkipTlsVerify?: boolean;
  proxyUrl?: string;
}

/** One environment variable given to an exec plugin. */
export interface ExecEnvVar {
  name: string;
  value: string;
}

/** When an exec plugin may use the terminal. */
export type ExecInteractiveMode = "Never" | "IfAvailable" | "Always";

/** An exec credential plugin (`users[].user.exec`). */
export interface KubeconfigExec {
  apiVersion: ExecApiVersion;
  command: string;
  args: string[];
  env?: ExecEnvVar[];
  /** What kubectl (or a GUI tool) shows when it cannot find `command`: how to install the plugin. */
  installHint?: string;
  interactiveMode?: ExecInteractiveMode;
  provideClusterInfo?: boolean;
}

/** How a user authenticates: an exec plugin or a fixed bearer token (client certificates are read, kept, not built). */
export interface KubeconfigUser {
  token?: string;
  exec?: KubeconfigExec;
  clientCertificateData?: string;
  clientKeyData?: string;
}

/** A context: a cluster, a user and an optional namespace. */
export interface KubeconfigContext {
  cluster: string;
  user: string;
  namespace?: string;
}

/** A named cluster entry. */
export interface KubeconfigClusterEntry {
  name: string;
  cluster: KubeconfigCluster;
}

/** A named user entry. */
export interface KubeconfigUserEntry {
  name: string;
  user: KubeconfigUser;
}

/** A named context entry. */
export interface KubeconfigContextEntry {
  name: string;
  context: KubeconfigContext;
}

/** A whole kubeconfig, typed. */
export interface Kubeconfig {
  clusters: KubeconfigClusterEntry[];
  users: KubeconfigUserEntry[];
  contexts: KubeconfigContextEntry[];
  currentContext?: string;
}

/** The entries that one cluster's access adds to a kubeconfig. */
export interface KubeconfigEntries {
  cluster: KubeconfigClusterEntry;
  user: KubeconfigUserEntry;
  context: KubeconfigContextEntry;
}

/** The serialisations kubeiam writes. */
export type KubeconfigFormat = "yaml" | "json";

const INTERACTIVE_MODES: readonly ExecInteractiveMode[] = ["Never", "IfAvailable", "Always"];
// A name is printed in errors and used as a YAML key: any text but no control characters.
const NAME_RE = /^[^\p{Cc}]+$/u;

function fail(message: string): never {
  throw new KubeconfigError(message);
}

function checkName(kind: string, name: string): string {
  if (name.trim() === "" || !NAME_RE.test(name)) fail(`${kind} name ${JSON.stringify(name)} is empty or holds control characters: pick a plain name`);
  return name;
}

// ---------------------------------------------------------------------------------------------
// Builders

/**
 * A cluster entry. The server must be an `https://` URL (or `http://` for loopback).
 *
 * @example
 * ```ts
 * const cluster = clusterEntry("prod", { server: "https://1.2.3.4", certificateAuthorityData: caB64 });
 * ```
 */
export function clusterEntry(name: string, cluster: KubeconfigCluster): KubeconfigClusterEntry {
  checkName("cluster", name);
  checkServer(cluster.server, `cluster ${JSON.stringify(name)}: server`);
  return { name, cluster: { ...cluster } };
}

/**
 * A user that runs an exec credential plugin. `apiVersion` defaults to v1beta1; v1 requires
 * `interactiveMode`, so it defaults to `Never` there (kubeiam's plugins never prompt).
 *
 * @example
 * ```ts
 * const user = execUserEntry("nks-user", {
 *   command: "ncp-iam-authenticator",
 *   args: ["token", "--clusterUuid", uuid, "--region", "KR"],
 * });
 * ```
 */
export function execUserEntry(
  name: string,
  exec: { command: string; args?: string[]; env?: ExecEnvVar[]; apiVersion?: ExecApiVersion; interactiveMode?: ExecInteractiveMode; installHint?: string },
): KubeconfigUserEntry {
  checkName("user", name);
  if (exec.command.trim() === "") fail("the exec command is empty: name the credential plugin to run");
  const apiVersion = exec.apiVersion ?? DEFAULT_EXEC_API_VERSION;
  const out: KubeconfigExec = { apiVersion, command: exec.command, args: [...(exec.args ?? [])] };
  if (exec.env !== undefined && exec.env.length > 0) out.env = exec.env.map((e) => ({ name: e.name, value: e.value }));
  out.installHint = exec.installHint ?? execInstallHint(exec.command);
  const mode = exec.interactiveMode ?? (apiVersion === "client.authentication.k8s.io/v1" ? "Never" : undefined);
  if (mode !== undefined) out.interactiveMode = mode;
  return { name, user: { exec: out } };
}

/**
 * The `installHint` of an exec user kubeiam writes: kubectl prints it when it cannot run the
 * command, which is how a GUI tool that does not read the shell's PATH tells its user what to do.
 *
 * @example
 * ```ts
 * execInstallHint("ncp-iam-authenticator"); // "ncp-iam-authenticator mints this cluster's credentials. …"
 * ```
 */
export function execInstallHint(command: string): string {
  return (
    `${command} mints this cluster's credentials. It comes with kubeiam: install it with ` +
    "'npm install -g kubeiam' (Node.js 20 or later), which puts kubeiam and ncp-iam-authenticator on PATH, " +
    "and make sure the program running kubectl sees that PATH (or write the command's full path here)."
  );
}

/**
 * A user holding a fixed bearer token (it stops working when the token expires).
 *
 * @example
 * ```ts
 * const user = tokenUserEntry("nks-user", token);
 * ```
 */
export function tokenUserEntry(name: string, token: string): KubeconfigUserEntry {
  checkName("user", name);
  if (token === "" || /\s/.test(token)) fail("the token is empty or holds white space");
  return { name, user: { token } };
}

/**
 * A context tying a cluster and a user.
 *
 * @example
 * ```ts
 * const context = contextEntry("prod", { cluster: "prod", user: "nks-user" });
 * ```
 */
export function contextEntry(name: string, context: KubeconfigContext): KubeconfigContextEntry {
  checkName("context", name);
  checkName("cluster", context.cluster);
  checkName("user", context.user);
  return { name, context: { ...context } };
}

/**
 * A kubeconfig holding just these entries, with `current-context` set to the context.
 *
 * @example
 * ```ts
 * const text = serializeKubeconfig(kubeconfigOf({ cluster, user, context }), "yaml");
 * ```
 */
export function kubeconfigOf(entries: KubeconfigEntries): Kubeconfig {
  return {
    clusters: [entries.cluster],
    users: [entries.user],
    contexts: [entries.context],
    currentContext: entries.context.name,
  };
}

/**
 * The entries of `existing` that a kubeconfig holding only `entries` would not have: other clusters',
 * users and contexts, as `context "x"` and so on. Replacing a file that holds them loses them.
 *
 * @example
 * ```ts
 * kubeconfigEntriesBeyond(parseKubeconfig(text), entries); // ['context "prod"', 'cluster "prod"']
 * ```
 */
export function kubeconfigEntriesBeyond(existing: Kubeconfig, entries: KubeconfigEntries): string[] {
  const beyond = (kind: string, list: { name: string }[], ours: string): string[] =>
    list.filter((e) => e.name !== ours).map((e) => `${kind} ${JSON.stringify(e.name)}`);
  return [
    ...beyond("context", existing.contexts, entries.context.name),
    ...beyond("cluster", existing.clusters, entries.cluster.name),
    ...beyond("user", existing.users, entries.user.name),
  ];
}

function checkServer(server: string, field: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    fail(`${field} ${JSON.stringify(server)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") fail(`${field} ${JSON.stringify(server)} is not an http(s) URL`);
}

// ---------------------------------------------------------------------------------------------
// Wire form: kubeconfig's own keys, in the order kubectl writes them (alphabetical).

/** A cluster as kubeconfig's own keys (for the text editor in kubeconfig-text.ts; not re-exported). */
export function clusterToWire(c: KubeconfigCluster): Record<string, unknown> {
  const w: Record<string, unknown> = {};
  if (c.certificateAuthorityData !== undefined) w["certificate-authority-data"] = c.certificateAuthorityData;
  if (c.insecureSkipTlsVerify !== undefined) w["insecure-skip-tls-verify"] = c.insecureSkipTlsVerify;
  if (c.proxyUrl !== undefined) w["proxy-url"] = c.proxyUrl;
  w.server = c.server;
  if (c.tlsServerName !== undefined) w["tls-server-name"] = c.tlsServerName;
  return w;
}

/** A user as kubeconfig's own keys (see {@link clusterToWire}). */
export function userToWire(u: KubeconfigUser): Record<string, unknown> {
  const w: Record<string, unknown> = {};
  if (u.clientCertificateData !== undefined) w["client-certificate-data"] = u.clientCertificateData;
  if (u.clientKeyData !== undefined) w["client-key-data"] = u.clientKeyData;
  if (u.exec !== undefined) {
    const e = u.exec;
    const exec: Record<string, unknown> = { apiVersion: e.apiVersion, args: [...e.args], command: e.command };
    if (e.env !== undefined) exec.env = e.env.map((v) => ({ name: v.name, value: v.value }));
    if (e.installHint !== undefined) exec.installHint = e.installHint;
    if (e.interactiveMode !== undefined) exec.interactiveMode = e.interactiveMode;
    exec.provideClusterInfo = e.provideClusterInfo ?? false;
    w.exec = exec;
  }
  if (u.token !== undefined) w.token = u.token;
  return w;
}

/** A context as kubeconfig's own keys (see {@link clusterToWire}). */
export function contextToWire(c: KubeconfigContext): Record<string, unknown> {
  const w: Record<string, unknown> = { cluster: c.cluster };
  if (c.namespace !== undefined) w.namespace = c.namespace;
  w.user = c.user;
  return w;
}

function kubeconfigToWire(k: Kubeconfig): Record<string, unknown> {
  return {
    apiVersion: "v1",
    clusters: k.clusters.map((c) => ({ cluster: clusterToWire(c.cluster), name: c.name })),
    contexts: k.contexts.map((c) => ({ context: contextToWire(c.context), name: c.name })),
    "current-context": k.currentContext ?? "",
    kind: "Config",
    preferences: {},
    users: k.users.map((u) => ({ name: u.name, user: userToWire(u.user) })),
  };
}

/**
 * Writes a typed kubeconfig as YAML or JSON, through the YAML library (never a template).
 *
 * @example
 * ```ts
 * const yamlText = serializeKubeconfig(kubeconfigOf(entries), "yaml");
 * ```
 */
export function serializeKubeconfig(kubeconfig: Kubeconfig, format: KubeconfigFormat = "yaml"): string {
  const wire = kubeconfigToWire(kubeconfig);
  if (format === "json") return `${JSON.stringify(wire, null, 2)}\n`;
  return new (yaml().Document)(wire).toString({ lineWidth: 0, indentSeq: false });
}

// ---------------------------------------------------------------------------------------------
// Parsing into the typed model (strict: errors name the field).

type Rec = Record<string, unknown>;

function str(o: Rec, key: string, field: string, required: true): string;
function str(o: Rec, key: string, field: string, required: false): string | undefined;
function str(o: Rec, key: string, field: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || (required && v === "")) {
    if (required) fail(`${field}.${key} is missing`);
    return undefined;
  }
  if (typeof v !== "string") fail(`${field}.${key} is not a string`);
  return v;
}

function entries(top: Rec, key: string): unknown[] {
  const v = top[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`${key} is not a list`);
  return v;
}

function parseYaml(text: string): Document.Parsed {
  // logLevel "error": the yaml package would print its warnings (a collection as a key) on stderr,
  // past the CLI's one line; what matters in a kubeconfig is checked field by field below.
  const doc = yaml().parseDocument(text, { prettyErrors: true, logLevel: "error" });
  const error = doc.errors[0];
  if (error !== undefined) {
    const at = error.linePos?.[0];
    fail(`not valid YAML${at ? ` at line ${at.line}, column ${at.col}` : ""}: ${yamlProblem(error.message)}`);
  }
  return doc;
}

// As many aliases as the yaml package allows by default: plenty for a hand-shared block, far too
// few for an alias bomb (nested aliases that expand to millions of nodes).
const MAX_ALIAS_COUNT = 100;

/**
 * The document as plain data. The yaml package throws a plain ReferenceError when aliases expand
 * past the limit: every such throw from the user's document becomes a KubeconfigError here.
 */
function toData(doc: Document): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    const reason = yamlProblem(cause instanceof Error ? cause.message : String(cause));
    if (/alias/i.test(reason)) {
      throw new KubeconfigError(`its YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} uses of anchored nodes, as in an alias bomb): write the entries out`, { cause });
    }
    throw new KubeconfigError(`its YAML cannot be read as data: ${reason.slice(0, 200)}`, { cause });
  }
}

function parseText(text: string): unknown {
  return toData(parseYaml(text));
}

function checkTop(value: unknown): Rec {
  if (value === null || value === undefined) return {};
  if (!isRec(value)) fail("the top level is not a mapping (expected apiVersion, kind: Config, clusters, users, contexts)");
  if (value.kind !== undefined && value.kind !== null && value.kind !== "Config") {
    fail(`kind is ${JSON.stringify(value.kind)}, not "Config": this is not a kubeconfig`);
  }
  return value;
}

/**
 * Parses a kubeconfig (YAML or JSON) into the typed model. Throws {@link KubeconfigError} naming the
 * exact field: `clusters[0].cluster.server is missing`. Fields kubeiam does not model are dropped
 * here; use {@link parseKubeconfigDocument} to edit a file and keep them.
 *
 * @example
 * ```ts
 * const kc = parseKubeconfig(yamlText);
 * console.log(kc.clusters[0]?.cluster.server);
 * ```
 */
export function parseKubeconfig(text: string): Kubeconfig {
  const top = checkTop(parseText(text));
  const clusters = entries(top, "clusters").map((v, i): KubeconfigClusterEntry => {
    const field = `clusters[${i}]`;
    if (!isRec(v)) fail(`${field} is not a mapping`);
    const name = str(v, "name", field, true);
    if (!isRec(v.cluster)) fail(`${field}.cluster is missing`);
    const c = v.cluster;
    const f = `${field}.cluster`;
    const cluster: KubeconfigCluster = { server: str(c, "server", f, true) };
    const ca = str(c, "certificate-authority-data", f, false);
    if (ca !== undefined) cluster.certificateAuthorityData = ca;
    const tls = str(c, "tls-server-name", f, false);
    if (tls !== undefined) cluster.tlsServerName = tls;
    const proxy = str(c, "proxy-url", f, false);
    if (proxy !== undefined) cluster.proxyUrl = proxy;
    const skip = c["insecure-skip-tls-verify"];
    if (skip !== undefined && skip !== null) {
      if (typeof skip !== "boolean") fail(`${f}.insecure-skip-tls-verify is not true or false`);
      cluster.insecureSkipTlsVerify = skip;
    }
    return { name, cluster };
  });
  const users = entries(top, "users").map((v, i): KubeconfigUserEntry => {
    const field = `users[${i}]`;
    if (!isRec(v)) fail(`${field} is not a mapping`);
    const name = str(v, "name", field, true);
    const u = v.user ?? {};
    if (!isRec(u)) fail(`${field}.user is not a mapping`);
    const f = `${field}.user`;
    const user: KubeconfigUser = {};
    const token = str(u, "token", f, false);
    if (token !== undefined) user.token = token;
    const cert = str(u, "client-certificate-data", f, false);
    if (cert !== undefined) user.clientCertificateData = cert;
    const key = str(u, "client-key-data", f, false);
    if (key !== undefined) user.clientKeyData = key;
    if (u.exec !== undefined && u.exec !== null) user.exec = parseExec(u.exec, `${f}.exec`);
    return { name, user };
  });
  const contexts = entries(top, "contexts").map((v, i): KubeconfigContextEntry => {
    const field = `contexts[${i}]`;
    if (!isRec(v)) fail(`${field} is not a mapping`);
    const name = str(v, "name", field, true);
    if (!isRec(v.context)) fail(`${field}.context is missing`);
    const f = `${field}.context`;
    const context: KubeconfigContext = { cluster: str(v.context, "cluster", f, true), user: str(v.context, "user", f, true) };
    const ns = str(v.context, "namespace", f, false);
    if (ns !== undefined) context.namespace = ns;
    return { name, context };
  });
  const out: Kubeconfig = { clusters, users, contexts };
  const current = str(top, "current-context", "kubeconfig", false);
  if (current !== undefined && current !== "") out.currentContext = current;
  return out;
}

function parseExec(v: unknown, field: string): KubeconfigExec {
  if (!isRec(v)) fail(`${field} is not a mapping`);
  const apiVersion = str(v, "apiVersion", field, true);
  const known = EXEC_API_VERSIONS.find((a) => a === apiVersion);
  if (known === undefined) fail(`${field}.apiVersion ${JSON.stringify(apiVersion)} is not one of ${EXEC_API_VERSIONS.join(", ")}`);
  const exec: KubeconfigExec = { apiVersion: known, command: str(v, "command", field, true), args: [] };
  const args = v.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) fail(`${field}.args is not a list of strings`);
  exec.args = args as string[];
  if (v.env !== undefined && v.env !== null) {
    if (!Array.isArray(v.env)) fail(`${field}.env is not a list`);
    exec.env = v.env.map((e, i) => {
      if (!isRec(e)) fail(`${field}.env[${i}] is not a mapping`);
      return { name: str(e, "name", `${field}.env[${i}]`, true), value: str(e, "value", `${field}.env[${i}]`, false) ?? "" };
    });
  }
  const mode = str(v, "interactiveMode", field, false);
  if (mode !== undefined && mode !== "") {
    const m = INTERACTIVE_MODES.find((x) => x === mode);
    if (m === undefined) fail(`${field}.interactiveMode ${JSON.stringify(mode)} is not Never, IfAvailable or Always`);
    exec.interactiveMode = m;
  }
  if (typeof v.provideClusterInfo === "boolean") exec.provideClusterInfo = v.provideClusterInfo;
  const hint = str(v, "installHint", field, false);
  if (hint !== undefined && hint !== "") exec.installHint = hint;
  return exec;
}

// ---------------------------------------------------------------------------------------------
// Editing a document in place.

/** A kubeconfig as an editable YAML document: comments, order and unknown fields survive a round trip. */
export interface KubeconfigDocument {
  /** The `yaml` package's document. */
  readonly yaml: Document;
  /** Whether list items are indented under their key (kubectl writes them flush: false). */
  readonly indentSeq: boolean;
  /** The text's own format: `json` when it was a JSON object, so it is written back as JSON. */
  readonly format: KubeconfigFormat;
}

const SECTIONS = ["clusters", "users", "contexts"] as const;
type Section = (typeof SECTIONS)[number];
const INNER: Record<Section, string> = { clusters: "cluster", users: "user", contexts: "context" };

/**
 * Parses kubeconfig text into an editable document, checking its shape: the top level is a mapping
 * (or empty), `clusters`, `users` and `contexts` are lists of mappings with a string `name`, and
 * `kind`, when present, is `Config`. Throws {@link KubeconfigError} naming the field; nothing is changed.
 *
 * @example
 * ```ts
 * const doc = parseKubeconfigDocument(existingText);
 * mergeKubeconfigEntries(doc, entries, { overwrite: false, setCurrentContext: true });
 * const text = serializeKubeconfigDocument(doc);
 * ```
 */
export function parseKubeconfigDocument(text: string): KubeconfigDocument {
  const doc = parseYaml(text);
  const top = checkTop(toData(doc));
  for (const section of SECTIONS) {
    entries(top, section).forEach((v, i) => {
      const field = `${section}[${i}]`;
      if (!isRec(v)) fail(`${field} is not a mapping`);
      str(v, "name", field, true);
      const inner = v[INNER[section]];
      if (inner !== undefined && inner !== null && !isRec(inner)) fail(`${field}.${INNER[section]} is not a mapping`);
    });
  }
  const current = top["current-context"];
  if (current !== undefined && current !== null && typeof current !== "string") fail("current-context is not a string");
  // Keep the file's own list indentation: kubectl writes "- name" flush with its key.
  const indented = /^(?:clusters|users|contexts):[^\S\n]*(?:#[^\n]*)?\n(?:[^\S\n]*(?:#[^\n]*)?\n)*( +)- /m.exec(text);
  return { yaml: doc, indentSeq: indented !== null, format: /^\s*\{/.test(text) ? "json" : "yaml" };
}

/**
 * An empty kubeconfig document (`apiVersion: v1`, `kind: Config`, empty lists).
 *
 * @example
 * ```ts
 * const doc = newKubeconfigDocument();
 * ```
 */
export function newKubeconfigDocument(): KubeconfigDocument {
  return { yaml: new (yaml().Document)(emptyWire()), indentSeq: false, format: "yaml" };
}

const emptyWire = (): Record<string, unknown> => ({ apiVersion: "v1", clusters: [], contexts: [], "current-context": "", kind: "Config", preferences: {}, users: [] });

function topMap(doc: Document): YAMLMap {
  if (doc.contents === null || (yaml().isScalar(doc.contents) && doc.contents.value === null)) {
    doc.contents = doc.createNode(emptyWire()) as YAMLMap;
  }
  if (!yaml().isMap(doc.contents)) fail("the top level is not a mapping");
  return doc.contents;
}

function sectionSeq(doc: Document, section: Section, create: boolean): YAMLSeq | undefined {
  const top = topMap(doc);
  const node = top.get(section, true);
  if (yaml().isSeq(node)) return node;
  if (!create) return undefined;
  const seq = doc.createNode([]) as YAMLSeq;
  top.set(section, seq);
  return seq;
}

function indexOfName(seq: YAMLSeq | undefined, name: string): number {
  if (seq === undefined) return -1;
  return seq.items.findIndex((item) => yaml().isMap(item) && item.get("name") === name);
}

/**
 * The names among `entries` that the document already holds, as `cluster "x"`, `user "y"`, `context "z"`.
 *
 * @example
 * ```ts
 * const taken = kubeconfigConflicts(doc, entries); // ['context "prod"']
 * ```
 */
export function kubeconfigConflicts(doc: KubeconfigDocument, entries: Partial<KubeconfigEntries>): string[] {
  const taken: string[] = [];
  const check = (section: Section, kind: string, name: string | undefined): void => {
    if (name !== undefined && indexOfName(sectionSeq(doc.yaml, section, false), name) >= 0) taken.push(`${kind} ${JSON.stringify(name)}`);
  };
  check("clusters", "cluster", entries.cluster?.name);
  check("users", "user", entries.user?.name);
  check("contexts", "context", entries.context?.name);
  return taken;
}

/** Options of {@link mergeKubeconfigEntries}. */
export interface MergeKubeconfigOptions {
  /** Replace entries whose names are taken; otherwise a taken name is an error. */
  overwrite?: boolean;
  /** Point `current-context` at the merged context (true by default, as the official tool does). */
  setCurrentContext?: boolean;
}

/** What a merge did. */
export interface MergeKubeconfigResult {
  /** Entries appended, as `cluster "x"` and so on. */
  added: string[];
  /** Entries replaced (only with `overwrite`). */
  replaced: string[];
}

/**
 * Merges a cluster, a user and a context into a kubeconfig document, in place. New entries are
 * appended; with `overwrite`, an entry of the same name has its body replaced where it stands.
 * Everything else (other entries, order, comments, unknown fields) stays. A taken name without
 * `overwrite` throws {@link KubeconfigError} naming every taken name, and leaves the document as it was.
 *
 * @example
 * ```ts
 * const doc = parseKubeconfigDocument(await readFile(path, "utf8"));
 * mergeKubeconfigEntries(doc, { cluster, user, context }, { overwrite: false, setCurrentContext: true });
 * ```
 */
export function mergeKubeconfigEntries(
  doc: KubeconfigDocument,
  entries: Partial<KubeconfigEntries>,
  options: MergeKubeconfigOptions = {},
): MergeKubeconfigResult {
  const taken = kubeconfigConflicts(doc, entries);
  if (taken.length > 0 && !options.overwrite) {
    throw new KubeconfigError(`the kubeconfig already has ${taken.join(", ")}: overwrite ${taken.length > 1 ? "them" : "it"}, or choose other names`, { field: "names", value: taken.join(", ") });
  }
  const result: MergeKubeconfigResult = { added: [], replaced: [] };
  const y = doc.yaml;
  const put = (section: Section, kind: string, name: string, body: Record<string, unknown>): void => {
    const seq = sectionSeq(y, section, true) as YAMLSeq;
    const at = indexOfName(seq, name);
    const label = `${kind} ${JSON.stringify(name)}`;
    if (at >= 0) {
      (seq.items[at] as YAMLMap).set(INNER[section], y.createNode(body));
      result.replaced.push(label);
    } else {
      const item = section === "users" ? { name, [INNER[section]]: body } : { [INNER[section]]: body, name };
      seq.items.push(y.createNode(item));
      result.added.push(label);
    }
  };
  if (entries.cluster) put("clusters", "cluster", checkName("cluster", entries.cluster.name), clusterToWire(entries.cluster.cluster));
  if (entries.user) put("users", "user", checkName("user", entries.user.name), userToWire(entries.user.user));
  if (entries.context) put("contexts", "context", checkName("context", entries.context.name), contextToWire(entries.context.context));
  if (entries.context && options.setCurrentContext !== false) topMap(y).set("current-context", entries.context.name);
  return result;
}

/**
 * Writes a document back as text: YAML keeps comments and layout; JSON is the plain data. The
 * format defaults to the document's own (a JSON kubeconfig stays JSON).
 *
 * @example
 * ```ts
 * await writeKubeconfigFile(path, serializeKubeconfigDocument(doc));
 * ```
 */
export function serializeKubeconfigDocument(doc: KubeconfigDocument, format: KubeconfigFormat = doc.format): string {
  if (format === "json") return `${JSON.stringify(toData(doc.yaml) ?? {}, null, 2)}\n`;
  return doc.yaml.toString({ lineWidth: 0, indentSeq: doc.indentSeq });
}
