/**
 * An `https.Agent` for clients that do not use our fetch edge (the AWS SDK): it honours
 * `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` with the same precedence as undici's `EnvHttpProxyAgent`
 * (so every outbound call of kubeiam takes the same route), tunnelling with CONNECT, and trusts the
 * extra CA bundles it is given (`AWS_CA_BUNDLE`) on top of Node's roots and `NODE_EXTRA_CA_CERTS`.
 */
import { Agent as HttpAgent, type ClientRequest } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { rootCertificates } from "node:tls";
import { Agent as AgentBase, type AgentConnectOpts } from "agent-base";
import { HttpsProxyAgent } from "https-proxy-agent";
import { ConfigFileError, KubeiamError, UsageError } from "./errors.js";
import { readUserFile } from "./read-file.js";

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
 * The CA certificates to trust: Node's roots, `NODE_EXTRA_CA_CERTS` and each extra bundle (PEM files),
 * or undefined when there is no extra bundle (Node's default store already holds `NODE_EXTRA_CA_CERTS`).
 * An unreadable or empty bundle is a {@link ConfigFileError} naming the variable.
 *
 * @example
 * ```ts
 * const ca = await trustedCas(process.env, [{ path: "/etc/corp-ca.pem", from: "AWS_CA_BUNDLE" }]);
 * ```
 */
export async function trustedCas(env: Env, bundles: { path: string; from: string }[]): Promise<string[] | undefined> {
  if (bundles.length === 0) return undefined;
  const out = [...rootCertificates];
  const extra = env.NODE_EXTRA_CA_CERTS?.trim();
  const all = extra ? [...bundles, { path: extra, from: "NODE_EXTRA_CA_CERTS" }] : bundles;
  for (const { path, from } of all) {
    let text: string;
    try {
      text = (await readUserFile(path, { what: `${from} bundle` })).text;
    } catch (cause) {
      if (cause instanceof KubeiamError) throw cause;
      const code = (cause as NodeJS.ErrnoException).code ?? "error";
      throw new ConfigFileError(path, `${from} names ${path}, which cannot be read (${code}): point it at a PEM file of CA certificates`, { cause });
    }
    const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) {
      throw new ConfigFileError(path, `${from} names ${path}, which holds no PEM certificate: point it at a PEM file of CA certificates`);
    }
    out.push(...pems);
  }
  return out;
}

/**
 * An agent that picks, per request, a CONNECT tunnel through the environment's proxy or a direct
 * connection, and verifies servers against `ca` when given.
 */
class EnvProxyAgent extends AgentBase {
  readonly #env: Env;
  readonly #ca: string[] | undefined;
  readonly #tunnels = new Map<string, HttpsProxyAgent<string>>();
  readonly #directHttps: HttpsAgent;
  readonly #directHttp: HttpAgent;

  constructor(env: Env, ca: string[] | undefined) {
    // `ca` among this agent's own options reaches the TLS connection that the tunnel opens to the target.
    super({ keepAlive: true, ...(ca === undefined ? {} : { ca }) } as ConstructorParameters<typeof HttpAgent>[0]);
    this.#env = env;
    this.#ca = ca;
    this.#directHttps = new HttpsAgent({ keepAlive: true, ...(ca === undefined ? {} : { ca }) });
    this.#directHttp = new HttpAgent({ keepAlive: true });
  }

  override connect(req: ClientRequest, opts: AgentConnectOpts): HttpAgent {
    const scheme = opts.secureEndpoint ? "https:" : "http:";
    const host = req.host ?? opts.host ?? "localhost";
    const target = new URL(`${scheme}//${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${opts.port}`);
    const proxy = proxyUrlFor(target, this.#env);
    if (proxy === undefined) return opts.secureEndpoint ? this.#directHttps : this.#directHttp;
    let tunnel = this.#tunnels.get(proxy);
    if (tunnel === undefined) {
      try {
        tunnel = new HttpsProxyAgent(proxy, { keepAlive: true, ...(this.#ca === undefined ? {} : { ca: this.#ca }) });
      } catch (cause) {
        throw new UsageError(`the proxy URL in HTTPS_PROXY/HTTP_PROXY is not a URL: set it like http://proxy.example:3128`, { cause });
      }
      this.#tunnels.set(proxy, tunnel);
    }
    return tunnel;
  }

  override destroy(): void {
    for (const t of this.#tunnels.values()) t.destroy();
    this.#directHttps.destroy();
    this.#directHttp.destroy();
    super.destroy();
  }
}

/**
 * An `http.Agent` for `https:` and `http:` requests made with `node:http(s)` (the AWS SDK's
 * `NodeHttpHandler`), routed by `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` and trusting `ca` when given.
 *
 * @example
 * ```ts
 * const agent = createEnvProxyAgent(process.env, await trustedCas(process.env, []));
 * new NodeHttpHandler({ httpsAgent: agent, httpAgent: agent });
 * ```
 */
export function createEnvProxyAgent(env: Env, ca?: string[]): HttpAgent {
  return new EnvProxyAgent(env, ca);
}
