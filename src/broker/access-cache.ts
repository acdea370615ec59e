/**
 * Granted token access kept for at most a second (BROKER.md "Authentication and roles": no cache of
 * identities lives longer than a second), so a caller asking again and again (a CI job's kubectl
 * loop, a burst of parallel kubectl runs with a broker token) costs the store its audit row, not
 * also the access query. Kept only while a change feed says it is listening: the store announces
 * every change of users, grants, clusters and credentials (PostgreSQL: a trigger's NOTIFY, on every
 * instance), and this instance empties the cache on each of its own changes before answering them,
 * so a revoked grant, a rotated token or a deleted user is refused at once here and within the
 * notification's delivery on the other instances; never later than a second. Without a feed (the
 * embedded store, which other processes such as `serve rekey` may change unannounced) nothing is kept.
 *
 * Only a granted answer is kept, and never past the end of the grant that gave it: a refusal, an
 * unknown token or an ended grant is read again on every request.
 */
import type { TokenAccess } from "./store/store.js";

/** How a store announces changes that decide access (open.ts gives one for PostgreSQL). */
export interface AccessChangeFeed {
  /**
   * Starts announcing to `listener`: `changed()` after every committed change of users, grants,
   * clusters or credentials (by anyone), `live(true)` once listening (again after each reconnect),
   * `live(false)` as soon as a change might be missed (the connection is lost).
   */
  subscribe(listener: AccessChangeListener): void;
}

/** What an {@link AccessChangeFeed} tells. */
export interface AccessChangeListener {
  changed(): void;
  live(listening: boolean): void;
}

/** The longest an answer is kept, ms: BROKER.md's bound. */
export const ACCESS_CACHE_MAX_AGE_MS = 1000;

/** How many answers are kept at most (the oldest goes first). */
const MAX_ENTRIES = 10_000;

/**
 * Granted access per token digest and cluster (see the file's head).
 *
 * @example
 * ```ts
 * const cache = new AccessCache(() => Date.now());
 * feed.subscribe(cache);
 * const found = await cache.read(`${digest}\0${cluster}`, () => store.tokenAccess(digest, cluster, new Date()));
 * ```
 */
export class AccessCache implements AccessChangeListener {
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  readonly #entries = new Map<string, { found: TokenAccess; until: number }>();
  /** Counts changes: an answer read while one happened is not kept (it may predate the change). */
  #generation = 0;
  #live = false;
  readonly #onRead: ((kept: boolean) => void) | undefined;
  readonly #onLive: ((keeping: boolean) => void) | undefined;

  /**
   * `now` is the broker's clock; `maxAgeMs` the longest an answer is kept (tests lengthen it, to tell
   * the feed's work from expiry); `onRead` hears whether each answer was a kept one, `onLive`
   * whether answers are being kept (the metrics).
   */
  constructor(now: () => number, options: { maxAgeMs?: number; onRead?: (kept: boolean) => void; onLive?: (keeping: boolean) => void } = {}) {
    this.#now = now;
    this.#maxAgeMs = options.maxAgeMs ?? ACCESS_CACHE_MAX_AGE_MS;
    this.#onRead = options.onRead;
    this.#onLive = options.onLive;
  }

  /** Whether answers are being kept (the feed listens). */
  get keeping(): boolean {
    return this.#live;
  }

  changed(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /** Starts (`true`) or stops keeping answers; either way, what was kept is dropped. */
  live(listening: boolean): void {
    this.#live = listening;
    this.changed();
    this.#onLive?.(listening);
  }

  /**
   * The kept answer for `key` while it is fresh, else `load()`'s, kept when it grants access, the
   * feed listens and nothing changed while it was read.
   */
  async read(key: string, load: () => Promise<TokenAccess | undefined>): Promise<TokenAccess | undefined> {
    const asked = this.#now();
    const kept = this.#entries.get(key);
    if (kept !== undefined) {
      if (kept.until > asked) {
        this.#onRead?.(true);
        return kept.found;
      }
      this.#entries.delete(key);
    }
    this.#onRead?.(false);
    const generation = this.#generation;
    const found = await load();
    if (found === undefined || found.access === undefined || !found.access.granted) return found;
    if (!this.#live || generation !== this.#generation) return found;
    const access = found.access;
    // From when it was asked: the rows read are at least that fresh.
    const grantEnd = access.grantEndsAt === undefined ? Infinity : Date.parse(access.grantEndsAt);
    const until = Math.min(asked + this.#maxAgeMs, grantEnd);
    if (!(until > this.#now())) return found;
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    // Shared by every request it answers: nothing may change it on the way.
    Object.freeze(found.user);
    Object.freeze(access.cluster);
    Object.freeze(access.credential);
    Object.freeze(access);
    this.#entries.set(key, { found: Object.freeze(found), until });
    return found;
  }
}
