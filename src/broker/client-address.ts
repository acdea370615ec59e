/**
 * Whose request it is: the client's address as the broker counts it (audit rows, the failed-
 * authentication limit, `/metrics` from loopback). The socket's peer, unless that peer is a proxy the
 * operator trusts (`serve --trust-proxy CIDR[,CIDR]`): then the rightmost address of
 * `X-Forwarded-For` that is not itself a trusted proxy (Fastify's `trustProxy`, proxy-addr).
 */
import { BlockList, isIP } from "node:net";
import type { FastifyRequest } from "fastify";
import { UsageError } from "../lib/errors.js";
import { isLoopbackAddress } from "./auth.js";

/**
 * Checks `--trust-proxy`: a comma-separated list of IPv4 or IPv6 addresses or CIDR blocks. Returns
 * them, trimmed, for Fastify's `trustProxy`.
 *
 * @example
 * ```ts
 * parseTrustProxy("127.0.0.1, 10.0.0.0/8"); // ["127.0.0.1", "10.0.0.0/8"]
 * ```
 */
export function parseTrustProxy(value: string): string[] {
  const entries = value.split(",").map((e) => e.trim());
  for (const entry of entries) {
    const [address = "", prefix, extra] = entry.split("/");
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max);
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new UsageError(
        `serve: --trust-proxy ${JSON.stringify(entry.slice(0, 60))} is not an IP address or CIDR block: give the proxies' addresses, comma-separated, for example 127.0.0.1 or 10.0.0.0/8,fd00::/8`,
      );
    }
  }
  return entries;
}

/**
 * A test of whether a socket's peer is one of the trusted proxies (an IPv4 peer of a dual-stack
 * socket, `::ffff:a.b.c.d`, counts as `a.b.c.d`).
 *
 * @example
 * ```ts
 * const trusted = trustedPeers(["127.0.0.1"]);
 * trusted("::ffff:127.0.0.1"); // true
 * ```
 */
export function trustedPeers(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of cidrs) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address) === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    if (address === undefined || cidrs.length === 0) return false;
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const plain = v4 ?? address;
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? "ipv4" : "ipv6");
  };
}

/**
 * Whether a request comes from this machine, for routes open to loopback (`/metrics`). A same-host
 * proxy (nginx on 127.0.0.1 in front of the broker) forwards strangers' requests from loopback: a
 * request that says it was forwarded (`X-Forwarded-For`, `Forwarded`) is local only when the proxy is
 * trusted (`--trust-proxy`) and the address it forwarded for (`req.ip`, the rightmost untrusted hop)
 * is loopback itself.
 *
 * @example
 * ```ts
 * if (access.openFromLoopback === true && isLocalRequest(req, ctx.isTrustedProxy)) return;
 * ```
 */
export function isLocalRequest(req: FastifyRequest, isTrustedProxy: (address: string | undefined) => boolean): boolean {
  const xff = req.headers["x-forwarded-for"] !== undefined;
  if (!xff && req.headers.forwarded === undefined) return isLoopbackAddress(req.ip);
  // Forwarded by a proxy the broker does not trust, or in a header it does not read: not local.
  if (!xff || !isTrustedProxy(req.socket.remoteAddress)) return false;
  return isLoopbackAddress(req.ip);
}
