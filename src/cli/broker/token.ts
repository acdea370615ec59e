/**
 * `kubeiam broker token`: the exec plugin that asks a broker for a cluster token and prints it as
 * the ExecCredential kubectl reads. Runs on every kubectl call, so it stays on the light path: the
 * broker client's node:https edge, no SDK, no YAML, no framework.
 */
import { fetchBrokerToken, type BrokerToken } from "../../broker/client/api.js";
import { readBrokerCaFile } from "../../broker/client/ca-file.js";
import { BROKER_TOKEN_ENV, brokerCredentialsFile, normalizeBrokerServer, readBrokerCredentials, resolveBrokerToken } from "../../broker/client/credentials.js";
import type { ExecApiVersion } from "../../kube/exec-credential.js";
import { chooseExecApiVersion, formatExecCredential } from "../../kube/exec-credential.js";
import { parseFlags, requireFlag, type CliContext, type Command } from "../context.js";
import { renderHelp } from "../help.js";

const FLAGS = {
  server: { type: "string", value: "URL", help: "the broker (https://…; http:// only on loopback) (required)" },
  cluster: { type: "string", value: "NAME", help: "the cluster's name on the broker (required)" },
  "api-version": { type: "string", value: "v1|v1beta1", help: "ExecCredential apiVersion when kubectl does not say (default: v1beta1, as every kubeiam plugin)" },
  "ca-file": {
    type: "string",
    value: "PEM",
    help: "the broker's CA, when a private one signed its certificate (default: the one 'kubeiam broker login --ca-file' kept for this server; NODE_EXTRA_CA_CERTS works as well)",
  },
} as const;

/**
 * `kubeiam broker token`: the exec plugin.
 *
 * @example
 * ```ts
 * await brokerTokenCommand.run(["--server", "https://broker.example:8750", "--cluster", "prod-kr"], ctx);
 * ```
 */
export const brokerTokenCommand: Command = {
  options: { "": FLAGS },
  summary: "Print a cluster token from the broker as an ExecCredential (kubectl's exec plugin)",
  help: renderHelp({
    about: `Asks a kubeiam broker for a fresh token for one cluster and prints it as the ExecCredential
that kubectl's exec plugin reads. No cloud key is needed: the broker holds it.`,
    usage: ["kubeiam broker token --server URL --cluster NAME [flags]"],
    flags: FLAGS,
    notes: `The broker token comes from $KUBEIAM_BROKER_TOKEN, else from 'kubeiam broker login --server URL'.
After a sign-in ('kubeiam broker login --device'), the session's access token is renewed here when
it ran out (one renewal at a time per server, under a file lock), and each cluster's ExecCredential
is kept in ~/.kube/cache/kubeiam/broker/ (0600) until the time the broker gives (a minute before
the token's end), so parallel kubectl runs share one token request. When the session has ended,
one line says to run 'kubeiam broker login --server URL' again.
A broker answering 429 (too many requests) is asked once more after the Retry-After it names, when
that is 5 seconds or less.
A refusal (no grant, unknown cluster, bad token, broker unreachable or answering something that
is not an ExecCredential) is one line on stderr and a non-zero exit; nothing is printed on stdout.`,
    examples: ["kubeiam broker token --server https://broker.example:8750 --cluster prod-kr", "kubeiam broker update-kubeconfig --server https://broker.example:8750 --cluster prod-kr   (writes this command into a kubeconfig)"],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker token", args, FLAGS);
    const server = normalizeBrokerServer(
      requireFlag("broker token", values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"),
    );
    const cluster = requireFlag("broker token", values.cluster, "cluster", "pass the cluster's name on the broker ('kubeiam broker clusters' lists them)");
    // The one rule of every kubeiam plugin: kubectl's KUBERNETES_EXEC_INFO, else --api-version (checked
    // even when kubectl decides, so a typo in the kubeconfig shows at once), else v1beta1.
    const apiVersion = chooseExecApiVersion({ execInfo: ctx.env.KUBERNETES_EXEC_INFO, flag: values["api-version"] });
    const fromEnv = ctx.env[BROKER_TOKEN_ENV];
    const entry = (await readBrokerCredentials(brokerCredentialsFile(ctx.env))).servers[server];
    // --ca-file wins; else the CA 'broker login --ca-file' kept for this server.
    const ca = values["ca-file"] === undefined ? entry?.ca : await readBrokerCaFile(values["ca-file"]);
    const session = fromEnv !== undefined && fromEnv.trim() !== "" ? undefined : entry?.session;
    let answer: BrokerToken;
    if (session !== undefined) {
      answer = await sessionClusterToken(server, cluster, apiVersion, session.loginId, ca, ctx);
    } else {
      const token = await resolveBrokerToken(server, ctx.env);
      answer = await retryOnceWhenLimited(ctx, () => fetchBrokerToken({ server, token, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal }, cluster, apiVersion));
    }
    const credential = formatExecCredential({ token: answer.token, expirationTimestamp: answer.expiresAt, apiVersion });
    ctx.out(JSON.stringify(credential));
    return 0;
  },
};

/** The longest `Retry-After` the plugin waits out (kubectl is waiting on it); longer: the refusal at once. */
export const MAX_RETRY_AFTER_S = 5;

/**
 * Runs `ask`, and once more when the broker answers 429 with a `Retry-After` of at most
 * {@link MAX_RETRY_AFTER_S} seconds (1 when it names none), after waiting that long. A longer wait,
 * or a second 429, is the refusal's one line. Ctrl-C ends the wait.
 */
async function retryOnceWhenLimited<T>(ctx: CliContext, ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (error) {
    if ((error as { status?: unknown }).status !== 429) throw error;
    const after = (error as { retryAfter?: unknown }).retryAfter;
    const seconds = typeof after === "number" && Number.isFinite(after) && after >= 0 ? after : 1;
    if (seconds > MAX_RETRY_AFTER_S) throw error;
    ctx.debug?.(`broker token: 429, asking again in ${seconds} s`);
    const { setTimeout: sleep } = await import("node:timers/promises");
    await sleep(seconds * 1000, undefined, { signal: ctx.signal }).catch(() => {
      throw error;
    });
    return ask();
  }
}

/**
 * A cluster token for a signed-in session: the cached ExecCredential while it is good, else (one run
 * at a time per cluster, the others waiting for its answer) the session's access token, renewed when
 * it ran out, and one token request, whose answer is cached (0600) until the time the broker gives.
 */
async function sessionClusterToken(server: string, cluster: string, apiVersion: ExecApiVersion, loginId: string, ca: string | undefined, ctx: CliContext): Promise<BrokerToken> {
  const { createHash } = await import("node:crypto");
  const { join } = await import("node:path");
  const { kubeiamCacheRoot, readPrivateJson, withFileLock, writePrivateJson } = await import("../../lib/cache-file.js");
  const dir = join(kubeiamCacheRoot(ctx.env), "broker");
  const name = `${createHash("sha256").update(`${server}\0${cluster}\0${apiVersion}\0${loginId}`).digest("hex").slice(0, 40)}.json`;
  const cached = async (): Promise<BrokerToken | undefined> => {
    const r = await readPrivateJson(join(dir, name));
    const ends = typeof r?.expirationTimestamp === "string" ? Date.parse(r.expirationTimestamp) : NaN;
    if (r === undefined || typeof r.token !== "string" || r.apiVersion !== apiVersion || !(ends > ctx.now())) return undefined;
    return { apiVersion, token: r.token, expirationTimestamp: r.expirationTimestamp as string, expiresAt: new Date(ends) };
  };
  const hit = await cached();
  if (hit !== undefined) return hit;
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch(() => undefined);
  return withFileLock(join(dir, `${name}.lock`), async () => {
    const again = await cached();
    if (again !== undefined) return again;
    const { sessionAccessToken } = await import("../../broker/client/session.js");
    const { accessToken } = await sessionAccessToken(server, ctx.env, { ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal, now: ctx.now });
    let answer: BrokerToken;
    try {
      answer = await retryOnceWhenLimited(ctx, () => fetchBrokerToken({ server, token: accessToken, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal }, cluster, apiVersion));
    } catch (error) {
      if ((error as { status?: unknown }).status === 401 || (error as { details?: { status?: unknown } }).details?.status === 401) {
        const { CredentialsError } = await import("../../lib/errors.js");
        throw new CredentialsError(`your session with ${server} has ended (the broker no longer accepts it): sign in again with 'kubeiam broker login --server ${server}'`, { cause: error });
      }
      throw error;
    }
    const problem = await writePrivateJson(dir, name, { apiVersion, token: answer.token, expirationTimestamp: answer.expirationTimestamp });
    if (problem !== undefined) ctx.err(`${ctx.programName}: warning: ${problem}\n`);
    return answer;
  }, { waitMs: 30_000, pollMs: 25 });
}
