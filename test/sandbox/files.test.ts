/**
 * The sandbox's keys and mapping files: accepted forms (YAML, JSON, the ncp-auth ConfigMap) and
 * refusals whose messages name the file and the field; and who a key is once mapped.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigFileError } from "../../src/lib/errors.js";
import { generateSandboxKey, loadSandboxKeysFile, parseSandboxKeys } from "../../src/sandbox/keys.js";
import { loadSandboxMappingFile, parseSandboxMapping, resolveSandboxIdentity } from "../../src/sandbox/mapping.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeiam-sandbox-files-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("generated keys are 20 and 40 characters, random, with a sub account number", () => {
  const a = generateSandboxKey("one");
  const b = generateSandboxKey("two");
  assert.match(a.accessKey, /^SBX[0-9A-F]{17}$/);
  assert.match(a.secretKey, /^[A-Za-z0-9_-]{40}$/);
  assert.match(a.subAccountIdNo, /^\d{6}$/);
  assert.notEqual(a.accessKey, b.accessKey);
  assert.notEqual(a.secretKey, b.secretKey);
  assert.equal(a.name, "one");
});

test("a keys file in YAML, in JSON, or as a bare list", () => {
  const yaml = parseSandboxKeys("keys:\n  - accessKey: NCPTESTACCESSKEY0001\n    secretKey: s3cr3t-one\n    subAccountIdNo: 100001\n    name: ops\n", "k.yaml");
  assert.deepEqual(yaml, [{ accessKey: "NCPTESTACCESSKEY0001", secretKey: "s3cr3t-one", subAccountIdNo: "100001", name: "ops" }]);
  const json = parseSandboxKeys(JSON.stringify({ keys: [{ accessKey: "A1", secretKey: "S1" }, { accessKey: "A2", secretKey: "S2" }] }), "k.json");
  assert.deepEqual(json.map((k) => k.accessKey), ["A1", "A2"]);
  assert.match(json[0]?.subAccountIdNo ?? "", /^\d+$/);
  assert.equal(parseSandboxKeys("- accessKey: A\n  secretKey: S\n", "k.yaml").length, 1);
});

const badKeys: [string, string, RegExp][] = [
  ["not YAML", "keys: [\n", /keys file k\.yaml is not YAML or JSON/],
  ["no keys", "other: 1\n", /keys file k\.yaml: keys is missing/],
  ["empty list", "keys: []\n", /keys is empty: give at least one key/],
  ["missing secret", "keys:\n- accessKey: A\n", /keys\[0\]\.secretKey is missing/],
  ["secret with a space", "keys:\n- accessKey: A\n  secretKey: 'a b'\n", /keys\[0\]\.secretKey holds white space/],
  ["number key", "keys:\n- accessKey: 12\n  secretKey: S\n", /keys\[0\]\.accessKey is not a string/],
  ["unknown field", "keys:\n- accessKey: A\n  secretKey: S\n  secret: x\n", /keys\[0\] has unknown field "secret"/],
  ["twice", "keys:\n- {accessKey: A, secretKey: S}\n- {accessKey: A, secretKey: T}\n", /keys\[1\]\.accessKey A is given twice/],
  ["bad id", "keys:\n- {accessKey: A, secretKey: S, subAccountIdNo: abc}\n", /keys\[0\]\.subAccountIdNo is not a sub account number/],
  ["extra top-level", "keys:\n- {accessKey: A, secretKey: S}\nmapping: []\n", /unknown top-level field "mapping"/],
];
for (const [what, text, message] of badKeys) {
  test(`a keys file is refused: ${what}`, () => {
    assert.throws(() => parseSandboxKeys(text, "k.yaml"), (e: unknown) => {
      assert.ok(e instanceof ConfigFileError);
      assert.match(e.message, message);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
  });
}

test("a refused keys file never echoes a secret", () => {
  assert.throws(() => parseSandboxKeys("keys:\n- accessKey: A\n  secretKey: 'TOPSECRET value'\n", "k.yaml"), (e: unknown) => {
    assert.ok(e instanceof Error && !e.message.includes("TOPSECRET"));
    return true;
  });
});

test("a keys file that is not YAML is refused without quoting its text (the yaml package appends it)", () => {
  for (const text of ["keys:\n- accessKey: A\n  secretKey: >-TOPSECRETvalue\n", "keys: []\n\u0001TOPSECRETvalue\n"]) {
    assert.throws(() => parseSandboxKeys(text, "k.yaml"), (e: unknown) => {
      assert.ok(e instanceof ConfigFileError && /is not YAML or JSON: [A-Z]/.test(e.message), String(e));
      assert.ok(!e.message.includes("TOPSECRET"), e.message);
      return true;
    });
  }
});

test("a mapping in the ncp-auth forms: plain list, text list (ConfigMap data), whole ConfigMap, JSON", () => {
  const plain = parseSandboxMapping("mapSubAccounts:\n  - subAccountIdNo: 100002\n    username: alice\n    groups: [developers]\n", "m.yaml");
  assert.deepEqual(plain, { mapSubAccounts: [{ subAccountIdNo: "100002", username: "alice", groups: ["developers"] }] });
  const configMap = [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: ncp-auth",
    "  namespace: kube-system",
    "data:",
    "  mapSubAccounts: |",
    "    - subAccountIdNo: 100002",
    "      username: alice",
    "      groups:",
    "        - developers",
    "",
  ].join("\n");
  assert.deepEqual(parseSandboxMapping(configMap, "cm.yaml"), plain);
  const json = parseSandboxMapping(JSON.stringify({ mapSubAccounts: [{ accessKey: "A2", username: "bob" }] }), "m.json");
  assert.deepEqual(json, { mapSubAccounts: [{ accessKey: "A2", username: "bob", groups: [] }] });
});

const badMappings: [string, string, RegExp][] = [
  ["not YAML", "mapSubAccounts: [\n", /mapping file m\.yaml is not YAML or JSON/],
  ["missing list", "{}\n", /mapSubAccounts is missing/],
  ["not a list", "mapSubAccounts: 3\n", /mapSubAccounts is not a list/],
  ["no username", "mapSubAccounts:\n- subAccountIdNo: 1\n  groups: [a]\n", /mapSubAccounts\[0\]\.username is missing/],
  ["groups not a list", "mapSubAccounts:\n- subAccountIdNo: 1\n  username: a\n  groups: admins\n", /mapSubAccounts\[0\]\.groups is not a list/],
  ["empty group", "mapSubAccounts:\n- subAccountIdNo: 1\n  username: a\n  groups: [x, '']\n", /mapSubAccounts\[0\]\.groups\[1\] is not a group name/],
  ["both ids", "mapSubAccounts:\n- subAccountIdNo: 1\n  accessKey: A\n  username: a\n", /must name exactly one of subAccountIdNo and accessKey/],
  ["no id", "mapSubAccounts:\n- username: a\n", /must name exactly one of subAccountIdNo and accessKey/],
  ["typo", "mapSubAccounts:\n- subAccountIdNo: 1\n  username: a\n  group: [x]\n", /mapSubAccounts\[0\] has unknown field "group"/],
  ["ConfigMap without data", "kind: ConfigMap\nmetadata: {name: ncp-auth}\n", /data is missing/],
  ["ConfigMap with bad text", "kind: ConfigMap\ndata:\n  mapSubAccounts: \"- [\"\n", /data\.mapSubAccounts is text but not YAML/],
  ["ConfigMap entry", "kind: ConfigMap\ndata:\n  mapSubAccounts: \"- subAccountIdNo: x\\n  username: a\"\n", /data\.mapSubAccounts\[0\]\.subAccountIdNo is not a sub account number/],
  ["unknown top-level", "mapUsers: []\n", /unknown field "mapUsers": only mapSubAccounts and clusterRoleBindings are read/],
];
for (const [what, text, message] of badMappings) {
  test(`a mapping file is refused: ${what}`, () => {
    assert.throws(() => parseSandboxMapping(text, "m.yaml"), (e: unknown) => {
      assert.ok(e instanceof ConfigFileError);
      assert.match(e.message, /^mapping file m\.yaml/);
      assert.match(e.message, message);
      return true;
    });
  });
}

test("missing files and directories are named", async () => {
  await assert.rejects(loadSandboxKeysFile(join(dir, "none.yaml")), /keys file .*none\.yaml does not exist: check the path/);
  await assert.rejects(loadSandboxMappingFile(dir), /mapping file .* is a directory/);
  const ok = join(dir, "m.yaml");
  await writeFile(ok, "mapSubAccounts: []\n");
  assert.deepEqual(await loadSandboxMappingFile(ok), { mapSubAccounts: [] });
});

test("who a key is: mapped by access key before sub account, the creator always in system:masters", () => {
  const creator = { accessKey: "A1", secretKey: "S1", subAccountIdNo: "1", name: "admin" };
  const dev = { accessKey: "A2", secretKey: "S2", subAccountIdNo: "2", name: "dev" };
  const other = { accessKey: "A3", secretKey: "S3", subAccountIdNo: "3", name: "other" };
  const mapping = {
    mapSubAccounts: [
      { subAccountIdNo: "2", username: "by-number", groups: ["g1"] },
      { accessKey: "A2", username: "by-key", groups: ["g2"] },
      { subAccountIdNo: "1", username: "root", groups: ["ops"] },
    ],
  };
  assert.deepEqual(resolveSandboxIdentity(dev, mapping, creator), { username: "by-key", uid: "2", groups: ["g2", "system:authenticated"], creator: false });
  assert.deepEqual(resolveSandboxIdentity(creator, mapping, creator), {
    username: "root",
    uid: "1",
    groups: ["system:masters", "ops", "system:authenticated"],
    creator: true,
  });
  assert.deepEqual(resolveSandboxIdentity(creator, { mapSubAccounts: [] }, creator)?.username, "admin");
  assert.equal(resolveSandboxIdentity(other, mapping, creator), undefined);
});
