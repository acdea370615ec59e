/**
 * The broker's one door to the clouds, through the engines of `engines.ts`: looking a cluster up when
 * it is registered, and minting its tokens afterwards, with a credential that is an argument (the
 * cluster's own, or a grant's). It knows no cloud: each engine keeps its own clients and caches (an
 * assumed role's keys, a GKE access token), keyed by the credential row and its sealed bytes, and the
 * opened secrets are kept per such key so a token request decrypts nothing it decrypted before.
 */
import type { EngineOptions, HeldCredential } from "../cloud-engine.js";
import type { ClusterInfo, MintedToken } from "../cluster-info.js";
import { ENGINES } from "./engines.js";
import { BrokerReason, BrokerRefusal } from "./errors.js";

/** Options of {@link CloudGateway}: the clock, and where the engines' clients go (tests, private clouds). */
export type CloudGatewayOptions = EngineOptions;

/** How many opened credentials to keep before starting over. */
const MAX_OPENED = 1000;

/** A credential the gateway may use: its engine, its identity for caches, and how to open it. */
export interface GatewayCredential {
  provider: string;
  /** The credential row and its sealed bytes (`id|sealed`): a cache entry serves only these very secrets. */
  cacheKey: string;
  /** Opens the secrets (a decryption); called once per cache entry. */
  open(): unknown;
  /** The broker user the token is for (see `HeldCredential.person`). */
  person?: string;
}

/**
 * Looks clusters up and mints their tokens through the registered engines.
 *
 * @example
 * ```ts
 * const cloud = new CloudGateway({ now: Date.now });
 * const info = await cloud.lookup(credential, locator);
 * const { token, expiresAt } = await cloud.mint(credential, locator);
 * ```
 */
export class CloudGateway {
  readonly #runtimes: Map<string, ReturnType<(typeof ENGINES)[number]["start"]>>;
  readonly #opened = new Map<string, unknown>();

  constructor(options: CloudGatewayOptions) {
    this.#runtimes = new Map(ENGINES.map((e) => [e.id, e.start(options)]));
  }

  /** The cluster as its cloud describes it (without the kubeconfig the cloud's tools would write). */
  async lookup(credential: GatewayCredential, locator: unknown): Promise<ClusterInfo> {
    const info = await this.#runtime(credential.provider).lookup(this.#held(credential), locator);
    // The kubeconfig the cloud's tools would write is not ours to keep: the broker writes its own.
    const { kubeconfig: _dropped, mode: _mode, ...access } = info.access;
    return { ...info, access };
  }

  /** A token for the located cluster, minted with `credential`. */
  async mint(credential: GatewayCredential, locator: unknown): Promise<MintedToken> {
    return this.#runtime(credential.provider).mint(this.#held(credential), locator);
  }

  #runtime(provider: string) {
    const runtime = this.#runtimes.get(provider);
    if (runtime === undefined) throw new BrokerRefusal(400, BrokerReason.BAD_REQUEST, `provider ${JSON.stringify(provider)} is not one this broker serves: use ${ENGINES.map((e) => e.id).join(", ")}`);
    return runtime;
  }

  #held(credential: GatewayCredential): HeldCredential<unknown> {
    const key = credential.cacheKey;
    return {
      cacheKey: key,
      ...(credential.person === undefined ? {} : { person: credential.person }),
      secrets: () => {
        if (this.#opened.has(key)) return this.#opened.get(key);
        const opened = credential.open();
        if (this.#opened.size >= MAX_OPENED) this.#opened.clear();
        this.#opened.set(key, opened);
        return opened;
      },
    };
  }
}

