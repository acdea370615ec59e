/**
 * The broker's kubeconfig forms, as text: cb-spider's sh/curl user at the broker's own token URL
 * (expected scripts written out by hand), which convert-kubeconfig must recognise, and the refusal of
 * a public URL the shell would expand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { parseSpiderTokenScript } from "../../src/broker/client/convert.js";
import { brokerKubeconfig, spiderTokenScript, spiderTokenUrl } from "../../src/broker/kubeconfig.js";
import type { StoredCluster } from "../../src/broker/store/store.js";
import { ErrorCode } from "../../src/lib/errors.js";

const CLUSTER: StoredCluster = {
  id: "c1",
  name: "prod-kr",
  provider: "aws",
  credentialId: "k1",
  region: "ap-northeast-2",
  connection: "aws-seoul",
  endpoint: "https://ABC.gr7.ap-northeast-2.eks.amazonaws.com",
  caData: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  status: "Active",
  locator: JSON.stringify({ region: "ap-northeast-2", name: "prod-kr" }),
  createdAt: "2026-01-01T00:00:00.000Z",
};

test("cb-spider's script, at the broker's token URL (a trailing slash of the server dropped)", () => {
  assert.equal(spiderTokenUrl("https://broker.example:8750/", "prod-kr", "aws-seoul"), "https://broker.example:8750/spider/cluster/prod-kr/token?ConnectionName=aws-seoul");
  assert.equal(
    spiderTokenScript("http://127.0.0.1:1024/spider/cluster/c.1/token?ConnectionName=ncp_kr"),
    '. ~/.cb-spider/.spider-credential && curl -s -u "$SPIDER_USERNAME:$SPIDER_PASSWORD" "http://127.0.0.1:1024/spider/cluster/c.1/token?ConnectionName=ncp_kr"',
  );
});

test("the spider kubeconfig: cb-spider's user name per cloud, the script convert-kubeconfig knows, no token", () => {
  const doc = parseYaml(brokerKubeconfig({ cluster: CLUSTER, server: "https://broker.example:8750", mode: "spider" })) as {
    users: { name: string; user: { exec: { command: string; args: string[]; apiVersion: string; interactiveMode: string } } }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    "current-context": string;
  };
  assert.equal(doc.users.length, 1);
  const [user] = doc.users;
  assert.equal(user?.name, "aws-dynamic-token");
  assert.deepEqual(doc.contexts, [{ name: "prod-kr", context: { cluster: "prod-kr", user: "aws-dynamic-token" } }]);
  assert.equal(doc["current-context"], "prod-kr");
  assert.equal(user?.user.exec.command, "sh");
  assert.equal(user?.user.exec.apiVersion, "client.authentication.k8s.io/v1");
  assert.equal(user?.user.exec.interactiveMode, "Never");
  assert.equal(user?.user.exec.args[0], "-c");
  assert.deepEqual(parseSpiderTokenScript(user?.user.exec.args[1] ?? ""), { kind: "cb-spider", spiderServer: "https://broker.example:8750", cluster: "prod-kr", connection: "aws-seoul" });
});

test("a public URL the shell would expand inside the script's quotes is refused, never written", () => {
  for (const server of ['https://broker$(id).example', "https://broker`id`.example", 'https://broker.example/"x', "https://broker.example/a\\b"]) {
    assert.throws(
      () => brokerKubeconfig({ cluster: CLUSTER, server, mode: "spider" }),
      (e: Error & { code?: string }) => e.code === ErrorCode.KUBECONFIG && /the shell would change .*: set a plain --public-url$/.test(e.message),
      server,
    );
  }
});
