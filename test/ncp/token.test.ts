import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createNcpSigner } from "../../src/ncp/sign.js";
import { mintNcpToken, parseNcpTokenTarget } from "../../src/ncp/token.js";

interface Vector { name: string; accessKey: string; secretKey: string; clusterUuid: string; region: string; timestamp: number; token: string }
const vectors = JSON.parse(readFileSync(new URL("../../../test/fixtures/ncp-token-vectors.json", import.meta.url), "utf8")) as Vector[];

for (const v of vectors) {
  test(`mintNcpToken golden vector: ${v.name}`, () => {
    assert.equal(mintNcpToken({ signer: createNcpSigner(v), cluster: parseNcpTokenTarget(v), now: v.timestamp }).token, v.token);
  });
}
