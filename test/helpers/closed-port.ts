/**
 * A loopback port with nothing listening: for tests of an unreachable broker, cloud API or proxy
 * (a refused connection fails at once, where a silent address would be waited on), and a port to
 * start a server on that cannot pick its own (another process may take it first: retry then).
 */
import { createServer, type AddressInfo } from "node:net";

/**
 * A port on 127.0.0.1 that was free a moment ago: bound, then let go.
 *
 * @example
 * ```ts
 * const url = `http://127.0.0.1:${await closedPort()}`;
 * ```
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
