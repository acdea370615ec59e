/**
 * Which URLs kubeiam may send a signed request or a credential to: `https:` anywhere, plain `http:`
 * only to a loopback address (the sandbox, test servers), so nothing secret crosses a network in clear.
 */

/** The host names that are this machine, as `URL.hostname` writes them. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * True when a URL may carry credentials: `https:`, or `http:` to a loopback host.
 *
 * @example
 * ```ts
 * isSecureOrLoopback(new URL("https://nks.apigw.ntruss.com")); // true
 * isSecureOrLoopback(new URL("http://127.0.0.1:8080"));       // true
 * isSecureOrLoopback(new URL("http://example.com"));          // false
 * ```
 */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}
