/**
 * The third act of `npm run demo`: a person signs in through the organisation's identity provider
 * (the sandbox's oidc-provider on loopback) with no token at all, and reaches a cluster. The broker
 * runs with --oidc-issuer; carol runs `kubeiam broker login --device`, a scripted browser-less person
 * opens the link it prints and signs in on the provider's pages; the admin grants; carol's kubectl
 * goes through the exec plugin, which renews her session by itself as it runs out.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { actEnv, type BrokerActInput } from "./demo-broker.js";

/**
 * Runs the sign-in act; the broker and the identity provider are stopped before it returns.
 *
 * @example
 * ```ts
 * await runSignInAct({ sandbox, dir, cli, kubectl: "kubectl", title, print, run, expectOk, indent });
 * ```
 */
export async function runSignInAct(a: BrokerActInput): Promise<void> {
  const { startBroker } = await import("./broker/serve.js");
  const { startSandboxIdp } = await import("./sandbox/idp.js");
  const { signInWithoutBrowser } = await import("./sandbox/browserless.js");
  const { title, print, run, expectOk, indent, sandbox } = a;
  const bin = join(a.dir, "bin");
  // No browser to open: the act follows the link itself.
  const base = actEnv(bin, ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY"]);

  print("\n--- act three: people sign in through the organisation's identity provider; nobody holds a token ---");
  const idp = await startSandboxIdp();
  title(`an OpenID Connect provider at ${idp.issuer} (oidc-provider): carol is in group platform`);
  title("kubeiam serve --oidc-issuer … --oidc-client-id kubeiam-broker   (secret from KUBEIAM_OIDC_CLIENT_SECRET)");
  const broker = await startBroker({
    db: `sqlite:${join(a.dir, "broker-oidc", "broker.db")}`,
    listen: "127.0.0.1:0",
    masterKey: randomBytes(32).toString("base64"),
    home: a.dir,
    cwd: a.dir,
    logStream: false,
    oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, adminGroup: "kubeiam-admins" },
  });
  try {
    const server = broker.url;
    print(`      redirect URI registered at the provider: ${server}/v1/login/callback`);
    const adminEnv: NodeJS.ProcessEnv = { ...base, HOME: join(a.dir, "operator-oidc"), KUBEIAM_BROKER_TOKEN: broker.adminToken ?? "" };
    const cluster = sandbox.clusters.find((c) => c.status === "RUNNING");
    if (cluster === undefined) throw new Error("the sandbox runs no cluster");
    expectOk(
      "broker credential add",
      await run(process.execPath, [a.cli, "broker", "credential", "add", "sandbox", "--provider", "ncp", "--server", server], {
        ...adminEnv,
        NCLOUD_ACCESS_KEY_ID: sandbox.accessKey,
        NCLOUD_SECRET_ACCESS_KEY: sandbox.secretKey,
        NCLOUD_API_GW: sandbox.apiUrl,
      }),
    );
    expectOk("broker cluster add", await run(process.execPath, [a.cli, "broker", "cluster", "add", "bars-kr", "--credential", "sandbox", "--region", cluster.region, "--cluster-uuid", cluster.uuid, "--server", server], adminEnv));
    title("(the operator added credential sandbox and cluster bars-kr as in act two)");

    const carolEnv: NodeJS.ProcessEnv = { ...base, HOME: join(a.dir, "carol") };
    title("carol: kubeiam broker login --server … --device   (no token: it prints a link and waits)");
    const child = spawn(process.execPath, [a.cli, "broker", "login", "--server", server, "--device"], { env: carolEnv, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const link = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString();
        const m = /^(http\S+)$/m.exec(err);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      void closed.then(() => reject(new Error(`broker login ended before printing a link: ${err.trim()}`)));
    });
    print(indent(err.trim()));
    title("carol opens the link (a scripted browser here): the broker's page shows the code, she signs in at the provider and consents");
    const page = await signInWithoutBrowser(link, "carol");
    const said = /<p>(You are signed in[^<]*)<strong>([^<]*)<\/strong>/.exec(page.text);
    if (page.status !== 200 || said === null) throw new Error(`the sign-in page did not say done (${page.status})`);
    print(`      the broker's page: "${said[1]}${said[2]}…"`);
    const code = await closed;
    clearTimeout(killer);
    if (code !== 0) throw new Error(`broker login failed: ${err.trim()}`);
    print(indent(err.trim().split("\n").slice(-1).join("\n")));

    title("the admin grants her group, not her: kubeiam broker grant --group platform bars-kr");
    expectOk("broker grant", await run(process.execPath, [a.cli, "broker", "grant", "--group", "platform", "bars-kr", "--server", server], adminEnv));
    print(indent(expectOk("broker user list", await run(process.execPath, [a.cli, "broker", "user", "list", "--server", server], adminEnv))));

    const kubeconfig = join(a.dir, "carol-kubeconfig");
    title("carol: kubeiam broker update-kubeconfig --cluster bars-kr, then kubectl");
    expectOk("broker update-kubeconfig", await run(process.execPath, [a.cli, "broker", "update-kubeconfig", "--server", server, "--cluster", "bars-kr", "--kubeconfig", kubeconfig], carolEnv));
    if (a.kubectl !== undefined) {
      print(indent(expectOk("kubectl get namespaces", await run(a.kubectl, ["--kubeconfig", kubeconfig, "--cache-dir", join(a.dir, "kube-cache-carol"), "get", "namespaces"], carolEnv))));
    } else {
      expectOk("broker token", await run(process.execPath, [a.cli, "broker", "token", "--server", server, "--cluster", "bars-kr"], carolEnv));
      print("      an ExecCredential came back (the token itself stays unprinted)");
    }
    title("kubeiam broker audit --user carol@example.com   (the person named by the provider's email claim)");
    print(indent(expectOk("broker audit", await run(process.execPath, [a.cli, "broker", "audit", "--user", "carol@example.com", "--server", server], adminEnv))));
  } finally {
    await broker.close();
    await idp.close();
  }
}
