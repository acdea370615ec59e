/**
 * Test stand-ins for AWS, written from the SigV4 specification with node:crypto only (no code from
 * src/ and no SDK): a hand verifier of EKS tokens (the presigned STS URL), a local EKS API that
 * checks each request's Authorization header, a local STS for AssumeRole, and a loopback TLS
 * "cluster endpoint" that accepts only tokens the hand verifier accepts.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createLocalCa } from "../../src/sandbox/ca.js";

const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex");

/** The SigV4 signature of a canonical request, by the book. */
export function sigv4(secret: string, amzDate: string, scope: string, canonicalRequest: string): string {
  const [day, region, service] = scope.split("/") as [string, string, string];
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  let key = createHmac("sha256", `AWS4${secret}`).update(day).digest();
  for (const part of [region, service, "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  return createHmac("sha256", key).update(stringToSign).digest("hex");
}

function canonicalQuery(params: [string, string][]): string {
  return params
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function amzDateMs(d: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d);
  if (!m) throw new Error("bad X-Amz-Date");
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** What a hand-verified EKS token proves. */
export interface VerifiedEks {
  accessKeyId: string;
  region: string;
  signedAt: number;
  sessionToken?: string;
}

/**
 * Verifies an EKS token as STS would (minus the account lookup): the presigned URL's SigV4 signature
 * over host and x-k8s-aws-id, recomputed from the URL with `secretFor(accessKeyId)`, and the
 * 15-minute window that aws-iam-authenticator applies. Throws with a reason on any failure.
 */
export function verifyEksTokenByHand(
  token: string,
  options: { secretFor: (accessKeyId: string) => string | undefined; clusterName: string; now: number },
): VerifiedEks {
  if (!token.startsWith("k8s-aws-v1.")) throw new Error("no k8s-aws-v1. prefix");
  const url = new URL(Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString("utf8"));
  if (url.protocol !== "https:" || !/^sts\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname)) throw new Error(`not an STS URL: ${url.hostname}`);
  const q = url.searchParams;
  if (q.get("Action") !== "GetCallerIdentity" || q.get("Version") !== "2011-06-15") throw new Error("not GetCallerIdentity");
  if (q.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") throw new Error("not SigV4");
  const signedHeaders = q.get("X-Amz-SignedHeaders") ?? "";
  if (signedHeaders !== "host;x-k8s-aws-id") throw new Error(`signed headers are ${signedHeaders}`);
  const [accessKeyId, day, region, service, term] = (q.get("X-Amz-Credential") ?? "").split("/");
  if (!accessKeyId || !day || !region || service !== "sts" || term !== "aws4_request") throw new Error("bad credential scope");
  const secret = options.secretFor(accessKeyId);
  if (secret === undefined) throw new Error(`unknown access key ${accessKeyId}`);
  const amzDate = q.get("X-Amz-Date") ?? "";
  const signedAt = amzDateMs(amzDate);
  if (!amzDate.startsWith(day)) throw new Error("date and scope disagree");
  if (options.now - signedAt > 15 * 60 * 1000) throw new Error("expired");
  if (signedAt - options.now > 5 * 60 * 1000) throw new Error("from the future");
  const params = [...q.entries()].filter(([k]) => k !== "X-Amz-Signature");
  const canonical = [
    "GET",
    "/",
    canonicalQuery(params),
    `host:${url.host}\nx-k8s-aws-id:${options.clusterName}\n`,
    signedHeaders,
    sha256(""),
  ].join("\n");
  const expected = Buffer.from(sigv4(secret, amzDate, `${day}/${region}/sts/aws4_request`, canonical));
  const given = Buffer.from(q.get("X-Amz-Signature") ?? "");
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new Error("signature mismatch");
  const session = q.get("X-Amz-Security-Token");
  return { accessKeyId, region, signedAt, ...(session === null ? {} : { sessionToken: session }) };
}

/** Checks a header-signed SigV4 request (the EKS and STS APIs) by hand; returns a reason or undefined. */
function checkHeaderSignature(req: IncomingMessage, body: string, keys: Record<string, string>, service: string): string | undefined {
  const auth = req.headers.authorization ?? "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return "no SigV4 Authorization header";
  const [, ak, day, region, svc, signed, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (svc !== service) return `signed for ${svc}, not ${service}`;
  const secret = keys[ak];
  if (secret === undefined) return `unknown access key ${ak}`;
  const url = new URL(req.url ?? "/", "http://x");
  const headerLines = signed
    .split(";")
    .map((h) => `${h}:${String(req.headers[h] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const payload = typeof req.headers["x-amz-content-sha256"] === "string" ? req.headers["x-amz-content-sha256"] : sha256(body);
  const path = url.pathname.split("/").map((s) => enc(decodeURIComponent(s))).join("/");
  const canonical = [req.method ?? "GET", path, canonicalQuery([...url.searchParams.entries()]), headerLines, signed, payload].join("\n");
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  if (sigv4(secret, amzDate, `${day}/${region}/${service}/aws4_request`, canonical) !== signature) return "signature mismatch";
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let b = "";
    req.on("data", (d: Buffer) => (b += d.toString("utf8")));
    req.on("end", () => resolve(b));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export interface LocalServer {
  url: string;
  requests: { method: string; path: string; rejected?: string }[];
  close(): Promise<void>;
}

async function listen(server: ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer>, scheme: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An EKS cluster as the stand-in serves it (DescribeCluster's JSON). */
export type StandInEksCluster = Record<string, unknown> & { name: string };

/** A certificate and key for a stand-in served over TLS. */
export interface StandInTls {
  cert: string;
  key: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const serverFor = (tls: StandInTls | undefined, handler: Handler): ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer> =>
  tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: tls.cert, key: tls.key }, handler);

/** A local EKS API (REST-JSON): ListClusters, DescribeCluster, ListNodegroups, DescribeNodegroup; over TLS when `tls` is given. */
export async function startEksApi(options: {
  keys: Record<string, string>;
  clusters: StandInEksCluster[];
  nodegroups?: Record<string, Record<string, unknown>[]>;
  tls?: StandInTls;
}): Promise<LocalServer> {
  const requests: LocalServer["requests"] = [];
  const server = serverFor(options.tls, async (req, res) => {
    const body = await readBody(req);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const rejected = checkHeaderSignature(req, body, options.keys, "eks");
    requests.push({ method: req.method ?? "", path, ...(rejected === undefined ? {} : { rejected }) });
    if (rejected !== undefined) {
      return json(res, 403, { message: rejected }, { "x-amzn-errortype": "InvalidSignatureException" });
    }
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== "clusters") return json(res, 404, { message: "no route" }, { "x-amzn-errortype": "ResourceNotFoundException" });
    if (parts.length === 1) return json(res, 200, { clusters: options.clusters.map((c) => c.name) });
    const cluster = options.clusters.find((c) => c.name === parts[1]);
    if (cluster === undefined) {
      return json(res, 404, { message: `No cluster found for name: ${parts[1]}.` }, { "x-amzn-errortype": "ResourceNotFoundException" });
    }
    if (parts.length === 2) return json(res, 200, { cluster });
    const groups = options.nodegroups?.[cluster.name] ?? [];
    if (parts[2] === "node-groups" && parts.length === 3) return json(res, 200, { nodegroups: groups.map((g) => g.nodegroupName) });
    const group = groups.find((g) => g.nodegroupName === parts[3]);
    if (parts[2] === "node-groups" && group !== undefined) return json(res, 200, { nodegroup: group });
    return json(res, 404, { message: "not found" }, { "x-amzn-errortype": "ResourceNotFoundException" });
  });
  const url = await listen(server, options.tls === undefined ? "http" : "https");
  return { url, requests, close: () => closeServer(server) };
}

function closeServer(server: ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer>): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/**
 * A local STS: AssumeRole (query protocol, XML) after checking the header signature by hand, and
 * the presigned GetCallerIdentity of an EKS token (as aws-iam-authenticator's server calls it),
 * checked by {@link verifyEksTokenByHand} against `signedHost` (the STS host that DNS would point
 * here) and the `x-k8s-aws-id` header, answering JSON with the identity of `callers[accessKeyId]`.
 */
export async function startSts(options: {
  keys: Record<string, string>;
  /** The credentials AssumeRole hands out: always the same, or chosen per call (`n` counts from 0). */
  issue: StsIssued | ((form: Record<string, string>, n: number) => StsIssued);
  /** When given, only these roles may be assumed, each with its external id when it names one (else 403 AccessDenied). */
  roles?: Record<string, { externalId?: string }>;
  tls?: StandInTls;
  signedHost?: string;
  callers?: Record<string, { arn: string; account: string; userId: string }>;
}): Promise<LocalServer & { assumed: Record<string, string>[] }> {
  const requests: LocalServer["requests"] = [];
  const assumed: Record<string, string>[] = [];
  const server = serverFor(options.tls, async (req, res) => {
    const body = await readBody(req);
    const query = new URL(req.url ?? "/", "http://x").searchParams;
    if (req.method === "GET" && query.get("Action") === "GetCallerIdentity") {
      const host = options.signedHost ?? String(req.headers.host ?? "");
      const clusterName = String(req.headers["x-k8s-aws-id"] ?? "");
      const token = "k8s-aws-v1." + Buffer.from(`https://${host}${req.url ?? "/"}`, "utf8").toString("base64url");
      let reason: string | undefined;
      let caller: { arn: string; account: string; userId: string } | undefined;
      try {
        const v = verifyEksTokenByHand(token, { secretFor: (ak) => options.keys[ak], clusterName, now: Date.now() });
        caller = options.callers?.[v.accessKeyId];
        if (caller === undefined) reason = `no identity for ${v.accessKeyId}`;
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
      }
      requests.push({ method: "GET", path: "GetCallerIdentity", ...(reason === undefined ? {} : { rejected: reason }) });
      if (caller === undefined) {
        return json(res, 403, { Error: { Code: "SignatureDoesNotMatch", Message: "The request signature we calculated does not match the signature you provided.", Type: "Sender" } });
      }
      return json(res, 200, {
        GetCallerIdentityResponse: {
          GetCallerIdentityResult: { Arn: caller.arn, Account: caller.account, UserId: caller.userId },
          ResponseMetadata: { RequestId: "00000000-0000-4000-8000-000000000000" },
        },
      });
    }
    const rejected = checkHeaderSignature(req, body, options.keys, "sts");
    requests.push({ method: req.method ?? "", path: req.url ?? "", ...(rejected === undefined ? {} : { rejected }) });
    if (rejected !== undefined) {
      res.writeHead(403, { "content-type": "text/xml" });
      res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>${rejected}</Message></Error></ErrorResponse>`);
      return;
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    const role = options.roles?.[form.RoleArn ?? ""];
    if (options.roles !== undefined && (role === undefined || (role.externalId !== undefined && role.externalId !== form.ExternalId))) {
      requests.push({ method: "POST", path: "AssumeRole", rejected: "AccessDenied" });
      res.writeHead(403, { "content-type": "text/xml" });
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole on resource: ${form.RoleArn ?? ""}</Message></Error></ErrorResponse>`,
      );
      return;
    }
    assumed.push(form);
    const c = typeof options.issue === "function" ? options.issue(form, assumed.length - 1) : options.issue;
    res.writeHead(200, { "content-type": "text/xml" });
    res.end(
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
        `<AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${c.secretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${c.sessionToken}</SessionToken><Expiration>${c.expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><AssumedRoleId>AROATEST:${form.RoleSessionName ?? ""}</AssumedRoleId><Arn>${form.RoleArn ?? ""}</Arn></AssumedRoleUser>` +
        `</AssumeRoleResult></AssumeRoleResponse>`,
    );
  });
  const url = await listen(server, options.tls === undefined ? "http" : "https");
  return { url, requests, assumed, close: () => closeServer(server) };
}

/** Temporary credentials as the STS stand-in issues them. */
export interface StsIssued {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601. */
  expiration: string;
}

/** A loopback TLS cluster endpoint that serves /version to bearer tokens that `accept` returns true for. */
export async function startBearerCluster(accept: (token: string) => string | undefined): Promise<LocalServer & { caData: string; seen: { accepted: boolean; reason?: string }[] }> {
  const ca = await createLocalCa("kubeiam multicloud test CA");
  const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost"], ips: ["127.0.0.1"] });
  const requests: LocalServer["requests"] = [];
  const seen: { accepted: boolean; reason?: string }[] = [];
  const server = createHttpsServer({ cert: certPem, key: keyPem }, (req, res) => {
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    const reason = token === "" ? "no bearer token" : accept(token);
    requests.push({ method: req.method ?? "", path: req.url ?? "", ...(reason === undefined ? {} : { rejected: reason }) });
    seen.push({ accepted: reason === undefined, ...(reason === undefined ? {} : { reason }) });
    if (reason !== undefined) {
      return json(res, 401, { kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
    }
    if (req.url === "/version" || req.url === "/version/") {
      return json(res, 200, { major: "1", minor: "31", gitVersion: "v1.31.2-multicloud-test", platform: "linux/amd64" });
    }
    return json(res, 404, { kind: "Status", apiVersion: "v1", status: "Failure", code: 404 });
  });
  const url = await listen(server, "https");
  return {
    url,
    requests,
    seen,
    caData: Buffer.from(ca.certPem, "utf8").toString("base64"),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
