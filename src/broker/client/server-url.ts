/**
 * A broker's URL checked and made canonical: what a broker client is created with (so it stays light
 * to load) and the key its saved token is kept under.
 */
import { UsageError } from "../../lib/errors.js";
import { isSecureOrLoopback } from "../../lib/net.js";

/**
 * Checks a broker URL and returns its canonical form (origin and path, no trailing slash), the key
 * under which its token is kept. Plain `http://` is accepted only for loopback: elsewhere the broker
 * token would cross the network in clear.
 *
 * @example
 * ```ts
 * normalizeBrokerServer("https://broker.example:8750/"); // "https://broker.example:8750"
 * ```
 */
export function normalizeBrokerServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server ${JSON.stringify(server)} is not a URL: pass the broker's address, for example --server https://broker.example:8750`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(`--server ${JSON.stringify(server)} is not an http(s) URL: pass the broker's address, for example --server https://broker.example:8750`);
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new UsageError(`--server ${JSON.stringify(url.origin)}… holds a user, query or fragment: pass only the broker's address; its token goes to 'kubeiam broker login'`);
  }
  if (!isSecureOrLoopback(url)) {
    throw new UsageError(`--server ${url.origin} is plain HTTP to another machine, which would send the broker token in clear: use the broker's https:// address`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
