/**
 * `version`: prints the program's version.
 */
import { readFileSync } from "node:fs";
import type { CliContext, Command } from "./context.js";

/** The version in this package's package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

export const versionCommand: Command = {
  summary: "Print the version",
  help: `Prints the version of kubeiam (also when called as ncp-iam-authenticator).

Usage:
  version
`,
  async run(_args: string[], ctx: CliContext): Promise<number> {
    ctx.out(`${ctx.programName === "kubeiam" ? "kubeiam" : "ncp-iam-authenticator (kubeiam)"} ${packageVersion()}\n`);
    return 0;
  },
};
