/**
 * The walls between kubeiam's rooms (issue 9), as a checker over a source tree: every relative import
 * of every .ts file, static, re-export or dynamic, type-only included, judged by where it points.
 *
 * - `lib/` (the cloud-neutral layer) imports nothing of ours outside `lib/`.
 * - `kube/` imports no cloud (`ncp/`, `aws/`, `gcp/`).
 * - A cloud imports no other cloud.
 * - At most one file under `broker/` imports a cloud's folder (the engine registry, `broker/engines.ts`):
 *   the broker reaches every cloud through the engines, as Vault's core reaches its secrets engines.
 * - A CLI command file (one that exports a `Command`, in `cli/` or `cli/broker/`) imports no other
 *   command file; shared CLI modules (`context.ts`, flag and flow helpers) are fine, and so is a parent
 *   command reaching into its own folder of subcommands (`cli/broker.ts` into `cli/broker/`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** One import that breaks a wall: where it is, what it imports, and which wall. */
export interface WallBreach {
  /** The importing file, relative to the source root, with `/` separators. */
  file: string;
  /** 1-based line of the import's specifier. */
  line: number;
  /** The imported file, relative to the source root. */
  target: string;
  rule: string;
}

const CLOUDS = new Set(["ncp", "aws", "gcp"]);
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/g;
const COMMAND_EXPORT = /^export const \w+\s*:\s*Command\b/m;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

const area = (rel: string): string => (rel.includes("/") ? (rel.split("/")[0] as string) : "");
const isCliCommandPlace = (rel: string): boolean => /^cli\/[^/]+\.ts$/.test(rel) || /^cli\/broker\/[^/]+\.ts$/.test(rel);

/**
 * Every wall breach under `srcDir`, in file then line order.
 *
 * @example
 * ```ts
 * for (const b of findWallBreaches("src")) console.log(`${b.file}:${b.line} imports ${b.target} (${b.rule})`);
 * ```
 */
export function findWallBreaches(srcDir: string): WallBreach[] {
  const root = resolve(srcDir);
  const files = tsFiles(root).sort();
  const rel = (p: string): string => relative(root, p).split(sep).join("/");
  const text = new Map(files.map((f) => [rel(f), readFileSync(f, "utf8")]));
  const isCommand = (r: string): boolean => isCliCommandPlace(r) && COMMAND_EXPORT.test(text.get(r) ?? "");
  const breaches: WallBreach[] = [];
  /** Per cloud, the imports of it from files under broker/: allowed from one file only. */
  const brokerImports = new Map<string, WallBreach[]>();
  for (const file of files) {
    const from = rel(file);
    const lines = (text.get(from) ?? "").split("\n");
    lines.forEach((lineText, i) => {
      const trimmed = lineText.trim();
      if (trimmed.startsWith("//") || trimmed.startsWith("*") || trimmed.startsWith("/*")) return;
      for (const m of lineText.matchAll(SPECIFIER)) {
        const spec = m[1] as string;
        const target = rel(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
        if (target.startsWith("..")) continue; // outside the source root: not ours to judge
        const a = area(from);
        const b = area(target);
        const add = (rule: string): void => {
          breaches.push({ file: from, line: i + 1, target, rule });
        };
        if (a === "lib" && b !== "lib") add("lib/ imports nothing of ours outside lib/");
        if (a === "kube" && CLOUDS.has(b)) add("kube/ imports no cloud");
        if (a === "lib" && CLOUDS.has(b)) continue; // already reported above
        if (CLOUDS.has(a) && CLOUDS.has(b) && a !== b) add("a cloud imports no other cloud");
        if (a === "broker" && CLOUDS.has(b)) {
          const list = brokerImports.get(b) ?? [];
          list.push({ file: from, line: i + 1, target, rule: "" });
          brokerImports.set(b, list);
        }
        if (isCommand(from) && isCommand(target) && target !== from) {
          const ownSubcommands = from.replace(/\.ts$/, "/");
          if (!target.startsWith(ownSubcommands)) add("a CLI command imports no other command");
        }
      }
    });
  }
  for (const [cloud, imports] of brokerImports) {
    const importers = new Set(imports.map((i) => i.file));
    if (importers.size <= 1) continue;
    const rule = `at most one file under broker/ imports ${cloud}/ (the engine registry): ${[...importers].join(", ")} do`;
    for (const i of imports) breaches.push({ ...i, rule });
  }
  breaches.sort((x, y) => (x.file === y.file ? x.line - y.line : x.file < y.file ? -1 : 1));
  return breaches;
}

/** One line per breach: `file:line imports target (rule)`. */
export function formatWallBreaches(breaches: readonly WallBreach[]): string {
  return breaches.map((b) => `${b.file}:${b.line} imports ${b.target} (${b.rule})`).join("\n");
}
