/**
 * Finds the kubeconfig users that fetch cluster tokens the old ways, and rewrites them to run
 * `kubeiam broker token`: cb-spider's exec users (`sh -c ". ~/.cb-spider/.spider-credential &&
 * curl -s -u … /spider/cluster/NAME/token?ConnectionName=CONN"`, as its NCP, AWS and GCP drivers
 * write them) and the official `ncp-iam-authenticator token --clusterUuid … --region …` users.
 * Works on an editable document, so everything else in the file stays as it was.
 */
import { isMap, isSeq } from "yaml";
import { KubeconfigError } from "../../lib/errors.js";
import { EXEC_API_VERSIONS, type ExecApiVersion } from "../../kube/exec-credential.js";
import { execUserEntry, mergeKubeconfigEntries, type ExecInteractiveMode, type KubeconfigDocument } from "../../kube/kubeconfig.js";

/** A cb-spider exec user: which spider server, cluster and connection its script asks. */
export interface SpiderExecUser {
  kind: "cb-spider";
  /** The spider server (`http://host:1024`). */
  spiderServer: string;
  cluster: string;
  connection: string;
}

/** An ncp-iam-authenticator exec user. */
export interface NcpAuthenticatorExecUser {
  kind: "ncp-iam-authenticator";
  clusterUuid: string;
  region: string;
}

/** A user that {@link convertKubeconfigUsers} knows how to rewrite. */
export type ConvertibleUser = (SpiderExecUser | NcpAuthenticatorExecUser) & {
  /** The user entry's name. */
  user: string;
  apiVersion: ExecApiVersion;
  interactiveMode?: ExecInteractiveMode;
  /** The API servers of the clusters this user is paired with in contexts. */
  endpoints: string[];
};

// cb-spider's script, with the variations a hand edit makes ($HOME for ~, ${VAR}, more curl flags).
const SPIDER_SCRIPT_RE =
  /^\s*\.\s+(?:~|\$HOME|\$\{HOME\})\/\.cb-spider\/\.spider-credential\s*&&\s*curl\s+(?:-[A-Za-z]+\s+)*-u\s+"\$\{?SPIDER_USERNAME\}?:\$\{?SPIDER_PASSWORD\}?"\s+(?:-[A-Za-z]+\s+)*"(https?:\/\/[^"/\s]+)\/spider\/cluster\/([^"/?\s]+)\/token\?ConnectionName=([^"&\s]+)"\s*$/;

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/**
 * Recognises cb-spider's token script (the second argument of `sh -c`).
 *
 * @example
 * ```ts
 * parseSpiderTokenScript('. ~/.cb-spider/.spider-credential && curl -s -u "$SPIDER_USERNAME:$SPIDER_PASSWORD" "http://spider:1024/spider/cluster/c1/token?ConnectionName=ncp-kr"');
 * // { kind: "cb-spider", spiderServer: "http://spider:1024", cluster: "c1", connection: "ncp-kr" }
 * ```
 */
export function parseSpiderTokenScript(script: string): SpiderExecUser | undefined {
  const m = SPIDER_SCRIPT_RE.exec(script);
  if (m === null) return undefined;
  const cluster = decode(m[2] ?? "");
  const connection = decode(m[3] ?? "");
  if (cluster === undefined || connection === undefined || cluster === "" || connection === "") return undefined;
  return { kind: "cb-spider", spiderServer: m[1] ?? "", cluster, connection };
}

function flagValue(args: string[], names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    for (const n of names) {
      if (a === `--${n}`) return args[i + 1];
      if (a.startsWith(`--${n}=`)) return a.slice(n.length + 3);
    }
  }
  return undefined;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** What an exec block is, when it is one of the two kinds; undefined otherwise. */
function recognise(exec: Rec): SpiderExecUser | NcpAuthenticatorExecUser | undefined {
  const command = typeof exec.command === "string" ? exec.command : "";
  const args = Array.isArray(exec.args) && exec.args.every((a) => typeof a === "string") ? (exec.args as string[]) : undefined;
  if (args === undefined) return undefined;
  const base = command.split("/").pop() ?? "";
  if ((base === "sh" || base === "bash") && args.length === 2 && args[0] === "-c") return parseSpiderTokenScript(args[1] ?? "");
  if (base === "ncp-iam-authenticator" && args[0] === "token") {
    const clusterUuid = flagValue(args, ["clusterUuid", "cluster-uuid"]);
    const region = flagValue(args, ["region"]);
    if (clusterUuid !== undefined && region !== undefined) return { kind: "ncp-iam-authenticator", clusterUuid, region };
  }
  return undefined;
}

/**
 * The users of a kubeconfig document that can be converted, with the endpoints they are used with.
 *
 * @example
 * ```ts
 * const found = findConvertibleUsers(parseKubeconfigDocument(text));
 * ```
 */
export function findConvertibleUsers(doc: KubeconfigDocument): ConvertibleUser[] {
  const top = doc.yaml.toJS() as unknown;
  if (!isRec(top)) return [];
  const list = (k: string): Rec[] => (Array.isArray(top[k]) ? (top[k] as unknown[]).filter(isRec) : []);
  const servers = new Map<string, string>();
  for (const c of list("clusters")) if (typeof c.name === "string" && isRec(c.cluster) && typeof c.cluster.server === "string") servers.set(c.name, c.cluster.server);
  const out: ConvertibleUser[] = [];
  for (const u of list("users")) {
    if (typeof u.name !== "string" || !isRec(u.user) || !isRec(u.user.exec)) continue;
    const found = recognise(u.user.exec);
    if (found === undefined) continue;
    const apiVersion = EXEC_API_VERSIONS.find((a) => a === (u.user as Rec & { exec: Rec }).exec.apiVersion) ?? "client.authentication.k8s.io/v1beta1";
    const mode = (u.user as Rec & { exec: Rec }).exec.interactiveMode;
    const endpoints = list("contexts")
      .filter((c) => isRec(c.context) && c.context.user === u.name && typeof c.context.cluster === "string")
      .map((c) => servers.get((c.context as Rec).cluster as string))
      .filter((s): s is string => s !== undefined);
    out.push({
      ...found,
      user: u.name,
      apiVersion,
      ...(mode === "Never" || mode === "IfAvailable" || mode === "Always" ? { interactiveMode: mode } : {}),
      endpoints: [...new Set(endpoints)],
    });
  }
  return out;
}

/** Options of {@link convertKubeconfigUsers}. */
export interface ConvertKubeconfigOptions {
  /** The broker's URL, written into every converted user. */
  server: string;
  /** The broker's cluster name for each user to convert (by user name). */
  clusterFor: (user: ConvertibleUser) => string;
  /** The plugin to run; `kubeiam` by default. */
  command?: string;
  /** Arguments before the plugin's own (`[script]` when `command` is `node` running a `.js` file). */
  commandArgs?: string[];
  /** An absolute path of the broker's CA, passed to the plugin as `--ca-file`. */
  caFile?: string;
}

/** One user rewritten. */
export interface ConvertedUser {
  user: string;
  from: ConvertibleUser;
  cluster: string;
}

/**
 * Rewrites the given users, in place, to exec users running
 * `kubeiam broker token --server URL --cluster NAME`. Each user keeps its name, its place and its
 * exec apiVersion, so contexts that use it keep working; nothing else in the document changes.
 *
 * @example
 * ```ts
 * const doc = parseKubeconfigDocument(text);
 * convertKubeconfigUsers(doc, findConvertibleUsers(doc), { server: "https://broker.example:8750", clusterFor: (u) => u.kind === "cb-spider" ? u.cluster : "prod-kr" });
 * const out = serializeKubeconfigDocument(doc);
 * ```
 */
export function convertKubeconfigUsers(doc: KubeconfigDocument, users: ConvertibleUser[], options: ConvertKubeconfigOptions): ConvertedUser[] {
  const converted: ConvertedUser[] = [];
  const users0 = doc.yaml.get("users", true);
  if (!isSeq(users0) || !users0.items.every((i) => isMap(i))) throw new KubeconfigError("users is not a list of mappings");
  for (const u of users) {
    const cluster = options.clusterFor(u);
    const args = [...(options.commandArgs ?? []), "broker", "token", "--server", options.server, "--cluster", cluster, ...(options.caFile === undefined ? [] : ["--ca-file", options.caFile])];
    const entry = execUserEntry(u.user, {
      command: options.command ?? "kubeiam",
      args,
      apiVersion: u.apiVersion,
      ...(u.interactiveMode === undefined ? {} : { interactiveMode: u.interactiveMode }),
    });
    mergeKubeconfigEntries(doc, { user: entry }, { overwrite: true, setCurrentContext: false });
    converted.push({ user: u.user, from: u, cluster });
  }
  return converted;
}
