/**
 * PostgreSQL's announcements of access changes (migration 8's triggers NOTIFY on every change of
 * users, grants, clusters and credentials), heard on a connection of its own that LISTENs. While it
 * listens, subscribers may keep granted access (../access-cache.ts); the moment it stops (the server
 * restarts, the connection is cut) they are told, so they keep nothing until it listens again. It
 * reconnects by itself, waiting longer after each failure (up to half a minute).
 */
import type { AccessChangeFeed, AccessChangeListener } from "../access-cache.js";

/** The part of a pg `Client` used here. */
export interface ListeningClient {
  connect(): Promise<unknown>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: "notification", listener: (message: { channel: string }) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "end", listener: () => void): unknown;
}

/** The notification channel of access changes (migration 8's triggers notify on it). */
export const ACCESS_CHANNEL = "kubeiam_access";

/** The first wait before reconnecting, ms; doubled after each failure. */
const FIRST_RETRY_MS = 250;
/** The longest wait before reconnecting, ms. */
const MAX_RETRY_MS = 30_000;

/**
 * The feed on one PostgreSQL database. `connect` makes a new, unconnected client each time.
 *
 * @example
 * ```ts
 * const feed = new PostgresAccessFeed(() => new pg.Client({ connectionString: url, application_name: "kubeiam-access-feed" }));
 * feed.subscribe(cache);
 * await feed.close();
 * ```
 */
export class PostgresAccessFeed implements AccessChangeFeed {
  readonly #newClient: () => ListeningClient;
  readonly #listeners: AccessChangeListener[] = [];
  #client: ListeningClient | undefined;
  #listening = false;
  #started = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #retryMs = FIRST_RETRY_MS;

  constructor(newClient: () => ListeningClient) {
    this.#newClient = newClient;
  }

  subscribe(listener: AccessChangeListener): void {
    this.#listeners.push(listener);
    if (this.#listening) listener.live(true);
    if (!this.#started) {
      this.#started = true;
      void this.#connect();
    }
  }

  /** Stops listening for good (the store closes); subscribers are not told, as nothing is lost. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#listening = false;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = this.#newClient();
    this.#client = client;
    let lost = false;
    const onLost = (): void => {
      if (lost) return;
      lost = true;
      if (this.#client === client) this.#client = undefined;
      if (this.#closed) return;
      this.#setListening(false);
      void client.end().catch(() => undefined);
      this.#scheduleRetry();
    };
    client.on("error", onLost);
    client.on("end", onLost);
    client.on("notification", (message) => {
      if (message.channel !== ACCESS_CHANNEL) return;
      for (const l of this.#listeners) l.changed();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ACCESS_CHANNEL}`);
    } catch {
      onLost();
      return;
    }
    if (lost) return;
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#retryMs = FIRST_RETRY_MS;
    this.#setListening(true);
  }

  #scheduleRetry(): void {
    if (this.#closed) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#connect(), this.#retryMs);
    this.#retry.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }

  #setListening(listening: boolean): void {
    if (this.#listening === listening) return;
    this.#listening = listening;
    for (const l of this.#listeners) l.live(listening);
  }
}
