import { test } from "node:test";
import assert from "node:assert/strict";
import { execInstallHint } from "../../src/kube/kubeconfig.js";
import { KubeconfigError } from "../../src/lib/errors.js";
import {
  clusterEntry,
  contextEntry,
  execUserEntry,
  kubeconfigOf,
  mergeKubeconfigEntries,
  newKubeconfigDocument,
  parseKubeconfig,
  parseKubeconfigDocument,
  serializeKubeconfig,
  serializeKubeconfigDocument,
  tokenUserEntry,
} from "../../src/kube/kubeconfig.js";

const entries = {
  cluster: clusterEntry("nks_kr_demo", { server: "https://demo.example:6443", certificateAuthorityData: "Q0FEQVRB" }),
  user: execUserEntry("nks_kr_demo", { command: "ncp-iam-authenticator", args: ["token", "--clusterUuid", "U", "--region", "KR"] }),
  context: contextEntry("nks_kr_demo", { cluster: "nks_kr_demo", user: "nks_kr_demo" }),
};

// Written by hand: what kubectl would hold for these entries.
const EXPECTED_NEW = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0FEQVRB
    server: https://demo.example:6443
  name: nks_kr_demo
contexts:
- context:
    cluster: nks_kr_demo
    user: nks_kr_demo
  name: nks_kr_demo
current-context: nks_kr_demo
kind: Config
preferences: {}
users:
- name: nks_kr_demo
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - token
      - --clusterUuid
      - U
      - --region
      - KR
      command: ncp-iam-authenticator
      installHint: ${JSON.stringify(execInstallHint("ncp-iam-authenticator"))}
      provideClusterInfo: false
`;

test("serializeKubeconfig writes the typed model as kubectl lays it out", () => {
  assert.equal(serializeKubeconfig(kubeconfigOf(entries)), EXPECTED_NEW);
});

test("serializeKubeconfig JSON is the same data", () => {
  const json = JSON.parse(serializeKubeconfig(kubeconfigOf(entries), "json")) as Record<string, unknown>;
  assert.equal(json["current-context"], "nks_kr_demo");
  assert.deepEqual(json.clusters, [{ cluster: { "certificate-authority-data": "Q0FEQVRB", server: "https://demo.example:6443" }, name: "nks_kr_demo" }]);
});

test("parseKubeconfig round-trips what serializeKubeconfig writes", () => {
  assert.deepEqual(parseKubeconfig(EXPECTED_NEW), {
    clusters: [entries.cluster],
    users: [{ name: "nks_kr_demo", user: { exec: { ...entries.user.user.exec!, provideClusterInfo: false } } }],
    contexts: [entries.context],
    currentContext: "nks_kr_demo",
  });
});

test("exec v1 gets interactiveMode Never; token users hold the token", () => {
  const v1 = execUserEntry("u", { command: "c", apiVersion: "client.authentication.k8s.io/v1" });
  assert.equal(v1.user.exec?.interactiveMode, "Never");
  const v1beta1 = execUserEntry("u", { command: "c" });
  assert.equal(v1beta1.user.exec?.interactiveMode, undefined);
  assert.deepEqual(tokenUserEntry("u", "k8s-ncp-v1.abc").user, { token: "k8s-ncp-v1.abc" });
  assert.match(serializeKubeconfig(kubeconfigOf({ ...entries, user: v1 })), /interactiveMode: Never/);
});

test("parse errors name the exact field", () => {
  const cases: [string, string][] = [
    ["clusters:\n- name: a\n  cluster: {}\n", "clusters[0].cluster.server is missing"],
    ["clusters:\n- cluster: {server: https://x}\n", "clusters[0].name is missing"],
    ["clusters:\n- name: a\n", "clusters[0].cluster is missing"],
    ["clusters: {}\n", "clusters is not a list"],
    ["users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1}}\n", "users[0].user.exec.command is missing"],
    ["users:\n- name: u\n  user: {exec: {apiVersion: x/v9, command: c}}\n", 'users[0].user.exec.apiVersion "x/v9" is not one of client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1'],
    ["contexts:\n- name: c\n  context: {cluster: a}\n", "contexts[0].context.user is missing"],
    ["kind: Pod\n", 'kind is "Pod", not "Config": this is not a kubeconfig'],
    ["- a\n", "the top level is not a mapping (expected apiVersion, kind: Config, clusters, users, contexts)"],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseKubeconfig(text), (e: unknown) => e instanceof KubeconfigError && e.message === message, message);
  }
  assert.throws(() => parseKubeconfig("a: [\n"), (e: unknown) => e instanceof KubeconfigError && /^not valid YAML at line \d+, column \d+: Flow sequence/.test(e.message));
  assert.throws(() => parseKubeconfig("a: 1\na: 2\n"), (e: unknown) => e instanceof KubeconfigError && /Map keys must be unique/.test(e.message));
});

test("builders refuse bad names and servers", () => {
  assert.throws(() => clusterEntry("", { server: "https://x" }), KubeconfigError);
  assert.throws(() => clusterEntry("a\nb", { server: "https://x" }), KubeconfigError);
  assert.throws(() => clusterEntry("a", { server: "ftp://x" }), /is not an http\(s\) URL/);
  assert.throws(() => tokenUserEntry("u", "a b"), KubeconfigError);
});

test("merge into an empty or missing file makes a whole kubeconfig", () => {
  for (const text of ["", "\n", "# only a comment\n"]) {
    const doc = parseKubeconfigDocument(text);
    const result = mergeKubeconfigEntries(doc, entries);
    assert.deepEqual(result.added, ['cluster "nks_kr_demo"', 'user "nks_kr_demo"', 'context "nks_kr_demo"']);
    assert.deepEqual(parseKubeconfig(serializeKubeconfigDocument(doc)), parseKubeconfig(EXPECTED_NEW));
  }
  const fresh = newKubeconfigDocument();
  mergeKubeconfigEntries(fresh, entries);
  assert.equal(serializeKubeconfigDocument(fresh), EXPECTED_NEW);
});

const EXISTING = `# my clusters: hands off
apiVersion: v1
kind: Config
clusters:
- name: zeta # first on purpose
  cluster:
    server: https://zeta.example
    x-vendor: kept
- name: alpha
  cluster:
    server: https://alpha.example
users:
- name: zeta
  user:
    token: zeta-token
contexts:
- name: zeta
  context:
    cluster: zeta
    user: zeta
    namespace: prod
current-context: zeta
x-unknown-top: {a: 1}
`;

test("merge keeps comments, order and unknown fields, appends new entries", () => {
  const doc = parseKubeconfigDocument(EXISTING);
  mergeKubeconfigEntries(doc, entries, { setCurrentContext: false });
  // Hand-written: the original text with the three entries appended to their lists.
  assert.equal(
    serializeKubeconfigDocument(doc),
    `# my clusters: hands off
apiVersion: v1
kind: Config
clusters:
- name: zeta # first on purpose
  cluster:
    server: https://zeta.example
    x-vendor: kept
- name: alpha
  cluster:
    server: https://alpha.example
- cluster:
    certificate-authority-data: Q0FEQVRB
    server: https://demo.example:6443
  name: nks_kr_demo
users:
- name: zeta
  user:
    token: zeta-token
- name: nks_kr_demo
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - token
      - --clusterUuid
      - U
      - --region
      - KR
      command: ncp-iam-authenticator
      installHint: ${JSON.stringify(execInstallHint("ncp-iam-authenticator"))}
      provideClusterInfo: false
contexts:
- name: zeta
  context:
    cluster: zeta
    user: zeta
    namespace: prod
- context:
    cluster: nks_kr_demo
    user: nks_kr_demo
  name: nks_kr_demo
current-context: zeta
x-unknown-top: { a: 1 }
`,
  );
});

test("merge sets current-context by default", () => {
  const doc = parseKubeconfigDocument(EXISTING);
  mergeKubeconfigEntries(doc, entries);
  assert.equal(parseKubeconfig(serializeKubeconfigDocument(doc)).currentContext, "nks_kr_demo");
});

test("indented list style is kept", () => {
  const doc = parseKubeconfigDocument("clusters:\n  - name: a\n    cluster:\n      server: https://a\n");
  mergeKubeconfigEntries(doc, { cluster: entries.cluster });
  assert.equal(
    serializeKubeconfigDocument(doc),
    "clusters:\n  - name: a\n    cluster:\n      server: https://a\n  - cluster:\n      certificate-authority-data: Q0FEQVRB\n      server: https://demo.example:6443\n    name: nks_kr_demo\n",
  );
});

test("duplicate names are an error naming each, and the document is unchanged", () => {
  const taken = {
    cluster: clusterEntry("zeta", { server: "https://new.example" }),
    user: tokenUserEntry("zeta", "new-token"),
    context: contextEntry("other", { cluster: "zeta", user: "zeta" }),
  };
  const doc = parseKubeconfigDocument(EXISTING);
  assert.throws(
    () => mergeKubeconfigEntries(doc, taken),
    (e: unknown) =>
      e instanceof KubeconfigError &&
      e.message === 'the kubeconfig already has cluster "zeta", user "zeta": overwrite them, or choose other names' && e.field === "names",
  );
  assert.equal(serializeKubeconfigDocument(doc), serializeKubeconfigDocument(parseKubeconfigDocument(EXISTING)));
});

test("overwrite replaces the entry's body in place, keeping its position and comment", () => {
  const doc = parseKubeconfigDocument(EXISTING);
  const result = mergeKubeconfigEntries(
    doc,
    { cluster: clusterEntry("zeta", { server: "https://new.example" }), user: tokenUserEntry("zeta", "new-token"), context: contextEntry("zeta", { cluster: "zeta", user: "zeta" }) },
    { overwrite: true },
  );
  assert.deepEqual(result.replaced, ['cluster "zeta"', 'user "zeta"', 'context "zeta"']);
  const text = serializeKubeconfigDocument(doc);
  assert.match(text, /- name: zeta # first on purpose\n  cluster:\n    server: https:\/\/new\.example\n- name: alpha/);
  const kc = parseKubeconfig(text);
  assert.deepEqual(kc.clusters.map((c) => c.name), ["zeta", "alpha"]);
  assert.equal(kc.users[0]?.user.token, "new-token");
  assert.equal(kc.contexts[0]?.context.namespace, undefined);
});

test("malformed documents are refused with the field named", () => {
  const cases: [string, string][] = [
    ["clusters:\n- cluster: {}\n", "clusters[0].name is missing"],
    ["users: 3\n", "users is not a list"],
    ["contexts:\n- name: c\n  context: [1]\n", "contexts[0].context is not a mapping"],
    ["current-context: [a]\n", "current-context is not a string"],
    ["kind: Deployment\n", 'kind is "Deployment", not "Config": this is not a kubeconfig'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseKubeconfigDocument(text), (e: unknown) => e instanceof KubeconfigError && e.message === message, message);
  }
  // Lenient where kubectl is: a cluster without server is kept, not refused.
  assert.doesNotThrow(() => parseKubeconfigDocument("clusters:\n- name: a\n  cluster: {}\nusers: null\n"));
});

test("JSON serialisation of a merged document", () => {
  const doc = parseKubeconfigDocument(EXISTING);
  mergeKubeconfigEntries(doc, entries);
  const data = JSON.parse(serializeKubeconfigDocument(doc, "json")) as { clusters: { name: string }[] };
  assert.deepEqual(data.clusters.map((c) => c.name), ["zeta", "alpha", "nks_kr_demo"]);
});

test("a JSON kubeconfig stays JSON unless YAML is asked for", () => {
  const json = JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "a", cluster: { server: "https://a" } }], users: [], contexts: [] }, null, 2);
  const doc = parseKubeconfigDocument(json);
  assert.equal(doc.format, "json");
  mergeKubeconfigEntries(doc, entries);
  const out = serializeKubeconfigDocument(doc);
  const data = JSON.parse(out) as { clusters: { name: string }[]; "current-context": string };
  assert.deepEqual(data.clusters.map((c) => c.name), ["a", "nks_kr_demo"]);
  assert.equal(data["current-context"], "nks_kr_demo");
  assert.equal(parseKubeconfig(serializeKubeconfigDocument(doc, "yaml")).clusters.length, 2);
  assert.equal(parseKubeconfigDocument(EXISTING).format, "yaml");
});

test("a YAML alias bomb is a KubeconfigError naming the aliases, for every parser and the JSON writer", () => {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
  }
  const bomb = `${levels.join("\n")}\nclusters: []\n`;
  for (const parse of [parseKubeconfig, parseKubeconfigDocument]) {
    assert.throws(() => parse(bomb), (e: unknown) => e instanceof KubeconfigError && /aliases/.test(e.message) && !e.message.includes("\n"));
  }
  // A few aliases, as hand-written kubeconfigs sometimes share a block, are fine.
  const shared = "x: &ca {server: https://a.example, certificate-authority-data: Q0E=}\nclusters:\n- name: a\n  cluster: *ca\n- name: b\n  cluster: *ca\n";
  assert.deepEqual(parseKubeconfig(shared).clusters.map((c) => c.cluster.server), ["https://a.example", "https://a.example"]);
  assert.equal(serializeKubeconfigDocument(parseKubeconfigDocument(shared), "json").includes("https://a.example"), true);
});

test("a document the yaml package would warn about (a collection as a key) adds no warning line to stderr", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on("warning", onWarning);
  try {
    for (const text of ["? [a, b]\n: c\nclusters: []\n", "clusters:\n- ? {x: 1}\n  : y\n  name: n\n  cluster: {server: https://a.example}\n"]) {
      try {
        parseKubeconfig(text);
        serializeKubeconfigDocument(parseKubeconfigDocument(text), "json");
      } catch (e) {
        assert.ok(e instanceof KubeconfigError, String(e));
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", onWarning);
  }
  assert.deepEqual(warnings, []);
});

test("a YAML error names the problem and the place, never the file's text (a token could be in it)", () => {
  const secret = "k8s-ncp-v1.eyJSECRETTOKENVALUEnotprinted";
  for (const text of [`users:\n- name: u\n  user:\n    token: >-${secret}\n`, `users: []\n${"\u0001"}${secret}\n`]) {
    assert.throws(
      () => parseKubeconfig(text),
      (e: unknown) => e instanceof KubeconfigError && /^not valid YAML at line \d+, column \d+: [A-Z]/.test(e.message) && !e.message.includes("SECRET"),
      text,
    );
  }
});
