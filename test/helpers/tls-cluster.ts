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
  /** Requests seen, accepted or not. */
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** What the endpoint saw of one request. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  accepted: boolean;
  /** The verified token's access key and cluster. */
  accessKey?: string;
  clusterUuid?: string;
  /** Why the token was refused. */
  reason?: string;
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
    // kubectl adds ?timeout=… when given --request-timeout: match the path alone.
    const path = new URL(req.url ?? "/", "https://127.0.0.1").pathname;
    const entry: SeenRequest = { method: req.method ?? "", path, status: 0, accepted: false };
    seen.push(entry);
    const send = (status: number, body: unknown): void => {
      entry.status = status;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization ?? "";
    try {
      if (!auth.startsWith("Bearer ")) throw new Error("no bearer token");
      const who = verifyNcpToken(auth.slice("Bearer ".length), {
        secretKeyFor: (ak) => options.keys[ak],
        clusterUuid: options.clusterUuid,
        region: options.region,
        now: (options.now ?? Date.now)(),
      });
      Object.assign(entry, { accepted: true, accessKey: who.accessKey, clusterUuid: who.clusterUuid });
    } catch (e) {
      entry.reason = e instanceof Error ? e.message : String(e);
      send(401, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
      return;
    }
    if (req.method === "GET" && (path === "/version" || path === "/version/")) return send(200, VERSION_BODY);
    send(404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", code: 404 });
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
