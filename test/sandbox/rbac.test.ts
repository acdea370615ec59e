/**
 * The sandbox's small RBAC (src/sandbox/mapping.ts): the built-in bindings (system:masters is
 * cluster-admin, everyone mapped may read), bindings from the mapping file by user or group, and
 * bad bindings refused with the field named.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkSandboxMapping, parseSandboxMapping, sandboxAllows, type SandboxIdentity } from "../../src/sandbox/mapping.js";

const who = (username: string, groups: string[]): SandboxIdentity => ({ username, uid: "1", groups: [...groups, "system:authenticated"], creator: false });

test("built in: system:masters does everything, everyone else reads", () => {
  const none = checkSandboxMapping({ mapSubAccounts: [] });
  assert.equal(sandboxAllows(who("admin", ["system:masters"]), "delete", none), true);
  for (const verb of ["get", "list", "watch"]) assert.equal(sandboxAllows(who("bob", ["viewers"]), verb, none), true, verb);
  for (const verb of ["delete", "create", "update", "patch"]) assert.equal(sandboxAllows(who("bob", ["viewers"]), verb, none), false, verb);
});

test("bindings from the mapping: cluster-admin by group or by user name; view adds nothing to reading", () => {
  const mapping = parseSandboxMapping(
    "mapSubAccounts: []\nclusterRoleBindings:\n- clusterRole: cluster-admin\n  groups: [ops]\n- clusterRole: cluster-admin\n  users: [carol]\n- clusterRole: view\n  groups: [viewers]\n",
    "m.yaml",
  );
  assert.equal(sandboxAllows(who("dan", ["ops"]), "delete", mapping), true);
  assert.equal(sandboxAllows(who("carol", []), "delete", mapping), true);
  assert.equal(sandboxAllows(who("bob", ["viewers"]), "delete", mapping), false);
  assert.equal(sandboxAllows(who("bob", ["opsx"]), "delete", mapping), false);
});

test("bad bindings are refused naming the field", () => {
  const cases: [unknown, RegExp][] = [
    [{ mapSubAccounts: [], clusterRoleBindings: {} }, /clusterRoleBindings is not a list/],
    [{ mapSubAccounts: [], clusterRoleBindings: [{ clusterRole: "edit", groups: ["x"] }] }, /clusterRoleBindings\[0\]\.clusterRole must be one of view, cluster-admin/],
    [{ mapSubAccounts: [], clusterRoleBindings: [{ clusterRole: "view" }] }, /clusterRoleBindings\[0\] binds no one/],
    [{ mapSubAccounts: [], clusterRoleBindings: [{ clusterRole: "view", groups: [""] }] }, /clusterRoleBindings\[0\]\.groups is not a list of names/],
    [{ mapSubAccounts: [], clusterRoleBindings: [{ clusterRole: "view", users: ["a"], role: 1 }] }, /clusterRoleBindings\[0\] has unknown field "role"/],
    [{ mapSubAccounts: [], roles: [] }, /unknown field "roles": only mapSubAccounts and clusterRoleBindings are read/],
  ];
  for (const [value, message] of cases) assert.throws(() => checkSandboxMapping(value), message);
});
