/**
 * Properties of decodeEksToken over generated and mutated tokens: every input ends in a claim whose
 * dates are real dates and whose fields come from the URL, or in ERR_TOKEN_MALFORMED.
 */
import fc from "fast-check";
import { decodeEksToken, mintEksToken, EKS_TOKEN_TTL_MS } from "../../../src/aws/token.js";
import { ErrorCode, TokenError } from "../../../src/lib/errors.js";
import { anyText, applyEdits, bytesOf, edits } from "./mutate.js";

const PREFIX = "k8s-aws-v1.";

// Seeds: real tokens, with and without a session token, in three partitions.
const SEEDS = await Promise.all(
  [
    { region: "us-east-1", sessionToken: undefined },
    { region: "eu-central-1", sessionToken: "FwoGZXIvYXdzEFuzzSessionToken+/=" },
    { region: "cn-north-1", sessionToken: undefined },
  ].map(async ({ region, sessionToken }) => {
    const credentials = { accessKeyId: "AKIAKUBEIAMFUZZ00001", secretAccessKey: "fuzz/secret+access/key0000000000000000000", ...(sessionToken ? { sessionToken } : {}) };
    return (await mintEksToken({ credentials, clusterName: "fuzz-eks", region, now: Date.UTC(2026, 10, 28, 12, 0, 0) })).token;
  }),
);

const QUERY_NAMES = ["Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"];
const queryValue = fc.oneof(
  anyText(40),
  fc.constantFrom("20261128T120000Z", "99991399T999999Z", "00000000T000000Z", "60", "999999", "1e3", "AKIA/20261128/us-east-1/sts/aws4_request", "a/b/c/d/aws4_request", "host;x-k8s-aws-id", "%", "%ZZ", "%E0%A4%A"),
);
const hosts = fc.oneof(fc.constantFrom("sts.amazonaws.com", "sts.us-east-1.amazonaws.com", "sts.cn-north-1.amazonaws.com.cn", "sts.us-iso-east-1.c2s.ic.gov", "evil.example.com", "sts.amazonaws.com.evil.com"), fc.domain());

/** Percent-encodes the UTF-8 bytes of any text (lone surrogates too, which encodeURIComponent refuses). */
const pct = (v: string): string => [...Buffer.from(v, "utf8")].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("");

/** A URL that looks like a presigned STS URL, with query values of any kind (raw or percent-encoded). */
const stsLikeUrl = fc
  .tuple(
    fc.constantFrom("https", "http", "ftp", "https"),
    hosts,
    fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_NAMES), anyText(10)), queryValue, fc.boolean()), { maxLength: 12 }),
  )
  .map(([scheme, host, params]) => `${scheme}://${host}/?${params.map(([k, v, raw]) => `${raw ? k : pct(k)}=${raw ? v : pct(v)}`).join("&")}`);

const generated = fc.oneof(
  anyText(80),
  fc.string({ maxLength: 200 }).map((s) => PREFIX + s),
  anyText(200).map((s) => PREFIX + Buffer.from(s, "utf8").toString("base64url")),
  fc.webUrl({ withQueryParameters: true, withFragments: true }).map((u) => PREFIX + Buffer.from(u).toString("base64url")),
  stsLikeUrl.map((u) => PREFIX + Buffer.from(u, "utf8").toString("base64url")),
);

const URL_BYTES = bytesOf("%&=?/;:#0123456789TZ-_.");
const B64URL_BYTES = bytesOf("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/");
const mutated = fc.tuple(fc.constantFrom(...SEEDS), fc.boolean(), edits(4, URL_BYTES), edits(3, B64URL_BYTES)).map(([seed, inUrl, urlEdits, tokenEdits]) =>
  inUrl
    ? PREFIX + applyEdits(Buffer.from(seed.slice(PREFIX.length), "base64url"), urlEdits).toString("base64url")
    : applyEdits(Buffer.from(seed, "latin1"), tokenEdits).toString("latin1"),
);

/** decodeEksToken: a claim with real dates and fields from the URL, or ERR_TOKEN_MALFORMED. */
export function decodeNeverThrowsUntyped() {
  return fc.property(fc.oneof(generated, mutated), (input) => {
    let c;
    try {
      c = decodeEksToken(input);
    } catch (e) {
      if (!(e instanceof TokenError) || e.code !== ErrorCode.TOKEN_MALFORMED) {
        throw new Error(`an untyped error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
      return;
    }
    c.signedAt.toISOString();
    c.expiresAt.toISOString();
    if (c.expiresAt.getTime() - c.signedAt.getTime() !== EKS_TOKEN_TTL_MS) throw new Error("expiresAt is not signedAt + 15 minutes");
    if (!Number.isSafeInteger(c.presignExpiresSeconds) || c.presignExpiresSeconds < 0) throw new Error(`X-Amz-Expires ${c.presignExpiresSeconds}`);
    const url = new URL(c.url);
    if (url.protocol !== "https:" || url.hostname !== c.host || !/^sts[.]/.test(c.host)) throw new Error(`accepted URL ${c.url}`);
    if (c.clusterIdSigned !== c.signedHeaders.includes("x-k8s-aws-id")) throw new Error("clusterIdSigned does not match the signed headers");
    if (c.hasSessionToken !== url.searchParams.has("X-Amz-Security-Token")) throw new Error("hasSessionToken does not match the URL");
  });
}

/** The seeds themselves decode to what was minted. */
export function seedsDecode() {
  return fc.property(fc.constantFrom(...SEEDS), (seed) => {
    const c = decodeEksToken(seed);
    if (c.signedAt.toISOString() !== "2026-11-28T12:00:00.000Z" || c.accessKeyId !== "AKIAKUBEIAMFUZZ00001" || !c.clusterIdSigned) throw new Error("a seed decoded wrong");
  });
}
