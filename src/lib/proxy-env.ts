/**
 * Which proxy, if any, a request to a URL takes under the environment: `HTTPS_PROXY` / `HTTP_PROXY` /
 * `NO_PROXY` with the same precedence as undici's `EnvHttpProxyAgent`, so every outbound call of
 * kubeiam takes the same route. Pure and import-free: the light exec plugins ask here before they
 * load any tunnelling code (./proxy-agent.js).
 */

type Env = Record<string, string | undefined>;

const pick = (env: Env, lower: string, upper: string): string | undefined => {
  const v = env[lower] ?? env[upper];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
};

/**
 * Whether `NO_PROXY` exempts a host (and port) from the proxy. Entries are separated by commas or
 * spaces; `*` matches every host; `example.com`, `.example.com` and `*.example.com` match the domain
 * and its subdomains; `host:port` matches that port only; IP addresses match exactly.
 *
 * @example
 * ```ts
 * noProxyMatches("sts.us-east-1.amazonaws.com", 443, ".amazonaws.com"); // true
 * noProxyMatches("example.org", 443, "example.com,localhost");       // false
 * ```
 */
export function noProxyMatches(host: string, port: number, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const name = host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    let entryPort: number | undefined;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.startsWith("[") ? entry.replace(/^\[(.*)\](:\d+)?$/, "$1$2") : entry);
    if (m !== null && m[2] !== undefined && !entry.includes("::")) {
      entry = m[1] ?? entry;
      entryPort = Number(m[2]);
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    entry = entry.replace(/^\*?\./, "");
    if (name === entry || name.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/**
 * The proxy URL for a target URL under the environment, or undefined to go direct. `https:` targets
 * use `https_proxy`/`HTTPS_PROXY`, falling back to `http_proxy`/`HTTP_PROXY`, as undici does; `NO_PROXY`
 * (or `no_proxy`) wins over both.
 *
 * @example
 * ```ts
 * proxyUrlFor(new URL("https://eks.eu-west-1.amazonaws.com/"), { HTTPS_PROXY: "http://proxy:3128" }); // "http://proxy:3128"
 * ```
 */
export function proxyUrlFor(target: URL, env: Env): string | undefined {
  const secure = target.protocol === "https:";
  const http = pick(env, "http_proxy", "HTTP_PROXY");
  const proxy = secure ? (pick(env, "https_proxy", "HTTPS_PROXY") ?? http) : http;
  if (proxy === undefined) return undefined;
  const port = target.port === "" ? (secure ? 443 : 80) : Number(target.port);
  if (noProxyMatches(target.hostname, port, pick(env, "no_proxy", "NO_PROXY"))) return undefined;
  return proxy;
}

/**
 * Whether a host name is this machine's loopback: `localhost` (and names under it), 127.0.0.0/8,
 * `::1`, and IPv4-mapped loopback. Given with or without IPv6 brackets.
 *
 * @example
 * ```ts
 * isLoopbackHostname("[::1]"); // true
 * ```
 */
export function isLoopbackHostname(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost") || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::1" || /^(?:0:){5}ffff:127\./.test(h) || /^::ffff:127\./.test(h) || h === "::ffff:7f00:1";
}

/**
 * {@link proxyUrlFor} for a call that carries a broker token: never through a proxy to this machine's
 * loopback (as Go's `http.ProxyFromEnvironment` decides for every request), so a token for a local
 * broker is not sent, in clear over `http://`, to whatever HTTP_PROXY names.
 *
 * @example
 * ```ts
 * brokerProxyUrlFor(new URL("http://127.0.0.1:8750"), { HTTP_PROXY: "http://proxy:3128" }); // undefined
 * ```
 */
export function brokerProxyUrlFor(target: URL, env: Env): string | undefined {
  return isLoopbackHostname(target.hostname) ? undefined : proxyUrlFor(target, env);
}
