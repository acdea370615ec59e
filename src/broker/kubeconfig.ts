/**
 * The kubeconfig the broker hands out for one cluster: its endpoint and CA, and a user that either
 * runs `kubeiam broker token` (exec, the default of `/v1`), carries a token (embed, the seed's form),
 * or fetches its token the way cb-spider's kubeconfigs do (spider: `sh -c ". ~/.cb-spider/.spider-credential
 * && curl …"` against this broker's own `/spider` token route, the default of `/spider`).
 */
import { KubeconfigError } from "../lib/errors.js";
import { clusterEntry, contextEntry, execUserEntry, kubeconfigOf, serializeKubeconfig, tokenUserEntry, type KubeconfigUserEntry } from "../kube/kubeconfig.js";
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

// What may stand inside the script's double quotes: no `$`, backquote, backslash or quote, which
// sh would expand or end the string at. Names are already limited to [A-Za-z0-9._-] by the API.
const SHELL_SAFE_URL = /^https?:\/\/[A-Za-z0-9.:[\]_~%/?=&@-]+$/;

/**
 * The `/spider` token URL of a cluster on the broker at `server`, as cb-spider's kubeconfigs ask it:
 * `SERVER/spider/cluster/NAME/token?ConnectionName=CONN`.
 *
 * @example
 * ```ts
 * spiderTokenUrl("https://broker:8750", "prod-kr", "ncp-kr");
 * // "https://broker:8750/spider/cluster/prod-kr/token?ConnectionName=ncp-kr"
 * ```
 */
export function spiderTokenUrl(server: string, cluster: string, connection: string): string {
  return `${server.replace(/\/+$/, "")}/spider/cluster/${encodeURIComponent(cluster)}/token?ConnectionName=${encodeURIComponent(connection)}`;
}

/**
 * The script cb-spider's kubeconfigs give `sh -c`: read `SPIDER_USERNAME` and `SPIDER_PASSWORD` (here
 * a kubeiam user and their broker token) from `~/.cb-spider/.spider-credential`, and print what the
 * token URL answers (an ExecCredential). Throws when the URL holds a character the shell would expand.
 *
 * @example
 * ```ts
 * spiderTokenScript("https://broker:8750/spider/cluster/prod-kr/token?ConnectionName=ncp-kr");
 * // '. ~/.cb-spider/.spider-credential && curl -s -u "$SPIDER_USERNAME:$SPIDER_PASSWORD" "https://broker:8750/…"'
 * ```
 */
export function spiderTokenScript(tokenUrl: string): string {
  if (!SHELL_SAFE_URL.test(tokenUrl)) {
    throw new KubeconfigError(`the broker's public URL gives a token URL the shell would change (${JSON.stringify(tokenUrl.slice(0, 80))}): set a plain --public-url`);
  }
  return `. ~/.cb-spider/.spider-credential && curl -s -u "$SPIDER_USERNAME:$SPIDER_PASSWORD" "${tokenUrl}"`;
}

/** How the kubeconfig's user gets its token. */
export type BrokerKubeconfigInput =
  | { cluster: StoredCluster; server: string; mode: "exec" }
  | { cluster: StoredCluster; server: string; mode: "spider" }
  | { cluster: StoredCluster; server: string; mode: "embed"; token: string };

function userFor(input: BrokerKubeconfigInput): KubeconfigUserEntry {
  const { cluster, server } = input;
  switch (input.mode) {
    case "exec":
      return execUserEntry(brokerUserName(cluster.name), {
        command: "kubeiam",
        args: ["broker", "token", "--server", server, "--cluster", cluster.name],
        apiVersion: "client.authentication.k8s.io/v1",
        interactiveMode: "Never",
      });
    case "spider": {
      // cb-spider's own user name (ncp-dynamic-token, aws-dynamic-token, gcp-dynamic-token), so a
      // kubeconfig from kubeiam replaces one from cb-spider entry for entry. The shell script is
      // cb-spider's contract, kept for its users' tooling; kubeiam's own plugin is KubeconfigType=native.
      const url = spiderTokenUrl(server, cluster.name, cluster.connection);
      return execUserEntry(`${cluster.provider}-dynamic-token`, {
        command: "sh",
        args: ["-c", spiderTokenScript(url)],
        apiVersion: "client.authentication.k8s.io/v1",
        interactiveMode: "Never",
        installHint:
          `This user fetches its token from the kubeiam broker at ${server} with sh and curl, as cb-spider's kubeconfigs do: ` +
          "install curl, and write ~/.cb-spider/.spider-credential (mode 0600) with SPIDER_USERNAME=<your kubeiam user> and SPIDER_PASSWORD=<your kbi_ broker token>.",
      });
    }
    case "embed":
      return tokenUserEntry(brokerUserName(cluster.name), input.token);
  }
}

/**
 * A kubeconfig (YAML) for one cluster through the broker at `server`.
 *
 * @example
 * ```ts
 * const yaml = brokerKubeconfig({ cluster, server: "https://broker:8750", mode: "exec" });
 * ```
 */
export function brokerKubeconfig(input: BrokerKubeconfigInput): string {
  const { cluster } = input;
  const caData = cluster.caData === null ? undefined : Buffer.from(cluster.caData, "utf8").toString("base64");
  const user = userFor(input);
  return serializeKubeconfig(
    kubeconfigOf({
      cluster: clusterEntry(cluster.name, { server: cluster.endpoint, ...(caData === undefined ? {} : { certificateAuthorityData: caData }) }),
      user,
      context: contextEntry(cluster.name, { cluster: cluster.name, user: user.name }),
    }),
    "yaml",
  );
}
