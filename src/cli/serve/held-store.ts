/**
 * What `serve rekey` and `serve admin-token` share: run on the server host, they open the broker's
 * database (`--db`, `KUBEIAM_DB`, else the default SQLite file) with its master keyring
 * (`KUBEIAM_MASTER_KEY`, else `--master-key-file`, else ~/.kubeiam/master.key), refusing in one line
 * what cannot be opened, before anything is changed.
 */
import { existsSync } from "node:fs";
import type { OpenStore } from "../../broker/store/open.js";
import { UsageError } from "../../lib/errors.js";
import type { CliContext } from "../context.js";

/** The flags both commands take, with their help. */
export const HELD_STORE_FLAGS = {
  db: { type: "string", value: "URL", help: "sqlite:PATH (default sqlite:~/.kubeiam/broker.db) or postgres://… (or KUBEIAM_DB)" },
  "master-key-file": { type: "string", value: "F", help: "the master keyring, when KUBEIAM_MASTER_KEY is not set (default ~/.kubeiam/master.key)" },
} as const;

/**
 * The broker's database, open with one connection, and its keyring; the caller closes the store.
 *
 * @example
 * ```ts
 * const { store, keys } = await openHeldStore("serve rekey", values, ctx);
 * try { await rekeyStore(store.db, store.dialect, keys); } finally { await store.close(); }
 * ```
 */
export async function openHeldStore(cmd: string, values: { db?: string | undefined; "master-key-file"?: string | undefined }, ctx: CliContext): Promise<{ store: OpenStore; keys: Buffer[] }> {
  const home = ctx.env.HOME;
  if (home === undefined || home === "") throw new UsageError(`${cmd}: HOME is not set: set it, or give --db and --master-key-file with absolute paths`);
  for (const flag of ["db", "master-key-file"] as const) {
    if (values[flag] !== undefined && values[flag].trim() === "") throw new UsageError(`${cmd}: --${flag} is empty: give a value or leave the flag out`);
  }
  const { parseStoreLocation, openStore } = await import("../../broker/store/open.js");
  const { masterKeyringFor } = await import("../../broker/serve.js");
  const location = parseStoreLocation(values.db ?? (ctx.env.KUBEIAM_DB === "" ? undefined : ctx.env.KUBEIAM_DB) ?? "sqlite:~/.kubeiam/broker.db", { home, cwd: process.cwd() });
  if (location.dialect === "sqlite" && !existsSync(location.path)) {
    throw new UsageError(`${cmd}: there is no database at ${location.path}: give the broker's --db`);
  }
  const keys = masterKeyringFor(
    {
      home,
      ...(ctx.env.KUBEIAM_MASTER_KEY === undefined ? {} : { masterKey: ctx.env.KUBEIAM_MASTER_KEY }),
      ...(values["master-key-file"] === undefined ? {} : { masterKeyFile: values["master-key-file"] }),
    },
    location,
    false,
  );
  return { store: await openStore(location, { poolSize: 1 }), keys };
}
