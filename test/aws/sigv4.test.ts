import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/hash-node";
import { presignSigV4 } from "../../src/aws/sigv4.js";

const pick = <T>(list: readonly T[]): T => list[randomInt(list.length)] as T;
const text = (chars: string, min: number, max: number): string => Array.from({ length: randomInt(min, max + 1) }, () => pick([...chars])).join("");
const KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=";

test("presignSigV4 signs what @smithy/signature-v4's presign signs, over 300 random requests (keys, session tokens, regions, services, queries, headers, times)", async () => {
  for (let i = 0; i < 300; i++) {
    const accessKeyId = `AKID${text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16, 16)}`;
    const secretAccessKey = text(KEY_CHARS, 20, 60);
    const sessionToken = i % 2 === 0 ? undefined : `IQoJ${randomBytes(randomInt(10, 200)).toString("base64")}`;
    const region = pick(["us-east-1", "eu-central-1", "cn-north-1", "ap-northeast-2", "us-gov-west-1"]);
    const service = pick(["sts", "eks", "s3"]);
    const host = `${service}.${region}.amazonaws.com`;
    const query: Record<string, string> = { Action: "GetCallerIdentity", Version: "2011-06-15" };
    if (i % 3 === 0) query[text("abcXYZ-_.~ !*'()", 1, 8)] = text("abc xyz/+=&?%é!*'()~", 0, 20);
    const headers: Record<string, string> = { host, "x-k8s-aws-id": text("abcdefghijklmnopqrstuvwxyz0123456789-_", 1, 100) };
    if (i % 5 === 0) headers["x-extra"] = `  a  b ${text("xyz ", 0, 5)}  `;
    const signedAt = new Date(randomInt(0, 4102444800) * 1000 + randomInt(1000));
    const expiresIn = pick([60, 900, 3600]);
    const ours = presignSigV4({ accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }), region, service, method: "GET", path: "/", query, headers, signedAt, expiresIn });
    const smithy = await new SignatureV4({
      credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) },
      region,
      service,
      sha256: Hash.bind(null, "sha256"),
    }).presign({ method: "GET", protocol: "https:", hostname: host, path: "/", query: { ...query }, headers: { ...headers } }, { signingDate: new Date(Math.floor(signedAt.getTime() / 1000) * 1000), expiresIn });
    assert.deepEqual(ours, smithy.query, `request ${i}`);
  }
});
