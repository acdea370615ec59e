/**
 * What a `yaml` package error says, fit for a message about a file that may hold secrets (a
 * kubeconfig's tokens, a keys file's secret keys): the package appends the offending source text
 * to some messages (`Unexpected scalar token in YAML stream: "<text>"`, `Block scalar header
 * includes extra characters: <text>`); only the problem is kept, never the text.
 */

/**
 * The first line of a `yaml` error message, without its position (` at line …`) and without the
 * source text that follows the problem.
 *
 * @example
 * ```ts
 * yamlProblem('Block scalar header includes extra characters: >-k8s-ncp-v1.eyJ0… at line 1, column 8');
 * // "Block scalar header includes extra characters"
 * ```
 */
export function yamlProblem(message: string): string {
  const first = message.split("\n")[0] ?? "";
  const problem = (first.split(" at line ")[0] ?? "").split(": ")[0] ?? "";
  return problem.trim() === "" ? "malformed YAML" : problem.trim();
}
