/**
 * A loopback CONNECT proxy that counts the tunnels it opens (`host:port` each) and serves nothing
 * else (a plain request is 405), for tests that HTTPS_PROXY / NO_PROXY route a client through it.
 */
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

/** A running CONNECT proxy. */
export interface ConnectProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every tunnel's target, in order. */
  tunnels: string[];
  /** Plain (non-CONNECT) requests it refused. */
  refused: string[];
  close(): Promise<void>;
}

/**
 * Starts the proxy on 127.0.0.1, port 0. `hosts` maps names to addresses for the tunnels' targets
 * (clients never resolve a proxied host themselves).
 *
 * @example
 * ```ts
 * const proxy = await startConnectProxy();
 * // … run a client with HTTPS_PROXY=proxy.url …
 * assert.deepEqual(proxy.tunnels, ["127.0.0.1:8750"]);
 * ```
 */
export async function startConnectProxy(options: { hosts?: Record<string, string> } = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const refused: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    refused.push(`${req.method ?? ""} ${req.url ?? ""}`);
    res.writeHead(405);
    res.end();
  });
  server.on("connect", (req, socket: Socket, head) => {
    tunnels.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    // `hosts` stands in for DNS: a test names a far-away host that the proxy, not the client, resolves.
    const upstream = connect(Number(port), options.hosts?.[host ?? ""] ?? host ?? "", () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    sockets.add(socket).add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    socket.on("close", () => sockets.delete(socket));
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    refused,
    close: () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
