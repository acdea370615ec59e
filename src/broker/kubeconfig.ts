/**
 * The kubeconfig the broker hands out for one cluster: its endpoint and CA, and a user that either
 * runs `kubeiam broker token` (exec, the default) or carries a token (embed, the seed's form).
 */
import { clusterEntry, contextEntry, execUserEntry, kubeconfigOf, serializeKubeconfig, tokenUserEntry } from "../kube/kubeconfig.js";
import type { StoredCluster } from "./store/store.js";

/**
 * The user entry's name for a broker cluster.
 *
 * @example
 * ```ts
 * brokerUserName("prod-kr"); // "kubeiam-broker-prod-kr"
 * ```
 */
export function brokerUserName(cluster: string): string {
  return `kubeiam-broker-${cluster}`;
}

/**
 * A kubeconfig (YAML) for one cluster through the broker at `server`.
 *
 * @example
 * ```ts
 * const yaml = brokerKubeconfig({ cluster, server: "https://broker:8750", mode: "exec" });
 * ```
 */
export function brokerKubeconfig(input: { cluster: StoredCluster; server: string; mode: "exec" } | { cluster: StoredCluster; server: string; mode: "embed"; token: string }): string {
  const { cluster } = input;
  const caData = cluster.caData === null ? undefined : Buffer.from(cluster.caData, "utf8").toString("base64");
  const userName = brokerUserName(cluster.name);
  const user =
    input.mode === "exec"
      ? execUserEntry(userName, {
          command: "kubeiam",
          args: ["broker", "token", "--server", input.server, "--cluster", cluster.name],
          apiVersion: "client.authentication.k8s.io/v1",
          interactiveMode: "Never",
        })
      : tokenUserEntry(userName, input.token);
  return serializeKubeconfig(
    kubeconfigOf({
      cluster: clusterEntry(cluster.name, { server: cluster.endpoint, ...(caData === undefined ? {} : { certificateAuthorityData: caData }) }),
      user,
      context: contextEntry(cluster.name, { cluster: cluster.name, user: userName }),
    }),
    "yaml",
  );
}
