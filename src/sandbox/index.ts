/**
 * The sandbox: a local NCP API gateway (plain HTTP on 127.0.0.1) and, for each running cluster, an
 * HTTPS Kubernetes endpoint with a certificate from a CA made at start. Everything is checked for
 * real: gateway signatures and timestamps, token signatures, clocks, cluster UUIDs and stages.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { UsageError } from "../lib/errors.js";
import { logLine } from "../lib/printable.js";
import { DEFAULT_SANDBOX_CLUSTERS, makeSandboxCluster, type SandboxCluster, type SandboxClusterSpec } from "./clusters.js";
import { checkSandboxKeys, generateSandboxKey, SandboxFileProblem, type SandboxKey, type SandboxKeyFull } from "./keys.js";
import { checkSandboxMapping, type SandboxMapping } from "./mapping.js";

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** Where to listen; only loopback. */
  host?: "127.0.0.1";
  /** The gateway's port; a free one when absent or 0. */
  apiPort?: number;
  /** The key ring; the first key is the clusters' creator. One generated key when absent. */
  keys?: SandboxKey[];
  /** The `ncp-auth` identity mapping; empty when absent (only the creator gets in). */
  mapping?: SandboxMapping;
  /** The clusters; {@link DEFAULT_SANDBOX_CLUSTERS} when absent. */
  clusters?: SandboxClusterSpec[];
  /** The sandbox's clock, for the gateway's window and token ages; `Date.now` by default. */
  now?: () => number;
  /** Receives one line a request (no secrets; escaped, at most about 1000 characters); silent when absent. */
  log?: (line: string) => void;
}

/** A cluster as the start line lists it. */
export interface SandboxClusterSummary {
  uuid: string;
  name: string;
  region: string;
  status: string;
  /** `https://127.0.0.1:PORT` for a running cluster, `null` for one that has no endpoint yet. */
  endpoint: string | null;
}

/** A running sandbox. */
export interface Sandbox {
  /** The gateway URL, for `NCLOUD_API_GW`. */
  apiUrl: string;
  /** The creator's key. */
  accessKey: string;
  secretKey: string;
  /** The region of the first running cluster. */
  region: string;
  clusters: SandboxClusterSummary[];
  /** The CA of the cluster endpoints, PEM. */
  caCertPem: string;
  /** Every key of the ring, with sub account numbers and names filled in. */
  keys: SandboxKeyFull[];
  /** Stops every server and closes open connections. */
  close(): Promise<void>;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Starts a sandbox on 127.0.0.1 and resolves once every server listens.
 *
 * @example
 * ```ts
 * const sandbox = await startSandbox();
 * process.env.NCLOUD_API_GW = sandbox.apiUrl;
 * // … list clusters, mint tokens, run kubectl …
 * await sandbox.close();
 * ```
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? "127.0.0.1";
  if (host !== "127.0.0.1") throw new UsageError(`the sandbox listens on 127.0.0.1 only, not ${String(host)}`);
  const apiPort = options.apiPort ?? 0;
  if (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535) {
    throw new UsageError(`sandbox API port ${String(apiPort)} is not a port number: give 1-65535, or 0 for a free port`);
  }
  let keys: SandboxKeyFull[];
  let mapping: SandboxMapping;
  try {
    keys = options.keys === undefined ? [generateSandboxKey("sandbox-admin")] : checkSandboxKeys(options.keys);
    mapping = checkSandboxMapping(options.mapping ?? { mapSubAccounts: [] });
  } catch (e) {
    if (e instanceof SandboxFileProblem) throw new UsageError(`sandbox options: ${e.message}`, { cause: e });
    throw e;
  }
  const ring = new Map(keys.map((k) => [k.accessKey, k]));
  const keyFor = (ak: string): SandboxKeyFull | undefined => ring.get(ak);
  const creator = keys[0] as SandboxKeyFull;
  const now = options.now ?? Date.now;
  // Log lines quote requests (paths, access keys, refusal reasons): each is escaped and cut to stay one bounded line.
  const sink = options.log;
  const log = sink === undefined ? (): void => {} : (line: string): void => sink(logLine(line));
  const clusters: SandboxCluster[] = (options.clusters ?? DEFAULT_SANDBOX_CLUSTERS).map((spec) => makeSandboxCluster(spec, now()));
  // Loaded here, not on import: the CA pulls in @peculiar/x509 and reflect-metadata, and the servers
  // (HTTP, TLS, the gateway and the Kubernetes API) are needed by no one who only parses a keys file.
  const [{ createLocalCa }, { createGatewayHandler }, { createClusterHandler }, { createServer: createHttpServer }, { createServer: createHttpsServer }] =
    await Promise.all([import("./ca.js"), import("./gateway.js"), import("./kube-api.js"), import("node:http"), import("node:https")]);
  const ca = await createLocalCa("kubeiam sandbox CA");

  const servers: Server[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.map(closeServer));
  };
  try {
    for (const cluster of clusters.filter((c) => c.status === "RUNNING")) {
      const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost"], ips: ["127.0.0.1"] });
      const server = createHttpsServer({ cert: certPem, key: keyPem }, createClusterHandler({ cluster, keyFor, creator, mapping, now, log }));
      servers.push(server);
      const port = await listen(server, 0, host);
      cluster.endpoint = `https://${host}:${port}`;
    }
    const gateway = createHttpServer(createGatewayHandler({ clusters, keyFor, caCertPem: ca.certPem, now, log }));
    servers.push(gateway);
    const port = await listen(gateway, apiPort, host).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") throw new UsageError(`sandbox API port ${apiPort} is taken: pick another with --api-port, or leave it out for a free one`, { cause: e });
      throw e;
    });
    const first = clusters.find((c) => c.status === "RUNNING") ?? clusters[0];
    return {
      apiUrl: `http://${host}:${port}`,
      accessKey: creator.accessKey,
      secretKey: creator.secretKey,
      region: first?.region ?? "KR",
      clusters: clusters.map((c) => ({ uuid: c.uuid, name: c.name, region: c.region, status: c.status, endpoint: c.endpoint === "" ? null : c.endpoint })),
      caCertPem: ca.certPem,
      keys,
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

export { DEFAULT_SANDBOX_CLUSTERS } from "./clusters.js";
export type { SandboxClusterSpec } from "./clusters.js";
export type { SandboxKey, SandboxKeyFull } from "./keys.js";
export type { SandboxMapping, SandboxMappingEntry, SandboxIdentity } from "./mapping.js";
export { loadSandboxKeysFile, parseSandboxKeys, generateSandboxKey } from "./keys.js";
export { loadSandboxMappingFile, parseSandboxMapping, resolveSandboxIdentity } from "./mapping.js";
