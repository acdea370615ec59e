/**
 * The error base class of kubeiam, its stable codes, and a subclass for each family of failure.
 *
 * Every message names the problem and, where there is one, the fix, in the library's own words
 * (a cluster UUID, a region, a configure file), never a command-line flag: an error names the input
 * that failed in `field` (and its `value`, when that is no secret), and the CLI turns the field into
 * its flag. No message ever holds a secret key or a whole token: callers pass access keys and
 * cluster UUIDs only.
 */

/** Stable error codes. Programs match on these, never on message text. */
export const ErrorCode = {
  /** A flag, argument or option has a bad value or is missing. */
  USAGE: "ERR_USAGE",
  /** A cluster UUID, region code or key that would change what is signed. */
  INVALID_INPUT: "ERR_INVALID_INPUT",
  /** No credentials found, or the credentials found are unusable. */
  CREDENTIALS: "ERR_CREDENTIALS",
  /** A configuration file (configure, kubeconfig, key file) exists but cannot be read or parsed. */
  CONFIG_FILE: "ERR_CONFIG_FILE",
  /** A token is not well-formed: wrong prefix, bad Base64, bad JSON, unexpected keys. */
  TOKEN_MALFORMED: "ERR_TOKEN_MALFORMED",
  /** A token's signature does not match. */
  TOKEN_SIGNATURE: "ERR_TOKEN_SIGNATURE",
  /** A token is older than its lifetime. */
  TOKEN_EXPIRED: "ERR_TOKEN_EXPIRED",
  /** A token's timestamp lies too far in the future. */
  TOKEN_FUTURE: "ERR_TOKEN_FUTURE",
  /** A token names another cluster than the one checking it. */
  TOKEN_CLUSTER: "ERR_TOKEN_CLUSTER",
  /** A token is signed by an access key that the verifier does not know. */
  TOKEN_UNKNOWN_KEY: "ERR_TOKEN_UNKNOWN_KEY",
  /** A cloud API answered with an error status. */
  API: "ERR_API",
  /** A cloud API could not be reached, or did not answer in time. */
  NETWORK: "ERR_NETWORK",
  /** A kubeconfig cannot be built, merged or written. */
  KUBECONFIG: "ERR_KUBECONFIG",
  /** A cluster is in a state that does not allow the operation (for example still being created). */
  CLUSTER_STATE: "ERR_CLUSTER_STATE",
  /** A file cannot be locked or written safely: held by another run, read-only, or not a regular file. */
  FILE: "ERR_FILE",
  /** The broker's store cannot be opened, migrated or reached, or holds a schema from a newer kubeiam. */
  STORE: "ERR_STORE",
  /** The broker refused a request (bad token, no grant, unknown name, …); the broker's own code is in `reason`. */
  BROKER: "ERR_BROKER",
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What an error may carry besides its message. */
export interface KubeiamErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /**
   * The input that failed, by the name of the library's option (`clusterUuid`, `region`,
   * `configFile`, `kubeconfig`, …); the CLI shows the matching flag.
   */
  field?: string;
  /** The failed input's value, when it is no secret (never a key, a token or a password). */
  value?: string;
}

/**
 * The base class of every error kubeiam throws on purpose.
 *
 * @example
 * ```ts
 * try { decodeNcpToken(input) } catch (e) {
 *   if (e instanceof KubeiamError && e.code === ErrorCode.TOKEN_MALFORMED) console.error(e.message);
 * }
 * ```
 */
export class KubeiamError extends Error {
  readonly code: ErrorCodeValue;
  /** The input that failed, by the library's option name, when one input is to blame. */
  readonly field: string | undefined;
  /** That input's value, when it is no secret. */
  readonly value: string | undefined;

  constructor(code: ErrorCodeValue, message: string, options?: KubeiamErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    this.field = options?.field;
    this.value = options?.value;
  }
}

/** A flag, argument or option is missing or has a bad value (CLI exit status 2). */
export class UsageError extends KubeiamError {
  /**
   * The command whose `--help` answers the mistake (`token`, `eks update-kubeconfig`); the CLI adds
   * "run '<program> <command> --help'" with the name it was called by.
   */
  readonly help: string | undefined;

  constructor(message: string, options?: KubeiamErrorOptions & { help?: string }) {
    super(ErrorCode.USAGE, message, options);
    this.help = options?.help;
  }
}

/** An input that would change what is signed was refused (docs/formats.md §1, refused inputs). */
export class InvalidInputError extends KubeiamError {
  /** The name of the refused input, as the caller would write it (`clusterUuid`, `region`, …). */
  declare readonly field: string;

  constructor(field: string, message: string, options?: Omit<KubeiamErrorOptions, "field">) {
    super(ErrorCode.INVALID_INPUT, message, { ...options, field });
  }
}

/** No usable credentials (CLI exit status 3). */
export class CredentialsError extends KubeiamError {
  constructor(message: string, options?: KubeiamErrorOptions) {
    super(ErrorCode.CREDENTIALS, message, options);
  }
}

/** A configuration file exists but cannot be read or parsed. */
export class ConfigFileError extends KubeiamError {
  /** The path of the offending file. */
  readonly path: string;

  constructor(path: string, message: string, options?: KubeiamErrorOptions) {
    super(ErrorCode.CONFIG_FILE, message, { value: path, ...options });
    this.path = path;
  }
}

/** The failed check of a token, as a code. */
export type TokenErrorCode =
  | typeof ErrorCode.TOKEN_MALFORMED
  | typeof ErrorCode.TOKEN_SIGNATURE
  | typeof ErrorCode.TOKEN_EXPIRED
  | typeof ErrorCode.TOKEN_FUTURE
  | typeof ErrorCode.TOKEN_CLUSTER
  | typeof ErrorCode.TOKEN_UNKNOWN_KEY;

/** A token is malformed or failed one of the checks of verification. */
export class TokenError extends KubeiamError {
  constructor(code: TokenErrorCode, message: string, options?: KubeiamErrorOptions) {
    super(code, message, options);
  }
}

/** A cloud API answered with an error status. */
export class ApiError extends KubeiamError {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The cloud's own error code, when its body had one. */
  readonly apiCode: string | undefined;
  /** The cloud's own error message, when its body had one. */
  readonly apiMessage: string | undefined;

  constructor(
    message: string,
    details: { status: number; apiCode?: string | undefined; apiMessage?: string | undefined },
    options?: KubeiamErrorOptions,
  ) {
    super(ErrorCode.API, message, options);
    this.status = details.status;
    this.apiCode = details.apiCode;
    this.apiMessage = details.apiMessage;
  }
}

/**
 * A cloud refused the identity kubeiam holds something its set-up needs (a permission, an account to
 * act as): neither the caller's mistake nor an outage, but the cloud's administrator's to fix. The
 * broker answers it with 502 `cloud_denied`.
 */
export class CloudPermissionError extends ApiError {}

/** A cloud API could not be reached or did not answer in time. */
export class NetworkError extends KubeiamError {
  constructor(message: string, options?: KubeiamErrorOptions) {
    super(ErrorCode.NETWORK, message, options);
  }
}

/** A kubeconfig cannot be parsed, built, merged or written. */
export class KubeconfigError extends KubeiamError {
  constructor(message: string, options?: KubeiamErrorOptions) {
    super(ErrorCode.KUBECONFIG, message, options);
  }
}

/** Why a file could not be locked or written (see {@link FileError}). */
export type FileErrorReason =
  /** Another run holds the file's lock, and did not let go in time. */
  | "locked"
  /** The file's permission bits forbid writing, and the caller did not force it. */
  | "read-only"
  /** The path is a directory. */
  | "directory"
  /** The path is a kind of node that is never written (block device, socket), or a FIFO nobody reads. */
  | "kind"
  /** The file system refused (permissions, space, …); the `cause` holds its error. */
  | "io";

/** A file cannot be locked or written safely. The message names the path, never its content. */
export class FileError extends KubeiamError {
  /** The path the caller gave. */
  readonly path: string;
  /** Why, for callers that phrase their own message (the flag that overrides it, …). */
  readonly reason: FileErrorReason;

  constructor(path: string, reason: FileErrorReason, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.FILE, message, options);
    this.path = path;
    this.reason = reason;
  }
}

/** A cluster is in a state that does not allow the operation. */
export class ClusterStateError extends KubeiamError {
  constructor(message: string, options?: KubeiamErrorOptions) {
    super(ErrorCode.CLUSTER_STATE, message, options);
  }
}
