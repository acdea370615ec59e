/**
 * Properties of decodeNcpToken and verifyNcpToken over generated and mutated tokens. The oracles
 * are written here from docs/formats.md §1 (node:crypto HMAC, JSON with Go's escapes), not taken from
 * src/ncp/token.ts: every input ends in a correct result or a typed TokenError, and nothing is
 * accepted but the exact canonical bytes with the right signature.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { decodeNcpToken, verifyNcpToken, NCP_TOKEN_TTL_MS } from "../../../src/ncp/token.js";
import { mintFor } from "../../helpers/ncp-mint.js";
import { ErrorCode, TokenError } from "../../../src/lib/errors.js";
import { anyText as textOf, applyEdits, bytesOf, edits } from "./mutate.js";

const PREFIX = "k8s-ncp-v1.";
const MAX_TS = 8.64e15 - NCP_TOKEN_TTL_MS;
const UUID_RE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const REGIONS = ["KR", "SGN", "JPN", "FKR", "PCS01", "krs", ""];

// The key ring: a plain key, one that Go's JSON escapes (<, &, >), one beyond ASCII.
const RING = new Map<string, string>([
  ["NCPFUZZACCESSKEY0001", "fuzz-secret-0001-aaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
  ["NCP<FUZZ&KEY>0002", "fuzz-secret-0002-bbbbbbbbbbbbbbbbbbbbbbbbbbbb"],
  ["NCPFÜZZKEY0003é", "fuzz-secret-0003-cccccccccccccccccccccccccccc"],
]);
const ACCESS_KEYS = [...RING.keys()];

/** docs/formats.md §1, steps 3-4, by hand. */
const hmac = (secret: string, path: string, timestamp: string, accessKey: string): string =>
  createHmac("sha256", secret).update(`GET ${path}\n${timestamp}\n${accessKey}`).digest("base64");

/** docs/formats.md §1, steps 5-6, by hand: compact JSON in key order, with Go's extra escapes. */
function canonicalToken(c: { timestamp: string; accessKey: string; signature: string; path: string }): string {
  const json = JSON.stringify({ timestamp: c.timestamp, accessKey: c.accessKey, signature: c.signature, path: c.path }).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return PREFIX + Buffer.from(json, "utf8").toString("base64");
}

/** A thrown value must be a TokenError, its message one short line without control characters. */
function typedTokenError(e: unknown, codes: readonly string[]): boolean {
  if (!(e instanceof TokenError)) throw new Error(`an untyped error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  if (!codes.includes(e.code)) throw new Error(`unexpected code ${e.code}: ${e.message}`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(e.message)) throw new Error(`a control character in the message: ${JSON.stringify(e.message)}`);
  if (e.message.length > 600) throw new Error(`a message of ${e.message.length} characters`);
  return true;
}

/** Checks what decodeNcpToken returned against the input, independently. */
function checkDecoded(input: string): void {
  let c;
  try {
    c = decodeNcpToken(input);
  } catch (e) {
    typedTokenError(e, [ErrorCode.TOKEN_MALFORMED]);
    return;
  }
  const issued = c.issuedAt.getTime();
  if (!/^(?:0|[1-9][0-9]*)$/.test(c.timestamp) || Number(c.timestamp) !== issued || issued > MAX_TS) throw new Error(`timestamp ${c.timestamp} accepted`);
  if (c.expiresAt.getTime() - issued !== NCP_TOKEN_TTL_MS) throw new Error("expiresAt is not issuedAt + 5 minutes");
  c.issuedAt.toISOString();
  c.expiresAt.toISOString();
  if (!UUID_RE.test(c.clusterUuid) || c.path !== `/iam/${c.stage}/user?clusterUuid=${c.clusterUuid}`) throw new Error(`path ${c.path} accepted`);
  const canonical = input === canonicalToken(c);
  if (c.canonical !== canonical) throw new Error(`canonical is ${c.canonical}, the bytes say ${canonical}`);
}

/** Verifies at `now`; whatever is accepted must be canonical and signed by the ring's key. */
function checkVerified(input: string, now: number, options: { clusterUuid?: string; region?: string } = {}): boolean {
  let who;
  try {
    who = verifyNcpToken(input, { secretKeyFor: (ak) => RING.get(ak), now, ...options });
  } catch (e) {
    typedTokenError(e, [
      ErrorCode.TOKEN_MALFORMED,
      ErrorCode.TOKEN_SIGNATURE,
      ErrorCode.TOKEN_EXPIRED,
      ErrorCode.TOKEN_FUTURE,
      ErrorCode.TOKEN_CLUSTER,
      ErrorCode.TOKEN_UNKNOWN_KEY,
    ]);
    return false;
  }
  const c = decodeNcpToken(input);
  const secret = RING.get(c.accessKey);
  if (secret === undefined) throw new Error("accepted an unknown key");
  if (c.signature !== hmac(secret, c.path, c.timestamp, c.accessKey)) throw new Error("accepted without the right signature");
  if (input !== canonicalToken(c)) throw new Error("accepted a token that is not the canonical bytes");
  const issued = Number(c.timestamp);
  if (!/^(?:0|[1-9][0-9]*)$/.test(c.timestamp) || !(issued <= MAX_TS)) throw new Error(`accepted timestamp ${JSON.stringify(c.timestamp)}`);
  if (!(now - issued <= NCP_TOKEN_TTL_MS && issued - now <= 60_000)) throw new Error("accepted outside the time window");
  if (options.clusterUuid !== undefined && options.clusterUuid.toLowerCase() !== c.clusterUuid.toLowerCase()) throw new Error("accepted for another cluster");
  if (who.accessKey !== c.accessKey || who.clusterUuid !== c.clusterUuid) throw new Error("the result does not match the claim");
  return true;
}

// ---------------------------------------------------------------------------------------------
// Inputs.

const timestamps = fc.oneof(
  fc.integer({ min: 0, max: 4102444800000 }).map(String),
  fc.constantFrom("9999999999999999", "8640000000000000", "8639999999100000", "8639999999100001", "0", "00", "-0", "1e3", "0x10", " 1", "1 ", "+1", "１"),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
  fc.double().map(String),
  fc.string({ unit: fc.constantFrom(..."0123456789.-+eE x") , maxLength: 20 }),
);
const anyText = textOf(60);
const claimValue = fc.oneof(anyText, fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
const paths = fc.oneof(
  fc.tuple(fc.constantFrom("v1", "sgn-v1", "jpn-v1", "krs-v1", "X", ""), fc.oneof(fc.uuid(), anyText)).map(([stage, uuid]) => `/iam/${stage}/user?clusterUuid=${uuid}`),
  anyText,
);

/** A claim-like object: the four keys (or not), of any type, in any order, with extra keys sometimes. */
const claimLike = fc
  .record(
    {
      timestamp: fc.oneof(timestamps, claimValue),
      accessKey: fc.oneof(fc.constantFrom(...ACCESS_KEYS), anyText, claimValue),
      signature: fc.oneof(fc.base64String({ maxLength: 48 }), anyText, claimValue),
      path: fc.oneof(paths, claimValue),
      extra: claimValue,
    },
    { requiredKeys: [] },
  )
  .chain((o) => fc.shuffledSubarray(Object.keys(o), { minLength: 0 }).map((keys) => Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]))));

/** Arbitrary input strings: random text, random Base64, Base64 of random text and of claim-like JSON. */
const generated = fc.oneof(
  anyText,
  fc.string({ maxLength: 120 }).map((s) => PREFIX + s),
  fc.base64String({ maxLength: 400 }).map((s) => PREFIX + s),
  textOf(200).map((s) => PREFIX + Buffer.from(s, "utf8").toString("base64")),
  fc.tuple(claimLike, fc.constantFrom(undefined, 1, "\t")).map(([c, indent]) => PREFIX + Buffer.from(JSON.stringify(c, null, indent), "utf8").toString("base64")),
);

/**
 * A claim signed right by the ring (the oracle's HMAC) whatever its timestamp and path, written
 * canonically or not: the form checks, not the signature, must refuse what is wrong with it.
 */
const signedClaims = fc
  .record({
    timestamp: timestamps,
    accessKey: fc.constantFrom(...ACCESS_KEYS),
    path: paths,
    form: fc.constantFrom("canonical", "plain", "spaced", "duplicate", "reordered", "escaped"),
  })
  .map(({ timestamp, accessKey, path, form }) => {
    const signature = hmac(RING.get(accessKey) as string, path, timestamp, accessKey);
    const c = { timestamp, accessKey, signature, path };
    const j = (v: unknown): string => JSON.stringify(v);
    switch (form) {
      case "canonical":
        return canonicalToken(c);
      case "plain":
        return PREFIX + Buffer.from(j(c)).toString("base64");
      case "spaced":
        return PREFIX + Buffer.from(JSON.stringify(c, null, 1)).toString("base64");
      case "duplicate":
        return PREFIX + Buffer.from(`{"timestamp":"0",${j(c).slice(1)}`).toString("base64");
      case "reordered":
        return PREFIX + Buffer.from(j({ accessKey, timestamp, signature, path })).toString("base64");
      default:
        return PREFIX + Buffer.from(j(c).replace(/[a-z]/, (ch) => `\\u00${ch.charCodeAt(0).toString(16)}`)).toString("base64");
    }
  });

/** A correctly minted token: key, cluster, region and time drawn, and the time it was minted at. */
const minted = fc
  .record({ accessKey: fc.constantFrom(...ACCESS_KEYS), clusterUuid: fc.uuid(), region: fc.constantFrom(...REGIONS), now: fc.integer({ min: 0, max: MAX_TS }) })
  .map((m) => ({ ...m, token: mintFor({ ...m, secretKey: RING.get(m.accessKey) as string }).token }));

const JSON_BYTES = bytesOf('{}[]":,\\ u0123456789abcdefABCDEF\n\t');
const B64_BYTES = bytesOf("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

/** A minted token mutated byte-wise: in the token string itself, or in the claim's JSON bytes (Base64 again after). */
const mutated = fc.tuple(minted, fc.boolean(), edits(4, JSON_BYTES), edits(3, B64_BYTES)).map(([m, inClaim, claimEdits, tokenEdits]) => {
  const body = m.token.slice(PREFIX.length);
  const token = inClaim
    ? PREFIX + applyEdits(Buffer.from(body, "base64"), claimEdits).toString("base64")
    : applyEdits(Buffer.from(m.token, "latin1"), tokenEdits).toString("latin1");
  return { ...m, mutated: token };
});

// ---------------------------------------------------------------------------------------------
// Properties (each returns a fresh property for the fuzz worker).

/** decodeNcpToken: a checked claim or ERR_TOKEN_MALFORMED, for generated and mutated inputs. */
export function decodeNeverThrowsUntyped() {
  return fc.property(fc.oneof(generated, mutated.map((m) => m.mutated)), (input) => {
    checkDecoded(input);
  });
}

/**
 * verifyNcpToken on generated inputs and on rightly signed claims of any form: a typed refusal, or
 * an acceptance the oracle confirms. Checked at a random time and at the time the claim names.
 */
export function verifyGeneratedNeverAcceptsForgeries() {
  return fc.property(fc.oneof(generated, signedClaims, signedClaims), fc.integer({ min: 0, max: MAX_TS }), (input, now) => {
    checkVerified(input, now);
    let named: number;
    try {
      named = Number(JSON.parse(Buffer.from(input.slice(PREFIX.length), "base64").toString("utf8")).timestamp);
    } catch {
      return;
    }
    if (Number.isFinite(named) && Math.abs(named) <= 8.64e15) checkVerified(input, Math.floor(named));
  });
}

/**
 * verifyNcpToken on minted tokens: the token itself verifies at its own time; any mutation of it
 * (string or claim bytes) that still verifies must be the very same string.
 */
export function verifyMutatedAcceptsOnlyTheOriginal() {
  return fc.property(
    fc.tuple(mutated, fc.option(fc.uuid(), { nil: undefined }), fc.option(fc.constantFrom(...REGIONS), { nil: undefined })),
    ([m, otherUuid, region]) => {
      if (!checkVerified(m.token, m.now, { clusterUuid: m.clusterUuid.toUpperCase() })) throw new Error("a freshly minted token was refused");
      const options: { clusterUuid?: string; region?: string } = {};
      if (otherUuid !== undefined) options.clusterUuid = otherUuid;
      if (region !== undefined) options.region = region;
      if (checkVerified(m.mutated, m.now, options) && m.mutated !== m.token) throw new Error("a mutated token was accepted");
      checkDecoded(m.mutated);
    },
  );
}
