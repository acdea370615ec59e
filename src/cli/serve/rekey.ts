/**
 * `kubeiam serve rekey`: re-seals every credential under the first key of the master keyring, in one
 * transaction, while brokers holding the keyring keep serving; prints the count.
 */
import { parseFlags, type CliContext, type Command } from "../context.js";
import { renderHelp } from "../help.js";
import { HELD_STORE_FLAGS, openHeldStore } from "./held-store.js";

const FLAGS = {
  ...HELD_STORE_FLAGS,
  help: { type: "boolean", short: "h" },
} as const;

/**
 * The `serve rekey` command.
 *
 * @example
 * ```ts
 * await serveRekeyCommand.run(["--db", "postgres://kubeiam@db/kubeiam"], ctx); // KUBEIAM_MASTER_KEY="NEW,OLD"
 * ```
 */
export const serveRekeyCommand: Command = {
  options: { "": FLAGS },
  summary: "re-seal every cloud credential under the first key of the master keyring",
  help: renderHelp({
    about: `Re-seals every credential under the first key of the master keyring, in one transaction,
and records that key as the one the database is sealed under. Brokers keep serving meanwhile as
long as they hold the keyring (the first key seals, every key opens).`,
    usage: ["kubeiam serve rekey [--db URL] [--master-key-file FILE]"],
    flags: FLAGS,
    notes: `Rotation, step by step:
  1. Give every instance the keyring NEW,OLD (KUBEIAM_MASTER_KEY="NEW,OLD", or the key file with
     that one line) and restart them one by one; new credentials are sealed under NEW from then on.
  2. Run 'kubeiam serve rekey' once with the same keyring: it prints how many it re-sealed.
  3. Remove OLD from the keyring. A start with OLD alone is refused from now on.`,
    examples: ['KUBEIAM_MASTER_KEY="$NEW,$OLD" kubeiam serve rekey', 'KUBEIAM_DB=postgres://kubeiam@db:5432/kubeiam KUBEIAM_MASTER_KEY="$NEW,$OLD" kubeiam serve rekey'],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("serve rekey", args, FLAGS);
    const { rekeyStore } = await import("../../broker/rekey.js");
    const { BrokerStore } = await import("../../broker/store/store.js");
    const { store, keys } = await openHeldStore("serve rekey", values, ctx);
    try {
      const r = await rekeyStore(store.db, store.dialect, keys);
      // The trail says when the keys changed, like every other admin change.
      await new BrokerStore(store.db, store.dialect, store.auditSink === undefined ? {} : { auditSink: store.auditSink }).insertAudit([
        { time: new Date(ctx.now()).toISOString(), actor: "(serve rekey)", action: "master_key.rekey", outcome: "ok", instance: "rekey", reason: `resealed ${r.resealed}, key id ${r.keyId}` },
      ]);
      ctx.out(`${JSON.stringify(r)}\n`);
      ctx.err(
        `${ctx.programName}: ${r.resealed} credential${r.resealed === 1 ? "" : "s"} re-sealed under master key id ${r.keyId} (${r.unchanged} already were); ` +
          `once every instance runs with this key first, the other keys may leave the keyring\n`,
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
