/**
 * `kubeiam completion`: every flag of every parser table (each command's `options`, walked through
 * command groups) appears in the bash, zsh and fish scripts under its command path; bash, run for
 * real, completes commands, subcommands and flags; under the official name only the official commands.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KUBEIAM_COMMANDS, NCP_COMMANDS } from "../../src/cli/main.js";
import type { Command } from "../../src/cli/context.js";
import { assertOneLine, runInProcess, type CliRun } from "../helpers/cli.js";

const run = (args: string[]): Promise<CliRun> => runInProcess(args, { env: { HOME: "/nonexistent-kubeiam-completion" } });

/** Every (command path, flag) pair the parsers know, read from the same tables they parse with. */
async function parserFlags(): Promise<{ path: string; flag: string }[]> {
  const out: { path: string; flag: string }[] = [];
  const walk = async (path: string, command: Command): Promise<void> => {
    for (const [sub, options] of Object.entries(command.options ?? {})) {
      const at = sub === "" ? path : `${path}/${sub}`;
      for (const [name, spec] of Object.entries(options)) {
        out.push({ path: at, flag: `--${name}` });
        if (typeof spec.short === "string") out.push({ path: at, flag: `-${spec.short}` });
      }
    }
    for (const [sub, load] of Object.entries(command.subcommands ?? {})) await walk(`${path}/${sub}`, await load());
  };
  for (const [name, load] of Object.entries(KUBEIAM_COMMANDS)) await walk(`/${name}`, await load());
  return out;
}

test("every flag of every parser table is in the bash, zsh and fish scripts, under its command", async () => {
  const pairs = await parserFlags();
  assert.ok(pairs.length > 150, `the tables hold many flags (${pairs.length})`);
  // Every command but version and completion declares the flags it parses.
  for (const [name, load] of Object.entries(KUBEIAM_COMMANDS)) {
    const c = await load();
    if (name !== "version" && name !== "completion") assert.ok(c.options !== undefined || c.subcommands !== undefined, `${name} declares its flag tables`);
  }
  const bash = (await run(["completion", "bash"])).out;
  const zsh = (await run(["completion", "zsh"])).out;
  const fish = (await run(["completion", "fish"])).out;
  for (const { path, flag } of pairs) {
    const bashLine = new RegExp(`^    '${path}'\\) words='([^']*)' ;;$`, "m").exec(bash)?.[1] ?? "";
    assert.ok(bashLine.split(" ").includes(flag), `bash offers ${flag} after ${path}`);
    const zshLine = new RegExp(`^    \\('kubeiam:${path}'\\) opts=\\(([^)]*)\\) ;;$`, "m").exec(zsh)?.[1] ?? "";
    assert.ok(zshLine.split(" ").includes(`'${flag}'`), `zsh offers ${flag} after ${path}`);
    const spec = flag.startsWith("--") ? `-l '${flag.slice(2)}'` : `-s '${flag.slice(1)}'`;
    assert.ok(fish.includes(`complete -c kubeiam -n 'test (__kubeiam_path $__kubeiam_paths) = "${path}"' ${spec}\n`), `fish offers ${flag} after ${path}`);
  }
});

test("bash, for real: commands, subcommands and flags complete; ncp-iam-authenticator offers only the official commands", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeiam-completion-"));
  try {
    const script = join(dir, "kubeiam.bash");
    writeFileSync(script, (await run(["completion", "bash"])).out);
    const complete = (fn: string, words: string[]): string[] => {
      const quoted = words.map((w) => `'${w}'`).join(" ");
      const out = execFileSync("bash", ["--norc", "--noprofile", "-c", `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; ${fn}; printf '%s\\n' "\${COMPREPLY[@]}"`], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", HOME: dir },
      });
      return out.split("\n").filter(Boolean).sort();
    };
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "ca"]), ["cache"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "eks", ""]), ["--help", "get-token", "token", "update-kubeconfig"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "eks", "token", "--cluster-name", "prod", "--fo"]), ["--force-refresh"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "cache", "clear", "--c"]), ["--cloud"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "token", "--clusterU"]), ["--clusterUuid"]);
    // The kubeconfig flags of issue 13 on every command that writes one.
    for (const words of [["eks", "update-kubeconfig"], ["gke", "update-kubeconfig"], ["gke", "get-credentials"], ["update-kubeconfig"], ["create-kubeconfig"]]) {
      assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", ...words, "--names"]), ["--namespace"], words.join(" "));
      assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", ...words, "--exec-c"]), ["--exec-command"], words.join(" "));
      assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", ...words, "--alia"]), ["--alias"], words.join(" "));
    }
    // Nested verbs (issue 18): broker's subcommands, their verbs, each verb's own flags.
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "broker", ""]), ["--help", "audit", "cluster", "clusters", "credential", "grant", "login", "token", "update-kubeconfig", "user"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "broker", "user", ""]), ["--help", "add", "delete", "list", "rotate"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "broker", "credential", ""]), ["--help", "add", "delete", "list", "update"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "broker", "user", "add", "alice", "--r"]), ["--role"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "broker", "user", "list", "--r"]), [], "list takes no --role");
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "broker", "cluster", "add", "--cluster-"]), ["--cluster-name", "--cluster-uuid"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "broker", "audit", "v"]), ["verify"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "broker", "audit", "--aft"]), ["--after"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "serve", "b"]), ["backup"]);
    assert.deepEqual(complete("_kubeiam_complete", ["kubeiam", "serve", "backup", "--t"]), ["--to"]);
    assert.deepEqual(complete("_ncp_iam_authenticator_complete", ["ncp-iam-authenticator", "update-kubeconfig", "--names"]), ["--namespace"]);
    assert.deepEqual(complete("_ncp_iam_authenticator_complete", ["ncp-iam-authenticator", "b"]), [], "the drop-in has no broker command");
    const official = complete("_ncp_iam_authenticator_complete", ["ncp-iam-authenticator", ""]);
    assert.deepEqual(official, ["--help", "--version", ...Object.keys(NCP_COMMANDS)].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("completion refuses an unknown shell in one line", async () => {
  assertOneLine(await run(["completion", "powershell"]), 2, /completion: name a shell: bash, zsh or fish, not "powershell"/);
  assertOneLine(await run(["completion"]), 2, /completion: name a shell/);
});
