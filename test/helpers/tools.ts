/**
 * The command-line tools that the end-to-end tests drive for real: kubectl and the AWS CLI. When one
 * is missing every test that needs it fails the same way, with one line saying what to install
 * (never a skip: .ci/run requires both, and README says `npm test` needs them).
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const INSTALL: Record<Tool, string> = {
  kubectl: "install kubectl 1.32+ (https://kubernetes.io/docs/tasks/tools/)",
  aws: "install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)",
};

/** A tool the tests run. */
export type Tool = "kubectl" | "aws";

/** True when `tool` is an executable file in one of PATH's folders. */
function onPath(tool: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    if (dir === "") return false;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Throws one line naming what to install when a tool is not on PATH; call it in the file's `before`.
 *
 * @example
 * ```ts
 * before(() => requireTools("kubectl"));
 * ```
 */
export function requireTools(...tools: Tool[]): void {
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length > 0) {
    throw new Error(`${missing.join(" and ")} not on PATH: ${missing.map((t) => INSTALL[t]).join("; ")}; npm test drives the real kubectl and aws`);
  }
}
