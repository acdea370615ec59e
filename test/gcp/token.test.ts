import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import {
  gkeIdentityFingerprint,
  mintGkeToken,
  parseGcpCredentialsFile,
  signJwtAssertion,
  GKE_DEFAULT_SCOPES,
  type ServiceAccountKey,
} from "../../src/gcp/token.js";
import { ApiError, ConfigFileError, CredentialsError } from "../../src/lib/errors.js";
import { keyFileJson, makeServiceAccount, startOAuth } from "./stand-ins.js";

const sa = makeServiceAccount();
const other = makeServiceAccount("other@kubeiam-test.iam.gserviceaccount.com");
// Read on every request: a test may change what the endpoint answers.
const oauthOptions: { accounts: typeof sa[]; expiresIn?: number } = { accounts: [sa] };
const oauth = await startOAuth(oauthOptions);
after(() => oauth.close());

function keyOf(account = sa, tokenUri = oauth.tokenUri): ServiceAccountKey {
  const parsed = parseGcpCredentialsFile(keyFileJson(account, tokenUri), "/keys/sa.json");
  assert.equal(parsed.kind, "serviceAccount");
  if (parsed.kind !== "serviceAccount") throw new Error("unreachable");
  return parsed.key;
}

test("signJwtAssertion: RS256 over header.claims, verifiable with the account's public key", () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  const jwt = signJwtAssertion({ key: keyOf(), scopes: GKE_DEFAULT_SCOPES, now });
  const [h, c, s] = jwt.split(".") as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(h, "base64url").toString()), { alg: "RS256", typ: "JWT", kid: sa.keyId });
  assert.deepEqual(JSON.parse(Buffer.from(c, "base64url").toString()), {
    iss: sa.email,
    scope: "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email",
    aud: oauth.tokenUri,
    exp: 1767229200,
    iat: 1767225600,
  });
  assert.ok(verify("sha256", Buffer.from(`${h}.${c}`), createPublicKey(sa.privateKeyPem), Buffer.from(s, "base64url")));
  assert.ok(!verify("sha256", Buffer.from(`${h}.${c}`), other.publicKey, Buffer.from(s, "base64url")));
});

test("mintGkeToken: the assertion goes to the key's own token_uri, which answers the access token", async () => {
  const before = Date.now();
  const { token, expiresAt } = await mintGkeToken({ credentials: { kind: "serviceAccount", key: keyOf() } });
  assert.equal(token, oauth.issued.at(-1));
  assert.ok(expiresAt.getTime() >= before + 3599_000 && expiresAt.getTime() <= Date.now() + 3599_000);
  assert.equal(oauth.seen.at(-1)?.rejected, undefined);
});

test("mintGkeToken: a key the endpoint does not know is refused as a CredentialsError, one line", async () => {
  await assert.rejects(
    mintGkeToken({ credentials: { kind: "serviceAccount", key: keyOf(other) } }),
    (e: unknown) => e instanceof CredentialsError && /invalid_grant/.test(e.message) && !e.message.includes("\n") && !e.message.includes("PRIVATE KEY"),
  );
});

test("parseGcpCredentialsFile: malformed key files are refused naming the file and the field, never the key", () => {
  const good = JSON.parse(keyFileJson(sa, oauth.tokenUri)) as Record<string, unknown>;
  const cases: [string, RegExp][] = [
    ["{not json", /is not JSON/],
    ["[]", /not a JSON object/],
    [JSON.stringify({ ...good, type: undefined }), /has no "type"/],
    [JSON.stringify({ ...good, client_email: "" }), /lacks "client_email"/],
    [JSON.stringify({ ...good, private_key: undefined }), /lacks "private_key"/],
    [JSON.stringify({ ...good, private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }), /not a PEM RSA key/],
    [JSON.stringify({ ...good, token_uri: "http://evil.example.com/token" }), /must be an https URL/],
    [JSON.stringify({ ...good, token_uri: "not a url" }), /is not a URL/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseGcpCredentialsFile(text, "/keys/bad.json"),
      (e: unknown) => e instanceof ConfigFileError && e.path === "/keys/bad.json" && message.test(e.message) && !e.message.includes(sa.privateKeyPem.slice(40, 80)),
      text.slice(0, 40),
    );
  }
  assert.equal(parseGcpCredentialsFile(JSON.stringify({ type: "authorized_user", client_id: "x" }), "/adc.json").kind, "file");
});

test("gkeIdentityFingerprint: changes with the account, the key and the scopes; holds no key material", () => {
  const a = gkeIdentityFingerprint({ kind: "serviceAccount", key: keyOf() }, GKE_DEFAULT_SCOPES);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(gkeIdentityFingerprint({ kind: "serviceAccount", key: keyOf() }, [...GKE_DEFAULT_SCOPES].reverse()), a, "scope order does not matter");
  assert.notEqual(gkeIdentityFingerprint({ kind: "serviceAccount", key: keyOf(other) }, GKE_DEFAULT_SCOPES), a);
  const rotated = { ...keyOf(), privateKey: makeServiceAccount().privateKeyPem };
  assert.notEqual(gkeIdentityFingerprint({ kind: "serviceAccount", key: rotated }, GKE_DEFAULT_SCOPES), a);
  assert.notEqual(gkeIdentityFingerprint({ kind: "serviceAccount", key: keyOf() }, ["https://www.googleapis.com/auth/cloud-platform"]), a);
});

test("mintGkeToken: an expires_in beyond any date (1e300) is an ApiError, not an Invalid Date", async () => {
  for (const expiresIn of [1e300, 8.64e12, Number.MAX_VALUE]) {
    oauthOptions.expiresIn = expiresIn;
    try {
      await assert.rejects(
        mintGkeToken({ credentials: { kind: "serviceAccount", key: keyOf() } }),
        (e: unknown) => e instanceof ApiError && /expires_in .* is beyond any date/.test(e.message) && !e.message.includes("\n"),
        String(expiresIn),
      );
    } finally {
      delete oauthOptions.expiresIn;
    }
  }
  // A long but representable lifetime still works.
  oauthOptions.expiresIn = 10 * 365 * 24 * 3600;
  try {
    const { expiresAt } = await mintGkeToken({ credentials: { kind: "serviceAccount", key: keyOf() } });
    assert.ok(expiresAt.getTime() > Date.now() + 9 * 365 * 24 * 3600_000);
  } finally {
    delete oauthOptions.expiresIn;
  }
});
