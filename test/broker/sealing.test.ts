/**
 * Sealing against vectors computed elsewhere: AES-256-GCM Test Case 16 of McGrew and Viega's GCM
 * specification (with AAD), the key check value against openssl's HMAC, and the refusals.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createCipheriv } from "node:crypto";
import { keyCheckValue, masterKeyId, openSealed, parseMasterKey, parseMasterKeyring, sealedKeyId, sealSecret } from "../../src/broker/sealing.js";
import { hashBrokerToken, isBrokerTokenShape, newBrokerToken } from "../../src/broker/tokens.js";
import { CredentialsError } from "../../src/lib/errors.js";

const hex = (h: string): Buffer => Buffer.from(h, "hex");

test("AES-256-GCM: the spec's Test Case 16 (key, IV, AAD, plaintext) gives its ciphertext and tag", () => {
  const key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const iv = hex("cafebabefacedbaddecaf888");
  const pt = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const sealed = sealSecret(key, pt, aad, iv);
  const [version, keyId, ivPart, ctPart, tagPart] = sealed.split(".");
  assert.equal(version, "v2");
  assert.equal(keyId, masterKeyId(key));
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
    [key, "v3.x.y.z", "credential:1:ncp"],
    [key, `v2.${masterKeyId(key)}.x.y.z`, "credential:1:ncp"],
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

test("key ids are HMAC-SHA256(key, label), first 8 bytes, as openssl computes them; a keyring seals with its first key and opens with any", () => {
  const [a, b] = [randomBytes(32), randomBytes(32)];
  const out = execFileSync("openssl", ["dgst", "-sha256", "-mac", "HMAC", "-macopt", `hexkey:${a.toString("hex")}`], { input: "kubeiam broker master key id v1" }).toString();
  assert.equal(masterKeyId(a), /([0-9a-f]{64})\s*$/.exec(out)?.[1]?.slice(0, 16));
  const ring = parseMasterKeyring(`${b.toString("base64")}, ${a.toString("base64")}\n`);
  assert.deepEqual(ring, [b, a]);
  const underA = sealSecret(a, "old secret", "credential:1:ncp");
  assert.equal(sealedKeyId(underA), masterKeyId(a));
  assert.equal(openSealed(ring, underA, "credential:1:ncp"), "old secret");
  assert.equal(openSealed([b], sealSecret(b, "new", "r"), "r"), "new");
  assert.throws(() => openSealed([b], underA, "credential:1:ncp"), /sealed under master key id [0-9a-f]{16}, which is not in the keyring/);
  assert.throws(() => parseMasterKeyring(`${a.toString("base64")},${a.toString("base64")}`), /key 2 of the master key repeats an earlier one/);
  assert.throws(() => parseMasterKeyring(`${a.toString("base64")},`), /empty entry in its keyring/);
  assert.throws(() => parseMasterKeyring(`${a.toString("base64")},short`), /key 2 of the master key is not Base64|key 2 of the master key is \d+ bytes/);
});

test("a version 1 value (sealed before key ids) still opens with whichever key of the ring sealed it", () => {
  const [a, b] = [randomBytes(32), randomBytes(32)];
  // Version 1 as the previous kubeiam wrote it: v1.<iv>.<ct>.<tag>, built here by hand.
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", a, iv, { authTagLength: 16 });
  c.setAAD(Buffer.from("credential:9:aws"));
  const ct = Buffer.concat([c.update("legacy"), c.final()]);
  const v1 = ["v1", iv.toString("base64url"), ct.toString("base64url"), c.getAuthTag().toString("base64url")].join(".");
  assert.equal(sealedKeyId(v1), undefined);
  assert.equal(openSealed([b, a], v1, "credential:9:aws"), "legacy");
  assert.throws(() => openSealed([b], v1, "credential:9:aws"), /does not open under this master key/);
});
