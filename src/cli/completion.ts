/**
 * `kubeiam completion bash|zsh|fish`: shell completion generated from the very command and flag
 * tables the parser uses (each command's `options`, and `subcommands` for groups), so a flag the
 * parser knows is a flag the shell offers: they cannot drift apart.
 */
import type { ParseArgsConfig } from "node:util";
import { UsageError } from "../lib/errors.js";
import type { CliContext, Command } from "./context.js";

type Loader = () => Promise<Command>;
type Options = NonNullable<ParseArgsConfig["options"]>;

/** The shells `completion` writes for. */
export const COMPLETION_SHELLS = ["bash", "zsh", "fish"] as const;

/** One node of the command tree: a command or subcommand, its flags, and what may follow it. */
export interface CompletionNode {
  /** The word typed (`eks`, `token`). */
  name: string;
  /** One line of what it does, when known. */
  summary: string;
  /** Every flag spelling the parser accepts (`--cluster-name`, `-o`), and `--help`. */
  flags: string[];
  children: CompletionNode[];
}

function flagWords(options: Options | undefined): string[] {
  const out = new Set<string>();
  for (const [name, spec] of Object.entries(options ?? {})) {
    out.add(`--${name}`);
    if (typeof spec.short === "string") out.add(`-${spec.short}`);
  }
  out.add("--help");
  return [...out];
}

async function nodeFor(name: string, command: Command): Promise<CompletionNode> {
  const children: CompletionNode[] = [];
  for (const [sub, options] of Object.entries(command.options ?? {})) {
    if (sub !== "") children.push({ name: sub, summary: "", flags: flagWords(options), children: [] });
  }
  for (const [sub, load] of Object.entries(command.subcommands ?? {})) children.push(await nodeFor(sub, await load()));
  return { name, summary: command.summary, flags: flagWords(command.options?.[""]), children };
}

/**
 * The command tree of a program, from its command table.
 *
 * @example
 * ```ts
 * const tree = await completionTree(commands); // [{ name: "token", flags: ["--clusterUuid", …], children: [] }, …]
 * ```
 */
export async function completionTree(commands: Record<string, Loader>): Promise<CompletionNode[]> {
  const out: CompletionNode[] = [];
  for (const [name, load] of Object.entries(commands)) out.push(await nodeFor(name, await load()));
  return out;
}

/** Every path (`/eks`, `/eks/token`) with the words that may follow it. */
function paths(tree: CompletionNode[]): Map<string, { words: string[]; flags: string[]; children: CompletionNode[] }> {
  const out = new Map<string, { words: string[]; flags: string[]; children: CompletionNode[] }>();
  out.set("", { words: tree.map((n) => n.name), flags: ["--help", "--version"], children: tree });
  const walk = (prefix: string, node: CompletionNode): void => {
    const path = `${prefix}/${node.name}`;
    out.set(path, { words: node.children.map((c) => c.name), flags: node.flags, children: node.children });
    for (const c of node.children) walk(path, c);
  };
  for (const n of tree) walk("", n);
  return out;
}

const fnName = (program: string): string => `_${program.replace(/[^A-Za-z0-9]/g, "_")}_complete`;
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(programs: Record<string, CompletionNode[]>): string {
  const parts = ["# bash completion for kubeiam and ncp-iam-authenticator: source <(kubeiam completion bash)"];
  for (const [program, tree] of Object.entries(programs)) {
    const all = paths(tree);
    const known = [...all.keys()].filter((p) => p !== "");
    const cases = [...all.entries()].map(([p, v]) => `    ${sq(p)}) words=${sq([...v.words, ...v.flags].join(" "))} ;;`);
    parts.push(`${fnName(program)}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cpath="" i w words
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "$cpath/$w" in
      ${known.map(sq).join("|")}) cpath="$cpath/$w" ;;
    esac
  done
  case "$cpath" in
${cases.join("\n")}
    *) words="--help" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fnName(program)} ${program}`);
  }
  return `${parts.join("\n")}\n`;
}

function zsh(programs: Record<string, CompletionNode[]>): string {
  const names = Object.keys(programs);
  const parts = [`#compdef ${names.join(" ")}`, "# zsh completion for kubeiam and ncp-iam-authenticator: source <(kubeiam completion zsh) after compinit"];
  const known: string[] = [];
  const cases: string[] = [];
  for (const [program, tree] of Object.entries(programs)) {
    for (const [p, v] of paths(tree)) {
      if (p !== "") known.push(`${program}:${p}`);
      cases.push(`    (${sq(`${program}:${p}`)}) opts=(${[...v.words, ...v.flags].map(sq).join(" ")}) ;;`);
    }
  }
  parts.push(`_kubeiam_complete() {
  local cpath="" i w
  local -a opts
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    [[ $w == -* ]] && continue
    case "\${service}:$cpath/$w" in
      (${known.map(sq).join("|")}) cpath="$cpath/$w" ;;
    esac
  done
  case "\${service}:$cpath" in
${cases.join("\n")}
    (*) opts=(--help) ;;
  esac
  compadd -- $opts
}
compdef _kubeiam_complete ${names.join(" ")}`);
  return `${parts.join("\n")}\n`;
}

function fish(programs: Record<string, CompletionNode[]>): string {
  const parts = ["# fish completion for kubeiam and ncp-iam-authenticator: kubeiam completion fish | source"];
  parts.push(`function __kubeiam_path
    set -l known $argv
    set -l words (commandline -opc)
    set -l cpath ""
    for i in (seq 2 (count $words))
        set -l w $words[$i]
        string match -q -- '-*' $w; and continue
        contains -- "$cpath/$w" $known; and set cpath "$cpath/$w"
    end
    echo "$cpath"
end`);
  for (const [program, tree] of Object.entries(programs)) {
    const all = paths(tree);
    const knownVar = `__${program.replace(/[^A-Za-z0-9]/g, "_")}_paths`;
    parts.push(`set -g ${knownVar} ${[...all.keys()].filter((p) => p !== "").map(sq).join(" ")}`);
    parts.push(`complete -c ${program} -f`);
    for (const [p, v] of all) {
      const when = sq(`test (__kubeiam_path $${knownVar}) = "${p}"`);
      for (const child of v.children) {
        parts.push(`complete -c ${program} -n ${when} -a ${sq(child.name)}${child.summary ? ` -d ${sq(child.summary.slice(0, 60))}` : ""}`);
      }
      for (const flag of v.flags) {
        const spec = flag.startsWith("--") ? `-l ${sq(flag.slice(2))}` : `-s ${sq(flag.slice(1))}`;
        parts.push(`complete -c ${program} -n ${when} ${spec}`);
      }
    }
  }
  return `${parts.join("\n")}\n`;
}

/**
 * The completion script for a shell, for every program in `programs` (name → its command table).
 *
 * @example
 * ```ts
 * const script = await completionScript("bash", { kubeiam: commands });
 * ```
 */
export async function completionScript(shell: (typeof COMPLETION_SHELLS)[number], programs: Record<string, Record<string, Loader>>): Promise<string> {
  const trees: Record<string, CompletionNode[]> = {};
  for (const [program, commands] of Object.entries(programs)) trees[program] = await completionTree(commands);
  return shell === "bash" ? bash(trees) : shell === "zsh" ? zsh(trees) : fish(trees);
}

/**
 * The `completion` command, over the command tables of the programs it completes.
 *
 * @example
 * ```ts
 * const command = completionCommand({ kubeiam: KUBEIAM_COMMANDS, "ncp-iam-authenticator": NCP_COMMANDS });
 * ```
 */
export function completionCommand(programs: Record<string, Record<string, Loader>>): Command {
  return {
    summary: "Print shell completion for bash, zsh or fish (kubeiam and ncp-iam-authenticator)",
    help: `Prints a completion script, generated from the same command and flag tables the parser uses.

Usage:
  kubeiam completion bash|zsh|fish

  bash:  source <(kubeiam completion bash)           (or save it under /etc/bash_completion.d/)
  zsh:   source <(kubeiam completion zsh)            (after compinit; or save it as _kubeiam on $fpath)
  fish:  kubeiam completion fish | source            (or save it as ~/.config/fish/completions/kubeiam.fish)
`,
    async run(args: string[], ctx: CliContext): Promise<number> {
      const [shell, ...rest] = args;
      if (shell === undefined || !(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
        throw new UsageError(`completion: name a shell: bash, zsh or fish${shell === undefined ? "" : `, not ${JSON.stringify(shell.slice(0, 20))}`}`);
      }
      if (rest.length > 0) throw new UsageError(`completion: unexpected argument ${JSON.stringify(rest[0]?.slice(0, 40))}: give only the shell`);
      ctx.out(await completionScript(shell as (typeof COMPLETION_SHELLS)[number], programs));
      return 0;
    },
  };
}
