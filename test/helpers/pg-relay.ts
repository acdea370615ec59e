/**
 * A TCP relay on loopback between a PostgreSQL client and its server that passes every byte on and
 * tells the test each protocol message it sees, by direction: the tests that count round trips,
 * statements parsed or the columns of a row description. Every message is typed (a byte, then its
 * length) except the client's first, the startup message, which is passed on without a report.
 */
import { connect, createServer, type AddressInfo } from "node:net";

/** Told each whole message (type byte, length, body) as it passes. */
export type MessageSpy = (type: number, message: Buffer) => void;

/** A running relay: `url` is the database URL through it. */
export interface PgRelay {
  url: string;
  close(): void;
}

/** Splits a byte stream into protocol messages; the first may be untyped (the startup message). */
function messages(untypedFirst: boolean, spy: MessageSpy | undefined): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  let typed = !untypedFirst;
  return (chunk) => {
    if (spy === undefined) return;
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const head = typed ? 5 : 4;
      if (buffered.length < head) return;
      const length = typed ? buffered.readInt32BE(1) + 1 : buffered.readInt32BE(0);
      if (buffered.length < length) return;
      if (typed) spy(buffered[0] as number, buffered.subarray(0, length));
      typed = true;
      buffered = buffered.subarray(length);
    }
  };
}

/**
 * Starts a relay to the server of `database` (a postgres:// URL) on 127.0.0.1.
 *
 * @example
 * ```ts
 * let parses = 0;
 * const relay = await startPgRelay(new URL(db), { client: (type) => void (type === 0x50 && parses++) });
 * const s = await openStore(parseStoreLocation(relay.url, where));
 * ```
 */
export async function startPgRelay(database: URL, spies: { client?: MessageSpy; server?: MessageSpy }): Promise<PgRelay> {
  const relay = createServer((client) => {
    const server = connect(Number(database.port), database.hostname);
    const fromClient = messages(true, spies.client);
    const fromServer = messages(false, spies.server);
    client.on("data", (chunk: Buffer) => {
      server.write(chunk);
      fromClient(chunk);
    });
    server.on("data", (chunk: Buffer) => {
      client.write(chunk);
      fromServer(chunk);
    });
    client.on("close", () => server.destroy());
    server.on("close", () => client.destroy());
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const relayed = new URL(database.href);
  relayed.host = `127.0.0.1:${(relay.address() as AddressInfo).port}`;
  return { url: relayed.href, close: () => relay.close() };
}
