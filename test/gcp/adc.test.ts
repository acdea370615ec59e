/**
 * Application Default Credentials through google-auth-library: a local GCE metadata server
 * (GCE_METADATA_HOST, which the library honours) answers the token; without one, a clear error.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintGkeToken } from "../../src/gcp/token.js";
import { resolveGkeCredentials } from "../../src/gcp/credentials.js";
import { CredentialsError, FileError } from "../../src/lib/errors.js";

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
  // gcp-metadata would still ping the closed port with its retries and back-off (5 s of the fast
  // lane); "none" is its documented way to say there is no metadata server here, answered at once.
  process.env.METADATA_SERVER_DETECTION = "none";
  try {
    await assert.rejects(
      mintGkeToken({ credentials: { kind: "adc" } }),
      (e: unknown) => e instanceof CredentialsError && /gcloud auth application-default login/.test(e.message) && !e.message.includes("\n"),
    );
  } finally {
    delete process.env.METADATA_SERVER_DETECTION;
  }
});

test("a key file named by path may be a FIFO that a separate process writes (as <(…) gives it); a socket is refused in one line", async () => {
  const fifo = join(home, "adc.fifo");
  execFileSync("mkfifo", [fifo]);
  const json = JSON.stringify({ type: "authorized_user", client_id: "id.apps.example", client_secret: "not-a-secret", refresh_token: "not-a-token" });
  const writer = spawn("sh", ["-c", 'sleep 0.2; printf %s "$1" > "$0"', fifo, json], { stdio: "ignore" });
  try {
    const creds = await resolveGkeCredentials({ file: fifo, env: { HOME: home } });
    assert.equal(creds.kind, "file");
    assert.equal(creds.kind === "file" ? creds.type : "", "authorized_user");
  } finally {
    writer.kill();
  }
  const socketPath = join(home, "adc.sock");
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    await assert.rejects(
      resolveGkeCredentials({ file: socketPath, env: { HOME: home } }),
      (e: unknown) => e instanceof FileError && /^GCP credentials file .*adc\.sock is a socket, not a file: pass the file itself$/.test(e.message),
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
