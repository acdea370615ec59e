/**
 * `inspect`: decodes a token (argument or stdin) and says what it claims and whether it is still
 * valid; `--verify` checks an NKS token's signature with the user's own credentials. Never prints
 * a token's signature or session token, since either would hand the token out again.
 */
import { TokenError, UsageError, ErrorCode } from "../lib/errors.js";
import { clipped, printable, printableJson } from "../lib/printable.js";
import { describeNcpCredentialSource, resolveNcpCredentials } from "../ncp/credentials.js";
import { normalizeNcpRegion } from "../ncp/region.js";
import {
  NCP_TOKEN_MAX_FUTURE_SKEW_MS,
  NCP_TOKEN_PREFIX,
  checkClusterUuid,
  decodeNcpToken,
  verifyNcpToken,
} from "../ncp/token.js";
import { NCP_FLAG_HINTS, NCP_GLOBAL_FLAGS, debug, eitherFlag, parseFlags, type CliContext, type Command } from "./context.js";

const EKS_PREFIX = "k8s-aws-v1.";

const FLAGS = {
  ...NCP_GLOBAL_FLAGS,
  verify: { type: "boolean" },
  clusterUuid: { type: "string" },
  "cluster-uuid": { type: "string" },
  region: { type: "string" },
  "cluster-name": { type: "string" },
  output: { type: "string", short: "o" },
} as const;

/** Whether a token's time window holds at a given moment, and if not, why. */
export interface TokenTiming {
  issuedAt: string;
  expiresAt: string;
  /** Seconds since the token was signed (negative when signed in the future). */
  ageSeconds: number;
  /** Inside its lifetime and not too far in the future. */
  valid: boolean;
  /** Why it is not valid: `expired` or `future`. */
  reason?: "expired" | "future";
}

/** What `inspect -o json` prints for an NKS token. */
export interface NcpInspection extends TokenTiming {
  type: "k8s-ncp-v1";
  clusterUuid: string;
  stage: string;
  accessKey: string;
  path: string;
  /** `verified` after `--verify`, else `unchecked`. */
  signature: "verified" | "unchecked";
  /** Whether the token is the exact bytes minting writes for its values; verification refuses it when not. */
  canonical: boolean;
}

/** What `inspect -o json` prints for an EKS token. */
export interface EksInspection extends TokenTiming {
  type: "k8s-aws-v1";
  /** The presigned URL with its signature and session token replaced by `REDACTED`. */
  url: string;
  host: string;
  region: string;
  accessKeyId: string;
  action: string;
  presignExpiresSeconds: number;
  signedHeaders: string[];
  clusterIdSigned: boolean;
  hasSessionToken: boolean;
  /** `verified` after `--verify` (STS accepted the presigned call), else `unchecked`. */
  signature: "verified" | "unchecked";
  /** With `--verify`: who signed it, as STS answered. */
  arn?: string;
  account?: string;
}

export const inspectCommand: Command = {
  options: { "": FLAGS },
  flags: NCP_FLAG_HINTS,
  summary: "Decode a token (k8s-ncp-v1 or k8s-aws-v1) and say whether it is still valid",
  help: `Decodes a token and prints what it claims: cluster UUID, IAM stage, access key, issued at,
expires at, age, and whether it is still valid. Never prints the token's signature.

Usage:
  inspect [TOKEN] [flags]
  kubeiam token --clusterUuid UUID --region KR | kubeiam inspect

TOKEN is a k8s-ncp-v1 (NKS) or k8s-aws-v1 (EKS) token, a "Bearer …" header value, or an
ExecCredential JSON. Without TOKEN, or with "-", it is read from stdin.

Flags:
  --verify                             check an NKS token's signature, age and clock skew with your
                                       credentials (exit 4 when a check fails)
  --clusterUuid, --cluster-uuid UUID   with --verify: the token must name this cluster
  --region CODE                        with --verify: the token must name this region's IAM stage
  --profile NAME                       with --verify: section of the configure file
  --credentialConfig, --credential-config PATH
                                       with --verify: configure file (default: ~/.ncloud/configure)
  --cluster-name NAME                  with --verify on an EKS token (required there): the cluster the
                                       token must be for; kubeiam makes the presigned STS
                                       GetCallerIdentity call, as aws-iam-authenticator's server does,
                                       and prints the signer's ARN and account ($AWS_ENDPOINT_URL_STS
                                       sends it elsewhere; HTTPS_PROXY/NO_PROXY apply)
  -o, --output text|json               text (default), or one JSON object for scripts
  -h, --help                           this help
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseFlags("inspect", args, FLAGS, true);
    const output = values.output ?? "text";
    if (output !== "text" && output !== "json") {
      throw new UsageError(`inspect: -o ${JSON.stringify(output)} is not supported: use text or json`);
    }
    if (positionals.length > 1) {
      throw new UsageError("inspect: give one token: see 'inspect --help'");
    }
    const clusterUuid = eitherFlag("inspect", values, "clusterUuid", "cluster-uuid");
    const region = values.region;
    if (!values.verify && (clusterUuid !== undefined || region !== undefined || values["cluster-name"] !== undefined)) {
      throw new UsageError("inspect: --clusterUuid, --region and --cluster-name are checked only with --verify: add --verify");
    }
    if (clusterUuid !== undefined) checkClusterUuid(clusterUuid);
    if (region !== undefined) normalizeNcpRegion(region);

    const token = extractToken(await readInput(positionals[0], ctx));
    const now = ctx.now();
    let inspection: NcpInspection | EksInspection;
    if (token.startsWith(NCP_TOKEN_PREFIX)) {
      inspection = inspectNcp(token, now);
      if (values.verify) {
        await verifyWithOwnCredentials(token, ctx, { values, clusterUuid, region, now });
        inspection.signature = "verified";
      }
    } else if (token.startsWith(EKS_PREFIX)) {
      inspection = await inspectEks(token, now);
      if (values.verify) {
        const clusterName = values["cluster-name"];
        if (clusterName === undefined || clusterName.trim() === "") {
          throw new UsageError("inspect: --verify on an EKS token needs --cluster-name NAME: STS checks the token against the cluster it was signed for");
        }
        const [{ verifyEksTokenWithSts }, { awsFetch }] = await Promise.all([import("../aws/verify.js"), import("../aws/http-handler.js")]);
        const who = await verifyEksTokenWithSts({
          token,
          clusterName,
          now,
          stsEndpoint: ctx.env.AWS_ENDPOINT_URL_STS?.trim() || undefined,
          http: { signal: ctx.signal, fetch: await awsFetch(ctx.env) },
        });
        inspection = { ...inspection, signature: "verified", arn: who.arn, account: who.account };
      }
    } else {
      throw new TokenError(
        ErrorCode.TOKEN_MALFORMED,
        `inspect: not a token kubeiam can decode: it must start with "${NCP_TOKEN_PREFIX}" (NKS) or "${EKS_PREFIX}" (EKS); GKE access tokens are opaque`,
      );
    }
    // Everything shown comes from the token: escaped, so that it can neither drive the terminal nor forge lines.
    ctx.out(output === "json" ? `${printableJson(inspection, 2)}\n` : formatInspection(inspection, now));
    return 0;
  },
};

async function readInput(arg: string | undefined, ctx: CliContext): Promise<string> {
  if (arg !== undefined && arg !== "-") return arg;
  if (ctx.stdinIsTTY) {
    throw new UsageError(`inspect: no token: pass it as an argument, or pipe it in (${ctx.programName} token … | ${ctx.programName} inspect)`);
  }
  const text = (await ctx.readStdin()).trim();
  if (text === "") throw new UsageError("inspect: stdin is empty: pass the token as an argument or pipe it in");
  return text;
}

/** The token inside an argument: itself, a `Bearer …` value, or an ExecCredential's `status.token`. */
function extractToken(input: string): string {
  const text = input.trim();
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new TokenError(ErrorCode.TOKEN_MALFORMED, "inspect: the input starts with { but is not JSON: pass the token itself or a whole ExecCredential", { cause });
    }
    const token = (parsed as { status?: { token?: unknown } } | null)?.status?.token;
    if (typeof token !== "string") {
      throw new TokenError(ErrorCode.TOKEN_MALFORMED, "inspect: the JSON input has no status.token: pass the token itself or a whole ExecCredential");
    }
    return token.trim();
  }
  return text.replace(/^Bearer\s+/i, "");
}

function timing(issuedMs: number, expiresMs: number, now: number, maxFutureSkewMs: number): TokenTiming {
  const result: TokenTiming = {
    issuedAt: new Date(issuedMs).toISOString(),
    expiresAt: new Date(expiresMs).toISOString(),
    ageSeconds: Math.floor((now - issuedMs) / 1000),
    valid: true,
  };
  if (now > expiresMs) return { ...result, valid: false, reason: "expired" };
  if (issuedMs - now > maxFutureSkewMs) return { ...result, valid: false, reason: "future" };
  return result;
}

function inspectNcp(token: string, now: number): NcpInspection {
  const claim = decodeNcpToken(token);
  return {
    type: "k8s-ncp-v1",
    clusterUuid: claim.clusterUuid,
    stage: claim.stage,
    accessKey: claim.accessKey,
    path: claim.path,
    ...timing(claim.issuedAt.getTime(), claim.expiresAt.getTime(), now, NCP_TOKEN_MAX_FUTURE_SKEW_MS),
    signature: "unchecked",
    canonical: claim.canonical,
  };
}

async function verifyWithOwnCredentials(
  token: string,
  ctx: CliContext,
  options: { values: Record<string, unknown>; clusterUuid: string | undefined; region: string | undefined; now: number },
): Promise<void> {
  const { values } = options;
  const configFile = eitherFlag("inspect", values, "credentialConfig", "credential-config");
  const profile = typeof values.profile === "string" ? values.profile : undefined;
  const credentials = await resolveNcpCredentials({ env: ctx.env, profile, configFile });
  debug(ctx, `credentials: ${describeNcpCredentialSource(credentials)}`);
  for (const warning of credentials.warnings) ctx.err(`${ctx.programName}: warning: ${warning}\n`);
  const signer = decodeNcpToken(token).accessKey;
  if (signer !== credentials.accessKey) {
    const where = credentials.source === "env" ? "the environment" : `profile ${credentials.profile ?? "DEFAULT"} of ${credentials.path ?? "the configure file"}`;
    throw new TokenError(
      ErrorCode.TOKEN_UNKNOWN_KEY,
      `inspect: the token is signed by access key ${clipped(signer, 64)}, but the credentials from ${where} are for ${credentials.accessKey}: pass --profile or --credentialConfig for that key`,
    );
  }
  verifyNcpToken(token, {
    secretKeyFor: (accessKey) => (accessKey === credentials.accessKey ? credentials.secretKey : undefined),
    ...(options.clusterUuid === undefined ? {} : { clusterUuid: options.clusterUuid }),
    ...(options.region === undefined ? {} : { region: options.region }),
    now: options.now,
  });
}

async function inspectEks(token: string, now: number): Promise<EksInspection> {
  // The EKS decoder is small, but the NKS paths need not load it at all.
  const { decodeEksToken } = await import("../aws/token.js");
  const claim = decodeEksToken(token);
  const url = new URL(claim.url);
  for (const secret of ["X-Amz-Signature", "X-Amz-Security-Token"]) {
    if (url.searchParams.has(secret)) url.searchParams.set(secret, "REDACTED");
  }
  return {
    type: "k8s-aws-v1",
    url: url.toString(),
    host: claim.host,
    region: claim.region,
    accessKeyId: claim.accessKeyId,
    action: claim.action,
    presignExpiresSeconds: claim.presignExpiresSeconds,
    signedHeaders: claim.signedHeaders,
    clusterIdSigned: claim.clusterIdSigned,
    hasSessionToken: claim.hasSessionToken,
    // Allow a few minutes of clock skew for a date in the future, as AWS does.
    ...timing(claim.signedAt.getTime(), claim.expiresAt.getTime(), now, 5 * 60 * 1000),
    signature: "unchecked",
  };
}

/** A span as `1h2m3s`, `14m59s` or `7s`. */
export function formatSpan(ms: number): string {
  let s = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

function validity(t: TokenTiming, now: number): string {
  if (t.valid) return `yes (expires in ${formatSpan(Date.parse(t.expiresAt) - now)})`;
  if (t.reason === "expired") return `no: expired ${formatSpan(now - Date.parse(t.expiresAt))} ago, mint a new one`;
  return `no: issued ${formatSpan(Date.parse(t.issuedAt) - now)} in the future, check the minting machine's clock`;
}

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${printable(v)}\n`).join("");
}

function formatInspection(i: NcpInspection | EksInspection, now: number): string {
  const age = i.ageSeconds < 0 ? `-${formatSpan(i.ageSeconds * 1000)}` : formatSpan(i.ageSeconds * 1000);
  if (i.type === "k8s-ncp-v1") {
    return table([
      ["type", "NKS token (k8s-ncp-v1)"],
      ["cluster UUID", i.clusterUuid],
      ["stage", i.stage],
      ["access key", i.accessKey],
      ["issued at", i.issuedAt],
      ["expires at", i.expiresAt],
      ["age", age],
      ["valid", validity(i, now)],
      ["signature", i.signature === "verified" ? "verified with your credentials" : "not checked (add --verify)"],
      ...(i.canonical ? [] : ([["canonical", "no: not the bytes minting writes for these values, so verification refuses this token"]] as [string, string][])),
    ]);
  }
  return table([
    ["type", "EKS token (k8s-aws-v1)"],
    ["URL", i.url],
    ["region", i.region],
    ["access key", i.accessKeyId],
    ["signed at", i.issuedAt],
    ["expires at", i.expiresAt],
    ["age", age],
    ["valid", validity(i, now)],
    ["cluster bound", i.clusterIdSigned ? "yes (x-k8s-aws-id is signed)" : "no: x-k8s-aws-id is not signed, any EKS cluster of this account would accept it"],
    ["session token", i.hasSessionToken ? "present (not shown)" : "none (long-term key)"],
    ...(i.signature === "verified"
      ? ([
          ["signature", "verified by AWS STS (GetCallerIdentity)"],
          ["ARN", i.arn ?? ""],
          ["account", i.account ?? ""],
        ] as [string, string][])
      : ([["signature", "not checked (add --verify --cluster-name NAME: AWS STS checks it)"]] as [string, string][])),
  ]);
}
