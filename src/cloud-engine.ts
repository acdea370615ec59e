/**
 * The contract a cloud implements for the broker, as a Vault secrets engine owns its paths: what its
 * credential holds and how it is checked, what locates one of its clusters, how to look a cluster up
 * and how to mint its token, and the CLI flags that fill both in. Each cloud's folder has one module
 * implementing it (`ncp/engine.ts`, …); the broker reads them through one registry
 * (`broker/engines.ts`) and knows no cloud's internals. Cloud-neutral: imports no cloud, no broker.
 */
import type { ClusterInfo, MintedToken } from "./cluster-info.js";

/** A JSON schema for one object block (Ajv validates request bodies with it; OpenAPI shows it). */
export interface EngineObjectSchema {
  type: "object";
  additionalProperties: false;
  required: readonly string[];
  properties: Readonly<Record<string, unknown>>;
}

/** A held credential as an engine gets it: its secrets (opened on demand) and an identity for caches. */
export interface HeldCredential<S> {
  /**
   * Names the credential row and its sealed bytes: whatever an engine keeps in memory for it (a
   * provider, an assumed role's keys, an access token) is reused only for these very secrets.
   */
  cacheKey: string;
  /** The credential's secrets; opening them costs a decryption, so engines call this once per cache entry. */
  secrets(): S;
  /**
   * The person a token is minted for (the broker user's name), when there is one. An engine whose cloud
   * can carry a name in its session does so (AWS: the assumed role's session is named after them), so
   * that the cluster's own audit log tells people apart; engines that cannot ignore it.
   */
  person?: string;
}

/** Where an engine's cloud clients go (tests and private clouds), and the clock. */
export interface EngineOptions {
  now: () => number;
  /** The EKS API endpoint; `AWS_ENDPOINT_URL_EKS` works as well. */
  eksEndpoint?: string;
  /** The STS endpoint for roles; `AWS_ENDPOINT_URL_STS` works as well. */
  stsEndpoint?: string;
  /** The environment whose proxy and CA settings the clients follow; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** The GKE container API base URL; Google's by default. */
  gkeApiUrl?: string;
  /** The IAM Credentials API base URL (service-account impersonation); Google's by default. */
  iamCredentialsUrl?: string;
  /** Milliseconds one cloud API try may take. */
  timeoutMs?: number;
}

/** What an engine's running part does with a credential and a cluster's locator. */
export interface EngineRuntime<S, L> {
  /** The cluster as its cloud describes it (no kubeconfig), looked up with the credential. */
  lookup(credential: HeldCredential<S>, where: L): Promise<ClusterInfo>;
  /**
   * A token for the cluster, minted with `credential`: the cluster's own, or another credential of
   * the same cloud (a grant's identity), so the credential is an argument, never implied.
   */
  mint(credential: HeldCredential<S>, where: L): Promise<MintedToken>;
}

/** How the CLI reads secrets for `broker credential add`: never from argv. */
export interface EngineSecretSources {
  /** The first of these environment variables that is set and not blank, trimmed. */
  env(...names: string[]): string | undefined;
  /**
   * Says something out loud on stderr with the command's answer (a setting taken from the
   * environment, say), so nothing the admin did not type is used silently.
   */
  note(line: string): void;
  /** Stdin, parsed as one JSON object (`what` names it in the error). */
  stdinJson(what: string): Promise<Record<string, unknown>>;
  /** A file named by the user, parsed as JSON (`what` names it in the error). */
  fileJson(path: string, what: string): Promise<unknown>;
}

/** One CLI flag an engine adds to `broker credential add` or `broker cluster add`. */
export interface EngineFlag {
  /** The flag without dashes (`cluster-uuid`). */
  name: string;
  /** Its value in usage lines (`UUID`). */
  value: string;
  /** One line for `--help`. */
  help: string;
}

/**
 * One cloud as the broker sees it.
 *
 * @example
 * ```ts
 * const engine = ENGINES.find((e) => e.id === "ncp");
 * const runtime = engine.start({ now: Date.now });
 * const info = await runtime.lookup(held, engine.locate({ clusterUuid }, "KR"));
 * ```
 */
export interface CloudEngine<S = unknown, L = unknown> {
  /** The provider name in REST bodies, rows and flags (`ncp`): also the name of its body blocks. */
  readonly id: string;
  /** The cloud and its Kubernetes service, for people (`NAVER Cloud NKS`). */
  readonly title: string;
  /** The credential block's schema (`{"ncp":{…}}` in `POST /v1/credentials`). */
  readonly credentialSchema: EngineObjectSchema;
  /**
   * The secrets of a credential block that passed the schema, checked further (URLs, ARNs, key
   * files); throws `InvalidInputError` whose `field` is the block's field and whose message never
   * holds a secret.
   */
  checkCredential(block: Record<string, unknown>): S;
  /**
   * What an admin may see of a held credential besides its name and provider, never a secret (an NCP
   * key's API gateway, `{ apiUrl }`; the identity a GCP or role-assuming AWS credential acts as,
   * `{ actsAs }`): fields added to its entry in `GET /v1/credentials`.
   */
  credentialSummary?(secrets: S): Record<string, string>;
  /** The cluster block's schema (`{"ncp":{"clusterUuid"}}` in `POST /v1/clusters`). */
  readonly locatorSchema: EngineObjectSchema;
  /** "send …": the fields of the cluster block, for a message that names what is missing. */
  readonly locatorFields: string;
  /** The locator of a cluster block that passed the schema, in `region`. */
  locate(block: Record<string, unknown>, region: string): L;
  /** A stored locator (JSON) read back; throws when it is not this engine's. */
  parseLocator(json: unknown): L;
  /**
   * The cluster's own id in its cloud as far as its locator tells (NKS: the UUID; EKS: the name, which
   * its API takes in place of the ARN; GKE: `projects/P/locations/L/clusters/C`): what an answer built
   * without a lookup names it by.
   */
  locatorId(where: L): string;
  /**
   * The locator of a cluster registered before locators were stored, from the ClusterInfo kept with it
   * then (the schema 6 migration reads it once, before that copy is dropped).
   */
  locatorFromInfo(info: ClusterInfo): L;
  /** Starts the running part: its clients and in-memory caches live as long as the broker. */
  start(options: EngineOptions): EngineRuntime<S, L>;
  /** The CLI's part: flags for `broker credential add` and `broker cluster add`, and how to read secrets. */
  readonly cli: {
    /** How `credential add` finds the keys, for `--help`: one or more lines. */
    readonly credentialHelp: string;
    readonly credentialFlags: readonly EngineFlag[];
    /** The credential block from flags (names, not secrets), stdin or the environment. */
    credentialBlock(flags: Readonly<Record<string, string | boolean | undefined>>, sources: EngineSecretSources, fromStdin: boolean): Promise<Record<string, unknown>>;
    readonly clusterFlags: readonly EngineFlag[];
    /** The cluster block from flags, or undefined when none of this engine's flags was given. */
    clusterBlock(flags: Readonly<Record<string, string | boolean | undefined>>): Record<string, unknown> | undefined;
  };
}
