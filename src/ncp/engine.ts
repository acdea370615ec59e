/**
 * NKS as the broker sees it (the `CloudEngine` contract of `../cloud-engine.ts`): an NCP API key
 * (access key, secret key, optional API gateway URL) held per credential; a cluster located by region
 * and cluster UUID, looked up through the signed NKS API; tokens minted locally with the key.
 */
import type { CloudEngine, EngineObjectSchema, HeldCredential } from "../cloud-engine.js";
import type { ClusterProvider, ClusterRef } from "../cluster-info.js";
import { InvalidInputError } from "../lib/errors.js";
import { DEFAULT_NCP_API_URL } from "./credentials.js";
import { createNcpProvider } from "./provider.js";

/** An NCP API key as the broker holds it. */
export interface NcpEngineSecrets {
  accessKey: string;
  secretKey: string;
  apiUrl?: string;
}

/** Where an NKS cluster is: its typed reference. */
export type NcpLocator = Extract<ClusterRef, { cloud: "ncp" }>;

/** How many providers (one per credential and region) to keep before starting over. */
const MAX_PROVIDERS = 1000;

const SECRET = { type: "string", minLength: 1, maxLength: 4096 } as const;
const ID = { type: "string", minLength: 1, maxLength: 255 } as const;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

const CREDENTIAL_SCHEMA: EngineObjectSchema = {
  type: "object",
  additionalProperties: false,
  required: ["accessKey", "secretKey"],
  properties: { accessKey: SECRET, secretKey: SECRET, apiUrl: { type: "string", minLength: 1, maxLength: 2048 } },
};

const LOCATOR_SCHEMA: EngineObjectSchema = { type: "object", additionalProperties: false, required: ["clusterUuid"], properties: { clusterUuid: ID } };

function str(block: Record<string, unknown>, field: string): string | undefined {
  const v = block[field];
  return typeof v === "string" ? v : undefined;
}

/**
 * The NKS engine.
 *
 * @example
 * ```ts
 * const runtime = ncpEngine.start({ now: Date.now });
 * const { token } = await runtime.mint(held, { region: "KR", clusterUuid });
 * ```
 */
export const ncpEngine: CloudEngine<NcpEngineSecrets, NcpLocator> = {
  id: "ncp",
  title: "NAVER Cloud NKS",
  credentialSchema: CREDENTIAL_SCHEMA,
  checkCredential(block) {
    const accessKey = str(block, "accessKey") ?? "";
    const secretKey = str(block, "secretKey") ?? "";
    const apiUrl = str(block, "apiUrl");
    if (apiUrl !== undefined) {
      let url: URL;
      try {
        url = new URL(apiUrl);
      } catch {
        throw new InvalidInputError("apiUrl", "ncp.apiUrl is not a URL: give the API gateway, for example https://ncloud.apigw.ntruss.com");
      }
      if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
        throw new InvalidInputError("apiUrl", "ncp.apiUrl must be an https URL (plain http only on loopback)");
      }
    }
    return { accessKey, secretKey, ...(apiUrl === undefined ? {} : { apiUrl: apiUrl.replace(/\/+$/, "") }) };
  },
  credentialSummary: (s) => ({ apiUrl: s.apiUrl ?? DEFAULT_NCP_API_URL }),
  locatorSchema: LOCATOR_SCHEMA,
  locatorFields: "ncp.clusterUuid",
  locate: (block, region) => ({ cloud: "ncp", region, clusterUuid: str(block, "clusterUuid") ?? "" }),
  parseLocator(json) {
    const o = json as Partial<NcpLocator> | null;
    if (o?.cloud !== "ncp" || typeof o.region !== "string" || typeof o.clusterUuid !== "string") throw new InvalidInputError("locator", "the stored NKS cluster locator is not {cloud: ncp, region, clusterUuid}");
    return { cloud: "ncp", region: o.region, clusterUuid: o.clusterUuid };
  },
  locatorId: (where) => where.clusterUuid,
  locatorFromInfo: (info) => (info.ref?.cloud === "ncp" ? info.ref : { cloud: "ncp", region: info.region, clusterUuid: info.id }),
  start(options) {
    const http = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
    const credentialsOf = (s: NcpEngineSecrets) => ({ accessKey: s.accessKey, secretKey: s.secretKey, apiUrl: s.apiUrl ?? DEFAULT_NCP_API_URL });
    // A provider per credential and region holds its key's signer and the clusters it parsed, so a
    // mint is an HMAC and a few concatenations.
    const providers = new Map<string, ClusterProvider>();
    const providerFor = (credential: HeldCredential<NcpEngineSecrets>, region: string): ClusterProvider => {
      const key = `${credential.cacheKey}|${region}`;
      let p = providers.get(key);
      if (p === undefined) {
        p = createNcpProvider({ region, credentials: credentialsOf(credential.secrets()), now: options.now, ...http });
        if (providers.size >= MAX_PROVIDERS) providers.clear();
        providers.set(key, p);
      }
      return p;
    };
    return {
      lookup: (credential, where) => providerFor(credential, where.region).getCluster(where.clusterUuid, { mode: "exec" }),
      mint: (credential, where) => providerFor(credential, where.region).mintToken(where),
    };
  },
  cli: {
    credentialHelp: `NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY, or --stdin with {"accessKey","secretKey","apiUrl"?};
       the gateway is --api-url, else NCLOUD_API_GW (said on stderr), else the default`,
    credentialFlags: [{ name: "api-url", value: "URL", help: "the NCP API gateway (add, update; ncp)" }],
    async credentialBlock(flags, sources, fromStdin) {
      const block: Record<string, unknown> = fromStdin
        ? await sources.stdinJson('{"accessKey","secretKey"}')
        : { accessKey: sources.env("NCLOUD_ACCESS_KEY_ID", "NCLOUD_ACCESS_KEY"), secretKey: sources.env("NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_SECRET_KEY") };
      if (block.accessKey === undefined || block.secretKey === undefined) {
        throw new InvalidInputError("keys", "NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY are not set: export them, or pipe the keys as JSON with --stdin (never as arguments)");
      }
      const given = flags["api-url"];
      if (typeof given === "string") return { ...block, apiUrl: given };
      if (fromStdin) return block;
      // The gateway goes with the keys taken from the environment, said out loud: an admin's shell
      // may hold NCLOUD_API_GW for other work, and the broker keeps what it is given.
      const fromEnv = sources.env("NCLOUD_API_GW");
      if (fromEnv === undefined) {
        sources.note(`ncp.apiUrl: the default gateway ${DEFAULT_NCP_API_URL} (give --api-url URL for another)`);
        return block;
      }
      sources.note(`ncp.apiUrl: ${fromEnv}, taken from NCLOUD_API_GW (give --api-url URL to choose explicitly)`);
      return { ...block, apiUrl: fromEnv };
    },
    clusterFlags: [{ name: "cluster-uuid", value: "UUID", help: "an NKS cluster's UUID" }],
    clusterBlock: (flags) => (typeof flags["cluster-uuid"] === "string" ? { clusterUuid: flags["cluster-uuid"] } : undefined),
  },
};
