/**
 * `npm run demo`: the whole NKS flow on one machine, for real. Starts the sandbox in-process, writes
 * a kubeconfig with the built CLI's `update-kubeconfig` (through the signed NKS API), then lists
 * namespaces and asks `whoami` through the exec plugin with kubectl (when on PATH) and through
 * `@kubernetes/client-node` with kubeiam's self-refreshing client; prints each step, cleans up.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { yaml } from "./lib/yaml.js";
import { DEMO_VIEWER } from "./demo-identities.js";
import { generateSandboxKey, startSandbox, type Sandbox, type SandboxClusterSummary } from "./sandbox/index.js";

const CLI = fileURLToPath(new URL("./cli/kubeiam.js", import.meta.url));

/** What a child process did. */
interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT: not on PATH). */
  spawnError?: NodeJS.ErrnoException;
}

/** Runs a program without blocking the event loop (the sandbox answers from this same process). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: "pipe" });
    child.stdin.on("error", () => undefined); // a child that exits without reading its input
    child.stdin.end(input);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", (spawnError: NodeJS.ErrnoException) => resolve({ code: null, stdout, stderr, spawnError }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const indent = (text: string): string =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n");

class DemoFailure extends Error {}

function expectOk(what: string, r: RunResult): string {
  if (r.spawnError !== undefined) throw new DemoFailure(`${what} could not start: ${r.spawnError.message}`);
  if (r.code !== 0) throw new DemoFailure(`${what} failed with exit status ${r.code}:\n${indent(r.stderr || r.stdout)}`);
  return r.stdout;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the step lines go; stdout by default. */
  print?: (line: string) => void;
  /** The kubectl to run; `kubectl` on PATH by default. */
  kubectl?: string;
}

/**
 * Runs the demo and resolves when it is done (the sandbox stopped, the temporary files removed).
 * Rejects when a step fails.
 *
 * @example
 * ```ts
 * await runDemo({ print: (line) => console.log(line) });
 * ```
 */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  // Loaded when the demo runs, not when kubeiam/sandbox is imported: client-node is some 800 files.
  const { AuthenticationV1Api, CoreV1Api, VersionApi } = await import("@kubernetes/client-node");
  const { ncpKubeConfig } = await import("./ncp/client.js");
  const { parse: parseYaml, stringify: stringifyYaml } = yaml();
  const print = options.print ?? ((line: string): void => void process.stdout.write(`${line}\n`));
  const kubectl = options.kubectl ?? "kubectl";
  let step = 0;
  const title = (text: string): void => print(`\n[${++step}] ${text}`);
  const dir = await mkdtemp(join(tmpdir(), "kubeiam-demo-"));
  const kubeconfig = join(dir, "config");
  let requests = 0;
  let lastRefusal = "";
  let summary = "";
  let sandbox: Sandbox | undefined;
  try {
    print("kubeiam demo: a local NCP API and NKS clusters that check signatures and tokens for real");
    title("start the sandbox (NCP API gateway + one HTTPS endpoint per running cluster)");
    // A second key for the broker act's viewer: ncp-auth maps it to a user in a group RBAC lets only read.
    const viewerKey = generateSandboxKey("sandbox-viewer");
    sandbox = await startSandbox({
      keys: [generateSandboxKey("sandbox-admin"), viewerKey],
      mapping: { mapSubAccounts: [{ accessKey: viewerKey.accessKey, username: DEMO_VIEWER.username, groups: [...DEMO_VIEWER.groups] }] },
      log: (line) => {
        requests++;
        if (line.includes("-> 401")) lastRefusal = line;
      },
    });
    print(`      NCP API gateway   ${sandbox.apiUrl}   (checks signature-v2, the 5-minute window, known keys)`);
    print(`      access key        ${sandbox.accessKey}   (generated for this run)`);
    for (const c of sandbox.clusters) {
      print(`      cluster           ${c.name.padEnd(14)} ${c.region.padEnd(4)} ${c.status.padEnd(9)} ${c.endpoint ?? "(no endpoint yet)"}`);
    }
    // `npm install -g kubeiam` puts both names on PATH; so does the demo, in its temporary folder, so
    // the kubeconfig holds what a user's holds: `command: ncp-iam-authenticator`.
    const bin = join(dir, "global-bin");
    await mkdir(bin);
    await symlink(CLI, join(bin, "kubeiam"));
    await symlink(CLI, join(bin, "ncp-iam-authenticator"));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: [bin, process.env.PATH].filter(Boolean).join(delimiter),
      NCLOUD_ACCESS_KEY_ID: sandbox.accessKey,
      NCLOUD_SECRET_ACCESS_KEY: sandbox.secretKey,
      NCLOUD_API_GW: sandbox.apiUrl,
      NO_PROXY: [process.env.NO_PROXY, "127.0.0.1", "localhost"].filter(Boolean).join(","),
    };
    delete env.NCLOUD_PROFILE;
    const running = ["KR", "SGN"]
      .map((region) => sandbox?.clusters.find((c) => c.region === region && c.status === "RUNNING"))
      .filter((c): c is SandboxClusterSummary => c !== undefined);

    const contexts = new Map<string, string>();
    for (const c of running) {
      title(`kubeiam update-kubeconfig --clusterUuid ${c.uuid} --region ${c.region}`);
      const out = expectOk(
        "update-kubeconfig",
        await run("kubeiam", ["update-kubeconfig", "--clusterUuid", c.uuid, "--region", c.region, "--kubeconfig", kubeconfig], env),
      );
      print(indent(out));
      const ctx = `nks_${c.region.toLowerCase()}_${c.name}_${c.uuid}`;
      contexts.set(c.uuid, ctx);
    }
    const written = parseYaml(await readFile(kubeconfig, "utf8")) as { users?: { name?: string }[] };
    const firstUser = written.users?.find((u) => u.name === contexts.get(running[0]?.uuid ?? ""));
    if (firstUser !== undefined) {
      print("      the user entry as written (kubectl runs ncp-iam-authenticator from PATH; no key or token in the file):");
      print(indent(stringifyYaml({ users: [firstUser] })));
    }

    const sample = running[0];
    if (sample !== undefined) {
      const ids = ["--clusterUuid", sample.uuid, "--region", sample.region];
      title(`ncp-iam-authenticator token --clusterUuid ${sample.uuid} --region ${sample.region} | kubeiam inspect --verify`);
      print("      what the exec plugin hands kubectl, decoded and checked with the same key (the token itself stays unprinted)");
      const credential = expectOk("token", await run("ncp-iam-authenticator", ["token", ...ids], env));
      print(indent(expectOk("inspect", await run("kubeiam", ["inspect", "--verify", ...ids], env, credential))));
    }

    const probe = await run(kubectl, ["version", "--client"], env);
    if (probe.spawnError !== undefined) {
      title("kubectl is not on PATH: skipping the kubectl steps (install kubectl to see them)");
    } else {
      const cache = join(dir, "kube-cache");
      for (const c of running) {
        const base = ["--kubeconfig", kubeconfig, "--context", contexts.get(c.uuid) ?? "", "--cache-dir", cache];
        title(`kubectl get namespaces   (${c.name}, ${c.region}; token minted by the exec plugin)`);
        print(indent(expectOk("kubectl get namespaces", await run(kubectl, [...base, "get", "namespaces"], env))));
        title(`kubectl auth whoami   (${c.name}, ${c.region})`);
        print(indent(expectOk("kubectl auth whoami", await run(kubectl, [...base, "auth", "whoami"], env))));
      }
    }

    for (const c of running) {
      title(`@kubernetes/client-node with ncpKubeConfig (${c.name}, ${c.region}; tokens minted in-process)`);
      const kc = await ncpKubeConfig({
        clusterUuid: c.uuid,
        region: c.region,
        credentials: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl },
      });
      const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
      print(`      namespaces: ${namespaces.items.map((n) => n.metadata?.name ?? "?").join(", ")}`);
      const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
        body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      });
      const user = review.status?.userInfo;
      print(`      whoami: ${user?.username ?? "?"} (uid ${user?.uid ?? "?"}), groups ${JSON.stringify(user?.groups ?? [])}`);
    }

    const [first, second] = running;
    let refusedByKubectl = "";
    if (first !== undefined && second !== undefined && second.endpoint !== null) {
      title(`and a refusal: a token for ${first.name} sent to ${second.name}'s endpoint`);
      if (probe.spawnError === undefined) {
        // The user of one cluster with the server of the other, as a mistaken kubeconfig would have it.
        const mixed = ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "kube-cache-mixed")];
        expectOk(
          "kubectl config set-context",
          await run(kubectl, [...mixed, "config", "set-context", "mixed", `--cluster=${contexts.get(second.uuid) ?? ""}`, `--user=${contexts.get(first.uuid) ?? ""}`], env),
        );
        const refused = await run(kubectl, [...mixed, "--context", "mixed", "get", "namespaces"], env);
        if (refused.code === 0) throw new DemoFailure(`${second.name} accepted a token for ${first.name}`);
        refusedByKubectl = refused.stderr.trim().split("\n").filter((l) => l.startsWith("error:")).at(-1) ?? "";
        print(`      kubectl says: ${refusedByKubectl}`);
      }
      const wrong = await ncpKubeConfig({
        clusterUuid: first.uuid,
        region: first.region,
        credentials: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl },
        cluster: { server: second.endpoint, caData: Buffer.from(sandbox.caCertPem).toString("base64") },
      });
      try {
        await wrong.makeApiClient(VersionApi).getCode();
        throw new DemoFailure(`${second.name} accepted a token for ${first.name}`);
      } catch (error) {
        if (error instanceof DemoFailure) throw error;
        const code = (error as { code?: unknown }).code;
        print(`      the client got HTTP ${typeof code === "number" ? code : "error"} Unauthorized; the sandbox logged why:`);
        print(`      ${lastRefusal.replace(/^.*-> 401 \(/, "").replace(/\)$/, "")}`);
      }
    }

    const { runBrokerAct } = await import("./demo-broker.js");
    await runBrokerAct({ sandbox, dir, cli: CLI, kubectl: probe.spawnError === undefined ? kubectl : undefined, title, print, run, expectOk, indent });
    const { runSignInAct } = await import("./demo-signin.js");
    await runSignInAct({ sandbox, dir, cli: CLI, kubectl: probe.spawnError === undefined ? kubectl : undefined, title, print, run, expectOk, indent });

    title("stop the broker and the sandbox, and remove the temporary files");
    print(`      the sandbox answered ${requests} requests; each was checked (gateway signature or k8s-ncp-v1 token)`);
    summary =
      `proved: kubeconfigs written through the signed NKS API let ${probe.spawnError === undefined ? "kubectl and " : ""}@kubernetes/client-node in with ` +
      `k8s-ncp-v1 tokens that the clusters checked (${requests} requests), a token for another cluster was refused, ` +
      "and a broker handed out tokens per grant and stopped at the revoke, with no cloud key on the user's side, " +
      (probe.spawnError === undefined ? "two people through one broker were two identities in the cluster, whose RBAC refused the viewer's delete, " : "") +
      "and a person signed in through the identity provider, holding no token at all, and reached a cluster.";
  } finally {
    await sandbox?.close();
    await rm(dir, { recursive: true, force: true });
  }
  print(`\n${summary}`);
}

// Run only when executed (`node dist/demo.js`), not when imported.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await runDemo();
    process.exit(0);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`kubeiam demo: ${message}\n`);
    process.exit(1);
  }
}
