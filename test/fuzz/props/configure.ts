/**
 * Properties of the NCP configure-file reader (resolveNcpCredentials on a file, docs/formats.md §4) over
 * generated and mutated files: every file ends in usable credentials or a typed CredentialsError or
 * ConfigFileError, one line that never holds the secret key.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { resolveNcpCredentials } from "../../../src/ncp/credentials.js";
import { ConfigFileError, CredentialsError } from "../../../src/lib/errors.js";
import { anyText, applyEdits, bytesOf, edits } from "./mutate.js";

const SECRET = "FUZZSECRETKEY0001FUZZSECRETKEY0001ZZZZ";
const SEEDS = [
  `[DEFAULT]\nncloud_access_key_id = FUZZACCESSKEY0001\nncloud_secret_access_key = ${SECRET}\nncloud_api_url = https://ncloud.apigw.ntruss.com\n`,
  `; comment\nncloud_access_key_id=TOPKEY\nncloud_secret_access_key=${SECRET}\n\n[prod.eu]\nncloud_access_key_id = "QUOTED" # inline\nncloud_secret_access_key = '${SECRET}' ; inline\r\n`,
  `[other]\nncloud_access_key_id = X\n[prod]\nncloud_secret_access_key = \`${SECRET}\`\nncloud_access_key_id = Y\n`,
];
const INI_BITS = ["[", "]", "=", " = ", "#", ";", '"', "'", "`", "\n", "\r\n", "\r", " ", "\t", "DEFAULT", "prod", "prod.eu", "ncloud_access_key_id", "ncloud_secret_access_key", "ncloud_api_url", "\ufeff", "\u0000"];
const iniish = fc.array(fc.oneof(fc.constantFrom(...INI_BITS), anyText(8)), { maxLength: 40 }).map((p) => p.join(""));
const mutated = fc.tuple(fc.constantFrom(...SEEDS), edits(5, bytesOf("[]=#;\"'`\n\r \t"))).map(([seed, list]) => applyEdits(Buffer.from(seed, "utf8"), list));

// The files of the runs: a temporary folder made by the first property, removed by cleanup().
let dir: string | undefined;
let n = 0;

/** Removes the temporary folder (the fuzz worker calls it after the runs). */
export function cleanup(): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** resolveNcpCredentials on a generated or mutated configure file, with or without a profile asked for. */
export function readerNeverThrowsUntyped() {
  const folder = (dir ??= mkdtempSync(join(tmpdir(), "kubeiam-fuzz-configure-")));
  return fc.asyncProperty(
    fc.oneof(iniish.map((t) => Buffer.from(t, "utf8")), mutated, mutated),
    fc.option(fc.constantFrom("DEFAULT", "prod", "prod.eu", "missing", "ncloud_access_key_id"), { nil: undefined }),
    async (bytes, profile) => {
      // One file a run, named apart, in a folder of this worker's own.
      const path = join(folder, `configure-${n++ % 64}`);
      writeFileSync(path, bytes, { mode: 0o600 });
      let creds;
      try {
        creds = await resolveNcpCredentials({ env: { HOME: folder }, configFile: path, ...(profile === undefined ? {} : { profile }) });
      } catch (e) {
        if (!(e instanceof CredentialsError || e instanceof ConfigFileError)) {
          throw new Error(`an untyped error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        }
        if (e.message.includes("\n") || e.message.includes("\r")) throw new Error(`a message of more than one line: ${JSON.stringify(e.message)}`);
        // A malformed file is named by line, never by content (a section list may show a mangled header).
        if (e instanceof ConfigFileError && e.message.includes(SECRET.slice(0, 24))) throw new Error("the secret key in a message");
        return;
      }
      for (const v of [creds.accessKey, creds.secretKey, creds.apiUrl]) {
        if (typeof v !== "string" || v === "" || v !== v.trim()) throw new Error(`credentials with an empty or padded value: ${JSON.stringify(v)}`);
      }
    },
  );
}
