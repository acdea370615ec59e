/**
 * Properties of the kubeconfig parsers over generated and mutated documents: every text ends in a
 * typed model, an editable document, or a KubeconfigError; a document that parses can be merged
 * into and written back, and what is written back parses again.
 */
import fc from "fast-check";
import { stringify as yamlStringify } from "yaml";
import {
  clusterEntry,
  contextEntry,
  execUserEntry,
  kubeconfigOf,
  mergeKubeconfigEntries,
  parseKubeconfig,
  parseKubeconfigDocument,
  serializeKubeconfig,
  serializeKubeconfigDocument,
  kubeconfigConflicts,
} from "../../../src/kube/kubeconfig.js";
import { parse as yamlParse } from "yaml";
import { kubeconfigTextConflicts, scanKubeconfigText, spliceKubeconfigEntries } from "../../../src/kube/kubeconfig-text.js";
import { KubeconfigError } from "../../../src/lib/errors.js";
import { anyText, applyEdits, bytesOf, edits } from "./mutate.js";

const entries = {
  cluster: clusterEntry("nks_kr_fuzz", { server: "https://fuzz.example:6443", certificateAuthorityData: "Q0FEQVRB" }),
  user: execUserEntry("nks_kr_fuzz", { command: "ncp-iam-authenticator", args: ["token", "--clusterUuid", "U", "--region", "KR"] }),
  context: contextEntry("nks_kr_fuzz", { cluster: "nks_kr_fuzz", user: "nks_kr_fuzz" }),
};

const HAND_WRITTEN = `# my clusters
apiVersion: v1
kind: Config
clusters:
  - name: zeta # indented list
    cluster: &c
      server: https://zeta.example
      certificate-authority-data: Q0E=
      insecure-skip-tls-verify: false
  - name: alpha
    cluster: *c
users:
  - name: zeta
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1beta1
        command: kubeiam
        args: [eks, token, --cluster-name, "zeta"]
        env: [{name: AWS_PROFILE, value: prod}]
        interactiveMode: Never
contexts:
  - name: zeta
    context: {cluster: zeta, user: zeta, namespace: prod}
current-context: zeta
preferences: {}
x-unknown: [1, {a: b}]
`;
// As kubectl (go-yaml) rewrites a file: quoted words, a folded single-quoted scalar, flush lists.
const KUBECTL_WRITTEN = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0FEQVRB
    server: https://a:6443
  name: a
- cluster:
    server: https://nks_kr_fuzz.example
  name: nks_kr_fuzz
contexts:
- context:
    cluster: a
    namespace: ns
    user: a
  name: a
current-context: a
kind: Config
preferences: {}
users:
- name: a
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - token
      - --clusterUuid
      - U
      command: ncp-iam-authenticator
      env:
      - name: "Y"
        value: 'a: b #c'
      installHint: 'ncp-iam-authenticator mints this cluster''s credentials. It comes
        with kubeiam: install it with ''npm install -g kubeiam'' (Node.js 20 or later),
        which puts kubeiam and ncp-iam-authenticator on PATH.'
      interactiveMode: IfAvailable
      provideClusterInfo: false
- name: "weird \\"one\\""
  user:
    token: |
      line one
      # not a comment
- name: nks_kr_fuzz # ours
  user: {}
`;
const SEEDS = [
  KUBECTL_WRITTEN,
  KUBECTL_WRITTEN.replaceAll("\n", "\r\n"),
  serializeKubeconfig(kubeconfigOf(entries), "yaml"),
  serializeKubeconfig(kubeconfigOf(entries), "json"),
  HAND_WRITTEN,
  "",
  "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n",
];

/** Characters that mean something in YAML: structure, anchors, aliases, tags, quotes, comments, merge keys. */
const YAML_BITS = [":", "- ", "\n", "  ", "\t", "&a ", "*a", "!!", "!!binary ", "!!timestamp ", "[", "]", "{", "}", ",", "#", "'", '"', "|", ">", "<<: ", "? ", "---\n", "...\n", "%YAML 1.1\n", "\\", "~", "null", "true", "0x1F", "1e999", "__proto__", "clusters", "users", "contexts", "name", "cluster", "user", "context", "server", "exec", "apiVersion", "kind", "Config", "current-context"];
const yamlish = fc.array(fc.oneof(fc.constantFrom(...YAML_BITS), anyText(6)), { maxLength: 60 }).map((parts) => parts.join(""));

/** Any JSON value, also as kubeconfig-shaped objects with values of the wrong types. */
const shaped = fc.record(
  {
    apiVersion: fc.jsonValue({ maxDepth: 1 }),
    kind: fc.oneof(fc.constant("Config"), fc.jsonValue({ maxDepth: 1 })),
    clusters: fc.oneof(fc.array(fc.record({ name: fc.jsonValue({ maxDepth: 1 }), cluster: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
    users: fc.oneof(fc.array(fc.record({ name: fc.string(), user: fc.record({ token: fc.jsonValue({ maxDepth: 1 }), exec: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }) }, { requiredKeys: [] }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
    contexts: fc.oneof(fc.array(fc.record({ name: fc.string(), context: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
    "current-context": fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

const generated = fc.oneof(
  anyText(200),
  yamlish,
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  shaped.map((v) => yamlStringify(v)),
  shaped.map((v) => JSON.stringify(v, null, 2)),
);
const mutated = fc.tuple(fc.constantFrom(...SEEDS), edits(6, bytesOf(":-\n &*!{}[],#'\"|><?%\t"))).map(([seed, list]) => applyEdits(Buffer.from(seed, "utf8"), list).toString("utf8"));

/** Every input of the properties below: generated texts and mutated seeds, half each. */
export const kubeconfigTexts = fc.oneof(generated, mutated);

function typed(e: unknown): void {
  if (!(e instanceof KubeconfigError)) throw new Error(`an untyped error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
}

/** parseKubeconfig: the typed model, every field of the type it says, or a KubeconfigError. */
export function parseNeverThrowsUntyped() {
  return fc.property(kubeconfigTexts, (text) => {
    let kc;
    try {
      kc = parseKubeconfig(text);
    } catch (e) {
      typed(e);
      return;
    }
    for (const c of kc.clusters) if (typeof c.name !== "string" || typeof c.cluster.server !== "string") throw new Error("a cluster without a string name and server");
    for (const u of kc.users) if (typeof u.name !== "string" || (u.user.exec !== undefined && !Array.isArray(u.user.exec.args))) throw new Error("a user of the wrong shape");
    for (const x of kc.contexts) if (typeof x.context.cluster !== "string" || typeof x.context.user !== "string") throw new Error("a context of the wrong shape");
    if (kc.currentContext !== undefined && typeof kc.currentContext !== "string") throw new Error("current-context is not a string");
  });
}

/**
 * parseKubeconfigDocument, then a merge (overwriting or not) and the writer: each step a result
 * or a KubeconfigError, and what is written back parses again.
 */
export function documentRoundTrips() {
  return fc.property(kubeconfigTexts, fc.boolean(), fc.constantFrom("yaml", "json") as fc.Arbitrary<"yaml" | "json">, (text, overwrite, format) => {
    try {
      const doc = parseKubeconfigDocument(text);
      mergeKubeconfigEntries(doc, entries, { overwrite });
      const written = serializeKubeconfigDocument(doc, format);
      parseKubeconfigDocument(written);
      const kc = parseKubeconfig(written);
      if (!kc.clusters.some((c) => c.name === "nks_kr_fuzz")) throw new Error("the merged cluster is not in what was written");
    } catch (e) {
      typed(e);
    }
  });
}

/**
 * The text splice (src/kube/kubeconfig-text.ts) against the full path: a text the scan accepts is
 * one the full parse accepts, the two find the same taken names, the two results hold the same
 * data, and the splice's result parses again.
 */
export function textSpliceAgreesWithDocument() {
  return fc.property(kubeconfigTexts, fc.boolean(), fc.boolean(), (text, overwrite, setCurrentContext) => {
    const scanned = scanKubeconfigText(text);
    if (scanned === undefined) return;
    const doc = parseKubeconfigDocument(text); // throws (and fails the property) when the scan let a malformed text through
    const taken = kubeconfigConflicts(doc, entries);
    if (JSON.stringify(kubeconfigTextConflicts(scanned, entries)) !== JSON.stringify(taken)) throw new Error("the splice and the document find different taken names");
    if (taken.length > 0 && !overwrite) return;
    mergeKubeconfigEntries(doc, entries, { overwrite, setCurrentContext });
    const spliced = spliceKubeconfigEntries(scanned, entries, { overwrite, setCurrentContext }).text;
    parseKubeconfigDocument(spliced);
    const full = JSON.stringify(yamlParse(serializeKubeconfigDocument(doc, "yaml")));
    const mine = JSON.stringify(yamlParse(spliced));
    if (full !== mine) throw new Error(`the splice's data differs from the full path's:\n${mine}\n${full}`);
  });
}
