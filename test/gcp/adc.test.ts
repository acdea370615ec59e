/**
 * Application Default Credentials through google-auth-library: a local GCE metadata server
 * (GCE_METADATA_HOST, which the library honours) answers the token; without one, a clear error.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintGkeToken } from "../../src/gcp/token.js";
import { resolveGkeCredentials } from "../../src/gcp/credentials.js";
import { CredentialsError } from "../../src/lib/errors.js";

const home = mkdtempSync(join(tmpdir(), "kubeiam-adc-"));
after(() => rmSync(home, { recursive: true, force: true }));
// No key file, no gcloud ADC file: only the metadata server is left.
delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
process.env.CLOUDSDK_CONFIG = home;
process.env.HOME = home;

const seen: { url: string; flavor: string | undefined }[] = [];
const metadata = createServer((req, res) => {
  const flavor = req.headers["metadata-flavor"];
  seen.push({ url: req.url ?? "", flavor: typeof flavor === "string" ? flavor : undefined });
  res.setHeader("Metadata-Flavor", "Google");
  if (flavor !== "Google") {
    res.writeHead(403);
    return res.end("missing Metadata-Flavor");
  }
  if ((req.url ?? "").startsWith("/computeMetadata/v1/instance/service-accounts/default/token")) {
    res.setHeader("content-type", "application/json");
    return res.end(JSON.stringify({ access_token: "ya29.from-metadata", expires_in: 1800, token_type: "Bearer" }));
  }
  if ((req.url ?? "").includes("project-id")) return res.end("kubeiam-test");
  res.end("");
});
await new Promise<void>((resolve) => metadata.listen(0, "127.0.0.1", resolve));
after(() => new Promise<void>((resolve) => metadata.close(() => resolve())));

test("no key file and no gcloud ADC file: resolveGkeCredentials falls back to ADC", async () => {
  assert.deepEqual(await resolveGkeCredentials({ env: { HOME: home, CLOUDSDK_CONFIG: home } }), { kind: "adc" });
});

test("mintGkeToken with ADC gets the metadata server's token for the GKE scopes, with its expiry", async () => {
  process.env.GCE_METADATA_HOST = `127.0.0.1:${(metadata.address() as AddressInfo).port}`;
  const before = Date.now();
  const { token, expiresAt } = await mintGkeToken({ credentials: { kind: "adc" } });
  assert.equal(token, "ya29.from-metadata");
  assert.ok(expiresAt.getTime() >= before + 1799_000 && expiresAt.getTime() <= Date.now() + 1800_000);
  const tokenCall = seen.find((s) => s.url.includes("/token"));
  assert.ok(tokenCall, "the token was asked of the metadata server");
  assert.match(decodeURIComponent(tokenCall.url), /scopes=https:\/\/www\.googleapis\.com\/auth\/cloud-platform,https:\/\/www\.googleapis\.com\/auth\/userinfo\.email/);
});

test("ADC with nothing to find: one clear CredentialsError", async () => {
  // A closed port: the library's GCE check fails at once.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  process.env.GCE_METADATA_HOST = `127.0.0.1:${port}`;
  await assert.rejects(
    mintGkeToken({ credentials: { kind: "adc" } }),
    (e: unknown) => e instanceof CredentialsError && /gcloud auth application-default login/.test(e.message) && !e.message.includes("\n"),
  );
});
