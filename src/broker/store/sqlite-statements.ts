/**
 * A prepared-statement cache in front of better-sqlite3, for both of the embedded store's connections
 * (the main thread's and the audit worker's).
 */

/** Statements kept per connection: the broker's queries are few; multi-row audit inserts vary by row count. */
const MAX_STATEMENTS = 256;

/**
 * better-sqlite3 as Kysely's SQLite dialect wants it, with each SQL text prepared once: Kysely asks
 * for a new statement on every query, and preparing is a good part of a token request's time.
 * Safe because better-sqlite3 runs each statement to completion before the next (the broker never
 * streams rows).
 *
 * @example
 * ```ts
 * const db = new Kysely<BrokerDatabase>({ dialect: new SqliteDialect({ database: cachingStatements(new Database(path)) }) });
 * ```
 */
export function cachingStatements<D extends { prepare(sql: string): S; close(): unknown }, S>(sqlite: D): { prepare(sql: string): S; close(): void } {
  const cache = new Map<string, S>();
  return {
    prepare(sql: string): S {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

