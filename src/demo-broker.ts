/**
 * The second act of `npm run demo`: a broker on its embedded store holds the sandbox's key; a user
 * who holds only a broker token runs kubectl against a sandbox cluster; the admin revokes the grant
 * and the user's next call is refused with the broker's reason; the audit trail shows each step. With
 * kubectl, a scene between (demo-identities.ts): bob, granted as a viewer credential, is another
 * identity in the cluster than alice, and the cluster refuses his delete.
 */
import { randomBytes } from "node:crypto";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import type { Sandbox } from "./sandbox/index.js";

/** What a child process did (the demo's own runner). */
export interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
}

/** What the broker act needs from the demo. */
export interface BrokerActInput {
  sandbox: Sandbox;
  /** The demo's temporary folder (removed by the demo). */
  dir: string;
  /** The built CLI's entry point. */
  cli: string;
  /** The kubectl to run, or `undefined` when it is not on PATH. */
  kubectl: string | undefined;
  title(text: string): void;
  print(line: string): void;
  run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<DemoRun>;
  /** Throws when a step failed; returns its stdout. */
  expectOk(what: string, r: DemoRun): string;
  indent(text: string): string;
}

/**
 * The environment a broker act runs its commands in: `bin` first on PATH, loopback never proxied,
 * and none of the caller's cloud keys, broker token or kubeconfig (nor `alsoUnset`), so each person
 * in the act holds only what the act gives them.
 *
 * @example
 * ```ts
 * const base = actEnv(join(dir, "bin"), ["BROWSER"]);
 * ```
 */
export function actEnv(bin: string, alsoUnset: readonly string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, NO_PROXY: [process.env.NO_PROXY, "127.0.0.1", "localhost"].filter(Boolean).join(",") };
  for (const k of ["NCLOUD_ACCESS_KEY_ID", "NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_API_GW", "NCLOUD_PROFILE", "KUBEIAM_BROKER_TOKEN", "KUBECONFIG", ...alsoUnset]) delete env[k];
  return env;
}

/**
 * Runs the broker act; the broker is stopped before it returns.
 *
 * @example
 * ```ts
 * await runBrokerAct({ sandbox, dir, cli, kubectl: "kubectl", title, print, run, expectOk, indent });
 * ```
 */
export async function runBrokerAct(a: BrokerActInput): Promise<void> {
  const { startBroker } = await import("./broker/serve.js");
  const { title, print, run, expectOk, indent, sandbox } = a;
  const bin = join(a.dir, "bin");
  await mkdir(bin, { recursive: true });
  // kubeconfigs from the broker run `kubeiam broker token`: put the built CLI on PATH as `kubeiam`.
  await symlink(a.cli, join(bin, "kubeiam"));
  const base = actEnv(bin);

  print("\n--- act two: a broker holds the key; people hold only broker tokens ---");
  title("kubeiam serve   (embedded store; it holds the cloud keys, sealed under its master key)");
  const broker = await startBroker({
    db: `sqlite:${join(a.dir, "broker", "broker.db")}`,
    listen: "127.0.0.1:0",
    masterKey: randomBytes(32).toString("base64"),
    home: a.dir,
    cwd: a.dir,
    logStream: false,
  });
  try {
    const server = broker.url;
    print(`      ${JSON.stringify({ url: broker.url, db: "sqlite:…/broker.db", adminToken: "kbi_…(shown once, kept by the operator)" })}`);
    const adminEnv: NodeJS.ProcessEnv = { ...base, HOME: join(a.dir, "operator"), KUBEIAM_BROKER_TOKEN: broker.adminToken ?? "" };
    const cluster = sandbox.clusters.find((c) => c.status === "RUNNING");
    if (cluster === undefined) throw new Error("the sandbox runs no cluster");

    title("kubeiam broker credential add sandbox --provider ncp   (the key comes from NCLOUD_* in the operator's environment)");
    expectOk(
      "broker credential add",
      await run(process.execPath, [a.cli, "broker", "credential", "add", "sandbox", "--provider", "ncp", "--server", server], {
        ...adminEnv,
        NCLOUD_ACCESS_KEY_ID: sandbox.accessKey,
        NCLOUD_SECRET_ACCESS_KEY: sandbox.secretKey,
        NCLOUD_API_GW: sandbox.apiUrl,
      }),
    );
    print(indent(expectOk("broker credential list", await run(process.execPath, [a.cli, "broker", "credential", "list", "--server", server], adminEnv))));
    title(`kubeiam broker cluster add kr-demo --credential sandbox --region ${cluster.region} --cluster-uuid ${cluster.uuid}`);
    print(indent(expectOk("broker cluster add", await run(process.execPath, [a.cli, "broker", "cluster", "add", "kr-demo", "--credential", "sandbox", "--region", cluster.region, "--cluster-uuid", cluster.uuid, "--server", server], adminEnv))));
    title("kubeiam broker user add alice && kubeiam broker grant alice kr-demo");
    const aliceToken = expectOk("broker user add", await run(process.execPath, [a.cli, "broker", "user", "add", "alice", "--server", server], adminEnv)).trim();
    print("      alice's broker token: kbi_… (printed once; she keeps it, no cloud key)");
    expectOk("broker grant", await run(process.execPath, [a.cli, "broker", "grant", "alice", "kr-demo", "--server", server], adminEnv));

    const aliceEnv: NodeJS.ProcessEnv = { ...base, HOME: join(a.dir, "alice") };
    const kubeconfig = join(a.dir, "alice-kubeconfig");
    title("alice: kubeiam broker login, then kubeiam broker update-kubeconfig --cluster kr-demo");
    expectOk("broker login", await run(process.execPath, [a.cli, "broker", "login", "--server", server], aliceEnv, aliceToken));
    print(indent(expectOk("broker update-kubeconfig", await run(process.execPath, [a.cli, "broker", "update-kubeconfig", "--server", server, "--cluster", "kr-demo", "--kubeconfig", kubeconfig], aliceEnv)) || "kubeconfig updated"));
    const kubectlArgs = (args: string[]): string[] => ["--kubeconfig", kubeconfig, "--cache-dir", join(a.dir, "kube-cache"), ...args];
    if (a.kubectl !== undefined) {
      title("alice: kubectl get namespaces   (the exec plugin asks the broker; the broker mints with the key it holds)");
      print(indent(expectOk("kubectl get namespaces", await run(a.kubectl, kubectlArgs(["get", "namespaces"]), aliceEnv))));
      const { runIdentitiesScene } = await import("./demo-identities.js");
      await runIdentitiesScene({ ...a, kubectl: a.kubectl }, { server, adminEnv, base, cluster: "kr-demo", alice: { env: aliceEnv, kubeconfig } });
    } else {
      title("alice: kubeiam broker token --cluster kr-demo   (what kubectl's exec plugin would run)");
      expectOk("broker token", await run(process.execPath, [a.cli, "broker", "token", "--server", server, "--cluster", "kr-demo"], aliceEnv));
      print("      an ExecCredential came back (the token itself stays unprinted)");
    }

    title("the admin revokes: kubeiam broker grant --revoke alice kr-demo");
    expectOk("broker grant --revoke", await run(process.execPath, [a.cli, "broker", "grant", "--revoke", "alice", "kr-demo", "--server", server], adminEnv));
    const refused =
      a.kubectl !== undefined
        ? await run(a.kubectl, kubectlArgs(["get", "namespaces"]), aliceEnv)
        : await run(process.execPath, [a.cli, "broker", "token", "--server", server, "--cluster", "kr-demo"], aliceEnv);
    if (refused.code === 0) throw new Error("alice still reached kr-demo after the grant was revoked");
    title(`alice: ${a.kubectl !== undefined ? "kubectl get namespaces" : "kubeiam broker token"} again: refused, with the broker's reason`);
    const reason = refused.stderr.split("\n").find((l) => l.includes("grant")) ?? refused.stderr.trim().split("\n")[0] ?? "";
    print(`      ${reason.trim()}`);

    title("kubeiam broker audit --user alice   (each answer's row was committed before the answer left)");
    print(indent(expectOk("broker audit", await run(process.execPath, [a.cli, "broker", "audit", "--user", "alice", "--server", server], adminEnv))));
  } finally {
    await broker.close();
  }
}
