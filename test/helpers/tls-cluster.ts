/**
 * A loopback HTTPS "cluster endpoint" for tests: serves /version and accepts only bearer tokens that
 * verify for its own cluster UUID and region at its own clock.
 */
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createLocalCa } from "../../src/sandbox/ca.js";
import { verifyNcpToken } from "../../src/ncp/token.js";

export interface TlsCluster {
  server: string;
  /** Base64 of the CA's PEM, as kubeconfig's certificate-authority-data. */
  caData: string;
  /** Tokens seen, accepted or not. */
  seen: { accepted: boolean; reason?: string }[];
  close(): Promise<void>;
}

export const VERSION_BODY = { major: "1", minor: "32", gitVersion: "v1.32.8-kubeiam-test", platform: "linux/amd64" };

export async function startTlsCluster(options: {
  clusterUuid: string;
  region: string;
  keys: Record<string, string>;
  now?: () => number;
}): Promise<TlsCluster> {
  const ca = await createLocalCa("kubeiam test cluster CA");
  const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost"], ips: ["127.0.0.1"] });
  const seen: TlsCluster["seen"] = [];
  const server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    try {
      verifyNcpToken(token, {
        secretKeyFor: (ak) => options.keys[ak],
        clusterUuid: options.clusterUuid,
        region: options.region,
        now: (options.now ?? Date.now)(),
      });
      seen.push({ accepted: true });
    } catch (e) {
      seen.push({ accepted: false, reason: e instanceof Error ? e.message : String(e) });
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 }));
      return;
    }
    // kubectl adds ?timeout=… when given --request-timeout: match the path alone.
    const path = new URL(req.url ?? "/", "https://127.0.0.1").pathname;
    if (path === "/version" || path === "/version/") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(VERSION_BODY));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server: `https://127.0.0.1:${port}`,
    caData: Buffer.from(ca.certPem).toString("base64"),
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
