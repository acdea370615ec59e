/**
 * Tests for the NCP API Gateway signature (docs/formats.md §3). Expected values come from the official
 * tool's test and from openssl (test/fixtures/make-ncp-token-vectors.sh), never from our code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ncpStringToSign, signNcpRequest } from "../../src/ncp/sign.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), "utf8"));

interface ApiVector { name: string; url: string; timestamp: number; accessKey: string; secretKey: string; signature: string }
interface TokenVector { name: string; secretKey: string; token: string }

test("signNcpRequest: the official ncp-iam-authenticator vector", () => {
  const sig = signNcpRequest({
    method: "GET",
    uri: "/cluster/kubeconfig",
    timestamp: "1668407407855",
    accessKey: "access",
    secretKey: "secret",
  });
  assert.equal(sig, "LTJli9+OKT2KvUXxiKslMfu5FIOmDN83avehOvgUFp0=");
});

test("ncpStringToSign: METHOD, one space, URI, LF, timestamp, LF, access key; nothing trailing", () => {
  assert.equal(
    ncpStringToSign({ method: "GET", uri: "/vnks/v2/clusters?x=1&y=2", timestamp: "1767225600000", accessKey: "AK" }),
    "GET /vnks/v2/clusters?x=1&y=2\n1767225600000\nAK",
  );
  assert.equal(ncpStringToSign({ method: "DELETE", uri: "/", timestamp: "0", accessKey: "k" }), "DELETE /\n0\nk");
});

for (const v of fixture("ncp-api-signature-vectors.json") as ApiVector[]) {
  test(`signNcpRequest golden vector (openssl): ${v.name}`, () => {
    const url = new URL(v.url);
    const sig = signNcpRequest({
      method: "GET",
      uri: url.pathname + url.search,
      timestamp: String(v.timestamp),
      accessKey: v.accessKey,
      secretKey: v.secretKey,
    });
    assert.equal(sig, v.signature);
  });
}

// From `test/fixtures/make-ncp-token-vectors.sh signatures` (openssl); made-up keys.
const methodVectors = [
  {
    name: "POST with a query",
    method: "POST",
    uri: "/vnks/v2/clusters?zoneCode=KR-1",
    timestamp: "1767225600000",
    accessKey: "ncpTkAK7Qm2Xv9Lp4RsZ",
    secretKey: "ncpTkSK3hW8yB1nC6eF0gJ5kM2oP7qR4tU9vX1z",
    signature: "tU94S8n1bnwe2zlmDTKulv62gYrqMBLrRz5iWLIKlZw=",
  },
  {
    name: "DELETE",
    method: "DELETE",
    uri: "/vnks/v2/clusters/3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b",
    timestamp: "1767225600000",
    accessKey: "TESTAK0JPN8d1f0c2b7a",
    secretKey: "TESTSK0JPN4e9d8c7b6a5f4e3d2c1b0a9f8e7d6",
    signature: "if1Nqma1/PzkukWwUnv7Q2FbBwKs2fmGLRjfTMCtxcY=",
  },
  {
    name: "GET, upper-case UUID, 13-digit timestamp",
    method: "GET",
    uri: "/vnks/krs-v2/clusters/6E2A4C1F-0B3D-4F58-9A7C-1D2E3F405162/kubeconfig",
    timestamp: "1668407407855",
    accessKey: "TESTAKFKRz0y9x8w7v6u",
    secretKey: "TESTSKFKRa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5",
    signature: "fUDszYYH9H0fBZtXIqR80ZrSPb0ckQbkiTAsziW78tY=",
  },
];

for (const v of methodVectors) {
  test(`signNcpRequest golden vector (openssl): ${v.name}`, () => {
    assert.equal(signNcpRequest(v), v.signature);
  });
}

test("signNcpRequest: every input is covered by the signature", () => {
  const base = methodVectors[0];
  assert.ok(base);
  const variants = [
    { ...base, method: "GET" },
    { ...base, uri: `${base.uri}x` },
    { ...base, timestamp: "1767225600001" },
    { ...base, accessKey: `${base.accessKey}x` },
    { ...base, secretKey: `${base.secretKey}x` },
  ];
  for (const v of variants) assert.notEqual(signNcpRequest(v), base.signature);
});

// docs/formats.md §1: the token's signature is the §3 signature of `GET {path}`.
for (const v of fixture("ncp-token-vectors.json") as TokenVector[]) {
  test(`signNcpRequest reproduces the signature inside token vector: ${v.name}`, () => {
    const claim = JSON.parse(Buffer.from(v.token.slice("k8s-ncp-v1.".length), "base64").toString("utf8")) as Record<string, string>;
    const { timestamp, accessKey, path, signature } = claim;
    assert.ok(timestamp !== undefined && accessKey !== undefined && path !== undefined && signature !== undefined);
    assert.equal(signNcpRequest({ method: "GET", uri: path, timestamp, accessKey, secretKey: v.secretKey }), signature);
  });
}
