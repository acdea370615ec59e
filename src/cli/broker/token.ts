/**
 * `kubeiam broker token`: the exec plugin that asks a broker for a cluster token and prints it as
 * the ExecCredential kubectl reads. Runs on every kubectl call, so it stays on the light path: the
 * broker client's node:https edge, no SDK, no YAML, no framework.
 */
import { fetchBrokerToken } from "../../broker/client/api.js";
import { readBrokerCaFile } from "../../broker/client/ca-file.js";
import { normalizeBrokerServer, resolveBrokerToken } from "../../broker/client/credentials.js";
import { formatExecCredential, parseExecApiVersion, parseExecInfo } from "../../kube/exec-credential.js";
import { parseFlags, requireFlag, type CliContext, type Command } from "../context.js";

const FLAGS = {
  server: { type: "string" },
  cluster: { type: "string" },
  "api-version": { type: "string" },
  "ca-file": { type: "string" },
} as const;

/**
 * `kubeiam broker token`: the exec plugin.
 *
 * @example
 * ```ts
 * await brokerTokenCommand.run(["--server", "https://broker.example:8750", "--cluster", "prod-kr"], ctx);
 * ```
 */
export const brokerTokenCommand: Command = {
  options: { "": FLAGS },
  summary: "Print a cluster token from the broker as an ExecCredential (kubectl's exec plugin)",
  help: `Asks a kubeiam broker for a fresh token for one cluster and prints it as the ExecCredential
that kubectl's exec plugin reads. No cloud key is needed: the broker holds it.

Usage:
  kubeiam broker token --server URL --cluster NAME [flags]

Flags:
  --server URL              the broker (https://…; http:// only on loopback) (required)
  --cluster NAME            the cluster's name on the broker (required)
  --api-version v1|v1beta1  ExecCredential apiVersion when kubectl does not say (default: v1)
  --ca-file PEM             the broker's CA, when a private one signed its certificate
                            (NODE_EXTRA_CA_CERTS works as well)
  -h, --help                this help

The broker token comes from $KUBEIAM_BROKER_TOKEN, else from 'kubeiam broker login --server URL'.
A refusal (no grant, unknown cluster, bad token, broker unreachable or answering something that
is not an ExecCredential) is one line on stderr and a non-zero exit; nothing is printed on stdout.
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker token", args, FLAGS);
    const server = normalizeBrokerServer(
      requireFlag("broker token", values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"),
    );
    const cluster = requireFlag("broker token", values.cluster, "cluster", "pass the cluster's name on the broker ('kubeiam broker clusters' lists them)");
    // Checked even when KUBERNETES_EXEC_INFO decides, so a typo in the kubeconfig shows at once.
    const flagApiVersion = values["api-version"] === undefined ? undefined : parseExecApiVersion(values["api-version"]);
    const apiVersion = parseExecInfo(ctx.env.KUBERNETES_EXEC_INFO)?.apiVersion ?? flagApiVersion ?? "client.authentication.k8s.io/v1";
    const ca = values["ca-file"] === undefined ? undefined : await readBrokerCaFile(values["ca-file"]);
    const token = await resolveBrokerToken(server, ctx.env);
    const answer = await fetchBrokerToken({ server, token, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal }, cluster, apiVersion);
    const credential = formatExecCredential({ token: answer.token, expirationTimestamp: answer.expiresAt, apiVersion });
    ctx.out(JSON.stringify(credential));
    return 0;
  },
};
