/**
 * The request handler of every AWS SDK client kubeiam makes (EKS, STS, SSO): Node's http(s) through
 * an agent that honours HTTPS_PROXY / NO_PROXY (the SDK itself ignores them) and trusts
 * `AWS_CA_BUNDLE` (which the JavaScript SDK ignores too) besides Node's roots and `NODE_EXTRA_CA_CERTS`.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { FetchLike } from "../lib/http.js";
import { createEnvProxyAgent, trustedCas } from "../lib/proxy-agent.js";

/**
 * A `requestHandler` for AWS SDK clients, routed and trusting as the environment says.
 *
 * @example
 * ```ts
 * const client = new EKSClient({ region, credentials, requestHandler: await awsRequestHandler(process.env) });
 * ```
 */
export async function awsRequestHandler(env: Record<string, string | undefined>): Promise<NodeHttpHandler> {
  const bundle = env.AWS_CA_BUNDLE?.trim();
  const ca = await trustedCas(env, bundle ? [{ path: bundle, from: "AWS_CA_BUNDLE" }] : []);
  const agent = createEnvProxyAgent(env, ca);
  return new NodeHttpHandler({ httpAgent: agent, httpsAgent: agent, connectionTimeout: 10_000, requestTimeout: 15_000 });
}

/**
 * A fetch-like function over `node:https` with the same agent as {@link awsRequestHandler}, for the
 * AWS calls kubeiam makes without the SDK (the presigned GetCallerIdentity of `inspect --verify`),
 * so that HTTPS_PROXY, NO_PROXY and AWS_CA_BUNDLE reach them too.
 *
 * @example
 * ```ts
 * const res = await sendHttpRequest({ method: "GET", url, headers }, { fetch: await awsFetch(process.env) });
 * ```
 */
export async function awsFetch(env: Record<string, string | undefined>): Promise<FetchLike> {
  const bundle = env.AWS_CA_BUNDLE?.trim();
  const agent = createEnvProxyAgent(env, await trustedCas(env, bundle ? [{ path: bundle, from: "AWS_CA_BUNDLE" }] : []));
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(target, { method: init.method, headers: init.headers, agent, signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            headers: { get: (name: string) => { const v = res.headers[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v; } },
            text: async () => text,
          });
        });
      });
      req.on("error", reject);
      req.end(init.body);
    });
}
