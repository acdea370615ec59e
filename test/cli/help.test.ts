/**
 * `--help` for every `kubeiam broker` and `kubeiam serve` command, subcommand and verb: walked
 * through the same command tables the CLI dispatches with, each help (as the CLI prints it) has a
 * usage, an example, and every flag its parser accepts with a description; a group's help names
 * each of its verbs. Issue 18: `broker grant --help` printed a one-line stub.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KUBEIAM_COMMANDS } from "../../src/cli/main.js";
import type { Command } from "../../src/cli/context.js";
import { runInProcess } from "../helpers/cli.js";

const env = { HOME: "/nonexistent-kubeiam-help" };

/** Every command under `broker` and `serve`, by the words that reach it. */
async function walk(): Promise<{ words: string[]; command: Command }[]> {
  const out: { words: string[]; command: Command }[] = [];
  const visit = async (words: string[], command: Command): Promise<void> => {
    out.push({ words, command });
    for (const [sub, load] of Object.entries(command.subcommands ?? {})) await visit([...words, sub], await load());
  };
  for (const name of ["broker", "serve"]) {
    const load = KUBEIAM_COMMANDS[name];
    assert.ok(load !== undefined, name);
    await visit([name], await load());
  }
  return out;
}

test("every broker and serve command and verb has its own help: usage, examples, and every flag its parser accepts, described", async () => {
  const all = await walk();
  const paths = all.map((c) => c.words.join(" "));
  // The tree the issue names, verbs included.
  for (const expected of ["broker login", "broker token", "broker clusters", "broker update-kubeconfig", "broker user add", "broker user list", "broker user delete", "broker user rotate", "broker grant", "broker credential add", "broker credential update", "broker credential list", "broker credential delete", "broker cluster add", "broker cluster list", "broker cluster delete", "broker audit", "broker audit verify", "serve rekey", "serve backup"]) {
    assert.ok(paths.includes(expected), `${expected} is in the command tree`);
  }
  const seen = new Map<string, string>();
  for (const { words, command } of all) {
    const where = words.join(" ");
    for (const spelling of [[...words, "--help"], [...words, "-h"], ["help", ...words]]) {
      const r = await runInProcess(spelling, { env });
      assert.equal(r.status, 0, `${spelling.join(" ")}: ${r.err}`);
      assert.equal(r.err, "");
      assert.equal(r.out, (await runInProcess([...words, "--help"], { env })).out, `${spelling.join(" ")} prints the same help`);
    }
    const help = (await runInProcess([...words, "--help"], { env })).out;
    assert.ok(help.split("\n").length > 8, `${where}: more than a stub:\n${help}`);
    assert.match(help, /^Usage:\n {2}(kubeiam )?\S/m, `${where}: a usage section`);
    assert.match(help, new RegExp(`\\n {2}(\\S+=\\S+ )*kubeiam ${words.join(" ")}\\b`), `${where}: its usage or an example names it`);
    if (words.length > 1) assert.match(help, /^Examples:\n {2}(.*\s)?kubeiam /m, `${where}: an example`);
    // Two commands with the same help is the stub coming back.
    assert.ok(!seen.has(help), `${where} has its own help, not ${seen.get(help)}'s`);
    seen.set(help, where);
    for (const [sub, table] of Object.entries(command.options ?? {})) {
      assert.equal(sub, "", `${where}: verbs are subcommands with their own help`);
      for (const [name, spec] of Object.entries(table)) {
        const flag = new RegExp(`^ {2}(-${spec.short ?? "\\0"}, )?--${name}(?: \\S+)?(?: {2,}(\\S.*)|\\n {20,}(\\S.*))$`, "m").exec(help);
        assert.ok(flag !== null, `${where}: --${name} is in its help:\n${help}`);
        assert.ok((flag[2] ?? flag[3] ?? "").length > 3, `${where}: --${name} is described`);
      }
    }
    for (const sub of Object.keys(command.subcommands ?? {})) {
      assert.match(help, new RegExp(`^ {2}${sub} {2,}\\S`, "m"), `${where}: its help lists ${sub}`);
    }
  }
});

test("a verb's help comes also when flags stand before the verb; an unknown verb is refused in one line", async () => {
  const direct = (await runInProcess(["broker", "credential", "add", "--help"], { env })).out;
  assert.match(direct, /--provider ncp\|aws\|gcp/);
  assert.equal((await runInProcess(["broker", "credential", "--server", "https://b.example", "add", "--help"], { env })).out, direct);
  assert.equal((await runInProcess(["broker", "audit", "--user", "verify", "--help"], { env })).out, (await runInProcess(["broker", "audit", "--help"], { env })).out, "--user's value is not the verb");
  const r = await runInProcess(["broker", "user", "frobnicate", "--server", "https://b.example"], { env });
  assert.equal(r.status, 2);
  assert.match(r.err, /^kubeiam: broker user: unknown action "frobnicate": add, list, delete or rotate: run 'kubeiam broker user --help'\n$/);
  const flag = await runInProcess(["broker", "user", "list", "--role", "admin", "--server", "https://b.example"], { env });
  assert.match(flag.err, /^kubeiam: broker user list: unknown flag "--role": run 'kubeiam broker user list --help'\n$/);
  const nothing = await runInProcess(["broker", "cluster"], { env });
  assert.match(nothing.err, /^kubeiam: broker cluster: say what to do: add, list or delete: run 'kubeiam broker cluster --help'\n$/);
});

test("every other command's help (and each verb's) names every flag its parser accepts, aliases included, and its usage names the program", async () => {
  for (const [name, load] of Object.entries(KUBEIAM_COMMANDS)) {
    if (name === "broker" || name === "serve") continue;
    const command = await load();
    for (const [verb, table] of Object.entries(command.options ?? {})) {
      const words = verb === "" ? [name] : [name, verb];
      const r = await runInProcess([...words, "--help"], { env });
      assert.equal(r.status, 0, `${words.join(" ")}: ${r.err}`);
      const missing = Object.keys(table).filter((flag) => !new RegExp(`--${flag}\\b`).test(r.out));
      assert.deepEqual(missing, [], `${words.join(" ")} --help does not name them:\n${r.out}`);
      assert.match(r.out, new RegExp(`^Usage:\\n {2}kubeiam ${name}\\b`, "m"), `${words.join(" ")}: usage names the program`);
    }
  }
});
