/**
 * NCP region codes: validation, the IAM stage of the NKS token (SPEC section 1) and the NKS API
 * path prefix (SPEC section 2). Exact rules only: a region is never matched by a loose substring
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
    );
  }
  return region.toUpperCase();
}

/**
 * The IAM stage that the NKS token's path names, per SPEC section 1.
 *
 * @example
 * ```ts
 * ncpStage("SGN"); // "sgn-v1"
 * ncpStage("FKR"); // "v1"
 * ```
 */
export function ncpStage(region: string): string {
  const r = normalizeNcpRegion(region);
  if (r === "" || r === "KR" || r.startsWith("F") || r.includes("CS")) return "v1";
  return `${r.toLowerCase()}-v1`;
}

/**
 * The NKS REST API path prefix for a region, per SPEC section 2.
 *
 * @example
 * ```ts
 * ncpApiPrefix("KR");  // "/vnks/v2"
 * ncpApiPrefix("FKR"); // "/nks/v2"
 * ncpApiPrefix("SGN"); // "/vnks/sgn-v2"
 * ```
 */
export function ncpApiPrefix(region: string): string {
  const r = normalizeNcpRegion(region);
  if (r.startsWith("F")) return "/nks/v2";
  if (r === "" || r === "KR" || r.includes("CS")) return "/vnks/v2";
  return `/vnks/${r.toLowerCase()}-v2`;
}
