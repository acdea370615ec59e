/**
 * `serve --trust-proxy`: which peers are proxies whose X-Forwarded-For names the client; a value that
 * is not a list of addresses or CIDR blocks is refused at start, before the store opens.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { parseTrustProxy, trustedPeers } from "../../src/broker/client-address.js";
import { startBroker } from "../../src/broker/serve.js";
import { UsageError } from "../../src/lib/errors.js";

test("parseTrustProxy: addresses and CIDR blocks, IPv4 and IPv6, comma-separated", () => {
  assert.deepEqual(parseTrustProxy("127.0.0.1"), ["127.0.0.1"]);
  assert.deepEqual(parseTrustProxy("127.0.0.1, 10.0.0.0/8,fd00::/8,::1"), ["127.0.0.1", "10.0.0.0/8", "fd00::/8", "::1"]);
  for (const bad of ["loopback", "10.0.0.0/33", "fd00::/129", "10.0.0.0/8/1", "127.0.0.1,", "10.0.0/8", "10.0.0.0/-1", "*"]) {
    assert.throws(
      () => parseTrustProxy(bad),
      (e: unknown) => e instanceof UsageError && /^serve: --trust-proxy ".*" is not an IP address or CIDR block: give the proxies' addresses, comma-separated/.test(e.message),
      bad,
    );
  }
});

test("trustedPeers: a peer in a block is trusted, an IPv4 peer of a dual-stack socket too; nothing is trusted by default", () => {
  const trusted = trustedPeers(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);
  assert.equal(trusted("127.0.0.1"), true);
  assert.equal(trusted("::ffff:127.0.0.1"), true);
  assert.equal(trusted("10.200.3.4"), true);
  assert.equal(trusted("fd00::17"), true);
  assert.equal(trusted("127.0.0.2"), false);
  assert.equal(trusted("11.0.0.1"), false);
  assert.equal(trusted("::1"), false);
  assert.equal(trusted(undefined), false);
  assert.equal(trustedPeers([])("127.0.0.1"), false);
});

test("startBroker refuses a bad --trust-proxy before it opens the store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeiam-trust-proxy-"));
  try {
    await assert.rejects(
      startBroker({ db: `sqlite:${join(dir, "b.db")}`, listen: "127.0.0.1:0", masterKey: randomBytes(32).toString("base64"), trustProxy: "10.0.0.0/99", home: dir, cwd: dir, logStream: false }),
      UsageError,
    );
    assert.ok(!existsSync(join(dir, "b.db")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
