import { test } from "node:test";
import assert from "node:assert/strict";
import { parse as yamlParse } from "yaml";
import { kubeconfigTextConflicts, scanKubeconfigText, spliceKubeconfigEntries } from "../../src/kube/kubeconfig-text.js";
import {
  clusterEntry,
  contextEntry,
  execInstallHint,
  execUserEntry,
  kubeconfigConflicts,
  mergeKubeconfigEntries,
  parseKubeconfigDocument,
  serializeKubeconfigDocument,
  tokenUserEntry,
  type KubeconfigEntries,
} from "../../src/kube/kubeconfig.js";

const entriesNamed = (name: string): KubeconfigEntries => ({
  cluster: clusterEntry(name, { server: "https://demo.example:6443", certificateAuthorityData: "Q0FEQVRB" }),
  user: execUserEntry(name, { command: "ncp-iam-authenticator", args: ["token", "--clusterUuid", "U", "--region", "KR"] }),
  context: contextEntry(name, { cluster: name, user: name, namespace: "apps" }),
});

function splice(text: string, entries: KubeconfigEntries, options: { overwrite?: boolean; setCurrentContext?: boolean } = {}): string {
  const scanned = scanKubeconfigText(text);
  assert.ok(scanned !== undefined, `the scan declined:\n${text}`);
  return spliceKubeconfigEntries(scanned, entries, options).text;
}

/** The full path's result: parse, merge, write (what update-kubeconfig did before the splice). */
function full(text: string, entries: KubeconfigEntries, options: { overwrite?: boolean; setCurrentContext?: boolean } = {}): string {
  const doc = parseKubeconfigDocument(text);
  mergeKubeconfigEntries(doc, entries, options);
  return serializeKubeconfigDocument(doc, "yaml");
}

const HINT = JSON.stringify(execInstallHint("ncp-iam-authenticator"));

// Written by hand: a file kubectl wrote and a person commented, then what the splice makes of it.
const COMMENTED = `# my clusters
apiVersion: v1
clusters:
- cluster:
    server: https://a.example:6443 # the old one
  name: a
contexts:
- context:
    cluster: a
    user: a
  name: a
current-context: a
kind: Config
preferences: {}
users:
# people
- name: a
  user:
    token: abc
`;
const COMMENTED_AFTER = `# my clusters
apiVersion: v1
clusters:
- cluster:
    server: https://a.example:6443 # the old one
  name: a
- cluster:
    certificate-authority-data: Q0FEQVRB
    server: https://demo.example:6443
  name: b
contexts:
- context:
    cluster: a
    user: a
  name: a
- context:
    cluster: b
    namespace: apps
    user: b
  name: b
current-context: b
kind: Config
preferences: {}
users:
# people
- name: a
  user:
    token: abc
- name: b
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
      installHint: ${HINT}
      provideClusterInfo: false
`;

test("the splice appends the entries and sets current-context, every other byte (comments included) as it was", () => {
  assert.equal(splice(COMMENTED, entriesNamed("b")), COMMENTED_AFTER);
});

test("with overwrite, the splice replaces the bodies of the entries of the same name where they stand, keeping their names and comments", () => {
  const out = splice(COMMENTED, entriesNamed("a"), { overwrite: true });
  assert.equal(
    out,
    COMMENTED.replace("    server: https://a.example:6443 # the old one\n", "    certificate-authority-data: Q0FEQVRB\n    server: https://demo.example:6443\n")
      .replace("    cluster: a\n    user: a\n", "    cluster: a\n    namespace: apps\n    user: a\n")
      .replace(
        "    token: abc\n",
        `    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      args:\n      - token\n      - --clusterUuid\n      - U\n      - --region\n      - KR\n      command: ncp-iam-authenticator\n      installHint: ${HINT}\n      provideClusterInfo: false\n`,
      ),
  );
  const scanned = scanKubeconfigText(COMMENTED);
  assert.ok(scanned);
  assert.deepEqual(kubeconfigTextConflicts(scanned, entriesNamed("a")), ['cluster "a"', 'user "a"', 'context "a"']);
  assert.deepEqual(kubeconfigTextConflicts(scanned, entriesNamed("b")), []);
});

// Texts in the subset, each a trap for a line scanner; the splice must hold the same data as the full path.
const ACCEPTED: Record<string, string> = {
  "kubectl's quoting and a folded single-quoted scalar": `apiVersion: v1
clusters: []
contexts: null
current-context: ""
kind: Config
preferences: {}
users:
- name: "Y"
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: x
      env:
      - name: "Y"
        value: 'a: b #c'
      installHint: 'it''s long
        and folded: by kubectl'
`,
  "indented lists, blank lines and comments between entries": `kind: Config
clusters:
  # first
  - name: a   # trailing
    cluster:
      server: https://a

  - name: 'b c'
    cluster:
      server: "https://b"
contexts:
  - name: a
    context: {}
`,
  "block scalars whose lines look like YAML": `users:
- name: a
  user:
    token: |-
      - not: an item
      # not a comment
    extra: >
      folded
      text

- name: b
  user: {}
`,
  "a multi-line plain scalar": `clusters:
- name: a
  cluster:
    server: https://a
    x-note: one
      two

      three
`,
  "no final line break": "clusters:\n- name: a\n  cluster:\n    server: https://a",
  "sections missing, and no current-context": "apiVersion: v1\nkind: Config\n",
  "a duplicate name (the first is the one replaced)": "clusters:\n- name: a\n  cluster:\n    server: https://one\n- name: a\n  cluster:\n    server: https://two\n",
  "an entry without its body": "clusters:\n- name: a\nusers:\n- name: a\n  user:\ncontexts:\n- cluster: x\n  name: a\n  context: null\n",
  "names quoted every way, and escapes": `users:
- name: "a\\u00e9\\n"
  user: {}
- name: 'it''s'
  user: {}
- name: "Y"
  user: {}
`,
  "only comments": "# nothing yet\n\n",
  empty: "",
};

for (const [what, text] of Object.entries(ACCEPTED)) {
  test(`the splice holds the full path's data: ${what}`, () => {
    for (const name of ["a", "new one", "true", "Y", "a: b"]) {
      for (const overwrite of [false, true]) {
        for (const setCurrentContext of [true, false]) {
          const entries = entriesNamed(name);
          const doc = parseKubeconfigDocument(text);
          const scanned = scanKubeconfigText(text);
          assert.ok(scanned, `${what}: the scan declined`);
          assert.deepEqual(kubeconfigTextConflicts(scanned, entries), kubeconfigConflicts(doc, entries), `${what}: taken names`);
          if (!overwrite && kubeconfigConflicts(doc, entries).length > 0) continue;
          const mine = splice(text, entries, { overwrite, setCurrentContext });
          assert.deepEqual(yamlParse(mine), yamlParse(full(text, entries, { overwrite, setCurrentContext })), `${what}, ${name}, overwrite ${overwrite}:\n${mine}`);
          // What the splice writes, the scan reads again: the next update is a splice too.
          assert.ok(scanKubeconfigText(mine), `${what}: the result is outside the subset:\n${mine}`);
        }
      }
    }
  });
}

test("a CRLF kubeconfig stays CRLF, with the same data as the full path", () => {
  const crlf = COMMENTED.replaceAll("\n", "\r\n");
  const out = splice(crlf, entriesNamed("b"));
  assert.equal(out, COMMENTED_AFTER.replaceAll("\n", "\r\n"));
  assert.ok(!/[^\r]\n/.test(out), "every line break is CRLF");
});

test("a token user: written plain when that reads back as the same string, quoted otherwise", () => {
  for (const token of ["k8s-aws-v1.aHR0cHM6Ly9zdHM", "123", "yes", "null", "a#b", "x: y", "-", "~x", "é", "'q'"]) {
    const entries = { ...entriesNamed("t"), user: tokenUserEntry("t", token.replaceAll(" ", "_")) };
    const out = splice("", entries);
    assert.equal((yamlParse(out) as { users: { user: { token: string } }[] }).users[0]?.user.token, token.replaceAll(" ", "_"));
  }
});

// Outside the subset: declined, so the full path parses (and, for a malformed one, refuses) them.
const DECLINED: Record<string, string> = {
  "flow style": "clusters: [{name: a, cluster: {server: https://a}}]\n",
  "an anchor and an alias": "clusters:\n- name: a\n  cluster: &c\n    server: https://a\n- name: b\n  cluster: *c\n",
  "a merge key": "clusters:\n- name: a\n  cluster:\n    <<: {server: x}\n",
  "a tag": "clusters:\n- name: !!str a\n  cluster: {}\n",
  "a document marker": "---\nkind: Config\n",
  "a directive": "%YAML 1.1\n---\nkind: Config\n",
  "a tab": "clusters:\n- name: a\n  cluster:\n\tserver: x\n",
  "a duplicate key": "kind: Config\nkind: Config\n",
  "a top-level list": "- a\n- b\n",
  "a top-level scalar": "hello\n",
  JSON: '{"kind": "Config"}\n',
  "a lone CR": "kind: Config\rclusters: []\n",
  "CRLF mixed with LF": "kind: Config\r\nclusters: []\n",
  "unclosed flow": "clusters: [\n",
  "an explicit key": "? kind\n: Config\n",
  "a name YAML reads as a number": "clusters:\n- name: 123\n  cluster: {}\n",
  "a name YAML reads as a boolean": "clusters:\n- name: true\n  cluster: {}\n",
  "an entry that is not a mapping": "clusters:\n- a\n",
  "an entry without a name": "clusters:\n- cluster: {}\n",
  "another kind": "kind: Pod\n",
  "an unknown escape": 'users:\n- name: "a\\q"\n  user: {}\n',
  "an unclosed quote": "users:\n- name: 'a\n",
  "a mapping in a plain scalar": "kind: Config\nclusters:\n- name: a: b\n",
  "a line indented too far": "kind: Config\n  clusters: []\n",
  "a sequence in a sequence": "clusters:\n- - a\n",
  "current-context as a list": "current-context:\n- a\n",
  "a clusters mapping": "clusters:\n  a: b\n",
  "a block scalar with an indentation indicator": "users:\n- name: a\n  user:\n    token: |2\n      x\n",
};

for (const [what, text] of Object.entries(DECLINED)) {
  test(`the scan declines ${what}, which the full path decides`, () => {
    assert.equal(scanKubeconfigText(text), undefined);
  });
}
