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
import { proxyUrlFor } from "./proxy-env.js";

// The routing rules live in ./proxy-env.js, which imports nothing, so light clients can ask first.
export { noProxyMatches, proxyUrlFor } from "./proxy-env.js";

type Env = Record<string, string | undefined>;

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
