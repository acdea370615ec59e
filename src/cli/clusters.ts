/**
 * `clusters`: the NKS clusters of a region, as a table or as JSON (kubeiam's own command).
 */
import type { ClusterInfo } from "../cluster-info.js";
import { UsageError } from "../lib/errors.js";
import { listNcpClusters } from "../ncp/cluster.js";
import { describeNcpCredentialSource, resolveNcpCredentials } from "../ncp/credentials.js";
import { normalizeNcpRegion } from "../ncp/region.js";
import { NCP_FLAG_HINTS, NCP_GLOBAL_FLAGS, cliHttp, eitherFlag, parseFlags, requireFlag, timed, warnUnknownNcpRegion, type CliContext, type Command } from "./context.js";

const FLAGS = {
  ...NCP_GLOBAL_FLAGS,
  region: { type: "string" },
  output: { type: "string", short: "o" },
} as const;

/**
 * Lays out clusters as a plain-text table: NAME, UUID, STATUS (normalised, NCP's word beside it),
 * VERSION, ENDPOINT.
 *
 * @example
 * ```ts
 * ctx.out(formatClusterTable(await listNcpClusters({ region: "KR" })));
 * ```
 */
export function formatClusterTable(clusters: ClusterInfo[]): string {
  const header = ["NAME", "UUID", "STATUS", "VERSION", "ENDPOINT"];
  const rows = [
    header,
    ...clusters.map((c) => [
      c.name,
      c.id,
      c.rawStatus === "" || c.rawStatus.toLowerCase() === c.status.toLowerCase() ? c.status : `${c.status} (${c.rawStatus})`,
      c.k8sVersion ?? "-",
      c.access.endpoint === "" ? "-" : c.access.endpoint,
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("   ")).join("\n") + "\n";
}

export const clustersCommand: Command = {
  options: { "": FLAGS },
  summary: "List the NKS clusters of a region",
  flags: NCP_FLAG_HINTS,
  help: `Lists the NKS clusters of a region: name, UUID, status, Kubernetes version, endpoint.

Usage:
  clusters --region CODE [-o table|json]

Flags:
  --region CODE              the region code: KR, SGN, JPN, FKR, … (required)
  -o, --output table|json    table (default), or JSON: one ClusterInfo per cluster
  --profile NAME             section of the configure file (default: $NCLOUD_PROFILE, then DEFAULT)
  --credentialConfig, --credential-config PATH
                             configure file (default: ~/.ncloud/configure)
  -h, --help                 this help
`,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("clusters", args, FLAGS);
    const region = normalizeNcpRegion(requireFlag("clusters", values.region, "region", "pass a region code, for example --region KR"));
    const output = values.output ?? "table";
    if (output !== "table" && output !== "json") {
      throw new UsageError(`clusters: -o ${JSON.stringify(output)} is not supported: use table or json`);
    }
    const configFile = eitherFlag("clusters", values, "credentialConfig", "credential-config");
    if (configFile !== undefined && configFile.trim() === "") {
      throw new UsageError("clusters: --credentialConfig is empty: pass the path of a configure file");
    }
    const credentials = await timed(
      ctx,
      (c) => `credentials: ${describeNcpCredentialSource(c)}`,
      () => resolveNcpCredentials({ env: ctx.env, profile: values.profile, configFile }),
    );
    for (const warning of credentials.warnings) ctx.err(`${ctx.programName}: warning: ${warning}\n`);
    warnUnknownNcpRegion(ctx, region);
    const clusters = await listNcpClusters({
      region,
      credentials,
      now: ctx.now,
      ...cliHttp(ctx, "NCP API"),
    });
    if (output === "json") {
      ctx.out(`${JSON.stringify(clusters, null, 2)}\n`);
    } else if (clusters.length === 0) {
      ctx.err(`${ctx.programName}: no clusters in region ${region || "KR"}\n`);
    } else {
      ctx.out(formatClusterTable(clusters));
    }
    return 0;
  },
};
