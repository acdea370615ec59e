/**
 * Tests for decoding and verifying NKS tokens (docs/formats.md §1), and for the inputs that minting
 * refuses. Tokens are the SGN golden vector (test/fixtures/ncp-token-vectors.json) or built here by hand from JSON and Base64.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { inspect } from "node:util";
import {
  checkClusterUuid,
  decodeNcpToken,
  mintNcpToken,
  parseNcpTokenTarget,
  verifyNcpToken,
  type VerifyNcpTokenOptions,
} from "../../src/ncp/token.js";
import { createNcpSigner } from "../../src/ncp/sign.js";
import { mintFor } from "../helpers/ncp-mint.js";
import { ErrorCode, InvalidInputError, TokenError, type ErrorCodeValue } from "../../src/lib/errors.js";

// The SGN golden vector of test/fixtures/ncp-token-vectors.json (format: docs/formats.md §1).
const AK = "NCPTESTACCESSKEY0001";
const SK = "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001";
const UUID = "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b";
const TS = 1767225600000; // 2026-01-01T00:00:00Z
const PATH = `/iam/sgn-v1/user?clusterUuid=${UUID}`;
const SIG = "iOy5/IbdXRXDhjzWJmnXWnT6rLHjWnaegGyLv30ZISw=";
const TOKEN =
  "k8s-ncp-v1.eyJ0aW1lc3RhbXAiOiIxNzY3MjI1NjAwMDAwIiwiYWNjZXNzS2V5IjoiTkNQVEVTVEFDQ0VTU0tFWTAwMDEiLCJzaWduYXR1cmUiOiJpT3k1L0liZFhSWERoanpXSm1uWFduVDZyTEhqV25hZWdHeUx2MzBaSVN3PSIsInBhdGgiOiIvaWFtL3Nnbi12MS91c2VyP2NsdXN0ZXJVdWlkPTNmMWQyYzRiLTVhNjktNGU3Zi04YTFiLTJjM2Q0ZTVmNmE3YiJ9";
const MIN = 60 * 1000;

/** A token whose body is the Base64 of `body` (an object is serialised as JSON first). */
function tokenOf(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return `k8s-ncp-v1.${Buffer.from(text, "utf8").toString("base64")}`;
}

const claim = { timestamp: String(TS), accessKey: AK, signature: SIG, path: PATH };

/** Asserts that `fn` throws a TokenError with `code` and a message matching `message`. */
function throwsToken(fn: () => unknown, code: ErrorCodeValue, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TokenError, `expected a TokenError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    assert.ok(!e.message.includes(SK), "the message must not hold the secret key");
    return true;
  });
}

function throwsInvalid(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidInputError, `expected an InvalidInputError, got ${String(e)}`);
    assert.equal(e.code, ErrorCode.INVALID_INPUT);
    assert.equal(e.field, field);
    assert.match(e.message, message);
    assert.ok(!e.message.includes(SK), "the message must not hold the secret key");
    return true;
  });
}

test("the hand-built claim helper reproduces the SGN vector's token byte for byte", () => {
  assert.equal(tokenOf(claim), TOKEN);
});

test("decodeNcpToken: every field of the SGN vector", () => {
  const c = decodeNcpToken(TOKEN);
  assert.equal(c.timestamp, "1767225600000");
  assert.equal(c.issuedAt.toISOString(), "2026-01-01T00:00:00.000Z");
  assert.equal(c.expiresAt.toISOString(), "2026-01-01T00:05:00.000Z");
  assert.equal(c.expiresAt.getTime() - c.issuedAt.getTime(), 5 * MIN);
  assert.equal(c.accessKey, AK);
  assert.equal(c.signature, SIG);
  assert.equal(c.path, PATH);
  assert.equal(c.clusterUuid, UUID);
  assert.equal(c.stage, "sgn-v1");
});

test("decodeNcpToken: surrounding white space (a pasted token with its newline) is ignored", () => {
  assert.equal(decodeNcpToken(` ${TOKEN}\n`).clusterUuid, UUID);
});

test("decodeNcpToken: upper-case UUID and KR stage v1", () => {
  const upper = UUID.toUpperCase();
  const c = decodeNcpToken(tokenOf({ ...claim, path: `/iam/v1/user?clusterUuid=${upper}` }));
  assert.equal(c.clusterUuid, upper);
  assert.equal(c.stage, "v1");
});

test("decodeNcpToken: each malformed token is ERR_TOKEN_MALFORMED with a message naming the problem", () => {
  const noSignature = { timestamp: claim.timestamp, accessKey: claim.accessKey, path: claim.path };
  const cases: [string, string, RegExp][] = [
    ["wrong prefix (EKS)", `k8s-aws-v1.${TOKEN.slice("k8s-ncp-v1.".length)}`, /must start with "k8s-ncp-v1\."/],
    ["wrong prefix (no dot)", `k8s-ncp-v1${TOKEN.slice("k8s-ncp-v1.".length)}`, /must start with "k8s-ncp-v1\."/],
    ["bare Base64, no prefix", TOKEN.slice("k8s-ncp-v1.".length), /not an NKS token/],
    ["empty body", "k8s-ncp-v1.", /Base64/],
    ["Base64 without padding", "k8s-ncp-v1.eyJ4IjoxfQ", /Base64/],
    ["Base64url alphabet", "k8s-ncp-v1.eyJ4Ijoi-_8ifQ==", /Base64/],
    ["not Base64 at all", "k8s-ncp-v1.!!!!", /Base64/],
    ["Base64 with white space inside", "k8s-ncp-v1.eyJ4 IjoxfQ==", /Base64/],
    ["non-JSON", tokenOf("timestamp=1;accessKey=x"), /not JSON/],
    ["truncated JSON", tokenOf('{"timestamp":"1"'), /not JSON/],
    ["JSON array", tokenOf([claim.timestamp, claim.accessKey, claim.signature, claim.path]), /not a JSON object/],
    ["JSON null", tokenOf("null"), /not a JSON object/],
    ["JSON string", tokenOf('"k8s"'), /not a JSON object/],
    ["JSON number", tokenOf("1767225600000"), /not a JSON object/],
    ["extra key", tokenOf({ ...claim, region: "SGN" }), /unexpected keys \("region"\).*timestamp, accessKey, signature, path/],
    ["missing key", tokenOf(noSignature), /lacks the string field "signature"/],
    ["empty object", tokenOf({}), /lacks the string field "timestamp"/],
    ["non-string timestamp", tokenOf({ ...claim, timestamp: TS }), /lacks the string field "timestamp"/],
    ["non-string accessKey", tokenOf({ ...claim, accessKey: null }), /lacks the string field "accessKey"/],
    ["non-string path", tokenOf({ ...claim, path: [PATH] }), /lacks the string field "path"/],
    ["timestamp not digits", tokenOf({ ...claim, timestamp: "2026-01-01T00:00:00Z" }), /timestamp "2026-01-01T00:00:00Z" is not milliseconds/],
    ["negative timestamp", tokenOf({ ...claim, timestamp: "-1" }), /timestamp "-1" is not milliseconds/],
    ["fractional timestamp", tokenOf({ ...claim, timestamp: "1767225600000.5" }), /is not milliseconds/],
    ["empty timestamp", tokenOf({ ...claim, timestamp: "" }), /is not milliseconds/],
    ["absurd timestamp", tokenOf({ ...claim, timestamp: "99999999999999999999" }), /is not milliseconds/],
    ["path of another API", tokenOf({ ...claim, path: `/vnks/v2/clusters/${UUID}` }), /path "\/vnks\/v2\/clusters\/.*" is not \/iam\/\{stage\}\/user\?clusterUuid=\{uuid\}/],
    ["path with another resource", tokenOf({ ...claim, path: `/iam/v1/users?clusterUuid=${UUID}` }), /path .* is not \/iam\//],
    ["path with upper-case stage", tokenOf({ ...claim, path: `/iam/SGN-v1/user?clusterUuid=${UUID}` }), /path .* is not \/iam\//],
    ["path with another query key", tokenOf({ ...claim, path: `/iam/v1/user?cluster=${UUID}` }), /path .* is not \/iam\//],
    ["non-UUID cluster", tokenOf({ ...claim, path: "/iam/v1/user?clusterUuid=abc" }), /names "abc", which is not a cluster UUID/],
    ["UUID with a query smuggled after it", tokenOf({ ...claim, path: `/iam/v1/user?clusterUuid=${UUID}&x=1` }), /which is not a cluster UUID/],
    ["UUID with a trailing newline", tokenOf({ ...claim, path: `/iam/v1/user?clusterUuid=${UUID}\n` }), /the token's path .* is not \/iam\//],
  ];
  for (const [name, token, message] of cases) {
    assert.throws(
      () => decodeNcpToken(token),
      (e: unknown) => {
        assert.ok(e instanceof TokenError, `${name}: expected a TokenError, got ${String(e)}`);
        assert.equal(e.code, ErrorCode.TOKEN_MALFORMED, name);
        assert.equal(e.code, "ERR_TOKEN_MALFORMED", name);
        assert.match(e.message, message, name);
        return true;
      },
      name,
    );
  }
});

test("decodeNcpToken: a body that is not JSON keeps the parse error as cause", () => {
  assert.throws(
    () => decodeNcpToken(tokenOf("{")),
    (e: unknown) => e instanceof TokenError && e.cause instanceof SyntaxError,
  );
});

const keyring = new Map([[AK, SK]]);
const opts = (extra: Partial<VerifyNcpTokenOptions> = {}): VerifyNcpTokenOptions => ({
  secretKeyFor: (ak) => keyring.get(ak),
  now: TS + MIN,
  ...extra,
});

test("verifyNcpToken: the SGN vector verifies with its secret, cluster and region", () => {
  const who = verifyNcpToken(TOKEN, opts({ clusterUuid: UUID, region: "SGN" }));
  assert.deepEqual(who, {
    accessKey: AK,
    clusterUuid: UUID,
    stage: "sgn-v1",
    issuedAt: new Date("2026-01-01T00:00:00.000Z"),
    expiresAt: new Date("2026-01-01T00:05:00.000Z"),
  });
});

test("verifyNcpToken: malformed tokens fail with ERR_TOKEN_MALFORMED before any key lookup", () => {
  let looked = false;
  throwsToken(
    () => verifyNcpToken("k8s-ncp-v1.!!!!", { secretKeyFor: () => ((looked = true), SK), now: TS }),
    ErrorCode.TOKEN_MALFORMED,
    /Base64/,
  );
  assert.equal(looked, false);
});

test("verifyNcpToken: an unknown access key is ERR_TOKEN_UNKNOWN_KEY naming the key", () => {
  throwsToken(() => verifyNcpToken(TOKEN, opts({ secretKeyFor: () => undefined })), ErrorCode.TOKEN_UNKNOWN_KEY, /access key NCPTESTACCESSKEY0001, which is not known/);
});

test("verifyNcpToken: a tampered or wrongly keyed token is ERR_TOKEN_SIGNATURE", () => {
  const flipped = `${SIG[0] === "A" ? "B" : "A"}${SIG.slice(1)}`;
  const tampered = [
    tokenOf({ ...claim, signature: flipped }),
    tokenOf({ ...claim, signature: SIG.slice(0, -4) }), // shorter: must not throw from timingSafeEqual
    tokenOf({ ...claim, signature: `${SIG}AAAA` }),
    tokenOf({ ...claim, signature: "" }),
    tokenOf({ ...claim, timestamp: String(TS + 1) }), // a moved clock
    tokenOf({ ...claim, path: `/iam/sgn-v1/user?clusterUuid=${"9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"}` }), // another cluster
    tokenOf({ ...claim, path: `/iam/v1/user?clusterUuid=${UUID}` }), // another region
    tokenOf({ ...claim, path: `/iam/sgn-v1/user?clusterUuid=${UUID.toUpperCase()}` }), // the path is signed as written
  ];
  for (const token of tampered) {
    throwsToken(() => verifyNcpToken(token, opts({ now: TS + 1 })), ErrorCode.TOKEN_SIGNATURE, /signature does not match/);
  }
  throwsToken(() => verifyNcpToken(TOKEN, opts({ secretKeyFor: () => `${SK}x` })), ErrorCode.TOKEN_SIGNATURE, /signature does not match/);
});

test("verifyNcpToken: by default, like NCP's gateway, valid through exactly 5 minutes, expired 1 ms later", () => {
  assert.equal(verifyNcpToken(TOKEN, opts({ now: TS })).accessKey, AK);
  assert.equal(verifyNcpToken(TOKEN, opts({ now: TS + 4 * MIN })).accessKey, AK);
  assert.equal(verifyNcpToken(TOKEN, opts({ now: TS + 5 * MIN })).accessKey, AK);
  assert.equal(verifyNcpToken(TOKEN, opts({ now: new Date(TS + 5 * MIN) })).accessKey, AK);
  throwsToken(
    () => verifyNcpToken(TOKEN, opts({ now: TS + 5 * MIN + 1 })),
    ErrorCode.TOKEN_EXPIRED,
    /expired at 2026-01-01T00:05:00\.000Z \(issued 2026-01-01T00:00:00\.000Z\): mint a new one/,
  );
  // What the old 15-minute window let through: a 6-minute-old token (and one of 14 minutes).
  throwsToken(() => verifyNcpToken(TOKEN, opts({ now: TS + 6 * MIN })), ErrorCode.TOKEN_EXPIRED, /expired at 2026-01-01T00:05:00\.000Z/);
  throwsToken(() => verifyNcpToken(TOKEN, opts({ now: TS + 14 * MIN })), ErrorCode.TOKEN_EXPIRED, /expired/);
  throwsToken(() => verifyNcpToken(TOKEN, opts({ now: new Date("2026-01-02T00:00:00Z") })), ErrorCode.TOKEN_EXPIRED, /expired/);
});

test("verifyNcpToken: up to 1 minute in the future is accepted, more is ERR_TOKEN_FUTURE", () => {
  assert.equal(verifyNcpToken(TOKEN, opts({ now: TS - MIN })).accessKey, AK);
  throwsToken(
    () => verifyNcpToken(TOKEN, opts({ now: TS - MIN - 1 })),
    ErrorCode.TOKEN_FUTURE,
    /issued at 2026-01-01T00:00:00\.000Z, more than 60 s in the future: check the clock/,
  );
});

test("verifyNcpToken: custom maxAgeMs and maxFutureSkewMs", () => {
  const short = verifyNcpToken(TOKEN, opts({ now: TS + 1000, maxAgeMs: 1000 }));
  assert.equal(short.expiresAt.getTime(), TS + 1000);
  throwsToken(() => verifyNcpToken(TOKEN, opts({ now: TS + 1001, maxAgeMs: 1000 })), ErrorCode.TOKEN_EXPIRED, /expired at 2026-01-01T00:00:01\.000Z/);
  const long = verifyNcpToken(TOKEN, opts({ now: TS + 60 * MIN, maxAgeMs: 60 * MIN }));
  assert.equal(long.expiresAt.toISOString(), "2026-01-01T01:00:00.000Z");
  assert.equal(verifyNcpToken(TOKEN, opts({ now: TS, maxFutureSkewMs: 0 })).accessKey, AK);
  throwsToken(() => verifyNcpToken(TOKEN, opts({ now: TS - 1, maxFutureSkewMs: 0 })), ErrorCode.TOKEN_FUTURE, /more than 0 s in the future/);
  assert.equal(verifyNcpToken(TOKEN, opts({ now: TS - 5 * MIN, maxFutureSkewMs: 5 * MIN })).accessKey, AK);
});

test("verifyNcpToken: the cluster must match, compared case-insensitively", () => {
  assert.equal(verifyNcpToken(TOKEN, opts({ clusterUuid: UUID.toUpperCase() })).clusterUuid, UUID);
  const other = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
  throwsToken(() => verifyNcpToken(TOKEN, opts({ clusterUuid: other })), ErrorCode.TOKEN_CLUSTER, new RegExp(`for cluster ${UUID}, not ${other}`));
});

test("verifyNcpToken: the region's stage must match the token's", () => {
  assert.equal(verifyNcpToken(TOKEN, opts({ region: "sgn" })).stage, "sgn-v1");
  for (const region of ["KR", "", "JPN", "FKR", "PCS01"]) {
    throwsToken(() => verifyNcpToken(TOKEN, opts({ region })), ErrorCode.TOKEN_CLUSTER, /names IAM stage sgn-v1, but this cluster's region .* uses /);
  }
  throwsToken(() => verifyNcpToken(TOKEN, opts({ region: "krs" })), ErrorCode.TOKEN_CLUSTER, /region KRS uses krs-v1/);
  throwsInvalid(() => verifyNcpToken(TOKEN, opts({ region: "SGN;" })), "region", /letters and digits/);
});

test("checkClusterUuid: returns a UUID unchanged, refuses anything else", () => {
  assert.equal(checkClusterUuid(UUID), UUID);
  assert.equal(checkClusterUuid(UUID.toUpperCase()), UUID.toUpperCase());
  const bad = ["abc&x=1", "", `${UUID}&x=1`, `${UUID}\n`, ` ${UUID}`, UUID.replaceAll("-", ""), `{${UUID}}`, UUID.replace("3f", "zz")];
  for (const uuid of bad) throwsInvalid(() => checkClusterUuid(uuid), "clusterUuid", /is not a UUID: give the cluster's 8-4-4-4-12 hexadecimal UUID/);
});

test("parseNcpTokenTarget: a non-UUID cluster or a bad region is refused with INVALID_INPUT, before anything is signed", () => {
  throwsInvalid(() => parseNcpTokenTarget({ clusterUuid: "abc&x=1", region: "SGN" }), "clusterUuid", /"abc&x=1" is not a UUID/);
  throwsInvalid(() => parseNcpTokenTarget({ clusterUuid: UUID, region: "S GN" }), "region", /letters and digits/);
  const target = parseNcpTokenTarget({ clusterUuid: UUID, region: "sgn" });
  assert.equal(target.path, PATH);
  assert.equal(target.region.code, "SGN");
  assert.equal(target.region.stage, "sgn-v1");
});

test("createNcpSigner: bad keys are refused with INVALID_INPUT, never echoing the secret; the signer never shows it", () => {
  const good = { accessKey: AK, secretKey: SK };
  throwsInvalid(() => createNcpSigner({ ...good, accessKey: "" }), "accessKey", /access key is empty/);
  throwsInvalid(() => createNcpSigner({ ...good, accessKey: `${AK} ` }), "accessKey", /white space or control characters/);
  throwsInvalid(() => createNcpSigner({ ...good, secretKey: "" }), "secretKey", /secret key is empty/);
  for (const secretKey of [`${SK}\n`, `${SK.slice(0, 10)} ${SK.slice(10)}`, `${SK}\t`, `${SK}\u0000`, `${SK}\u007f`]) {
    assert.throws(() => createNcpSigner({ ...good, secretKey }), (e: unknown) => e instanceof InvalidInputError && e.field === "secretKey" && !e.message.includes(SK.slice(0, 10)));
  }
  const signer = createNcpSigner(good);
  assert.equal(signer.accessKey, AK);
  for (const shown of [JSON.stringify(signer), JSON.stringify({ signer }), inspect(signer, { showHidden: true, depth: 5 }), String(Object.values(signer))]) {
    assert.ok(!shown.includes(SK), `the secret shows in ${shown}`);
  }
  assert.equal(signer.sign(`GET ${PATH}\n${TS}\n${AK}`), SIG);
  assert.equal(signer.signRequest("GET", PATH, String(TS)), SIG);
});

test("mintNcpToken: a time that is not one is refused with INVALID_INPUT", () => {
  const signer = createNcpSigner({ accessKey: AK, secretKey: SK });
  const cluster = parseNcpTokenTarget({ clusterUuid: UUID, region: "SGN" });
  throwsInvalid(() => mintNcpToken({ signer, cluster, now: Number.NaN }), "now", /not a valid time/);
  throwsInvalid(() => mintNcpToken({ signer, cluster, now: new Date("not a date") }), "now", /not a valid time/);
});

test("mintNcpToken: now as Date or as number gives the same token; it ends 5 minutes on and is to be replaced after 4", () => {
  const signer = createNcpSigner({ accessKey: AK, secretKey: SK });
  const cluster = parseNcpTokenTarget({ clusterUuid: UUID, region: "SGN" });
  const fromNumber = mintNcpToken({ signer, cluster, now: TS });
  const fromDate = mintNcpToken({ signer, cluster, now: new Date("2026-01-01T00:00:00Z") });
  assert.equal(fromNumber.token, TOKEN);
  assert.equal(fromDate.token, TOKEN);
  assert.equal(fromNumber.expiresAt.toISOString(), "2026-01-01T00:05:00.000Z");
  assert.equal(fromNumber.refreshAt.toISOString(), "2026-01-01T00:04:00.000Z");
  assert.deepEqual(fromDate.expiresAt, fromNumber.expiresAt);
  // A fractional millisecond is dropped, not rounded into the next one.
  assert.equal(mintNcpToken({ signer, cluster, now: TS + 0.9 }).token, TOKEN);
  // The same signer and target, used again, give the same bytes: nothing is kept between calls.
  assert.equal(mintNcpToken({ signer, cluster, now: TS }).token, TOKEN);
});

test("mintNcpToken then verifyNcpToken round-trips", () => {
  const { token, expiresAt } = mintFor({ accessKey: AK, secretKey: SK, clusterUuid: UUID, region: "KR", now: TS + 12345 });
  const who = verifyNcpToken(token, opts({ now: TS + 12345, clusterUuid: UUID, region: "KR" }));
  assert.equal(who.stage, "v1");
  assert.deepEqual(who.expiresAt, expiresAt);
});

/** The signature of docs/formats.md §1, computed here with node:crypto (not src/ncp/sign.ts). */
function sign(timestamp: string, accessKey: string, path: string, secretKey = SK): string {
  return createHmac("sha256", secretKey).update(`GET ${path}\n${timestamp}\n${accessKey}`).digest("base64");
}

test("a correctly signed token whose timestamp is not a canonical millisecond count in the Date range is ERR_TOKEN_MALFORMED, for decode and verify", () => {
  const absurd = [
    "9999999999999999", // above 8.64e15: new Date() of it is Invalid Date
    "8640000000000001",
    "8640000000000000", // the last Date, but its expiry 5 minutes on is not one
    "8639999999700001",
    "01767225600000", // leading zero: not the bytes minting writes
    "00",
    "1767225600000 ",
    "+1767225600000",
    "1.7672256e12",
    "0x19B7C8E2C00",
    "1767225600000\n",
    "１７６７２２５６０００００", // full-width digits
  ];
  for (const timestamp of absurd) {
    const token = tokenOf({ timestamp, accessKey: AK, signature: sign(timestamp, AK, PATH), path: PATH });
    // Checked at our clock and at the clock the timestamp names, where a Date can hold it.
    const named = Number(timestamp);
    const nowTimes = [TS, ...(Math.abs(named) <= 8.64e15 ? [named] : [])];
    throwsToken(() => decodeNcpToken(token), ErrorCode.TOKEN_MALFORMED, /timestamp .* is not milliseconds since the epoch/);
    for (const now of nowTimes) {
      throwsToken(() => verifyNcpToken(token, opts({ now })), ErrorCode.TOKEN_MALFORMED, /timestamp .* is not milliseconds since the epoch/);
    }
  }
  // The last timestamp whose expiry is still a Date decodes, and is refused as too far ahead.
  const last = "8639999999700000";
  const edge = tokenOf({ timestamp: last, accessKey: AK, signature: sign(last, AK, PATH), path: PATH });
  assert.equal(decodeNcpToken(edge).expiresAt.getTime(), 8.64e15);
  throwsToken(() => verifyNcpToken(edge, opts()), ErrorCode.TOKEN_FUTURE, /\+275760-09-12T23:55:00\.000Z, more than 60 s in the future/);
  // The first millisecond of the epoch is a canonical timestamp: long expired, never malformed.
  const zero = tokenOf({ timestamp: "0", accessKey: AK, signature: sign("0", AK, PATH), path: PATH });
  throwsToken(() => verifyNcpToken(zero, opts()), ErrorCode.TOKEN_EXPIRED, /expired at 1970-01-01T00:05:00\.000Z/);
});

test("verifyNcpToken: times and spans outside the Date range are refused with typed errors, never a RangeError", () => {
  for (const now of [Number.NaN, Infinity, 8.64e15 + 1, -8.64e15 - 1, 1e300]) {
    throwsInvalid(() => verifyNcpToken(TOKEN, opts({ now })), "now", /not a valid time/);
  }
  for (const maxAgeMs of [Number.NaN, -1, Infinity, 1e300]) {
    throwsInvalid(() => verifyNcpToken(TOKEN, opts({ maxAgeMs })), "maxAgeMs", /maxAgeMs/);
  }
  for (const maxFutureSkewMs of [Number.NaN, -1, Infinity, 1e300]) {
    throwsInvalid(() => verifyNcpToken(TOKEN, opts({ maxFutureSkewMs })), "maxFutureSkewMs", /maxFutureSkewMs/);
  }
});

test("mintNcpToken: a time outside what a token can carry is refused as INVALID_INPUT", () => {
  const good = { accessKey: AK, secretKey: SK, clusterUuid: UUID, region: "SGN" };
  const mintNcpToken = mintFor;
  for (const now of [1e300, 8.64e15 + 1, 8.64e15, -1, -8.64e15]) {
    throwsInvalid(() => mintNcpToken({ ...good, now }), "now", /not a valid time|before 1970|cannot carry/);
  }
});

/** A token over the exact claim text given (Base64 of its UTF-8 bytes). */
const rawToken = (claimText: string): string => `k8s-ncp-v1.${Buffer.from(claimText, "utf8").toString("base64")}`;

test("verifyNcpToken accepts only the canonical claim bytes; decodeNcpToken still decodes the others and says so", () => {
  const ts = String(TS);
  const c = (k: string, v: string): string => `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  const fields = [c("timestamp", ts), c("accessKey", AK), c("signature", SIG), c("path", PATH)];
  const canonicalText = `{${fields.join(",")}}`;
  assert.equal(rawToken(canonicalText), TOKEN, "the canonical text is the SGN vector's token");
  const variants: [string, string][] = [
    ["duplicate key, last wins", `{${c("timestamp", "1")},${fields.join(",")}}`],
    ["a space after a colon", `{${fields.join(",").replace(`"timestamp":`, `"timestamp": `)}}`],
    ["a space after a comma", `{${fields.join(", ")}}`],
    ["surrounding white space", ` ${canonicalText}\n`],
    ["a \\u escape", `{${fields.join(",").replace("NCPTEST", "\\u004eCPTEST")}}`],
    ["an escaped slash", `{${fields.join(",").replaceAll("/", "\\/")}}`],
    ["reordered keys", `{${[fields[1], fields[0], fields[2], fields[3]].join(",")}}`],
  ];
  for (const [name, text] of variants) {
    const token = rawToken(text);
    const decoded = decodeNcpToken(token);
    assert.equal(decoded.canonical, false, name);
    assert.equal(decoded.accessKey, AK, name);
    assert.equal(decoded.timestamp, ts, name);
    throwsToken(() => verifyNcpToken(token, opts()), ErrorCode.TOKEN_MALFORMED, /not in its canonical form/);
  }
  assert.equal(decodeNcpToken(TOKEN).canonical, true);

  // Base64 with non-zero padding bits decodes to the same bytes: another string for the same claim.
  const ak19 = "NCPTESTACCESSKEY001";
  const sk19 = `${SK}19`;
  const sig19 = sign(ts, ak19, PATH, sk19);
  const body = Buffer.from(JSON.stringify({ timestamp: ts, accessKey: ak19, signature: sig19, path: PATH })).toString("base64");
  assert.match(body, /[^=]=$|==$/, "this claim's Base64 needs padding");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const at = body.indexOf("=") - 1;
  const last = body[at] as string;
  const twisted = `${body.slice(0, at)}${alphabet[alphabet.indexOf(last) + 1]}${body.slice(at + 1)}`;
  assert.deepEqual(Buffer.from(twisted, "base64"), Buffer.from(body, "base64"), "both strings decode to the same bytes");
  const ring19 = opts({ secretKeyFor: (ak) => (ak === ak19 ? sk19 : undefined) });
  assert.equal(verifyNcpToken(`k8s-ncp-v1.${body}`, ring19).accessKey, ak19);
  assert.equal(decodeNcpToken(`k8s-ncp-v1.${twisted}`).canonical, false);
  throwsToken(() => verifyNcpToken(`k8s-ncp-v1.${twisted}`, ring19), ErrorCode.TOKEN_MALFORMED, /not in its canonical form/);
  // White space around the token string is a different string too.
  throwsToken(() => verifyNcpToken(` ${TOKEN}\n`, opts()), ErrorCode.TOKEN_MALFORMED, /not in its canonical form/);
});

test("verifyNcpToken: an access key that Go's JSON escapes (<, >, &) verifies only in Go's escaped form", () => {
  const ak = "NCP<&>KEY";
  const sk = `${SK}x`;
  const ts = String(TS);
  const sig = sign(ts, ak, PATH, sk);
  const ring = opts({ secretKeyFor: (k) => (k === ak ? sk : undefined) });
  const goForm = `{"timestamp":"${ts}","accessKey":"NCP\\u003c\\u0026\\u003eKEY","signature":"${sig}","path":"${PATH}"}`;
  const plainForm = JSON.stringify({ timestamp: ts, accessKey: ak, signature: sig, path: PATH });
  assert.equal(verifyNcpToken(rawToken(goForm), ring).accessKey, ak);
  assert.equal(mintFor({ accessKey: ak, secretKey: sk, clusterUuid: UUID, region: "SGN", now: TS }).token, rawToken(goForm));
  throwsToken(() => verifyNcpToken(rawToken(plainForm), ring), ErrorCode.TOKEN_MALFORMED, /not in its canonical form/);
});

test("verifyNcpToken: a refusal names a token's access key escaped and cut short, whatever the claim holds", () => {
  const ak = `NCP\n\u001b[2J${"K".repeat(100_000)}`;
  const token = rawToken(JSON.stringify({ timestamp: String(TS), accessKey: ak, signature: SIG, path: PATH }));
  throwsToken(() => verifyNcpToken(token, opts()), ErrorCode.TOKEN_UNKNOWN_KEY, /^the token is signed by access key NCP\\n\\u001b\[2JK+…, which is not known here$/);
  assert.throws(() => verifyNcpToken(token, opts()), (e: unknown) => e instanceof TokenError && e.message.length < 200);
});
