/**
 * `kubeiam broker login`: keeps a broker token for one server in ~/.kubeiam/credentials.json. The
 * token comes on stdin, never as an argument (arguments show in `ps` and shell history). With
 * `--device` (the default when stdin is a terminal), signs in through the broker's identity provider
 * instead (RFC 8628): the link to open is printed on its own line on stderr, and the session is kept.
 */
import { CredentialsError, UsageError } from "../../lib/errors.js";
import { listBrokerClusters } from "../../broker/client/api.js";
import { brokerCredentialsFile, checkBrokerToken, normalizeBrokerServer, saveBrokerEntry, saveBrokerToken } from "../../broker/client/credentials.js";
import { brokerCaFor, readBrokerCaFile } from "../../broker/client/ca-file.js";
import { parseFlags, requireFlag, type CliContext, type Command } from "../context.js";
import { renderHelp } from "../help.js";

const FLAGS = {
  server: { type: "string", value: "URL", help: "the broker (required)" },
  device: {
    type: "boolean",
    help: "sign in through the broker's identity provider (the default when stdin is a terminal): prints a link on stderr to open in any browser, on any machine, and waits; the session (renewed by 'kubeiam broker token' as it runs out) is kept",
  },
  "no-browser": { type: "boolean", help: "with --device, do not try to open the link in this machine's browser" },
  "ca-file": { type: "string", value: "PEM", help: "the broker's CA, when a private one signed its certificate; kept with the token, so later commands to this server use it without the flag" },
  "no-verify": { type: "boolean", help: "keep the token without asking the broker whether it accepts it" },
} as const;

/** Opens `url` in the desktop's browser when there is one ($BROWSER, macOS, or a Linux display); never waits for it. */
async function openBrowser(url: string, env: Record<string, string | undefined>): Promise<void> {
  let command: string | undefined;
  if (env.BROWSER !== undefined && env.BROWSER !== "") command = env.BROWSER;
  else if (process.platform === "darwin") command = "open";
  else if (process.platform === "linux" && ((env.DISPLAY ?? "") !== "" || (env.WAYLAND_DISPLAY ?? "") !== "")) command = "xdg-open";
  if (command === undefined) return;
  const { spawn } = await import("node:child_process");
  try {
    const child = spawn(command, [url], { stdio: "ignore", detached: true, env: env as NodeJS.ProcessEnv });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // No browser after all: the link is on stderr.
  }
}

/**
 * `kubeiam broker login`: keeps the token read from stdin for one server.
 *
 * @example
 * ```ts
 * await brokerLoginCommand.run(["--server", "https://broker.example:8750"], ctx); // token on ctx's stdin
 * ```
 */
export const brokerLoginCommand: Command = {
  options: { "": FLAGS },
  summary: "Keep your broker token for a server (read from stdin)",
  help: renderHelp({
    about: `Reads a broker token (kbi_…) from stdin, checks it with the broker, and keeps it for that
server in ~/.kubeiam/credentials.json (mode 0600, written atomically; other servers' entries stay).`,
    usage: ["kubeiam broker login --server URL --device", "kubeiam broker login --server URL < token-file", 'printf %s "$TOKEN" | kubeiam broker login --server URL'],
    flags: FLAGS,
    notes: "$KUBEIAM_BROKER_TOKEN, when set, wins over the file for every command.",
    examples: ['printf %s "$TOKEN" | kubeiam broker login --server https://broker.example:8750 --ca-file ca.pem', "kubeiam broker login --server https://broker.example:8750 --device"],
  }),
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags("broker login", args, FLAGS);
    const server = normalizeBrokerServer(
      requireFlag("broker login", values.server, "server", "pass the broker's address, for example --server https://broker.example:8750"),
    );
    // --ca-file is kept with the token or session (and used by later commands to this server); without
    // it, the CA kept from an earlier login to this server still applies.
    const caGiven = values["ca-file"] === undefined ? undefined : await readBrokerCaFile(values["ca-file"]);
    if (values.device === true || ctx.stdinIsTTY === true) {
      const ca = caGiven ?? (await brokerCaFor(server, undefined, ctx.env));
      const { startDeviceSignIn, waitForDeviceSignIn } = await import("../../broker/client/session.js");
      const call = { ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal, now: () => ctx.now() };
      let auth;
      try {
        auth = await startDeviceSignIn(server, call);
      } catch (error) {
        // A broker without an identity provider: a terminal on stdin was not meant as a token.
        if (values.device !== true && error instanceof CredentialsError) {
          throw new UsageError(`broker login: ${server} offers no sign-in, and the token is read from stdin, not the terminal: run 'kubeiam broker login --server ${server} < token-file'`);
        }
        throw error;
      }
      ctx.err(`${ctx.programName}: to sign in to ${server}, open this link in a browser and check that it shows the code ${auth.userCode}:\n`);
      ctx.err(`${auth.verificationUriComplete}\n`);
      if (values["no-browser"] !== true) await openBrowser(auth.verificationUriComplete, ctx.env);
      const session = await waitForDeviceSignIn(server, auth, call);
      const path = brokerCredentialsFile(ctx.env);
      await saveBrokerEntry(path, server, { session, ...(caGiven === undefined ? {} : { ca: caGiven }) });
      let note = "";
      try {
        const clusters = await listBrokerClusters({ server, token: session.accessToken, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal });
        note = ` (${clusters.length} cluster${clusters.length === 1 ? "" : "s"} granted)`;
      } catch {
        // The session is kept either way; the next command reports a problem in full.
      }
      ctx.err(`${ctx.programName}: signed in to ${server}${note}; session kept in ${path}\n`);
      return 0;
    }
    const token = checkBrokerToken((await ctx.readStdin()).trim(), "stdin");
    let note = "";
    if (!values["no-verify"]) {
      const ca = caGiven ?? (await brokerCaFor(server, undefined, ctx.env));
      const clusters = await listBrokerClusters({ server, token, ...(ca === undefined ? {} : { ca }), env: ctx.env, signal: ctx.signal });
      note = ` (${clusters.length} cluster${clusters.length === 1 ? "" : "s"} granted)`;
    }
    const path = brokerCredentialsFile(ctx.env);
    await saveBrokerToken(path, server, token, caGiven);
    ctx.err(`${ctx.programName}: logged in to ${server}${note}; token${caGiven === undefined ? "" : " and the broker's CA"} kept in ${path}\n`);
    return 0;
  },
};
