/**
 * Sealing against vectors computed elsewhere: AES-256-GCM Test Case 16 of McGrew and Viega's GCM
 * specification (with AAD), the key check value against openssl's HMAC, and the refusals.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { keyCheckValue, openSealed, parseMasterKey, sealSecret } from "../../src/broker/sealing.js";
import { hashBrokerToken, isBrokerTokenShape, newBrokerToken } from "../../src/broker/tokens.js";
import { CredentialsError } from "../../src/lib/errors.js";

const hex = (h: string): Buffer => Buffer.from(h, "hex");

test("AES-256-GCM: the spec's Test Case 16 (key, IV, AAD, plaintext) gives its ciphertext and tag", () => {
  const key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const iv = hex("cafebabefacedbaddecaf888");
  const pt = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const sealed = sealSecret(key, pt, aad, iv);
  const [version, ivPart, ctPart, tagPart] = sealed.split(".");
  assert.equal(version, "v1");
  assert.equal(Buffer.from(ivPart ?? "", "base64url").toString("hex"), "cafebabefacedbaddecaf888");
  assert.equal(
    Buffer.from(ctPart ?? "", "base64url").toString("hex"),
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
  );
  assert.equal(Buffer.from(tagPart ?? "", "base64url").toString("hex"), "76fc6ece0f4e1768cddf8853bb2d551b");
});

test("a sealed value opens with its key and row, and not with another key, another row or changed bytes", () => {
  const key = randomBytes(32);
  const sealed = sealSecret(key, '{"secretKey":"s3cr3t"}', "credential:1:ncp");
  assert.ok(!sealed.includes("s3cr3t"));
  assert.equal(openSealed(key, sealed, "credential:1:ncp"), '{"secretKey":"s3cr3t"}');
  assert.notEqual(sealSecret(key, "x", "a"), sealSecret(key, "x", "a"), "a fresh IV each time");
  for (const [k, s, aad] of [
    [randomBytes(32), sealed, "credential:1:ncp"],
    [key, sealed, "credential:2:ncp"],
    [key, sealed.slice(0, -2) + (sealed.endsWith("AA") ? "AB" : "AA"), "credential:1:ncp"],
    [key, "v2.x.y.z", "credential:1:ncp"],
  ] as const) {
    assert.throws(() => openSealed(k, s, aad), (e: unknown) => e instanceof CredentialsError && !e.message.includes("s3cr3t"));
  }
});

test("the key check value is HMAC-SHA256(key, label), first 16 bytes, as openssl computes it", () => {
  const key = randomBytes(32);
  const out = execFileSync("openssl", ["dgst", "-sha256", "-mac", "HMAC", "-macopt", `hexkey:${key.toString("hex")}`], {
    input: "kubeiam broker master key check v1",
  }).toString();
  const digest = /([0-9a-f]{64})\s*$/.exec(out)?.[1];
  assert.ok(digest, out);
  assert.equal(keyCheckValue(key), digest.slice(0, 32));
  assert.notEqual(keyCheckValue(randomBytes(32)), keyCheckValue(key));
});

test("master keys: 32 bytes of Base64 (standard or URL-safe), anything else refused with a fix", () => {
  const key = randomBytes(32);
  assert.deepEqual(parseMasterKey(key.toString("base64")), key);
  assert.deepEqual(parseMasterKey(`${key.toString("base64url")}\n`), key);
  assert.throws(() => parseMasterKey(randomBytes(16).toString("base64")), /16 bytes, not 32: .*openssl rand -base64 32/);
  assert.throws(() => parseMasterKey("not base64!"), /not Base64/);
});

test("broker tokens: kbi_ and 43 Base64url characters; stored as SHA-256 hex as sha256sum computes it", () => {
  const t = newBrokerToken();
  assert.ok(isBrokerTokenShape(t));
  assert.equal(Buffer.from(t.slice(4), "base64url").length, 32);
  const sum = execFileSync("sha256sum", { input: t }).toString().split(" ")[0];
  assert.equal(hashBrokerToken(t), sum);
  assert.ok(!isBrokerTokenShape(`${t}x`) && !isBrokerTokenShape(t.replace("kbi_", "kbx_")));
});
