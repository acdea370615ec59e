/**
 * The signed NKS REST client (docs/formats.md §3). Building a request, sending it and checking the
 * answer are separate steps: {@link buildNcpRequest} is pure, {@link sendHttpRequest} is the edge,
 * {@link checkNcpResponse} turns statuses into typed errors, and the `parse…` functions check bodies.
 * The edge (src/lib/http.ts, with its proxy rules) loads with the first call, not with kubeiam/ncp.
 */
import { ApiError, InvalidInputError } from "../lib/errors.js";
import type { HttpOptions, HttpRequest, HttpResponse } from "../lib/http.js";
import type { NcpCredentials } from "./credentials.js";
import { ncpRegionOf, type NcpRegion } from "./region.js";
import { createNcpSigner, type NcpSigner } from "./sign.js";
import { isSecureOrLoopback } from "../lib/net.js";
import { toEpochMs, type TimeInput } from "../lib/time.js";
import { isRecord } from "../lib/validate.js";
import { checkClusterUuid } from "./token.js";
import { displayUrl } from "../lib/redact-url.js";

/** What the NKS API says about a cluster: the fields kubeiam uses (docs/formats.md §3). */
export interface NcpCluster {
  uuid: string;
  name: string;
  /** `CREATING`, `RUNNING`, `DELETING`, `RETURNED`, … */
  status: string;
  endpoint?: string;
  k8sVersion?: string;
  regionCode?: string;
  zoneCode?: string;
  vpcNo?: string;
  vpcName?: string;
  subnetNoList: string[];
  acgNo?: string;
  acgName?: string;
  createdAt?: string;
  authType?: string;
  nodePool: NcpNodePool[];
}

/** One node pool of a cluster. */
export interface NcpNodePool {
  name: string;
  instanceNo?: string;
  status?: string;
  nodeCount?: number;
  k8sVersion?: string;
  productCode?: string;
}

/** One worker node of a cluster. */
export interface NcpWorkerNode {
  name: string;
  id?: string;
  status?: string;
  privateIp?: string;
  publicIp?: string;
  nodePoolName?: string;
  nodePoolId?: string;
}

/** One call to the NKS API, before signing. */
export interface NcpCall {
  method: "GET";
  /** The path below the region's prefix (`/clusters/{uuid}`). */
  path: string;
}

/** What {@link buildNcpRequest} needs. */
export interface BuildNcpRequestInput {
  credentials: NcpCredentials;
  /** A region code, or one parsed already ({@link parseNcpRegion}). */
  region: string | NcpRegion;
  call: NcpCall;
  /** The time to sign at; the current time by default. */
  now?: TimeInput;
}

/**
 * The NKS API base URL for a gateway URL and region (docs/formats.md §3): a leading `https://ncloud.` or
 * `https://fin-ncloud.` becomes `https://nks.`, then the region's prefix is added. Plain `http:` is
 * accepted for loopback addresses only (the sandbox), so a signed request never crosses a network in clear.
 *
 * @example
 * ```ts
 * ncpApiBaseUrl("https://ncloud.apigw.ntruss.com", "SGN"); // "https://nks.apigw.ntruss.com/vnks/sgn-v2"
 * ```
 */
export function ncpApiBaseUrl(apiUrl: string, region: string | NcpRegion): string {
  let url: URL;
  try {
    url = new URL(apiUrl.trim());
  } catch (cause) {
    throw new InvalidInputError("apiUrl", `API URL ${displayUrl(apiUrl)} is not a URL: set NCLOUD_API_GW or ncloud_api_url to https://ncloud.apigw.ntruss.com`, { cause });
  }
  if (!isSecureOrLoopback(url)) {
    throw new InvalidInputError("apiUrl", `API URL ${displayUrl(url)} must use https (plain http only for 127.0.0.1 or localhost): fix NCLOUD_API_GW or ncloud_api_url`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new InvalidInputError("apiUrl", `API URL ${displayUrl(url)} must not hold a query or fragment: give the gateway's base URL`);
  }
  const base = `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "").replace(/^https:\/\/(?:fin-)?ncloud\./, "https://nks.");
  return base + ncpRegionOf(region).apiPrefix;
}

/**
 * Builds a signed NKS API request (docs/formats.md §3): the three gateway headers, the signature under
 * both its `-v2` and `-v1` names, and `x-ncp-region_code`. Pure: the time is passed in.
 *
 * @example
 * ```ts
 * const req = buildNcpRequest({ credentials, region: "KR", call: { method: "GET", path: "/clusters" }, now: Date.now() });
 * const res = await sendHttpRequest(req, { service: "NCP API" });
 * ```
 */
export function buildNcpRequest(input: BuildNcpRequestInput): HttpRequest {
  const region = ncpRegionOf(input.region);
  return signedRequest(ncpApiBaseUrl(input.credentials.apiUrl, region), createNcpSigner(input.credentials), region, input.call, toEpochMs(input.now));
}

/** The request of {@link buildNcpRequest} from parts parsed once: base URL, signer, region. */
function signedRequest(baseUrl: string, signer: NcpSigner, region: NcpRegion, call: NcpCall, now: number): HttpRequest {
  const url = new URL(baseUrl + call.path);
  const timestamp = String(now);
  const accessKey = signer.accessKey;
  const signature = signer.signRequest(call.method, url.pathname + url.search, timestamp);
  return {
    method: call.method,
    url: url.toString(),
    headers: {
      accept: "application/json",
      "x-ncp-apigw-timestamp": timestamp,
      "x-ncp-iam-access-key": accessKey,
      "x-ncp-apigw-signature-v2": signature,
      "x-ncp-apigw-signature-v1": signature,
      "x-ncp-region_code": region.code === "" ? "KR" : region.code,
    },
  };
}

/** What a failed call was about, for the error message. Never holds a secret. */
export interface NcpCallContext {
  /** What was asked, in words (`get cluster 3f1d…`). */
  what: string;
  region: string;
  accessKey: string;
  /** The cluster the call was about, when one. */
  clusterUuid?: string;
  /** True for the kubeconfig call, whose 409 means "still being created". */
  kubeconfig?: boolean;
  /** When the request was signed (ms since the epoch), to tell a wrong clock from a wrong key. */
  sentAt?: number;
}

const FIVE_MINUTES_MS = 5 * 60 * 1000;

/**
 * Which of the access key, the secret key or the clock a 401 most likely points at: the gateway's
 * clock (its `Date` header) against the signing time first, then the words of NCP's message.
 */
function likelyAuthCause(apiMessage: string | undefined, res: HttpResponse, sentAt: number | undefined): string {
  const keys = "NCLOUD_ACCESS_KEY_ID/NCLOUD_SECRET_ACCESS_KEY or ~/.ncloud/configure";
  const serverTime = Date.parse(res.headers.get("date") ?? "");
  const skewMs = sentAt === undefined || Number.isNaN(serverTime) ? 0 : sentAt - serverTime;
  const said = apiMessage ?? "";
  if (Math.abs(skewMs) > FIVE_MINUTES_MS || /timestamp|time ?stamp|clock|expired/i.test(said)) {
    const off = Math.abs(skewMs) > FIVE_MINUTES_MS ? ` (about ${Math.round(Math.abs(skewMs) / 60_000)} minutes ${skewMs > 0 ? "ahead of" : "behind"} NCP's)` : "";
    return `this machine's clock is likely wrong${off}: NCP refuses requests signed more than 5 minutes off its own time; set the clock right (NTP)`;
  }
  if (/signature/i.test(said)) {
    return `the secret key is likely wrong: NCP knows the access key, but the signature made with the secret does not match; check the secret paired with this access key (${keys})`;
  }
  if (/access ?key|invalid authentication|not found|unregistered|disabled|inactive/i.test(said)) {
    return `the access key is likely wrong or disabled: check it (${keys}) and that it is enabled in the NCP console`;
  }
  return `check the access key and its secret (${keys}), that the key is enabled, and that this machine's clock is right`;
}

/**
 * NCP's own error code and message, from any of the error bodies its gateway and services send.
 *
 * @example
 * ```ts
 * ncpErrorDetails('{"error":{"errorCode":"200","message":"Authentication Failed"}}');
 * // { apiCode: "200", apiMessage: "Authentication Failed" }
 * ```
 */
export function ncpErrorDetails(text: string): { apiCode?: string; apiMessage?: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {};
  }
  if (!isRecord(body)) return {};
  // Gateway: {"error":{"errorCode":"200","message":"Authentication Failed","details":"…"}}
  // Services: {"responseError":{"returnCode":…,"returnMessage":…}} or {"code":…,"message":…}
  const inner = isRecord(body.error) ? body.error : isRecord(body.responseError) ? body.responseError : body;
  const code = inner.errorCode ?? inner.returnCode ?? inner.code;
  const message = inner.message ?? inner.returnMessage ?? inner.errorMessage ?? inner.msg;
  const details = inner.details;
  const out: { apiCode?: string; apiMessage?: string } = {};
  if (typeof code === "string" || typeof code === "number") out.apiCode = String(code);
  if (typeof message === "string" && message.trim() !== "") {
    out.apiMessage = (typeof details === "string" && details.trim() !== "" ? `${message}: ${details}` : message).slice(0, 300);
  }
  return out;
}

/**
 * Checks an NKS API answer: a 2xx with a JSON body passes and its parsed body is returned;
 * anything else throws an {@link ApiError} carrying the status and NCP's code and message, with a
 * message that says what to do.
 *
 * @example
 * ```ts
 * const body = checkNcpResponse(res, { what: "list clusters", region: "KR", accessKey });
 * const clusters = parseNcpClusterList(body);
 * ```
 */
export function checkNcpResponse(res: HttpResponse, ctx: NcpCallContext): unknown {
  if (res.status >= 200 && res.status < 300) {
    try {
      return JSON.parse(res.text);
    } catch (cause) {
      throw new ApiError(`NCP API answered "${ctx.what}" with a body that is not JSON: check NCLOUD_API_GW points at the NCP API gateway`, { status: res.status }, { cause });
    }
  }
  const details = ncpErrorDetails(res.text);
  const said = details.apiMessage === undefined ? "" : ` (${details.apiCode === undefined ? "" : `${details.apiCode} `}${details.apiMessage})`;
  const region = ctx.region === "" ? "KR" : ctx.region;
  const tries = res.attempts > 1 ? ` after ${res.attempts} tries` : "";
  let message: string;
  if (res.status === 401) {
    // NCP's gateway answers 401 with its own error code ("200" means Authentication Failed, not HTTP 200).
    const code = details.apiCode === undefined ? "" : `, NCP error code ${details.apiCode}`;
    const text = details.apiMessage === undefined ? "" : ` (${details.apiMessage})`;
    message = `NCP API rejected access key ${ctx.accessKey}: HTTP 401${code}${text}: ${likelyAuthCause(details.apiMessage, res, ctx.sentAt)}`;
  } else if (res.status === 403) {
    message = `NCP API refused "${ctx.what}" for access key ${ctx.accessKey}${said}: give the key's sub account permission for NKS`;
  } else if (res.status === 404 && ctx.clusterUuid !== undefined) {
    message = `cluster ${ctx.clusterUuid} was not found in region ${region}${said}: check the cluster UUID and the region (the NKS console lists the region's clusters with their UUIDs)`;
  } else if (res.status === 409 && ctx.kubeconfig) {
    message = `cluster ${ctx.clusterUuid ?? ""} is still being created, so it has no kubeconfig yet${said}: try again when its status is RUNNING`;
  } else if (res.status === 429) {
    message = `NCP API kept answering 429 Too Many Requests to "${ctx.what}"${tries}: wait a minute and try again`;
  } else if (res.status >= 500) {
    message = `NCP API failed on "${ctx.what}" with status ${res.status}${said}${tries}: NCP may be having trouble; try again later`;
  } else {
    message = `NCP API answered "${ctx.what}" with status ${res.status}${said}`;
  }
  const blame = res.status === 404 && ctx.clusterUuid !== undefined ? { field: "clusterUuid", value: ctx.clusterUuid } : res.status === 401 ? { field: "accessKey", value: ctx.accessKey } : {};
  throw new ApiError(message, { status: res.status, apiCode: details.apiCode, apiMessage: details.apiMessage }, blame);
}

// ---------------------------------------------------------------------------------------------
// Body checks: every field read is checked; a bad body names the field.

class BodyError extends Error {}

function record(v: unknown, field: string): Record<string, unknown> {
  if (!isRecord(v)) throw new BodyError(`${field} is not an object`);
  return v;
}

function optString(o: Record<string, unknown>, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  throw new BodyError(`${field}.${key} is not a string`);
}

function reqString(o: Record<string, unknown>, key: string, field: string): string {
  const v = optString(o, key, field);
  if (v === undefined || v === "") throw new BodyError(`${field}.${key} is missing`);
  return v;
}

/** NCP sends numbers for ids; kubeiam keeps them as strings so they never lose digits. */
function optId(o: Record<string, unknown>, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "string") return v;
  throw new BodyError(`${field}.${key} is not a number or string`);
}

function optNumber(o: Record<string, unknown>, key: string, field: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  throw new BodyError(`${field}.${key} is not a number`);
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new BodyError(`${field} is not a list`);
  return v;
}

function checked<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (cause instanceof BodyError) {
      throw new ApiError(`NCP API's answer to "${what}" is not what NKS sends: ${cause.message}`, { status: 200 }, { cause });
    }
    throw cause;
  }
}

function nodePoolFrom(v: unknown, field: string): NcpNodePool {
  const o = record(v, field);
  const pool: NcpNodePool = { name: reqString(o, "name", field) };
  const instanceNo = optId(o, "instanceNo", field) ?? optId(o, "nodePoolNo", field);
  if (instanceNo !== undefined) pool.instanceNo = instanceNo;
  const status = optString(o, "status", field);
  if (status !== undefined) pool.status = status;
  const nodeCount = optNumber(o, "nodeCount", field);
  if (nodeCount !== undefined) pool.nodeCount = nodeCount;
  const k8sVersion = optString(o, "k8sVersion", field);
  if (k8sVersion !== undefined) pool.k8sVersion = k8sVersion;
  const productCode = optString(o, "productCode", field) ?? optString(o, "serverSpecCode", field);
  if (productCode !== undefined) pool.productCode = productCode;
  return pool;
}

function clusterFrom(v: unknown, field: string): NcpCluster {
  const o = record(v, field);
  const cluster: NcpCluster = {
    uuid: reqString(o, "uuid", field),
    name: reqString(o, "name", field),
    status: reqString(o, "status", field),
    subnetNoList: list(o.subnetNoList, `${field}.subnetNoList`).map((s, i) => {
      if (typeof s === "number" || (typeof s === "string" && s !== "")) return String(s);
      throw new BodyError(`${field}.subnetNoList[${i}] is not a subnet number`);
    }),
    nodePool: list(o.nodePool, `${field}.nodePool`).map((p, i) => nodePoolFrom(p, `${field}.nodePool[${i}]`)),
  };
  for (const key of ["endpoint", "k8sVersion", "regionCode", "zoneCode", "vpcName", "acgName", "createdAt", "authType"] as const) {
    const s = optString(o, key, field);
    if (s !== undefined) cluster[key] = s;
  }
  const vpcNo = optId(o, "vpcNo", field);
  if (vpcNo !== undefined) cluster.vpcNo = vpcNo;
  const acgNo = optId(o, "acgNo", field);
  if (acgNo !== undefined) cluster.acgNo = acgNo;
  return cluster;
}

function nodeFrom(v: unknown, field: string): NcpWorkerNode {
  const o = record(v, field);
  const node: NcpWorkerNode = { name: reqString(o, "name", field) };
  const id = optId(o, "id", field) ?? optId(o, "instanceNo", field);
  if (id !== undefined) node.id = id;
  const status = optString(o, "k8sStatus", field) ?? optString(o, "statusName", field) ?? optString(o, "status", field) ?? optString(o, "statusCode", field);
  if (status !== undefined) node.status = status;
  const privateIp = optString(o, "privateIp", field);
  if (privateIp !== undefined) node.privateIp = privateIp;
  const publicIp = optString(o, "publicIp", field);
  if (publicIp !== undefined && publicIp !== "") node.publicIp = publicIp;
  const nodePoolName = optString(o, "nodePoolName", field);
  if (nodePoolName !== undefined) node.nodePoolName = nodePoolName;
  const nodePoolId = optId(o, "nodePoolId", field) ?? optId(o, "nodePoolNo", field);
  if (nodePoolId !== undefined) node.nodePoolId = nodePoolId;
  return node;
}

/**
 * Checks the body of `GET …/clusters`: `{"clusters":[Cluster…]}`.
 *
 * @example
 * ```ts
 * const clusters = parseNcpClusterList(JSON.parse(text));
 * ```
 */
export function parseNcpClusterList(body: unknown): NcpCluster[] {
  return checked("list clusters", () => {
    const o = record(body, "body");
    if (!Array.isArray(o.clusters)) throw new BodyError("body.clusters is missing");
    return o.clusters.map((c, i) => clusterFrom(c, `clusters[${i}]`));
  });
}

/**
 * Checks the body of `GET …/clusters/{uuid}`: `{"cluster":Cluster}`.
 *
 * @example
 * ```ts
 * const cluster = parseNcpCluster(JSON.parse(text));
 * ```
 */
export function parseNcpCluster(body: unknown): NcpCluster {
  return checked("get cluster", () => clusterFrom(record(body, "body").cluster, "cluster"));
}

/**
 * Checks the body of `GET …/clusters/{uuid}/kubeconfig`: `{"kubeconfig":"<YAML>"}`; returns the YAML text.
 *
 * @example
 * ```ts
 * const yamlText = parseNcpKubeconfigBody(JSON.parse(text));
 * ```
 */
export function parseNcpKubeconfigBody(body: unknown): string {
  return checked("get kubeconfig", () => reqString(record(body, "body"), "kubeconfig", "body"));
}

/**
 * Checks the body of `GET …/clusters/{uuid}/nodes`: `{"nodes":[WorkerNode…]}`.
 *
 * @example
 * ```ts
 * const nodes = parseNcpNodeList(JSON.parse(text));
 * ```
 */
export function parseNcpNodeList(body: unknown): NcpWorkerNode[] {
  return checked("list nodes", () => list(record(body, "body").nodes, "body.nodes").map((n, i) => nodeFrom(n, `nodes[${i}]`)));
}

/**
 * Checks the body of `GET …/clusters/{uuid}/node-pool`: `{"nodePool":[NodePool…]}`.
 *
 * @example
 * ```ts
 * const pools = parseNcpNodePoolList(JSON.parse(text));
 * ```
 */
export function parseNcpNodePoolList(body: unknown): NcpNodePool[] {
  return checked("list node pools", () =>
    list(record(body, "body").nodePool, "body.nodePool").map((p, i) => nodePoolFrom(p, `nodePool[${i}]`)),
  );
}

// ---------------------------------------------------------------------------------------------

/** Options of {@link createNcpApiClient}. */
export interface NcpApiClientOptions extends Omit<HttpOptions, "service"> {
  credentials: NcpCredentials;
  /** A region code, or one parsed already ({@link parseNcpRegion}). */
  region: string | NcpRegion;
  /** The clock used to sign; `Date.now` by default. */
  now?: () => number;
}

/** The NKS API calls kubeiam makes, signed and checked. */
export interface NcpApiClient {
  readonly region: string;
  listClusters(): Promise<NcpCluster[]>;
  getCluster(clusterUuid: string): Promise<NcpCluster>;
  /** The API's own kubeconfig for the cluster (YAML text: cluster and context, no usable user). */
  getKubeconfig(clusterUuid: string): Promise<string>;
  listNodes(clusterUuid: string): Promise<NcpWorkerNode[]>;
  listNodePools(clusterUuid: string): Promise<NcpNodePool[]>;
}

/**
 * A client for the NKS REST API in one region. Inputs are checked here: the region must be letters
 * and digits and each cluster UUID a UUID, so nothing odd reaches a signed path.
 *
 * @example
 * ```ts
 * const api = createNcpApiClient({ credentials: await resolveNcpCredentials(), region: "KR" });
 * for (const c of await api.listClusters()) console.log(c.name, c.status);
 * ```
 */
export function createNcpApiClient(options: NcpApiClientOptions): NcpApiClient {
  // Everything parsed and checked once, here: the region, the base URL (a bad one fails now, before
  // any call) and the key (held ready to sign); each call only signs and sends.
  const parsed = ncpRegionOf(options.region);
  const region = parsed.code;
  const { credentials } = options;
  const baseUrl = ncpApiBaseUrl(credentials.apiUrl, parsed);
  const signer = createNcpSigner(credentials);
  const now = options.now ?? Date.now;
  const http: HttpOptions = { ...options, service: "NCP API" };

  async function call(path: string, ctx: Omit<NcpCallContext, "region" | "accessKey">): Promise<unknown> {
    const { sendHttpRequest } = await import("../lib/http.js");
    const sentAt = now();
    const req = signedRequest(baseUrl, signer, parsed, { method: "GET", path }, sentAt);
    const res = await sendHttpRequest(req, http);
    return checkNcpResponse(res, { ...ctx, region, accessKey: credentials.accessKey, sentAt });
  }
  const clusterPath = (uuid: string): string => `/clusters/${encodeURIComponent(checkClusterUuid(uuid))}`;

  return {
    region,
    async listClusters() {
      return parseNcpClusterList(await call("/clusters", { what: "list clusters" }));
    },
    async getCluster(uuid) {
      return parseNcpCluster(await call(clusterPath(uuid), { what: `get cluster ${uuid}`, clusterUuid: uuid }));
    },
    async getKubeconfig(uuid) {
      return parseNcpKubeconfigBody(
        await call(`${clusterPath(uuid)}/kubeconfig`, { what: `get kubeconfig of cluster ${uuid}`, clusterUuid: uuid, kubeconfig: true }),
      );
    },
    async listNodes(uuid) {
      return parseNcpNodeList(await call(`${clusterPath(uuid)}/nodes`, { what: `list nodes of cluster ${uuid}`, clusterUuid: uuid }));
    },
    async listNodePools(uuid) {
      return parseNcpNodePoolList(await call(`${clusterPath(uuid)}/node-pool`, { what: `list node pools of cluster ${uuid}`, clusterUuid: uuid }));
    },
  };
}
