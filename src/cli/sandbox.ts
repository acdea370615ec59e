/**
 * `sandbox`: runs the local NCP API gateway and cluster endpoints until SIGINT or SIGTERM, prints
 * one JSON line saying where they are and which key to use, and logs each request on stderr.
 */
import { UsageError } from "../lib/errors.js";
import { startSandbox, type SandboxOptions } from "../sandbox/index.js";
import { loadSandboxKeysFile } from "../sandbox/keys.js";
import { loadSandboxMappingFile } from "../sandbox/mapping.js";
import { parseFlags, type CliContext, type Command } from "./context.js";

const FLAGS = {
  "api-port": { type: "string" },
  keys: { type: "string" },
  mapping: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`sandbox: --api-port ${JSON.stringify(value)} is not a port number: give 1-65535, or leave it out for a free port`);
  }
  return Number(value);
}

function fileFlag(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === "") throw new UsageError(`sandbox: --${name} is empty: pass a file path`);
  return value;
}

/**
 * The `sandbox` command, loaded lazily by main.ts.
 *
 * @example
 * ```ts
 * const status = await sandboxCommand.run(["--api-port", "8080"], ctx); // resolves when ctx.signal aborts
 * ```
 */
export const sandboxCommand: Command = {
  options: { "": FLAGS },
  summary: "run a local NCP API and NKS clusters that check signatures and tokens for real",
  help: `Runs a local NCP API gateway and NKS cluster endpoints on 127.0.0.1, until Ctrl-C.

Usage:
  sandbox [--api-port N] [--keys FILE] [--mapping FILE]

Flags:
  --api-port N       the gateway's port (default: a free one)
  --keys FILE        the API keys to accept, YAML or JSON:
                       keys: [{accessKey, secretKey, subAccountIdNo?, name?}, …]
                     the first key is the clusters' creator (system:masters); default: one generated key
  --mapping FILE     the ncp-auth identity mapping, YAML or JSON (or the ncp-auth ConfigMap itself):
                       mapSubAccounts: [{subAccountIdNo | accessKey, username, groups}, …]
                       clusterRoleBindings: [{clusterRole: view | cluster-admin, users?, groups?}, …]
                     the clusters enforce that small RBAC: system:masters is cluster-admin, every
                     mapped identity may read (view), only cluster-admin may delete a pod
  -h, --help         this help

On start it prints one JSON line on stdout:
  {"apiUrl":…,"accessKey":…,"secretKey":…,"region":…,"clusters":[{"uuid","name","region","status","endpoint"}…]}
Use it as NCLOUD_API_GW, NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY. Each request is logged
on stderr, with the precise reason of every refusal; no secret or token is ever logged.
`,
  // Draining connections (and, for the broker, flushing audit rows) may take more than half a second.
  stopGraceMs: 5_000,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("sandbox", args, FLAGS);
    const apiPort = parsePort(values["api-port"]);
    const keysFile = fileFlag("keys", values.keys);
    const mappingFile = fileFlag("mapping", values.mapping);
    const options: SandboxOptions = { apiPort, log: (line) => ctx.err(`${ctx.programName} sandbox: ${line}\n`) };
    if (keysFile !== undefined) options.keys = await loadSandboxKeysFile(keysFile);
    if (mappingFile !== undefined) options.mapping = await loadSandboxMappingFile(mappingFile);
    if (ctx.signal.aborted) return 0;
    const sandbox = await startSandbox(options);
    const { apiUrl, accessKey, secretKey, region, clusters } = sandbox;
    ctx.out(`${JSON.stringify({ apiUrl, accessKey, secretKey, region, clusters })}\n`);
    ctx.err(`${ctx.programName} sandbox: listening; stop with Ctrl-C\n`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await sandbox.close();
    ctx.err(`${ctx.programName} sandbox: stopped\n`);
    return 0;
  },
};
