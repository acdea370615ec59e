/**
 * A store outage in the broker's log as an operator wants to read it: one error line when the store
 * stops answering, one every half minute while it stays away (with how many requests were refused
 * meanwhile), and one line when it answers again, instead of an error line per refused request.
 */
import type { FastifyBaseLogger, FastifyRequest } from "fastify";
import { BrokerReason, BrokerRefusal } from "./errors.js";

/** How often a lasting outage is reported again. */
const REPORT_EVERY_MS = 30_000;

/**
 * The outage state of one instance's store.
 *
 * @example
 * ```ts
 * const outage = new StoreOutageLog(app.log, Date.now);
 * outage.refused(error); // in the error handler, for each 503 store_unavailable
 * outage.answered(); // after any answer the store took part in
 * ```
 */
export class StoreOutageLog {
  readonly #log: FastifyBaseLogger;
  readonly #now: () => number;
  #since: number | undefined;
  #lastReport = 0;
  #refusedSinceReport = 0;
  #refused = 0;

  constructor(log: FastifyBaseLogger, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  /** A request was refused because the store did not answer (`cause`: what the driver said). */
  refused(cause: unknown): void {
    const t = this.#now();
    const err = { type: (cause as Error)?.name, message: (cause as Error)?.message };
    this.#refused += 1;
    if (this.#since === undefined) {
      this.#since = t;
      this.#lastReport = t;
      this.#refusedSinceReport = 0;
      this.#log.error({ err }, "the store does not answer: every request that needs it gets 503 store_unavailable until it does");
      return;
    }
    this.#refusedSinceReport += 1;
    if (t - this.#lastReport >= REPORT_EVERY_MS) {
      this.#log.error({ err, refused: this.#refusedSinceReport, outageSeconds: Math.round((t - this.#since) / 1000) }, "the store still does not answer");
      this.#lastReport = t;
      this.#refusedSinceReport = 0;
    }
  }

  /** The store answered a request: ends an outage, if one was under way. */
  answered(): void {
    if (this.#since === undefined) return;
    this.#log.warn({ refused: this.#refused, outageSeconds: Math.round((this.#now() - this.#since) / 100) / 10 }, "the store answers again");
    this.#since = undefined;
    this.#refused = 0;
  }
}

/**
 * Logs a refusal the server is to blame for: a store outage through `outage` (its cause, once), any
 * other 5xx as an error line of its own; a caller's mistake is not an error and is not logged here.
 *
 * @example
 * ```ts
 * app.setErrorHandler((error, req, reply) => { const refusal = toRefusal(error); logServerRefusal(req, error, refusal, ctx.outage); … });
 * ```
 */
export function logServerRefusal(req: FastifyRequest, error: Error, refusal: BrokerRefusal, outage: StoreOutageLog): void {
  if (refusal.reason === BrokerReason.STORE_UNAVAILABLE) outage.refused(error instanceof BrokerRefusal && error.cause !== undefined ? error.cause : error);
  else if (refusal.status >= 500) req.log.error({ err: { type: error.name, message: error.message, code: (error as { code?: unknown }).code } }, "failed");
}
