/**
 * The broker's typed errors: a refusal with its HTTP status and stable reason code (what the REST API
 * answers as `{"error":{"code","message"}}`), and a store failure (unreachable, newer schema).
 */
import { ErrorCode, KubeiamError } from "../lib/errors.js";

/** The reason codes the REST API answers with, one per kind of refusal. */
export const BrokerReason = {
  BAD_REQUEST: "bad_request",
  UNAUTHENTICATED: "unauthenticated",
  FORBIDDEN: "forbidden",
  NO_GRANT: "no_grant",
  GRANT_ENDED: "grant_ended",
  NOT_FOUND: "not_found",
  /** The path exists, but not with this method: 405 with `Allow`. */
  METHOD_NOT_ALLOWED: "method_not_allowed",
  /** Node's HTTP parser timed out waiting for the request: 408. */
  REQUEST_TIMEOUT: "request_timeout",
  /** The request's headers are over Node's limit: 431. */
  HEADERS_TOO_LARGE: "headers_too_large",
  CONFLICT: "conflict",
  IN_USE: "in_use",
  BODY_TOO_LARGE: "body_too_large",
  RATE_LIMITED: "rate_limited",
  CLOUD_REJECTED: "cloud_rejected",
  CLOUD_UNREACHABLE: "cloud_unreachable",
  /** The cloud refused the broker's own credential a permission its set-up needs (502): the operator's to fix. */
  CLOUD_DENIED: "cloud_denied",
  /** The store (database) does not answer: 503, retry later; no token is sent without its audit row. */
  STORE_UNAVAILABLE: "store_unavailable",
  /** This instance is closing (SIGTERM): 503, another instance (or this one restarted) answers. */
  SHUTTING_DOWN: "shutting_down",
  INTERNAL: "internal",
} as const;

/** One of the values of {@link BrokerReason}. */
export type BrokerReasonValue = (typeof BrokerReason)[keyof typeof BrokerReason];

/**
 * A request the broker refuses, with the HTTP status and the reason code it answers with.
 * The message is one sentence a stranger can act on; it never holds a secret.
 *
 * @example
 * ```ts
 * throw new BrokerRefusal(403, BrokerReason.NO_GRANT, "user alice has no grant for cluster prod: ask an admin for one");
 * ```
 */
export class BrokerRefusal extends KubeiamError {
  /** The HTTP status to answer with. */
  readonly status: number;
  /** The stable reason code of the answer's `error.code`. */
  readonly reason: BrokerReasonValue | string;
  /** Seconds for a `Retry-After` header, on 429. */
  readonly retryAfter: number | undefined;
  /** The methods for an `Allow` header, on 405. */
  readonly allow: readonly string[] | undefined;

  constructor(status: number, reason: BrokerReasonValue | string, message: string, options?: { cause?: unknown; retryAfter?: number; allow?: readonly string[] }) {
    super(ErrorCode.BROKER, message, options);
    this.status = status;
    this.reason = reason;
    this.retryAfter = options?.retryAfter;
    this.allow = options?.allow;
  }
}

/**
 * The store cannot be opened, migrated or reached, or holds a schema from a newer kubeiam.
 *
 * @example
 * ```ts
 * throw new StoreError("the database holds schema version 9, newer than this kubeiam's 1: upgrade kubeiam");
 * ```
 */
export class StoreError extends KubeiamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.STORE, message, options);
  }
}
