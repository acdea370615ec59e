/**
 * `npm run demo`: the whole NKS flow on one machine, for real. Starts the sandbox in-process, writes
 * a kubeconfig with the built CLI's `update-kubeconfig` (through the signed NKS API), then lists
 * namespaces and asks `whoami` through the exec plugin with kubectl (when on PATH) and through
 * `@kubernetes/client-node` with kubeiam's self-refreshing client; prints each step, cleans up.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuthenticationV1Api, CoreV1Api, VersionApi } from "@kubernetes/client-node";
import { ncpKubeConfig } from "./ncp/client.js";
import { startSandbox, type Sandbox, type SandboxClusterSummary } from "./sandbox/index.js";

const CLI = fileURLToPath(new URL("./cli/main.js", import.meta.url));

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
  const print = options.print ?? ((line: string): void => void process.stdout.write(`${line}\n`));
  const kubectl = options.kubectl ?? "kubectl";
  let step = 0;
  const title = (text: string): void => print(`\n[${++step}] ${text}`);
  const dir = await mkdtemp(join(tmpdir(), "kubeiam-demo-"));
  const kubeconfig = join(dir, "config");
  let requests = 0;
  let lastRefusal = "";
  let sandbox: Sandbox | undefined;
  try {
    print("kubeiam demo: a local NCP API and NKS clusters that check signatures and tokens for real");
    title("start the sandbox (NCP API gateway + one HTTPS endpoint per running cluster)");
    sandbox = await startSandbox({
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
    const env: NodeJS.ProcessEnv = {
      ...process.env,
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
        await run(process.execPath, [CLI, "update-kubeconfig", "--clusterUuid", c.uuid, "--region", c.region, "--kubeconfig", kubeconfig, "--exec-command", CLI], env),
      );
      print(indent(out));
      const ctx = `nks_${c.region.toLowerCase()}_${c.name}_${c.uuid}`;
      contexts.set(c.uuid, ctx);
      print(`      context ${ctx} → exec plugin: node ${CLI} token --clusterUuid ${c.uuid} --region ${c.region}`);
    }

    const sample = running[0];
    if (sample !== undefined) {
      const ids = ["--clusterUuid", sample.uuid, "--region", sample.region];
      title(`kubeiam token --clusterUuid ${sample.uuid} --region ${sample.region} | kubeiam inspect --verify`);
      print("      what the exec plugin hands kubectl, decoded and checked with the same key (the token itself stays unprinted)");
      const credential = expectOk("token", await run(process.execPath, [CLI, "token", ...ids], env));
      print(indent(expectOk("inspect", await run(process.execPath, [CLI, "inspect", "--verify", ...ids], env, credential))));
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
    if (first !== undefined && second !== undefined && second.endpoint !== null) {
      title(`and a refusal: a token for ${first.name} sent to ${second.name}'s endpoint`);
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

    title("stop the broker and the sandbox, and remove the temporary files");
    print(`      the sandbox answered ${requests} requests; each was checked (gateway signature or k8s-ncp-v1 token)`);
  } finally {
    await sandbox?.close();
    await rm(dir, { recursive: true, force: true });
  }
  print("\ndone.");
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
