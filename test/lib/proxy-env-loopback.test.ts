/** brokerProxyUrlFor: a broker token never goes through a proxy to this machine's loopback, as Go decides. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { brokerProxyUrlFor, isLoopbackHostname } from "../../src/lib/proxy-env.js";

const env = { HTTP_PROXY: "http://proxy.example:3128", HTTPS_PROXY: "http://proxy.example:3128" };

test("loopback (localhost, 127.0.0.0/8, [::1], IPv4-mapped) goes direct; every other host takes the proxy", () => {
  for (const u of ["http://127.0.0.1:8750", "http://127.3.2.1", "https://localhost:8750", "http://LOCALHOST.", "http://[::1]:8750", "http://[::ffff:127.0.0.1]:1"]) {
    assert.equal(brokerProxyUrlFor(new URL(u), env), undefined, u);
  }
  for (const u of ["http://128.0.0.1", "https://broker.example", "http://localhost.example.com", "http://[::2]"]) {
    assert.equal(brokerProxyUrlFor(new URL(u), env), "http://proxy.example:3128", u);
  }
  assert.equal(isLoopbackHostname("[::1]"), true);
  assert.equal(isLoopbackHostname("10.0.0.1"), false);
});
