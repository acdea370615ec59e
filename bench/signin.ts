/**
 * The sign-in figures of `npm run bench` (issue 19): from the person's approval at the identity
 * provider to the first successful `kubectl get namespaces` (the CLI's device login polling at the
 * broker's interval, then kubectl through the exec plugin), and N kubectl runs started at once after
 * the session's access token ran out, against the broker requests they cost (one renewal, one token).
 * A real stack on loopback: the sandbox, the sandbox's oidc-provider, a broker in-process, the built
 * CLI and kubectl.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startBroker } from "../src/broker/serve.js";
import { signInWithoutBrowser } from "../src/sandbox/browserless.js";
import { startSandboxIdp } from "../src/sandbox/idp.js";
import { startSandbox } from "../src/sandbox/index.js";

/** What the case measured. */
export interface SignInFigures {
  /** Approval (the provider's redirect answered by the broker's "signed in" page) to kubectl's exit 0, per round, ms. */
  approvalToKubectlMs: number[];
  /** kubectl runs started at once after the access token ran out. */
  parallelRuns: number;
  /** Broker requests those runs cost (renewals and token requests, from the audit). */
  parallelRequests: number;
  /** Wall time of the parallel runs, ms. */
  parallelMs: number;
  /** Token-endpoint refreshes the identity provider answered during them. */
  idpRefreshes: number;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runChild(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs the case: `rounds` sign-ins timed from approval to kubectl, then `parallel` kubectl runs.
 *
 * @example
 * ```ts
 * const f = await measureSignIn({ cli, dir, rounds: 5, parallel: 12 });
 * ```
 */
export async function measureSignIn(o: { cli: string; dir: string; rounds: number; parallel: number; env: NodeJS.ProcessEnv }): Promise<SignInFigures> {
  const TTL_MS = 4_000;
  const sandbox = await startSandbox();
  const idp = await startSandboxIdp();
  const broker = await startBroker({
    db: `sqlite:${join(o.dir, "signin", "broker.db")}`,
    listen: "127.0.0.1:0",
    masterKey: randomBytes(32).toString("base64"),
    home: o.dir,
    cwd: o.dir,
    logStream: false,
    sessionTtlMs: TTL_MS,
    oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret },
  });
  try {
    const server = broker.url;
    const admin = broker.adminToken ?? "";
    const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const r = await fetch(`${server}${path}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return r.status === 204 ? undefined : r.json();
    };
    const c = sandbox.clusters.find((x) => x.status === "RUNNING");
    if (c === undefined) throw new Error("the sandbox runs no cluster");
    await api("POST", "/v1/credentials", { name: "sandbox", provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } });
    await api("POST", "/v1/clusters", { name: "bars-kr", credential: "sandbox", region: c.region, ncp: { clusterUuid: c.uuid } });
    // The kubeconfig's exec entry names only the server and the cluster: written once, with the admin's token.
    const kubeconfig = join(o.dir, "signin", "kubeconfig");
    const base: NodeJS.ProcessEnv = { ...o.env, NO_PROXY: "127.0.0.1,localhost" };
    delete base.BROWSER;
    delete base.DISPLAY;
    delete base.WAYLAND_DISPLAY;
    const up = await runChild(process.execPath, [o.cli, "broker", "update-kubeconfig", "--server", server, "--cluster", "bars-kr", "--kubeconfig", kubeconfig, "--exec-command", o.cli], { ...base, HOME: join(o.dir, "signin", "admin"), KUBEIAM_BROKER_TOKEN: admin });
    if (up.code !== 0) throw new Error(`broker update-kubeconfig: ${up.stderr}`);

    const signIn = async (home: string): Promise<{ approvedAt: number }> => {
      rmSync(home, { recursive: true, force: true });
      mkdirSync(home, { recursive: true });
      const child = spawn(process.execPath, [o.cli, "broker", "login", "--server", server, "--device", "--no-browser"], { env: { ...base, HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      const link = await new Promise<string>((resolve, reject) => {
        child.stderr.on("data", (chunk: Buffer) => {
          err += chunk.toString();
          const m = /^(http\S+)$/m.exec(err);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        void closed.then(() => reject(new Error(`broker login ended early: ${err}`)));
      });
      const page = await signInWithoutBrowser(link, "carol");
      const approvedAt = performance.now();
      if (page.status !== 200) throw new Error(`the sign-in failed: ${page.text.slice(0, 300)}`);
      const code = await closed;
      clearTimeout(killer);
      if (code !== 0) throw new Error(`broker login: ${err}`);
      return { approvedAt };
    };
    const kubectl = (home: string) => runChild("kubectl", ["--kubeconfig", kubeconfig, "--request-timeout", "30s", "get", "namespaces", "-o", "name"], { ...base, HOME: home });

    // Her group's grant, then a first sign-in (not timed).
    await api("PUT", "/v1/grants/group:platform/bars-kr");
    await signIn(join(o.dir, "signin", "warmup"));
    const approvalToKubectlMs: number[] = [];
    for (let i = 0; i < o.rounds; i++) {
      const home = join(o.dir, "signin", `round-${i}`);
      const { approvedAt } = await signIn(home);
      const r = await kubectl(home);
      if (r.code !== 0) throw new Error(`kubectl after sign-in: ${r.stderr}`);
      approvalToKubectlMs.push(performance.now() - approvedAt);
    }

    // N runs at once once the access token ran out, with no cached cluster token.
    const home = join(o.dir, "signin", `round-${o.rounds - 1}`);
    await new Promise((r) => setTimeout(r, TTL_MS + 1_500));
    rmSync(join(home, ".kube", "cache", "kubeiam", "broker"), { recursive: true, force: true });
    const last = ((await api("GET", "/v1/audit?limit=1")) as { entries: { id: number }[] }).entries[0]?.id ?? 0;
    const refreshes = idp.grants.refresh_token ?? 0;
    const started = performance.now();
    const runs = await Promise.all(Array.from({ length: o.parallel }, () => kubectl(home)));
    const parallelMs = performance.now() - started;
    const failed = runs.filter((r) => r.code !== 0);
    if (failed.length > 0) throw new Error(`${failed.length} of ${o.parallel} parallel kubectl runs failed: ${failed[0]?.stderr ?? ""}`);
    const rows = ((await api("GET", "/v1/audit?user=carol%40example.com&limit=1000")) as { entries: { id: number; action: string }[] }).entries.filter((e) => e.id > last);
    const parallelRequests = rows.filter((e) => e.action === "login.renew" || e.action.startsWith("token.")).length;
    return { approvalToKubectlMs, parallelRuns: o.parallel, parallelRequests, parallelMs, idpRefreshes: (idp.grants.refresh_token ?? 0) - refreshes };
  } finally {
    await broker.close();
    await idp.close();
    await sandbox.close();
  }
}
