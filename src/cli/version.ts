/**
 * `version`: prints the program's version.
 */
import { readFileSync } from "node:fs";
import { NCP_GLOBAL_FLAGS, parseFlags, type CliContext, type Command } from "./context.js";

/** The version in this package's package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

export const versionCommand: Command = {
  summary: "Print the version",
  help: `Prints the version of kubeiam: "kubeiam 0.1.0"; called as ncp-iam-authenticator, the bare
version ("0.1.0"), as the official tool prints its own.

Usage:
  version
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    // No flags of its own: an unknown one is a mistake, as for every other command.
    parseFlags("version", args, NCP_GLOBAL_FLAGS);
    // Scripts that parse the official tool's output get what they expect: the version and nothing else.
    ctx.out(ctx.programName === "kubeiam" ? `kubeiam ${packageVersion()}\n` : `${packageVersion()}\n`);
    return 0;
  },
};
