/**
 * `kubeiam broker update-kubeconfig`: merges one broker cluster into a kubeconfig: its endpoint and
 * CA as the broker knows them, a user running `kubeiam broker token`, and a context. The rest is the
 * shared kubeconfig flow of every cloud's update-kubeconfig (../kubeconfig-flow.ts): its flags, the
 * merge, the lock, the taken-name refusal, the current-context switch and the lines it prints.
 */
import { resolve } from "node:path";
import { KubeconfigError } from "../../lib/errors.js";
import { fetchBrokerKubeconfig } from "../../broker/client/api.js";
import { brokerCaFor } from "../../broker/client/ca-file.js";
import { BROKER_TOKEN_ENV, brokerCredentialsFile, normalizeBrokerServer, readBrokerCredentials, resolveBrokerToken, saveBrokerToken } from "../../broker/client/credentials.js";
import { contextEntry, execUserEntry, parseKubeconfig, type KubeconfigEntries } from "../../kube/kubeconfig.js";
import { normalizeBoolArgs, parseFlags, requireFlag, type CliContext, type Command } from "../context.js";
import { renderHelp } from "../help.js";
import {
  EXEC_COMMAND_FLAGS,
  KUBECONFIG_FLOW_BOOL_FLAGS,
  KUBECONFIG_FLOW_FLAGS,
  applyKubeconfigEntries,
  openKubeconfigTarget,
  readEntryNameFlag,
  readExecCommandFlag,
  readKubeconfigFlowFlags,
  type ExecCommandChoice,
} from "../kubeconfig-flow.js";

const FLAGS = {
  server: { type: "string", value: "URL", help: "the broker (required)" },
  cluster: { type: "string", value: "NAME", help: "the cluster's name on the broker (required; 'kubeiam broker clusters' lists them)" },
  alias: { type: "string", value: "A", help: "the context's name (default: the broker's, the cluster name)" },
  "user-alias": { type: "string", value: "U", help: "the user's name (default: the broker's, kubeiam-broker-NAME)" },
  "ca-file": { type: "string", value: "PEM", help: "the broker's CA, when a private one signed its certificate (also given to the plugin)" },
  ...EXEC_COMMAND_FLAGS,
  ...KUBECONFIG_FLOW_FLAGS,
} as const;

/** Help for the shared flags (declared in ../kubeconfig-flow.ts for every cloud's update-kubeconfig). */
const SHARED_DOCS = {
  "exec-command": { value: "CMD", help: "the plugin to run: a name on PATH, an absolute path, or a .js file run with node (default: kubeiam)" },
  kubeconfig: { value: "FILE", help: "the file to update (default: the first entry of $KUBECONFIG, else ~/.kube/config)" },
  namespace: { value: "NS", help: 'the context\'s default namespace (default: none, so "default")' },
  overwrite: { help: "replace entries whose names are taken (default: refuse)" },
  force: { help: "write a kubeconfig whose mode is read-only (default: refuse)" },
  "dry-run": { help: "print the updated kubeconfig instead of writing it" },
  "no-set-current": { help: "leave current-context as it is (default: switch to the new context)" },
  currentContext: { help: "=false: the same as --no-set-current (the official tool's spelling)" },
  "current-context": { help: "=false: the same as --no-set-current" },
} as const;

/**
 * The server a broker's exec kubeconfig names (`kubeiam broker token --server URL`): its
 * `--public-url`, the load balancer's address, when it has one. Undefined when the kubeconfig names
 * none (an older broker), or one a client may not use (plain HTTP to another machine, say).
 *
 * @example
 * ```ts
 * brokerNamedServer(yamlFromBroker); // "https://broker.example.com"
 * ```
 */
export function brokerNamedServer(text: string): string | undefined {
  const kc = parseKubeconfig(text);
  const context = kc.contexts.find((c) => c.name === kc.currentContext) ?? kc.contexts[0];
  const args = (kc.users.find((u) => u.name === context?.context.user) ?? kc.users[0])?.user.exec?.args ?? [];
  const at = args.indexOf("--server");
  const named = at < 0 ? undefined : args[at + 1];
  if (named === undefined) return undefined;
  try {
    return normalizeBrokerServer(named);
  } catch {
    return undefined;
  }
}

/**
 * The entries for one broker cluster: the cluster entry of the broker's kubeconfig, a user running
 * `kubeiam broker token --server SERVER --cluster NAME` (with `--ca-file` when given), and a context.
 * SERVER is the address the broker names (its `--public-url`), else `options.server`.
 *
 * @example
 * ```ts
 * const entries = brokerKubeconfigEntries(yamlFromBroker, { server, cluster: "prod-kr" });
 * ```
 */
export function brokerKubeconfigEntries(
  text: string,
  options: { server: string; cluster: string; alias?: string; userAlias?: string; caFile?: string; exec?: ExecCommandChoice },
): KubeconfigEntries {
  const kc = parseKubeconfig(text);
  const context = kc.contexts.find((c) => c.name === kc.currentContext) ?? kc.contexts[0];
  const cluster = kc.clusters.find((c) => c.name === context?.context.cluster) ?? kc.clusters[0];
  if (cluster === undefined) throw new KubeconfigError(`the broker's kubeconfig for ${options.cluster} has no cluster entry: update the broker`);
  const userName = options.userAlias ?? context?.context.user ?? `kubeiam-broker-${options.cluster}`;
  const user = execUserEntry(userName, {
    command: options.exec?.execCommand ?? "kubeiam",
    args: [...(options.exec?.execCommandArgs ?? []), "broker", "token", "--server", brokerNamedServer(text) ?? options.server, "--cluster", options.cluster, ...(options.caFile === undefined ? [] : ["--ca-file", options.caFile])],
    apiVersion: "client.authentication.k8s.io/v1",
    interactiveMode: "Never",
  });
  return { cluster, user, context: contextEntry(options.alias ?? context?.name ?? cluster.name, { cluster: cluster.name, user: userName }) };
}

/**
 * When the broker names itself `named` but was reached at `server`: the plugin will ask `named` for
 * tokens, so a broker token kept for `server` is kept for `named` too (the same broker, the same
 * token, with its remembered CA), unless `named` has its own entry (or this is a dry run). A
 * session (one sign-in, whose refresh token renews in one place only) or `KUBEIAM_BROKER_TOKEN` is
 * not copied. The line to show on stderr.
 */
async function keepTokenFor(named: string, server: string, dryRun: boolean, ctx: CliContext): Promise<string> {
  const said = `the broker names itself ${named} (its --public-url), so the kubeconfig does`;
  const envToken = ctx.env[BROKER_TOKEN_ENV];
  if (envToken !== undefined && envToken.trim() !== "") return `${said}; ${BROKER_TOKEN_ENV} is sent there too`;
  const file = brokerCredentialsFile(ctx.env);
  const { servers } = await readBrokerCredentials(file);
  if (servers[named] !== undefined) return `${said}, with your login for it`;
  const entry = servers[server];
  if (entry?.token !== undefined) {
    if (dryRun) return `${said}; your broker token for ${server} would be kept for ${named} too`;
    await saveBrokerToken(file, named, entry.token, entry.ca);
    return `${said}; your broker token for ${server} is now kept for ${named} too`;
  }
  return `${said}: sign in there with 'kubeiam broker login --server ${named}'`;
}

/**
 * `kubeiam broker update-kubeconfig`: merges one broker cluster into a kubeconfig.
 *
 * @example
 * ```ts
 * await brokerUpdateKubeconfigCommand.run(["--server", "https://broker.example:8750", "--cluster", "prod-kr"], ctx);
 * ```
 */
export const brokerUpdateKubeconfigCommand: Command = {
  options: { "": FLAGS },
  summary: "Add a broker cluster to your kubeconfig (exec plugin: kubeiam broker token)",
  help: renderHelp({
    about: `Adds one cluster the broker grants you to a kubeconfig: its cluster entry (endpoint and CA as
the broker knows them), a user that runs 'kubeiam broker token', and a context.`,
    usage: ["kubeiam broker update-kubeconfig --server URL --cluster NAME [flags]"],
    flags: FLAGS,
    docs: SHARED_DOCS,
    notes: `Other clusters, users and contexts stay as they were, in their order, with their comments. A
malformed kubeconfig is refused and left untouched, before the broker is asked anything. The file
is read, changed and written under <file>.lock (as kubectl locks it), so runs at once keep each
other's entries; it is written atomically, a new file gets mode 0600, an existing one keeps its
mode. The same rules as 'kubeiam update-kubeconfig', 'kubeiam eks update-kubeconfig' and
'kubeiam gke update-kubeconfig'.`,
    examples: [
      "kubeiam broker update-kubeconfig --server https://broker.example:8750 --cluster prod-kr",
      "kubeiam broker update-kubeconfig --server https://broker.example:8750 --cluster prod-kr --alias prod --namespace web --dry-run",
    ],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const cmd = "broker update-kubeconfig";
    const { values } = parseFlags(cmd, normalizeBoolArgs(args, KUBECONFIG_FLOW_BOOL_FLAGS), FLAGS);
    const server = normalizeBrokerServer(requireFlag(cmd, values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"));
    const cluster = requireFlag(cmd, values.cluster, "cluster", "pass the cluster's name on the broker ('kubeiam broker clusters' lists them)");
    const flow = readKubeconfigFlowFlags(cmd, values);
    // Checked before the broker is asked: a bad flag fails fast, alone, and changes nothing.
    const alias = readEntryNameFlag(cmd, "alias", values.alias);
    const userAlias = readEntryNameFlag(cmd, "user-alias", values["user-alias"]);
    const exec = readExecCommandFlag(cmd, values["exec-command"]);
    const caFile = values["ca-file"] === undefined ? undefined : resolve(values["ca-file"]);
    const ca = await brokerCaFor(server, caFile, ctx.env);
    // Refuse a file that cannot be written, or a malformed one, before asking the broker anything.
    const target = await openKubeconfigTarget(flow, ctx);
    const token = await resolveBrokerToken(server, ctx.env);
    const text = await fetchBrokerKubeconfig({ server, token, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal }, cluster, "exec");
    // The kubeconfig names the broker as it names itself (--public-url: the load balancer, not the
    // instance that answered); the token for it is this one.
    const named = brokerNamedServer(text) ?? server;
    if (named !== server) ctx.err(`${await keepTokenFor(named, server, flow.dryRun, ctx)}\n`);
    const entries = brokerKubeconfigEntries(text, {
      server,
      cluster,
      ...(alias === undefined ? {} : { alias }),
      ...(userAlias === undefined ? {} : { userAlias }),
      ...(caFile === undefined ? {} : { caFile }),
      ...(exec === undefined ? {} : { exec }),
    });
    return applyKubeconfigEntries(cmd, target, { entries }, flow, ctx, {
      renameFlags: "--alias and --user-alias",
      successLine: ({ path, context, replaced }) => `${replaced ? "Updated context" : "Added new context"} ${context} to ${path} (broker cluster ${cluster} at ${named})`,
    });
  },
};
