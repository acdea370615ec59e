/**
 * The client-go ExecCredential that an exec plugin prints (docs/formats.md §5), and the
 * `KUBERNETES_EXEC_INFO` that client-go hands the plugin.
 */
import type { MintedToken } from "../cluster-info.js";
import { UsageError } from "../lib/errors.js";

/**
 * How long before a token's real end kubectl (and every in-process cache) is told to replace it:
 * one minute, as the AWS CLI announces an EKS token for 14 of its 15 minutes. Applied here only,
 * by {@link refreshAtFor}: every mint result's `refreshAt`, and so every `expirationTimestamp`, comes from it.
 */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

/**
 * When to replace a token that stops working at `expiresAt`: {@link TOKEN_REFRESH_MARGIN_MS} before,
 * never before `issuedAt` when that is given (a token with less than the margin left is used once).
 *
 * @example
 * ```ts
 * refreshAtFor(new Date("2026-01-01T00:05:00Z")); // 2026-01-01T00:04:00Z
 * ```
 */
export function refreshAtFor(expiresAt: Date, issuedAt?: Date): Date {
  const at = expiresAt.getTime() - TOKEN_REFRESH_MARGIN_MS;
  return new Date(issuedAt === undefined ? at : Math.max(at, Math.min(issuedAt.getTime(), expiresAt.getTime())));
}

/**
 * A {@link MintedToken}: the token, its real end, and when to replace it ({@link refreshAtFor}).
 *
 * @example
 * ```ts
 * const minted = mintedToken(token, new Date(signedAt + 15 * 60_000)); // refreshAt: 14 minutes after signing
 * ```
 */
export function mintedToken(token: string, expiresAt: Date, issuedAt?: Date): MintedToken {
  return { token, expiresAt, refreshAt: refreshAtFor(expiresAt, issuedAt) };
}

/** The exec credential API versions that kubectl understands and we print. */
export const EXEC_API_VERSIONS = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"] as const;

/** One of {@link EXEC_API_VERSIONS}. */
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];

/** The default apiVersion, as the official ncp-iam-authenticator prints it. */
export const DEFAULT_EXEC_API_VERSION: ExecApiVersion = "client.authentication.k8s.io/v1beta1";

/** The ExecCredential object, with keys in the order that client-go's own encoder writes them. */
export interface ExecCredential {
  kind: "ExecCredential";
  apiVersion: ExecApiVersion;
  /** `{ interactive }`, or empty in the AWS CLI's layout. */
  spec: { interactive?: boolean };
  status: { expirationTimestamp?: string; token: string };
}

/**
 * RFC 3339 UTC at whole seconds (`2026-01-01T00:14:00Z`), as Kubernetes' `metav1.Time` writes it.
 * Fractions are dropped, never rounded up, so the time printed is never later than the one given.
 */
export function rfc3339Seconds(time: Date): string {
  return new Date(Math.floor(time.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * Builds an ExecCredential; serialised with `JSON.stringify` it is
 * `{"kind":…,"apiVersion":…,"spec":{"interactive":false},"status":{"expirationTimestamp":…,"token":…}}`.
 * Without `expirationTimestamp` those are the official `ncp-iam-authenticator`'s bytes; with it (what
 * `kubeiam token` prints) kubectl renews the token before it expires (docs/formats.md §5).
 *
 * @example
 * ```ts
 * const minted = mintNcpToken({ signer, cluster, now });
 * const cred = formatExecCredential({ token: minted.token, expirationTimestamp: minted.refreshAt });
 * process.stdout.write(JSON.stringify(cred));
 * ```
 */
export function formatExecCredential(input: {
  token: string;
  expirationTimestamp?: Date;
  apiVersion?: ExecApiVersion;
  interactive?: boolean;
}): ExecCredential {
  const status: ExecCredential["status"] =
    input.expirationTimestamp === undefined
      ? { token: input.token }
      : { expirationTimestamp: rfc3339Seconds(input.expirationTimestamp), token: input.token };
  return {
    kind: "ExecCredential",
    apiVersion: input.apiVersion ?? DEFAULT_EXEC_API_VERSION,
    spec: { interactive: input.interactive ?? false },
    status,
  };
}

/**
 * Reads an apiVersion given on the command line: `v1`, `v1beta1`, or the full group/version.
 *
 * @example
 * ```ts
 * parseExecApiVersion("v1"); // "client.authentication.k8s.io/v1"
 * ```
 */
export function parseExecApiVersion(value: string): ExecApiVersion {
  const full = value.includes("/") ? value : `client.authentication.k8s.io/${value}`;
  const found = EXEC_API_VERSIONS.find((v) => v === full);
  if (found === undefined) {
    throw new UsageError(`exec API version ${JSON.stringify(value)} is not supported: use v1 or v1beta1`);
  }
  return found;
}

/** What client-go told the plugin in `KUBERNETES_EXEC_INFO`. */
export interface ExecInfo {
  apiVersion: ExecApiVersion;
  interactive: boolean;
}

/**
 * Parses `KUBERNETES_EXEC_INFO`. Returns `undefined` when it is absent, empty or not one we know,
 * so that the caller falls back to its own choice rather than failing kubectl.
 *
 * @example
 * ```ts
 * parseExecInfo('{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}');
 * ```
 */
export function parseExecInfo(raw: string | undefined): ExecInfo | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const record = parsed as { apiVersion?: unknown; spec?: unknown };
  const apiVersion = EXEC_API_VERSIONS.find((v) => v === record.apiVersion);
  if (apiVersion === undefined) return undefined;
  const spec = record.spec as { interactive?: unknown } | undefined;
  return { apiVersion, interactive: typeof spec === "object" && spec !== null && spec.interactive === true };
}

/**
 * The apiVersion to print: the one client-go asked for in `KUBERNETES_EXEC_INFO`, else the flag's,
 * else v1beta1. A bad flag is refused even when the exec info decides, so a typo never hides.
 *
 * @example
 * ```ts
 * chooseExecApiVersion({ execInfo: env.KUBERNETES_EXEC_INFO, flag: "v1" }); // "client.authentication.k8s.io/v1" unless kubectl said otherwise
 * ```
 */
export function chooseExecApiVersion(input: { execInfo?: string | undefined; flag?: string | undefined }): ExecApiVersion {
  const fromFlag = input.flag === undefined ? undefined : parseExecApiVersion(input.flag);
  return parseExecInfo(input.execInfo)?.apiVersion ?? fromFlag ?? DEFAULT_EXEC_API_VERSION;
}

/**
 * The byte layouts of the tools kubeiam stands in for: `ncp-iam-authenticator` (compact JSON, no
 * newline), the AWS CLI's `aws eks get-token` (indent 4, `"spec": {}`, a blank line after), and
 * `gke-gcloud-auth-plugin` (indent 4, no newline).
 */
export type ExecCredentialLayout = "ncp-iam-authenticator" | "aws-cli" | "gke-gcloud-auth-plugin";

/**
 * An ExecCredential as the text a tool prints, byte for byte (see {@link ExecCredentialLayout}).
 * The one place where kubeiam's `token` commands build what kubectl reads.
 *
 * @example
 * ```ts
 * ctx.out(execCredentialText({ token, expirationTimestamp: minted.refreshAt, apiVersion }, "aws-cli"));
 * ```
 */
export function execCredentialText(
  input: { token: string; expirationTimestamp?: Date; apiVersion?: ExecApiVersion },
  layout: ExecCredentialLayout,
): string {
  const credential = formatExecCredential(input);
  switch (layout) {
    case "ncp-iam-authenticator":
      return JSON.stringify(credential);
    case "aws-cli":
      return `${JSON.stringify({ ...credential, spec: {} }, null, 4)}\n\n`;
    case "gke-gcloud-auth-plugin":
      return JSON.stringify(credential, null, 4);
  }
}
