/**
 * `--help` text built from the flag tables the parser reads: each flag carries its own help
 * (`{ type: "string", value: "URL", help: "the broker" }`), so a flag the parser accepts is a flag
 * the help lists, and command groups (`broker user add|list|…`) get help per verb.
 */
import type { ParseArgsConfig } from "node:util";
import { builtin } from "../lib/builtin.js";
import { UsageError } from "../lib/errors.js";
import type { CliContext, Command } from "./context.js";

// Not `import`: `broker token` loads this on every kubectl call (lib/builtin.ts says why).
const { parseArgs } = builtin("node:util");

type Options = NonNullable<ParseArgsConfig["options"]>;

/** How a flag reads in `--help`: the placeholder of its value (`URL`) and what it does. */
export interface FlagHelp {
  /** The value's placeholder (`URL`, `table|json`); none for a boolean. */
  value?: string;
  /** What the flag does, in a few words. */
  help: string;
}

/** What a command's `--help` says. */
export interface HelpSpec {
  /** What the command does: a paragraph or two. */
  about: string;
  /** Usage lines, each a whole command line (`kubeiam broker user add NAME --server URL`). */
  usage: readonly string[];
  /** The parser's flag table; each flag's help is read from it, else from `docs`. */
  flags?: Options;
  /** More flags, under their own headings (`Signing in through an identity provider:`), after `flags`. */
  sections?: readonly { title: string; flags: Options }[];
  /** Help for flags declared in shared tables without one (by flag name). */
  docs?: Readonly<Record<string, FlagHelp>>;
  /** A group's verbs or subcommands, with one line each. */
  commands?: readonly (readonly [string, string])[];
  /** Text after the flags: where inputs come from, what is printed. */
  notes?: string;
  /** Whole command lines to copy. */
  examples?: readonly string[];
}

const FLAG_COLUMN = 27;
const WIDTH = 100;

/** Wraps `text` to lines of at most WIDTH characters, the first starting after `first`, the rest indented by `indent`. */
function wrap(text: string, indent: number, first: string): string {
  const lines: string[] = [];
  let line = first.padEnd(indent);
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = " ".repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

/**
 * The help of one flag as declared: inline (`help`, `value` next to `type`), else from `docs`.
 * Undefined when the flag has none (a test walks every table to keep that from happening).
 */
export function flagHelp(name: string, spec: Options[string], docs?: Readonly<Record<string, FlagHelp>>): FlagHelp | undefined {
  const inline = spec as { help?: unknown; value?: unknown };
  if (typeof inline.help === "string") return { help: inline.help, ...(typeof inline.value === "string" ? { value: inline.value } : {}) };
  return docs?.[name];
}

/** The `Flags:` lines of a table: one per flag, `-h, --help` last. */
function flagLines(flags: Options, docs?: Readonly<Record<string, FlagHelp>>, withHelp = true): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(flags)) {
    if (name === "help") continue;
    const doc = flagHelp(name, spec, docs);
    const short = typeof spec.short === "string" ? `-${spec.short}, ` : "";
    const head = `  ${short}--${name}${doc?.value === undefined ? "" : ` ${doc.value}`}`;
    const text = doc?.help ?? "";
    out.push(head.length >= FLAG_COLUMN - 1 ? `${head}\n${wrap(text, FLAG_COLUMN, "")}` : wrap(text, FLAG_COLUMN, head));
  }
  if (withHelp) out.push(wrap("this help", FLAG_COLUMN, "  -h, --help"));
  return out;
}

/**
 * Renders a command's `--help` from its spec: what it does, usage, its verbs, every flag of the
 * parser's table with its help, notes and examples.
 *
 * @example
 * ```ts
 * const help = renderHelp({ about: "Lists users.", usage: ["kubeiam broker user list --server URL"], flags: FLAGS, examples: ["kubeiam broker user list --server https://broker.example:8750"] });
 * ```
 */
export function renderHelp(spec: HelpSpec): string {
  const about = spec.about.includes("\n") ? spec.about.trimEnd() : wrap(spec.about, 0, "");
  const parts = [about, `Usage:\n${spec.usage.map((u) => `  ${u}`).join("\n")}`];
  if (spec.commands !== undefined && spec.commands.length > 0) {
    const width = Math.max(...spec.commands.map(([n]) => n.length)) + 4;
    parts.push(`Commands:\n${spec.commands.map(([n, s]) => wrap(s, width + 2, `  ${n}`)).join("\n")}`);
  }
  if (spec.flags !== undefined) parts.push(`Flags:\n${flagLines(spec.flags, spec.docs).join("\n")}`);
  for (const section of spec.sections ?? []) parts.push(`${section.title}\n${flagLines(section.flags, spec.docs, false).join("\n")}`);
  if (spec.notes !== undefined) parts.push(spec.notes.trimEnd());
  if (spec.examples !== undefined && spec.examples.length > 0) parts.push(`Examples:\n${spec.examples.map((e) => `  ${e}`).join("\n")}`);
  return `${parts.join("\n\n")}\n`;
}

/** Every flag of a group's verbs (and its default command), to find the verb among the arguments. */
function unionFlags(commands: Iterable<Command>): Options {
  const out: Options = {};
  for (const c of commands) for (const table of Object.values(c.options ?? {})) Object.assign(out, table);
  return out;
}

/**
 * The verb among `args` and the arguments left for it: the first word that is not a flag or a
 * flag's value (so `--server URL add alice` finds `add`), or undefined when there is none.
 */
function locateVerb(args: readonly string[], flags: Options): { word: string; rest: string[] } | undefined {
  let tokens;
  try {
    tokens = parseArgs({ args: [...args], options: flags, strict: false, allowPositionals: true, tokens: true }).tokens;
  } catch {
    return undefined;
  }
  const first = tokens.find((t) => t.kind === "positional" || t.kind === "option-terminator");
  if (first === undefined || first.kind !== "positional") return undefined;
  return { word: first.value, rest: [...args.slice(0, first.index), ...args.slice(first.index + 1)] };
}

/**
 * A command made of verbs (`broker user add|list|delete|rotate`), each a command with its own flags
 * and help; `default` runs when no verb is named (`broker audit` lists, `broker audit verify`
 * checks). The verbs are its `subcommands`, so completion offers them and their flags.
 *
 * @example
 * ```ts
 * export const brokerUserCommand = commandGroup({ name: "broker user", summary: "…", about: "…", verbs: { add, list } });
 * ```
 */
export function commandGroup(spec: {
  /** The words before the verb (`broker user`). */
  name: string;
  summary: string;
  about: string;
  verbs: Readonly<Record<string, Command>>;
  /** The command run when no verb is named; without one, a verb is required. */
  default?: Command;
  examples?: readonly string[];
  notes?: string;
  /** Errors' `field` → the flag that sets it (see `Command.flags`). */
  flags?: Readonly<Record<string, string>>;
}): Command {
  const names = Object.keys(spec.verbs);
  const choices = `${names.slice(0, -1).join(", ")}${names.length > 1 ? " or " : ""}${names[names.length - 1] ?? ""}`;
  const all = unionFlags([...Object.values(spec.verbs), ...(spec.default === undefined ? [] : [spec.default])]);
  const pick = (args: readonly string[]): { verb: Command; rest: string[] } | undefined => {
    const found = locateVerb(args, all);
    if (found === undefined) return undefined;
    const verb = Object.hasOwn(spec.verbs, found.word) ? spec.verbs[found.word] : undefined;
    if (verb === undefined) {
      const hint = spec.default === undefined ? choices : `leave it out to ${spec.default.summary.replace(/^\w/, (c) => c.toLowerCase())}, or say ${choices}`;
      throw new UsageError(`${spec.name}: unknown action ${JSON.stringify(found.word)}: ${hint}`, { help: spec.name });
    }
    return { verb, rest: found.rest };
  };
  const ownFlags = spec.default?.options?.[""];
  const usage = [
    ...(spec.default === undefined ? [] : [`kubeiam ${spec.name} [flags]`]),
    `kubeiam ${spec.name} ${names.length === 1 ? names[0] : `<${names.join("|")}>`} …`,
  ];
  const help = renderHelp({
    about: spec.about,
    usage,
    commands: [...(spec.default === undefined ? [] : [["(none)", spec.default.summary] as const]), ...Object.entries(spec.verbs).map(([n, c]) => [n, c.summary] as const)],
    ...(ownFlags === undefined ? {} : { flags: ownFlags }),
    notes: `${spec.notes === undefined ? "" : `${spec.notes.trimEnd()}\n\n`}Run 'kubeiam ${spec.name} ${names.length === 1 ? names[0] : `<${names.join("|")}>`} --help' for ${names.length === 1 ? "its" : "a verb's"} flags and examples.`,
    ...(spec.examples === undefined ? {} : { examples: spec.examples }),
  });
  return {
    summary: spec.summary,
    ...(spec.flags === undefined ? {} : { flags: spec.flags }),
    ...(ownFlags === undefined ? {} : { options: { "": ownFlags } }),
    subcommands: Object.fromEntries(Object.entries(spec.verbs).map(([n, c]) => [n, async () => c])),
    help,
    async helpFor(args: string[]): Promise<string> {
      let found;
      try {
        found = pick(args);
      } catch {
        found = undefined;
      }
      if (found === undefined) return help;
      return found.verb.helpFor === undefined ? found.verb.help : found.verb.helpFor(found.rest);
    },
    async run(args: string[], ctx: CliContext): Promise<number> {
      const found = pick(args);
      if (found !== undefined) return (await found.verb.run(found.rest, ctx)) ?? 0;
      if (spec.default !== undefined) return (await spec.default.run(args, ctx)) ?? 0;
      throw new UsageError(`${spec.name}: say what to do: ${choices}`, { help: spec.name });
    },
  };
}

/**
 * The help for a command group whose subcommand is the first argument (`serve backup`, `broker
 * user`): the subcommand's own (and its verb's), else the group's.
 *
 * @example
 * ```ts
 * await subcommandHelp(brokerCommand, ["user", "add"]); // broker user add's help
 * ```
 */
export async function subcommandHelp(command: Command, args: readonly string[]): Promise<string> {
  const first = args[0];
  const load = first === undefined || command.subcommands === undefined || !Object.hasOwn(command.subcommands, first) ? undefined : command.subcommands[first];
  if (load === undefined) return command.help;
  const sub = await load();
  return sub.helpFor === undefined ? sub.help : sub.helpFor(args.slice(1));
}
