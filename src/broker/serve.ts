/**
 * Starting a broker: the checks that refuse before anything is served (listen address without TLS,
 * unreadable TLS files, a missing or wrong master key, a newer schema, a taken port), the master key
 * (environment, else file; created on the first start of an embedded store), the store and its
 * migrations, then the HTTP(S) listener.
 */
import { randomBytes } from "node:crypto";
import { existsSync, openSync, readFileSync, statSync, writeSync, closeSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import type { FastifyInstance } from "fastify";
import { ConfigFileError, CredentialsError, UsageError } from "../lib/errors.js";
import type { AuditPruner } from "./audit-retention.js";
import { LoginRequests } from "./login-requests.js";
import { Sweeper } from "./sweeper.js";
import type { CloudGatewayOptions } from "./cloud.js";
import type { BrokerContext } from "./context.js";
import type { OidcSettings } from "./oidc.js";
import { keyCheckValue, masterKeyId, parseMasterKeyring } from "./sealing.js";
import { migrateStore } from "./store/migrations.js";
import { makeFoldersSync, openStore, parseStoreLocation, storeProblem, type OpenStore, type StoreLocation } from "./store/open.js";
import { BrokerStore } from "./store/store.js";
import { hashBrokerToken, newBrokerToken } from "./tokens.js";

/** The default listen address. */
export const DEFAULT_LISTEN = "127.0.0.1:8750";

/** Options of {@link startBroker}: what `kubeiam serve` passes from its flags and environment. */
export interface StartBrokerOptions {
  /** `sqlite:PATH` or `postgres://…`; `sqlite:~/.kubeiam/broker.db` by default. */
  db?: string;
  /** `HOST:PORT`; {@link DEFAULT_LISTEN} by default; port 0 takes a free one. */
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** The master key file; `~/.kubeiam/master.key` by default. */
  masterKeyFile?: string;
  /** The master key in Base64 (`KUBEIAM_MASTER_KEY`); wins over the file. */
  masterKey?: string;
  /** The URL users reach the broker at; the listen address by default. */
  publicUrl?: string;
  /** Allow plain HTTP on a non-loopback address. */
  insecureHttp?: boolean;
  /** `--trust-proxy CIDR[,CIDR]`: proxies whose X-Forwarded-For names the client. */
  trustProxy?: string;
  /** Token requests per user per second. */
  rateLimit?: number;
  /** Audit rows older than this (ms) are removed in small batches off the request path; kept forever when absent. */
  auditRetentionMs?: number;
  /** How often a retention pass runs (tests); see AuditPruner. */
  auditPruneIntervalMs?: number;
  /** How often expired sessions and sign-ins are swept (tests); a minute by default. */
  sweepIntervalMs?: number;
  /** The home folder for `~`. */
  home: string;
  /** The folder relative paths start from. */
  cwd: string;
  /** Where JSON logs go; stderr by default, `false` for none. */
  logStream?: NodeJS.WritableStream | false;
  /** This instance's name in audit rows. */
  instance?: string;
  /** Cloud endpoints (tests, private clouds). */
  cloud?: Omit<CloudGatewayOptions, "now">;
  /** Lifetime of a session's access token, ms (`--session-ttl`). */
  sessionTtlMs?: number;
  /** A session's hard end, ms (`--session-max`). */
  sessionMaxMs?: number;
  /** The longest granted access is kept, ms (see access-cache.ts); BROKER.md's second by default. For tests. */
  accessCacheMs?: number;
  /** Sign-in through an identity provider (`--oidc-issuer`, `--oidc-client-id`, the secret, claims). */
  oidc?: OidcSettings;
  now?: () => number;
}

/** A running broker. */
export interface RunningBroker {
  /** Where it listens (`http://127.0.0.1:PORT` or `https://…`). */
  url: string;
  /** The store, without any password. */
  db: string;
  /** The bootstrap admin's token, only when this start created it. */
  adminToken?: string;
  app: FastifyInstance;
  ctx: BrokerContext;
  /** Stops accepting, finishes requests in flight, commits pending audit rows, closes the store. */
  close(): Promise<void>;
}

/**
 * Parses `HOST:PORT` (`[::1]:8750` for IPv6).
 *
 * @example
 * ```ts
 * parseListen("0.0.0.0:8750"); // { host: "0.0.0.0", port: 8750 }
 * ```
 */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) throw new UsageError(`serve: --listen ${JSON.stringify(value)} is not HOST:PORT: write for example 127.0.0.1:8750, or port 0 for a free one`);
  return { host: m[1] ?? m[2] ?? "", port };
}

/**
 * Checks `--public-url`: an absolute `http://` or `https://` URL with a host, perhaps a path, and
 * nothing a kubeconfig or cb-spider's `sh -c` script would carry wrongly (spaces, quotes, `$`, user
 * credentials, a query or a fragment). Returns it without a trailing slash.
 *
 * @example
 * ```ts
 * parsePublicUrl("https://broker.example.com/"); // "https://broker.example.com"
 * ```
 */
export function parsePublicUrl(value: string): string {
  const refuse = (why: string): never => {
    throw new UsageError(`serve: --public-url ${JSON.stringify(value.slice(0, 80))} ${why}: give the absolute URL people reach the broker at, for example https://broker.example.com`);
  };
  if (!/^https?:\/\//i.test(value)) refuse("is not an http:// or https:// URL");
  const rest = value.slice(value.indexOf("//") + 2);
  if (rest === "" || rest.startsWith("/")) refuse("names no host");
  if (!/^[A-Za-z0-9.:[\]_~%/-]+$/.test(rest)) refuse("has characters a URL in a kubeconfig may not carry (a space, quote, $, ?, #, @ or a control character)");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse("is not a URL");
  }
  return url.href.replace(/\/+$/, "");
}

function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function readTlsFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigFileError(path, `serve: cannot read ${flag} ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"}): give a readable PEM file`, { cause });
  }
}

/**
 * Reads the master key file (a key, or a keyring "new,old"), or creates it (0600, random) when
 * `mayCreate` (the first start of an embedded store). Like ssh with a private key, a key file that
 * others may read is refused.
 */
function masterKeyFromFile(path: string, mayCreate: boolean, location: StoreLocation): Buffer[] {
  if (existsSync(path)) {
    let text: string;
    let mode: number;
    try {
      mode = statSync(path).mode;
      text = readFileSync(path, "utf8");
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === "EISDIR") throw new CredentialsError(`the master key file ${path} is a folder: give the key file's own path`, { cause });
      throw new CredentialsError(`cannot read the master key file ${path} (${code ?? "error"}): fix its permissions`, { cause });
    }
    if ((mode & 0o077) !== 0) {
      throw new CredentialsError(`the master key file ${path} may be read by others (mode ${(mode & 0o777).toString(8).padStart(4, "0")}): make it the owner's only with 'chmod 600 ${path}'`);
    }
    return parseMasterKeyring(text, `the master key file ${path}`);
  }
  if (!mayCreate) {
    if (location.dialect === "postgres") {
      throw new CredentialsError(
        `the master key file ${path} does not exist: give the file every instance shares, or create one for a new database with 'head -c 32 /dev/urandom | base64 > ${path}; chmod 600 ${path}' (or set KUBEIAM_MASTER_KEY)`,
      );
    }
    // Not "holds sealed keys": a database made by an earlier start may hold no credential yet, but its
    // key check was written under the key it was created with, and only that key opens it.
    throw new CredentialsError(
      `the master key file ${path} does not exist, and ${location.display} is not a new database: give the master key it was created with (KUBEIAM_MASTER_KEY or --master-key-file); a key file is made only on a new database's first start`,
    );
  }
  const key = randomBytes(32);
  try {
    makeFoldersSync(dirname(path), 0o700);
  } catch (cause) {
    throw new CredentialsError(`cannot create the folder of the master key file ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"}): pick a writable place with --master-key-file`, { cause });
  }
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, `${key.toString("base64")}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return [key];
}

/**
 * The master keyring for a store, as `serve` and `serve rekey` take it: `KUBEIAM_MASTER_KEY` (one key
 * or "new,old"), which wins, else the key file (the same forms; `~/.kubeiam/master.key` by default,
 * created on the first start of an embedded store when `mayCreate`). PostgreSQL needs it given.
 *
 * @example
 * ```ts
 * const [sealing, ...retired] = masterKeyringFor({ masterKey: env.KUBEIAM_MASTER_KEY, home }, location, true);
 * ```
 */
export function masterKeyringFor(options: { masterKey?: string; masterKeyFile?: string; home: string }, location: StoreLocation, mayCreate: boolean): Buffer[] {
  if (options.masterKey !== undefined && options.masterKey !== "") return parseMasterKeyring(options.masterKey, "KUBEIAM_MASTER_KEY");
  if (location.dialect === "postgres" && options.masterKeyFile === undefined) {
    throw new CredentialsError("serve: a PostgreSQL store needs the master key that every instance shares: set KUBEIAM_MASTER_KEY or give --master-key-file");
  }
  const file = options.masterKeyFile ?? join(options.home, ".kubeiam", "master.key");
  const newStore = location.dialect === "sqlite" && (!existsSync(location.path) || statSync(location.path).size === 0);
  return masterKeyFromFile(file, mayCreate && newStore, location);
}

/** `scheme://host[:port]` from a Host header, when it is a plain host name or address. */
function hostUrl(scheme: string, host: string | undefined): string | undefined {
  if (host === undefined || !/^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/.test(host)) return undefined;
  return `${scheme}://${host}`;
}

/**
 * Starts a broker and resolves once it listens; rejects, having served nothing and left the store
 * as it was, on every refusal listed in BROKER.md.
 *
 * @example
 * ```ts
 * const broker = await startBroker({ db: "sqlite:/tmp/b.db", listen: "127.0.0.1:0", home, cwd });
 * console.log(broker.url, broker.adminToken);
 * await broker.close();
 * ```
 */
export async function startBroker(options: StartBrokerOptions): Promise<RunningBroker> {
  const { host, port } = parseListen(options.listen ?? DEFAULT_LISTEN);
  const publicUrl = options.publicUrl === undefined ? undefined : parsePublicUrl(options.publicUrl);
  const trustProxy = options.trustProxy === undefined ? undefined : (await import("./client-address.js")).parseTrustProxy(options.trustProxy);
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new UsageError("serve: --tls-cert and --tls-key go together: give both, or neither for plain HTTP on loopback");
  }
  const tls = options.tlsCert === undefined || options.tlsKey === undefined ? undefined : { cert: readTlsFile("--tls-cert", options.tlsCert), key: readTlsFile("--tls-key", options.tlsKey) };
  if (tls === undefined && !isLoopbackHost(host) && options.insecureHttp !== true) {
    throw new UsageError(`serve: listening on ${host} without TLS would send broker and cluster tokens in clear: give --tls-cert and --tls-key, or --insecure-http if a TLS proxy sits in front`);
  }
  if (options.rateLimit !== undefined && (!Number.isInteger(options.rateLimit) || options.rateLimit < 1)) {
    throw new UsageError("serve: --rate-limit takes a whole number of token requests per user per second, at least 1");
  }
  const location = parseStoreLocation(options.db ?? "sqlite:~/.kubeiam/broker.db", { home: options.home, cwd: options.cwd });
  const keyring = masterKeyringFor(options, location, true);
  const masterKey = keyring[0] as Buffer;

  // The identity provider's discovery document and keys, before anything opens: a wrong issuer or an
  // unreachable provider is one line at start, not a failure at the first sign-in.
  const oidc = options.oidc === undefined ? undefined : await (await import("./oidc.js")).discoverRelyingParty(options.oidc);

  const store: OpenStore = await openStore(location);
  let app: FastifyInstance | undefined;
  try {
    const bootstrap = newBrokerToken();
    const now = options.now ?? Date.now;
    const migrated = await migrateStore(store.db, {
      dialect: store.dialect,
      keyCheck: keyCheckValue(masterKey),
      keyChecks: keyring.map(keyCheckValue),
      keyIds: keyring.map(masterKeyId),
      bootstrapTokenHash: hashBrokerToken(bootstrap),
      now: new Date(now()),
    }).catch((error: unknown) => {
      throw storeProblem(error, store.display);
    });
    const scheme = tls === undefined ? "http" : "https";
    // Listening on every address, the listen URL (0.0.0.0) is no address a user can reach.
    const wildcard = host === "0.0.0.0" || host === "::";
    let url = "";
    // Loaded only now: the refusals above answer without paying for Fastify and the clouds.
    const { createBrokerApp } = await import("./server.js");
    const built = await createBrokerApp({
      store: new BrokerStore(store.db, store.dialect, {
        snapshot: store.snapshot,
        ...(store.auditSink === undefined ? {} : { auditSink: store.auditSink }),
        ...(store.accessFeed === undefined ? {} : { accessFeed: store.accessFeed }),
      }),
      masterKey,
      retiredKeys: keyring.slice(1),
      publicUrl: (req) => publicUrl ?? (wildcard && req !== undefined ? hostUrl(scheme, req.headers.host) : undefined) ?? url,
      now,
      ...(options.instance === undefined ? {} : { instance: options.instance }),
      ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
      ...(trustProxy === undefined ? {} : { trustProxy }),
      ...(tls === undefined ? {} : { https: tls }),
      ...(options.logStream === undefined ? {} : { logStream: options.logStream }),
      ...(options.cloud === undefined ? {} : { cloud: options.cloud }),
      ...(options.sessionTtlMs === undefined ? {} : { sessionTtlMs: options.sessionTtlMs }),
      ...(options.sessionMaxMs === undefined ? {} : { sessionMaxMs: options.sessionMaxMs }),
      ...(options.accessCacheMs === undefined ? {} : { accessCacheMs: options.accessCacheMs }),
      ...(oidc === undefined ? {} : { oidc }),
    });
    app = built.app;
    try {
      await app.listen({ host, port });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") throw new UsageError(`serve: ${host}:${port} is taken by another program: pick another --listen port, or 0 for a free one`, { cause });
      if (code === "EADDRNOTAVAIL") throw new UsageError(`serve: ${host} is not an address of this machine: pick one of its addresses for --listen`, { cause });
      if (code === "EACCES") throw new UsageError(`serve: no permission to listen on port ${port}: pick one above 1023`, { cause });
      throw cause;
    }
    const address = app.server.address();
    const boundPort = typeof address === "object" && address !== null ? address.port : port;
    url = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${boundPort}`;
    const running = app;
    const ctx = built.ctx;
    let pruner: AuditPruner | undefined;
    if (options.auditRetentionMs !== undefined) {
      const { AuditPruner } = await import("./audit-retention.js");
      const log = running.log;
      pruner = new AuditPruner(ctx.store, {
        retentionMs: options.auditRetentionMs,
        now,
        ...(options.auditPruneIntervalMs === undefined ? {} : { intervalMs: options.auditPruneIntervalMs }),
        onPruned: (rows) => log.info({ rows }, "audit retention: old rows removed"),
        onError: (e) => log.warn({ err: { type: (e as Error).name, message: (e as Error).message } }, "audit retention: a pass failed; the next one tries again"),
      });
      pruner.start();
    }
    // Expired sessions and sign-ins leave the store on a timer, not on anyone's request.
    const sweepLog = running.log;
    const requests = new LoginRequests(ctx.store.db, ctx.masterKeys, ctx.now);
    const sweeper = new Sweeper(
      { sessions: () => ctx.sessions.sweep(), loginRequests: () => requests.sweep() },
      {
        ...(options.sweepIntervalMs === undefined ? {} : { intervalMs: options.sweepIntervalMs }),
        onSwept: (removed) => sweepLog.info(removed, "sweep: expired sessions and sign-ins removed"),
        onError: (e) => sweepLog.warn({ err: { type: (e as Error).name, message: (e as Error).message } }, "sweep: a pass failed; the next one tries again"),
      },
    );
    sweeper.start();
    let closing: Promise<void> | undefined;
    return {
      url,
      db: store.display,
      ...(migrated.createdAdmin ? { adminToken: bootstrap } : {}),
      app: running,
      ctx,
      close: () =>
        (closing ??= (async () => {
          await pruner?.stop();
          await sweeper.stop();
          await running.close();
          await ctx.audit.flush();
          await store.close();
        })()),
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}
