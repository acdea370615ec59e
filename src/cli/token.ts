/**
 * `token`: prints the ExecCredential that kubectl's exec plugin reads, as the official
 * ncp-iam-authenticator does. Runs on every kubectl call, so it imports only what it needs.
 */
import { UsageError } from "../lib/errors.js";
import { describeNcpCredentialSource, resolveNcpCredentials } from "../ncp/credentials.js";
import { createNcpSigner } from "../ncp/sign.js";
import { mintNcpToken, parseNcpTokenTarget } from "../ncp/token.js";
import { chooseExecApiVersion, execCredentialText } from "../kube/exec-credential.js";
import { NCP_FLAG_HINTS, NCP_GLOBAL_FLAGS, eitherFlag, parseFlags, requireFlag, timed, warnUnknownNcpRegion, type CliContext, type Command } from "./context.js";

const FLAGS = {
  ...NCP_GLOBAL_FLAGS,
  clusterUuid: { type: "string" },
  "cluster-uuid": { type: "string" },
  region: { type: "string" },
  "api-version": { type: "string" },
  "token-only": { type: "boolean" },
} as const;

export const tokenCommand: Command = {
  options: { "": FLAGS },
  summary: "Authenticate using SubAccount and get token for Kubernetes",
  flags: NCP_FLAG_HINTS,
  help: `Prints an ExecCredential with a fresh NKS IAM token (k8s-ncp-v1), for kubectl's exec plugin.

Usage:
  token --clusterUuid UUID --region CODE [flags]

Flags:
  --clusterUuid, --cluster-uuid UUID   the cluster's UUID (required)
  --region CODE                        the cluster's region code: KR, SGN, JPN, FKR, … (required)
  --profile NAME                       section of the configure file (default: $NCLOUD_PROFILE, then DEFAULT)
  --credentialConfig, --credential-config PATH
                                       configure file (default: ~/.ncloud/configure)
  --api-version v1|v1beta1             ExecCredential apiVersion when kubectl does not say (default: v1beta1)
  --token-only                         print the bare token instead of the ExecCredential
  -h, --help                           this help

Credentials: NCLOUD_ACCESS_KEY_ID and NCLOUD_SECRET_ACCESS_KEY in the environment win over the file.
The printed expirationTimestamp is 4 minutes on: NCP's API gateway honours the token's signature for
5 minutes, and kubectl is told to come back a minute before that.
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("token", args, FLAGS);
    const clusterUuid = requireFlag(
      "token",
      eitherFlag("token", values, "clusterUuid", "cluster-uuid"),
      "clusterUuid",
      "pass the cluster's UUID, for example --clusterUuid 3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b",
    );
    const region = requireFlag("token", values.region, "region", "pass the cluster's region code, for example --region KR");
    // Parse every input once, before touching credentials, so a bad flag fails fast and alone.
    const cluster = parseNcpTokenTarget({ clusterUuid, region });
    const apiVersion = chooseExecApiVersion({ execInfo: ctx.env.KUBERNETES_EXEC_INFO, flag: values["api-version"] });
    const configFile = eitherFlag("token", values, "credentialConfig", "credential-config");
    if (configFile !== undefined && configFile.trim() === "") {
      throw new UsageError("token: --credentialConfig is empty: pass the path of a configure file");
    }
    const credentials = await timed(
      ctx,
      (c) => `credentials: ${describeNcpCredentialSource(c)}`,
      () => resolveNcpCredentials({ env: ctx.env, profile: values.profile, configFile }),
    );
    for (const warning of credentials.warnings) ctx.err(`${ctx.programName}: warning: ${warning}\n`);
    warnUnknownNcpRegion(ctx, cluster.region);
    const signer = createNcpSigner(credentials);
    const { token, refreshAt } = await timed(ctx, (t) => `token: for cluster ${clusterUuid} in ${cluster.region.code || "KR"}, expires ${t.expiresAt.toISOString()}, refresh at ${t.refreshAt.toISOString()}`, () =>
      mintNcpToken({ signer, cluster, now: ctx.now() }),
    );
    if (values["token-only"]) {
      ctx.out(`${token}\n`);
      return 0;
    }
    // The official tool's layout: compact JSON, no trailing newline.
    ctx.out(execCredentialText({ token, expirationTimestamp: refreshAt, apiVersion }, "ncp-iam-authenticator"));
    return 0;
  },
};
