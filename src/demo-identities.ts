/**
 * A scene of `npm run demo`'s broker act: two people as two identities inside the cluster. The operator
 * adds a second sandbox IAM key (mapped by `ncp-auth` to a user in a view-only group) as a credential,
 * and grants bob the cluster as that credential for two hours; `kubectl auth whoami` through alice's and
 * bob's exec kubeconfigs shows two users, and the cluster's own RBAC refuses bob's `kubectl delete` and
 * carries out alice's.
 */
import { join } from "node:path";
import type { BrokerActInput } from "./demo-broker.js";

/** What the scene takes over from the broker act: the broker, the operator, and alice as she is set up. */
export interface IdentitiesSceneInput {
  server: string;
  adminEnv: NodeJS.ProcessEnv;
  /** An environment with the CLI on PATH and nothing of the user's, for bob's to start from. */
  base: NodeJS.ProcessEnv;
  /** The cluster as the broker names it. */
  cluster: string;
  alice: { env: NodeJS.ProcessEnv; kubeconfig: string };
}

/** The Kubernetes user and group the demo's second key is mapped to (src/demo.ts starts the sandbox so). */
export const DEMO_VIEWER = { username: "sandbox-viewer", groups: ["viewers"] } as const;

/** "Username  x" and "Groups  [...]" of `kubectl auth whoami`, on one line. */
function whoLine(out: string): string {
  const field = (name: string): string => new RegExp(`^${name}\\s+(.*)$`, "m").exec(out)?.[1]?.trim() ?? "?";
  return `${field("Username")}, groups ${field("Groups")}`;
}

/**
 * Runs the scene (kubectl is needed); throws when the cluster does not tell the two apart.
 *
 * @example
 * ```ts
 * await runIdentitiesScene(act, { server, adminEnv, base, cluster: "kr-demo", alice: { env, kubeconfig } });
 * ```
 */
export async function runIdentitiesScene(a: BrokerActInput & { kubectl: string }, s: IdentitiesSceneInput): Promise<void> {
  const { title, print, run, expectOk, indent, sandbox } = a;
  const cli = (args: string[], env: NodeJS.ProcessEnv, input?: string) => run(process.execPath, [a.cli, ...args, "--server", s.server], env, input);
  const viewer = sandbox.keys.find((k) => k.accessKey !== sandbox.accessKey);
  if (viewer === undefined) throw new Error("the sandbox has no second key for the viewer");

  title("kubeiam broker credential add sandbox-viewer --provider ncp   (a second IAM key; ncp-auth maps it to user sandbox-viewer, group viewers: view only)");
  expectOk(
    "broker credential add",
    await cli(["broker", "credential", "add", "sandbox-viewer", "--provider", "ncp"], { ...s.adminEnv, NCLOUD_ACCESS_KEY_ID: viewer.accessKey, NCLOUD_SECRET_ACCESS_KEY: viewer.secretKey, NCLOUD_API_GW: sandbox.apiUrl }),
  );
  title(`kubeiam broker user add bob && kubeiam broker grant bob ${s.cluster} --as sandbox-viewer --for 2h`);
  const bobToken = expectOk("broker user add", await cli(["broker", "user", "add", "bob"], s.adminEnv)).trim();
  expectOk("broker grant", await cli(["broker", "grant", "bob", s.cluster, "--as", "sandbox-viewer", "--for", "2h"], s.adminEnv));
  print(indent(expectOk("broker grant --list", await cli(["broker", "grant", "--list", "bob"], s.adminEnv))));

  const bob = { env: { ...s.base, HOME: join(a.dir, "bob") }, kubeconfig: join(a.dir, "bob-kubeconfig") };
  expectOk("broker login", await cli(["broker", "login"], bob.env, bobToken));
  expectOk("broker update-kubeconfig", await cli(["broker", "update-kubeconfig", "--cluster", s.cluster, "--kubeconfig", bob.kubeconfig], bob.env));
  const kubectl = (who: { env: NodeJS.ProcessEnv; kubeconfig: string }, args: string[]) =>
    run(a.kubectl, ["--kubeconfig", who.kubeconfig, "--cache-dir", join(a.dir, "kube-cache-scene"), ...args], who.env);

  title("kubectl auth whoami, through alice's and bob's own exec kubeconfigs   (one broker, two identities in the cluster)");
  const seen: string[] = [];
  for (const [name, who] of [["alice", s.alice], ["bob", bob]] as const) {
    const line = whoLine(expectOk(`kubectl auth whoami (${name})`, await kubectl(who, ["auth", "whoami"])));
    seen.push(line);
    print(`      ${name.padEnd(6)} ${line}`);
  }
  if (seen[0] === seen[1]) throw new Error("alice and bob are the same identity in the cluster");

  const pods = expectOk("kubectl get pods", await kubectl(bob, ["get", "pods", "-n", "kube-system", "-o", "name"]));
  const pod = pods.split("\n").find((p) => p.startsWith("pod/coredns-"));
  if (pod === undefined) throw new Error(`no coredns pod in kube-system to delete: ${pods.trim()}`);
  title(`bob: kubectl delete ${pod} -n kube-system   (refused by the cluster's RBAC, not by the broker)`);
  const refused = await kubectl(bob, ["delete", pod, "-n", "kube-system"]);
  if (refused.code === 0) throw new Error("the cluster let the viewer delete a pod");
  print(`      ${refused.stderr.trim().split("\n").find((l) => l.includes("Forbidden")) ?? refused.stderr.trim()}`);
  title(`alice: kubectl delete ${pod} -n kube-system   (allowed: the cluster's own key is in system:masters)`);
  print(indent(expectOk("kubectl delete (alice)", await kubectl(s.alice, ["delete", pod, "-n", "kube-system"]))));
  title("kubeiam broker audit --user bob   (each of his tokens was minted with the credential sandbox-viewer)");
  print(indent(expectOk("broker audit", await cli(["broker", "audit", "--user", "bob"], s.adminEnv))));
}
