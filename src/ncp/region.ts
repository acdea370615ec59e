/**
 * NCP region codes: validation, the IAM stage of the NKS token (docs/formats.md §2) and the NKS API
 * path prefix (docs/formats.md §2). Exact rules only: a region is never matched by a loose substring
 * of another (`KRS` is its own region, not `KR`).
 */
import { InvalidInputError } from "../lib/errors.js";

const REGION_RE = /^[A-Za-z0-9]*$/;

/**
 * Checks that a region code holds only letters and digits, and returns it upper-cased.
 * The empty string is allowed (it means the default region, KR).
 *
 * @example
 * ```ts
 * normalizeNcpRegion("sgn"); // "SGN"
 * ```
 */
export function normalizeNcpRegion(region: string): string {
  if (!REGION_RE.test(region)) {
    throw new InvalidInputError(
      "region",
      `region ${JSON.stringify(region)} is not a region code: use letters and digits only, for example KR, SGN or JPN`,
      { value: region.slice(0, 40) },
    );
  }
  return region.toUpperCase();
}

declare const parsedRegion: unique symbol;

/**
 * An NCP region code checked and upper-cased once where it entered ({@link parseNcpRegion}), with
 * the IAM stage its tokens name and the NKS API prefix its calls use. Everything inside `src/ncp/`
 * past the edge takes this, never the raw string.
 */
export interface NcpRegion {
  readonly [parsedRegion]: true;
  /** The code, upper-cased (`SGN`); empty for the default region, KR. */
  readonly code: string;
  /** The IAM stage (`sgn-v1`): docs/formats.md §1, step 2. */
  readonly stage: string;
  /** The NKS API path prefix (`/vnks/sgn-v2`): docs/formats.md §2. */
  readonly apiPrefix: string;
}

/**
 * A region as given at the edge (a string, checked here) or already parsed (returned as it is): what
 * every function of `src/ncp/` that takes a region accepts, so that it is parsed once per call chain.
 *
 * @example
 * ```ts
 * ncpRegionOf("kr").code;                  // "KR"
 * ncpRegionOf(parseNcpRegion("kr")).code; // "KR", not parsed again
 * ```
 */
export function ncpRegionOf(region: string | NcpRegion): NcpRegion {
  return typeof region === "string" ? parseNcpRegion(region) : region;
}

/**
 * Checks a region code ({@link normalizeNcpRegion}) and returns it with its stage and API prefix.
 *
 * @example
 * ```ts
 * parseNcpRegion("sgn"); // { code: "SGN", stage: "sgn-v1", apiPrefix: "/vnks/sgn-v2" }
 * ```
 */
export function parseNcpRegion(region: string): NcpRegion {
  const code = normalizeNcpRegion(region);
  const { api, suffix } = regionRule(code);
  return { code, stage: `${suffix}v1`, apiPrefix: `/${api}/${suffix}v2` } as NcpRegion;
}

/**
 * The one rule that ties a region to its IAM stage (docs/formats.md §2) and API prefix (docs/formats.md §2):
 * financial regions (`F…`) are served under `/nks`, the others under `/vnks`; KR, the empty default,
 * financial and `…CS…` regions use the unsuffixed names (`v1`, `v2`), every other region prefixes its
 * own code (`sgn-v1`, `sgn-v2`).
 */
function regionRule(r: string): { api: "nks" | "vnks"; suffix: string } {
  const financial = r.startsWith("F");
  const unsuffixed = r === "" || r === "KR" || financial || r.includes("CS");
  return { api: financial ? "nks" : "vnks", suffix: unsuffixed ? "" : `${r.toLowerCase()}-` };
}

/**
 * The IAM stage that the NKS token's path names, per docs/formats.md §2.
 *
 * @example
 * ```ts
 * ncpStage("SGN"); // "sgn-v1"
 * ncpStage("FKR"); // "v1"
 * ```
 */
export function ncpStage(region: string): string {
  return parseNcpRegion(region).stage;
}

/**
 * The NKS REST API path prefix for a region, per docs/formats.md §2.
 *
 * @example
 * ```ts
 * ncpApiPrefix("KR");  // "/vnks/v2"
 * ncpApiPrefix("FKR"); // "/nks/v2"
 * ncpApiPrefix("SGN"); // "/vnks/sgn-v2"
 * ```
 */
export function ncpApiPrefix(region: string): string {
  return parseNcpRegion(region).apiPrefix;
}

/**
 * The region an API path prefix serves when a request does not say (no `x-ncp-region_code`): the
 * region named in the prefix, else KR for `/vnks/v2` and FKR for `/nks/v2`. Derived from the same
 * rule as {@link ncpApiPrefix}, and checked against it; `undefined` for a prefix NKS does not have.
 *
 * @example
 * ```ts
 * ncpRegionForApiPrefix("/vnks/sgn-v2"); // "SGN"
 * ncpRegionForApiPrefix("/nks/v2");      // "FKR"
 * ```
 */
export function ncpRegionForApiPrefix(prefix: string): string | undefined {
  const m = /^\/(vnks|nks)\/(?:([a-z0-9]+)-)?v2$/.exec(prefix);
  if (m === null) return undefined;
  const region = m[2] === undefined ? (m[1] === "nks" ? "FKR" : "KR") : m[2].toUpperCase();
  return ncpApiPrefix(region) === prefix ? region : undefined;
}

/**
 * The region codes NKS is known to serve; cloud-stack regions (`PCS01`, `GCS01`, `FCS01`, …) are
 * recognised by their form. NCP adds regions, so a code outside the list is still used, with a
 * warning ({@link unknownNcpRegionWarning}). Checked against NCP's documentation (2026-11):
 * - KR `/vnks/v2`, SGN `/vnks/sgn-v2`, JPN `/vnks/jpn-v2` on `nks.apigw.ntruss.com`:
 *   https://api.ncloud-docs.com/docs/en/compute-vpckubernetesservice and .../docs/en/nks-getclusterlist
 * - KRS (the public-sector cloud's southern region) `/vnks/krs-v2`, KR `/vnks/v2` on
 *   `nks.apigw.gov-ntruss.com`: https://api-gov.ncloud-docs.com/docs/kubernetes-service
 * - The stages follow the official tool's rule (NaverCloudPlatform/ncp-iam-authenticator,
 *   pkg/token/token.go getStageFromRegion: empty, KR, `F…` and `…CS…` → `v1`, else `{code}-v1`).
 * - FKR and FKRS (financial cloud, `/nks/v2`) are kept as the official tool's `F…` rule implies;
 *   no NCP page reachable here lists the financial NKS regions.
 * - USWN and DEN are not listed: NCP's US West and Germany regions offer the Classic environment
 *   only (https://guide.ncloud-docs.com/docs/en/environment-environmentproducts-den, …-uswn), and
 *   NKS is VPC only, so no cluster is there; a code for them draws the warning.
 */
export const KNOWN_NCP_REGIONS: readonly string[] = ["KR", "KRS", "SGN", "JPN", "FKR", "FKRS"];

/**
 * A warning for a region code outside {@link KNOWN_NCP_REGIONS} (a typo such as `XX` would otherwise
 * mint for a stage that does not exist and list no clusters), naming the stage and API prefix it
 * will use; `undefined` for a known code or the empty default.
 *
 * @example
 * ```ts
 * unknownNcpRegionWarning("XX"); // "region XX is not one kubeiam knows …: using IAM stage xx-v1 and API prefix /vnks/xx-v2 …"
 * unknownNcpRegionWarning("SGN"); // undefined
 * ```
 */
export function unknownNcpRegionWarning(region: string | NcpRegion): string | undefined {
  const { code: r, stage, apiPrefix } = typeof region === "string" ? parseNcpRegion(region) : region;
  if (r === "" || KNOWN_NCP_REGIONS.includes(r) || /^[A-Z]*CS\d+$/.test(r)) return undefined;
  return `region ${r} is not one kubeiam knows (${KNOWN_NCP_REGIONS.join(", ")}, or a cloud-stack region such as PCS01): using IAM stage ${stage} and API prefix ${apiPrefix}; check --region if that is not the cluster's region`;
}
