/**
 * The walls between kubeiam's rooms hold in src/ (see test/helpers/walls.ts for the rules), and the
 * checker does catch each kind of breach, by file and line, in a tree built to break them.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findWallBreaches, formatWallBreaches } from "./helpers/walls.js";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "kubeiam-walls-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const CLI_RULE = "a CLI command imports no other command";

test("src/: lib/ and kube/ import no cloud, clouds import no other cloud, lib/ stays in lib/, one file under broker/ imports each cloud", () => {
  const breaches = findWallBreaches(SRC).filter((b) => b.rule !== CLI_RULE);
  assert.equal(breaches.length, 0, `wall breaches:\n${formatWallBreaches(breaches)}`);
});

// Shared CLI helpers live in non-command modules (cli/context.ts, cli/kubeconfig-flow.ts, cli/nks-flags.ts).
test("src/: no CLI command file imports another command file", () => {
  const breaches = findWallBreaches(SRC).filter((b) => b.rule === CLI_RULE);
  assert.equal(breaches.length, 0, `wall breaches:\n${formatWallBreaches(breaches)}`);
});

test("the checker reports each kind of breach by file and line, and lets the allowed imports through", () => {
  const files: Record<string, string> = {
    "lib/http.ts": 'import { a } from "./time.js";\nimport { b } from "../kube/kubeconfig.js";\n',
    "lib/time.ts": "export const a = 1;\n",
    "kube/kubeconfig.ts": 'import type { X } from "../cluster-info.js";\nimport { mintNcpToken } from "../ncp/token.js";\n',
    "kube/client.ts": 'export async function f() {\n  // import("../aws/token.js") in a comment is not an import\n  return import("../gcp/token.js");\n}\n',
    "cluster-info.ts": "export type X = 1;\n",
    "ncp/token.ts": 'import { b } from "../kube/kubeconfig.js";\nimport { a } from "../lib/time.js";\nexport const mintNcpToken = 1;\n',
    "aws/token.ts": 'import {\n  mintNcpToken,\n} from "../ncp/token.js";\n',
    "gcp/token.ts": 'export { a } from "../lib/time.js";\n',
    "cli/context.ts": "export interface Command { run(): void }\n",
    "cli/flow.ts": "export const shared = 1;\n",
    "cli/eks.ts": 'import type { Command } from "./context.js";\nimport { shared } from "./flow.js";\nexport const eksCommand: Command = { run() {} };\n',
    "cli/gke.ts": 'import type { Command } from "./context.js";\nimport { eksCommand } from "./eks.js";\nexport const gkeCommand: Command = eksCommand;\n',
    "cli/broker.ts": 'import type { Command } from "./context.js";\nconst t = () => import("./broker/token.js");\nexport const brokerCommand: Command = { run() {} };\n',
    "cli/broker/token.ts": 'import type { Command } from "../context.js";\nimport { x } from "./admin.js";\nexport const brokerTokenCommand: Command = { run() {} };\n',
    "cli/broker/login.ts": 'import type { Command } from "../context.js";\nimport { brokerTokenCommand } from "./token.js";\nimport { tokenCommand } from "../token.js";\nexport const brokerLoginCommand: Command = brokerTokenCommand;\n',
    "cli/broker/admin.ts": "export const x = 1;\n",
    "cli/token.ts": 'import type { Command } from "./context.js";\nexport const tokenCommand: Command = { run() {} };\n',
    "broker/engines.ts": 'import { a } from "../aws/token.js";\nimport { b } from "../ncp/token.js";\n',
    "broker/cloud.ts": 'import { engines } from "./engines.js";\nimport { mintNcpToken } from "../ncp/token.js";\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tmp, path)), { recursive: true });
    writeFileSync(join(tmp, path), text);
  }
  assert.equal(
    formatWallBreaches(findWallBreaches(tmp)),
    [
      "aws/token.ts:3 imports ncp/token.ts (a cloud imports no other cloud)",
      "broker/cloud.ts:2 imports ncp/token.ts (at most one file under broker/ imports ncp/ (the engine registry): broker/cloud.ts, broker/engines.ts do)",
      "broker/engines.ts:2 imports ncp/token.ts (at most one file under broker/ imports ncp/ (the engine registry): broker/cloud.ts, broker/engines.ts do)",
      "cli/broker/login.ts:2 imports cli/broker/token.ts (a CLI command imports no other command)",
      "cli/broker/login.ts:3 imports cli/token.ts (a CLI command imports no other command)",
      "cli/gke.ts:2 imports cli/eks.ts (a CLI command imports no other command)",
      "kube/client.ts:3 imports gcp/token.ts (kube/ imports no cloud)",
      "kube/kubeconfig.ts:2 imports ncp/token.ts (kube/ imports no cloud)",
      "lib/http.ts:2 imports kube/kubeconfig.ts (lib/ imports nothing of ours outside lib/)",
    ].join("\n"),
  );
});
