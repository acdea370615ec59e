/**
 * A kubeconfig edited as text: adds or replaces one cluster, user and context and sets
 * `current-context` by splicing their lines into the file, every other byte kept as it was (comments,
 * quoting, order, layout). It reads only the block-style YAML that kubectl and kubeiam write, checked
 * line by line against a strict subset of YAML; anything outside it (flow collections, anchors,
 * aliases, tags, document markers, tabs, duplicate keys, a name that is not plainly a string, a
 * malformed line) is declined, and the caller takes the full YAML path (src/kube/kubeconfig.ts),
 * which parses the whole document and gives the error for a malformed one.
 *
 * Why: the `yaml` package parses a kubeconfig of 1,000 contexts in about a second and writes it back
 * in another; kubectl edits the same file in a fraction of that. A scan of lines takes milliseconds.
 */
import { clusterToWire, contextToWire, userToWire, type KubeconfigEntries, type MergeKubeconfigOptions, type MergeKubeconfigResult } from "./kubeconfig.js";

/** A kubeconfig's text, scanned: where its sections, entries and current-context are. */
export interface KubeconfigText {
  /** The text with line ends as `\n`. */
  readonly text: string;
  /** The file's lines ended with CRLF, written back so. */
  readonly crlf: boolean;
  /** The top-level mapping; `undefined` for a file of blanks and comments only. */
  readonly top: MapNode | undefined;
}

const SECTIONS = ["clusters", "users", "contexts"] as const;
type Section = (typeof SECTIONS)[number];
const INNER: Record<Section, string> = { clusters: "cluster", users: "user", contexts: "context" };
const KIND: Record<Section, string> = { clusters: "cluster", users: "user", contexts: "context" };

// ---------------------------------------------------------------------------------------------
// The subset of YAML read here, as nodes with their offsets in the text.

interface MapEntry {
  key: string;
  /** Offset of the key's first character. */
  keyStart: number;
  /** Offset just after the key's colon. */
  colonEnd: number;
  value: Node;
}

interface MapNode {
  kind: "map";
  /** The column of its keys. */
  col: number;
  entries: MapEntry[];
  /** Offset of the end of its last line with content (before that line's `\n`). */
  end: number;
}

interface SeqNode {
  kind: "seq";
  /** The column of its dashes. */
  col: number;
  items: Node[];
  end: number;
}

interface ScalarNode {
  kind: "scalar";
  style: "plain" | "single" | "double" | "block";
  start: number;
  /** Offset just after the scalar's text (a trailing comment excluded). */
  end: number;
  multiline: boolean;
}

interface EmptyNode {
  kind: "null" | "empty-map" | "empty-seq";
  /** Offset where the value starts (`{}` or `[]`), or the colon's end for a missing value. */
  start: number;
  end: number;
}

type Node = MapNode | SeqNode | ScalarNode | EmptyNode;

/** The depth down to which the scan keeps nodes: the top mapping (0), a section's list (1), its entries (2). */
const KEPT_DEPTH = 2;

/** Thrown inside the scan when the text leaves the subset; caught by {@link scanKubeconfigText}. */
class Declined extends Error {}

function decline(): never {
  throw new Declined();
}

// A key: a plain word as Kubernetes names its fields, or a one-line quoted string without escapes,
// then the colon and a space or the line's end.
const KEY_RE = /([A-Za-z_][\w.\/-]*|"[^"\\\n]*"|'[^'\n]*'):(?= |\n|$)/y;
// What may follow a value on its line: nothing, or a comment after at least one space.
const LINE_REST_RE = /(?: +#[^\n]*)? *(?=\n|$)/y;
const BLOCK_HEADER_RE = /[|>][+-]?(?: +#[^\n]*)? *(?=\n|$)/y;
const EMPTY_FLOW_RE = /(\{\}|\[\])/y;
// A plain scalar may not start with an indicator (a `-` followed by a non-space may).
const PLAIN_START_BAD = new Set(["[", "]", "{", "}", ",", "&", "*", "!", "%", "@", "`", "#", "|", ">", "?", ":", "'", '"']);
const DOUBLE_ESCAPES = new Set(["0", "a", "b", "t", "\t", "n", "v", "f", "r", "e", " ", '"', "/", "\\", "N", "_", "L", "P"]);
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

class Scanner {
  /** Each line's start offset, indentation (spaces), and whether it is blank or a comment. */
  private readonly starts: Int32Array;
  private readonly indents: Int32Array;
  private readonly empties: Uint8Array;
  readonly lines: number;
  /** Offset of the last line's end: before the text's final `\n`, if any. */
  private readonly lastEnd: number;

  constructor(private readonly text: string) {
    const length = text.length;
    // A text that ends with "\n" has no last line of its own.
    this.lastEnd = text.endsWith("\n") ? length - 1 : length;
    let count = 1;
    for (let i = text.indexOf("\n"); i !== -1 && i < this.lastEnd; i = text.indexOf("\n", i + 1)) count++;
    this.lines = count;
    this.starts = new Int32Array(count);
    this.indents = new Int32Array(count);
    this.empties = new Uint8Array(count);
    let at = 0;
    for (let line = 0; line < count; line++) {
      this.starts[line] = at;
      let i = at;
      while (text.charCodeAt(i) === 32) i++;
      this.indents[line] = i - at;
      const c = text.charCodeAt(i);
      this.empties[line] = i >= length || c === 10 || c === 35 ? 1 : 0;
      const nl = text.indexOf("\n", i);
      at = nl === -1 ? length : nl + 1;
    }
  }

  start(line: number): number {
    return this.starts[line] as number;
  }

  /** Offset of the line's end (its `\n`, or the text's end). */
  end(line: number): number {
    return line + 1 < this.lines ? (this.starts[line + 1] as number) - 1 : this.lastEnd;
  }

  indent(line: number): number {
    return this.indents[line] as number;
  }

  /** The first line at or after `line` with content (not blank, not a comment); `lines` when none. */
  nextContent(line: number): number {
    let i = line;
    while (i < this.lines && this.empties[i] === 1) i++;
    return i;
  }

  private isDash(line: number, col: number): boolean {
    const at = this.start(line) + col;
    if (this.text[at] !== "-") return false;
    const next = this.text[at + 1];
    return next === undefined || next === " " || next === "\n";
  }

  /** The document: a top-level mapping at column 0, or nothing at all. */
  document(): MapNode | undefined {
    const first = this.nextContent(0);
    if (first >= this.lines) return undefined;
    if (this.indent(first) !== 0) decline();
    const [top, next] = this.map(first, 0, this.start(first), 0);
    if (this.nextContent(next) < this.lines) decline();
    return top;
  }

  /** A mapping or sequence that starts on its own line `line`, at column `col`. */
  private block(line: number, col: number, depth: number): [Node, number] {
    if (this.isDash(line, col)) return this.seq(line, col, depth);
    const at = this.start(line) + col;
    KEY_RE.lastIndex = at;
    if (KEY_RE.test(this.text)) return this.map(line, col, at, depth);
    return decline();
  }

  /**
   * A block mapping whose keys stand at `col`; its first key starts at offset `first` on `line`.
   * Below the entries' bodies (`depth` past {@link KEPT_DEPTH}) only its keys and end are kept: the
   * edit needs no more, and a large file makes fewer objects.
   */
  private map(line: number, col: number, first: number, depth: number): [MapNode, number] {
    const node: MapNode = { kind: "map", col, entries: [], end: 0 };
    const keep = depth <= KEPT_DEPTH;
    // Keys, for the duplicate check: a list while short, a set once long.
    const keys: string[] = [];
    let many: Set<string> | undefined;
    let i = line;
    let at = first;
    for (;;) {
      KEY_RE.lastIndex = at;
      if (!KEY_RE.test(this.text)) decline();
      const colonEnd = KEY_RE.lastIndex;
      const quote = this.text[at] === '"' || this.text[at] === "'";
      const key = this.text.slice(quote ? at + 1 : at, quote ? colonEnd - 2 : colonEnd - 1);
      if (many !== undefined ? many.has(key) : keys.includes(key)) decline();
      if (many !== undefined) many.add(key);
      else if (keys.push(key) > 16) many = new Set(keys);
      const [value, next] = this.value(i, colonEnd, col, true, depth + 1);
      if (keep) node.entries.push({ key, keyStart: at, colonEnd, value });
      node.end = value.kind === "null" ? this.contentEnd(i) : this.lineContentEnd(value.end);
      i = this.nextContent(next);
      if (i >= this.lines) return [node, i];
      const indent = this.indent(i);
      if (indent < col) return [node, i];
      if (indent > col) decline();
      at = this.start(i) + col;
    }
  }

  /** A block sequence whose dashes stand at `col`. */
  private seq(line: number, col: number, depth: number): [SeqNode, number] {
    const node: SeqNode = { kind: "seq", col, items: [], end: 0 };
    const keep = depth <= KEPT_DEPTH;
    let i = line;
    for (;;) {
      if (!this.isDash(i, col)) return [node, i];
      let at = this.start(i) + col + 1;
      while (this.text[at] === " ") at++;
      let item: Node;
      let next: number;
      if (at >= this.end(i) || this.text[at] === "#") {
        [item, next] = this.value(i, this.start(i) + col + 1, col, false, depth + 1);
      } else if (this.isDash(i, at - this.start(i))) {
        decline(); // a sequence in a sequence on one line
      } else {
        KEY_RE.lastIndex = at;
        if (KEY_RE.test(this.text)) [item, next] = this.map(i, at - this.start(i), at, depth + 1);
        else [item, next] = this.inline(i, at, col);
      }
      if (keep) node.items.push(item);
      node.end = item.kind === "null" ? this.contentEnd(i) : this.lineContentEnd(item.end);
      i = this.nextContent(next);
      if (i >= this.lines) return [node, i];
      const indent = this.indent(i);
      if (indent < col) return [node, i];
      if (indent > col) decline();
    }
  }

  /**
   * The value after a key's colon (or a dash) at offset `after` on `line`: inline, or on the lines
   * below. `inMap`: a mapping's value may be a sequence at the key's own column.
   */
  private value(line: number, after: number, parentCol: number, inMap: boolean, depth: number): [Node, number] {
    let at = after;
    while (this.text[at] === " ") at++;
    if (at < this.end(line) && this.text[at] !== "#") return this.inline(line, at, parentCol);
    const next = this.nextContent(line + 1);
    if (next < this.lines) {
      const indent = this.indent(next);
      if (indent > parentCol) return this.block(next, indent, depth);
      if (inMap && indent === parentCol && this.isDash(next, indent)) return this.seq(next, indent, depth);
    }
    return [{ kind: "null", start: after, end: after }, line + 1];
  }

  /** A scalar or an empty flow collection starting at offset `at` on `line`; its parent's column is `parentCol`. */
  private inline(line: number, at: number, parentCol: number): [Node, number] {
    const c = this.text[at] as string;
    if (c === '"' || c === "'") return this.quoted(line, at, parentCol);
    if (c === "|" || c === ">") return this.blockScalar(line, at, parentCol);
    EMPTY_FLOW_RE.lastIndex = at;
    const flow = EMPTY_FLOW_RE.exec(this.text);
    if (flow !== null) {
      const end = at + 2;
      this.lineRest(end);
      return [{ kind: flow[1] === "{}" ? "empty-map" : "empty-seq", start: at, end }, line + 1];
    }
    if (PLAIN_START_BAD.has(c)) decline();
    if (c === "-") {
      const n = this.text[at + 1];
      if (n === undefined || n === " " || n === "\n") decline();
    }
    return this.plain(line, at, parentCol);
  }

  /** Checks that only spaces or a comment follow offset `at` on its line. */
  private lineRest(at: number): void {
    LINE_REST_RE.lastIndex = at;
    if (!LINE_REST_RE.test(this.text)) decline();
  }

  private plain(line: number, at: number, parentCol: number): [ScalarNode, number] {
    const lineEnd = this.end(line);
    const comment = this.text.slice(at, lineEnd).indexOf(" #");
    const stop = comment === -1 ? lineEnd : at + comment;
    const end = trimEndAt(this.text, at, stop);
    if (!plainLineOk(this.text.slice(at, end))) decline();
    const node: ScalarNode = { kind: "scalar", style: "plain", start: at, end, multiline: false };
    // Continuation lines: more indented than the parent, none after a comment.
    let i = line + 1;
    let commented = stop !== lineEnd;
    for (; i < this.lines; i++) {
      const indent = this.indent(i);
      const s = this.start(i) + indent;
      const e = this.end(i);
      if (s >= e) continue; // blank: a folded line break
      if (indent <= parentCol) break;
      if (this.text[s] === "#") {
        commented = true;
        continue;
      }
      if (commented) decline();
      const lineText = this.text.slice(s, trimEndAt(this.text, s, e));
      if (PLAIN_START_BAD.has(lineText[0] as string) || lineText[0] === "-" || lineText.includes(" #") || !plainLineOk(lineText)) decline();
      node.end = s + lineText.length;
      node.multiline = true;
    }
    return [node, i];
  }

  private quoted(line: number, at: number, parentCol: number): [ScalarNode, number] {
    const q = this.text[at];
    let i = at + 1;
    let l = line;
    for (;;) {
      const ch = this.text[i];
      if (ch === undefined) decline();
      if (ch === "\n") {
        l++;
        const indent = this.indent(l);
        if (this.start(l) + indent < this.end(l) && indent <= parentCol) decline();
        i++;
        continue;
      }
      if (q === "'" && ch === "'") {
        if (this.text[i + 1] === "'") {
          i += 2;
          continue;
        }
        break;
      }
      if (q === '"' && ch === "\\") {
        const e = this.text[i + 1] as string;
        if (e === "\n") {
          i += 1;
          continue;
        }
        const hex = HEX_LENGTH[e];
        if (hex !== undefined) {
          if (!new RegExp(`^[0-9A-Fa-f]{${hex}}$`).test(this.text.slice(i + 2, i + 2 + hex))) decline();
          i += 2 + hex;
          continue;
        }
        if (!DOUBLE_ESCAPES.has(e)) decline();
        i += 2;
        continue;
      }
      if (q === '"' && ch === '"') break;
      i++;
    }
    const end = i + 1;
    this.lineRest(end);
    return [{ kind: "scalar", style: q === "'" ? "single" : "double", start: at, end, multiline: l !== line }, l + 1];
  }

  /** A literal or folded block scalar (`|`, `>`, with `-` or `+`; no explicit indentation). */
  private blockScalar(line: number, at: number, parentCol: number): [ScalarNode, number] {
    BLOCK_HEADER_RE.lastIndex = at;
    if (!BLOCK_HEADER_RE.test(this.text)) decline();
    const node: ScalarNode = { kind: "scalar", style: "block", start: at, end: at + 1, multiline: true };
    let contentCol = -1;
    let longestLeadingBlank = 0;
    let i = line + 1;
    for (; i < this.lines; i++) {
      const s = this.start(i);
      const e = this.end(i);
      const indent = this.indent(i);
      if (s + indent >= e) {
        if (contentCol === -1) longestLeadingBlank = Math.max(longestLeadingBlank, e - s);
        continue;
      }
      if (contentCol === -1) {
        if (indent <= parentCol) break;
        if (longestLeadingBlank > indent) decline();
        contentCol = indent;
      }
      if (indent < contentCol) {
        if (indent > parentCol) decline();
        break;
      }
      node.end = e;
    }
    return [node, i];
  }

  /** Offset of the end of the content of the line that holds offset `at`, a trailing comment included. */
  lineContentEnd(at: number): number {
    const nl = this.text.indexOf("\n", at);
    return trimEndAt(this.text, at, nl === -1 ? this.text.length : nl);
  }

  /** Offset of the end of the line's content, a trailing comment included. */
  contentEnd(line: number): number {
    return trimEndAt(this.text, this.start(line), this.end(line));
  }
}

function trimEndAt(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && text.charCodeAt(e - 1) === 32) e--;
  return e;
}

/** A plain scalar's line may not hold `: ` or end with `:` (that would be a mapping). */
function plainLineOk(line: string): boolean {
  return !line.includes(": ") && !line.endsWith(":");
}

/** Whether a value is null: nothing, or a plain `null` or `~` (as YAML 1.2's core schema reads them). */
function isNull(text: string, node: Node): boolean {
  return node.kind === "null" || (node.kind === "scalar" && node.style === "plain" && /^(?:~|null|Null|NULL)$/.test(text.slice(node.start, node.end)));
}

/** The string a one-line scalar holds, or `undefined` when it is not plainly a string. */
function scalarString(text: string, node: Node): string | undefined {
  if (node.kind !== "scalar" || node.multiline || node.style === "block") return undefined;
  const raw = text.slice(node.start, node.end);
  if (node.style === "single") return raw.slice(1, -1).replaceAll("''", "'");
  if (node.style === "double") {
    // JSON's escapes are a subset of YAML's: a name with another escape takes the full path.
    if (/\\[^"\\\/bfnrtu]/.test(raw)) return undefined;
    try {
      const v: unknown = JSON.parse(raw);
      return typeof v === "string" ? v : undefined;
    } catch {
      return undefined;
    }
  }
  // A plain scalar that YAML would read as null, a boolean or a number (in 1.1 or 1.2) is not taken here.
  if (/^[-+.~0-9]/.test(raw) || /^(?:null|true|false|yes|no|on|off|y|n)$/i.test(raw)) return undefined;
  return raw;
}

// ---------------------------------------------------------------------------------------------
// What the edit needs from the scan: the sections, their entries' names, current-context.

interface SectionInfo {
  entry: MapEntry;
  /** The entries' names, in order (the first of a repeated name is the one edited, as in the full path). */
  names: string[];
}

interface Layout {
  sections: Partial<Record<Section, SectionInfo>>;
  current: MapEntry | undefined;
}

/** The layout, or `undefined` where the full path must decide (its checks give the errors). */
function layoutOf(text: string, top: MapNode | undefined): Layout | undefined {
  const layout: Layout = { sections: {}, current: undefined };
  if (top === undefined) return layout;
  for (const entry of top.entries) {
    const section = SECTIONS.find((s) => s === entry.key);
    if (section !== undefined) {
      const v = entry.value;
      if (isNull(text, v) || v.kind === "empty-seq") {
        layout.sections[section] = { entry, names: [] };
        continue;
      }
      if (v.kind !== "seq") return undefined;
      const names: string[] = [];
      for (const item of v.items) {
        if (item.kind !== "map") return undefined;
        const name = item.entries.find((e) => e.key === "name");
        const value = name === undefined ? undefined : scalarString(text, name.value);
        if (value === undefined || value === "") return undefined;
        const inner = item.entries.find((e) => e.key === INNER[section]);
        if (inner !== undefined && inner.value.kind !== "map" && inner.value.kind !== "empty-map" && !isNull(text, inner.value)) return undefined;
        names.push(value);
      }
      layout.sections[section] = { entry, names };
    } else if (entry.key === "current-context") {
      if (!isNull(text, entry.value) && scalarString(text, entry.value) === undefined) return undefined;
      layout.current = entry;
    } else if (entry.key === "kind") {
      if (!isNull(text, entry.value) && scalarString(text, entry.value) !== "Config") return undefined;
    }
  }
  return layout;
}

/**
 * Scans a kubeconfig's text; `undefined` when it is outside the subset read here (see the file's
 * first comment), and then the caller parses it in full. A text this accepts is valid YAML whose
 * sections and names have the shape the full parse checks for.
 *
 * @example
 * ```ts
 * const scanned = scanKubeconfigText(await readFile(path, "utf8"));
 * if (scanned === undefined) { ... parseKubeconfigDocument(text) ... }
 * ```
 */
export function scanKubeconfigText(input: string): KubeconfigText | undefined {
  // Tabs, control characters and a byte-order mark are legal in places, and left to the full parse;
  // so are NEL, LS and PS, which YAML 1.1 (kubectl's) reads as line breaks and 1.2 does not.
  if (/[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029\ufeff]/.test(input)) return undefined;
  let text = input;
  let crlf = false;
  if (input.includes("\r")) {
    text = input.replaceAll("\r\n", "\n");
    // Only a file whose every line ends with CRLF: a lone CR is a line break to YAML, not to this
    // scan, and a file of both kinds would not be written back as it was.
    if (text.includes("\r") || input.length - text.length !== text.split("\n").length - 1) return undefined;
    crlf = true;
  }
  // Directives and document markers: more than one document, or settings for the parser.
  if (/^(?:%|---(?:[ \n]|$)|\.\.\.(?:[ \n]|$))/m.test(text)) return undefined;
  try {
    const top = new Scanner(text).document();
    if (layoutOf(text, top) === undefined) return undefined;
    return { text, crlf, top };
  } catch (error) {
    if (error instanceof Declined) return undefined;
    throw error;
  }
}

/**
 * The names among `entries` that the kubeconfig already holds, as `cluster "x"`, `user "y"`, `context "z"`
 * (the same as `kubeconfigConflicts` on the parsed document).
 *
 * @example
 * ```ts
 * kubeconfigTextConflicts(scanned, entries); // ['context "prod"']
 * ```
 */
export function kubeconfigTextConflicts(scanned: KubeconfigText, entries: Partial<KubeconfigEntries>): string[] {
  const layout = layoutOf(scanned.text, scanned.top) as Layout;
  const taken: string[] = [];
  const check = (section: Section, name: string | undefined): void => {
    if (name !== undefined && (layout.sections[section]?.names.includes(name) ?? false)) taken.push(`${KIND[section]} ${JSON.stringify(name)}`);
  };
  check("clusters", entries.cluster?.name);
  check("users", entries.user?.name);
  check("contexts", entries.context?.name);
  return taken;
}

// ---------------------------------------------------------------------------------------------
// Writing the new entries: block YAML as kubectl lays it out.

type Wire = string | boolean | Wire[] | { [key: string]: Wire };

// A string written plain reads back as the same string in YAML 1.2 (the yaml package) and 1.1
// (kubectl's go-yaml): it starts with a letter, `_` or `/` (or `-` then a letter or `-`), holds no
// space or indicator that could end it, and is not a word YAML 1.1 reads as a boolean or null.
const PLAIN_SAFE = /^(?:[A-Za-z_\/]|-[-A-Za-z])[A-Za-z0-9_.\/@%+=~,-]*(?::[A-Za-z0-9_.\/@%+=~,-]+)*$/;
const YAML11_WORDS = /^(?:y|n|yes|no|true|false|on|off|null)$/i;

/** A scalar as YAML text: plain when that reads back as the same string, else double-quoted (JSON's escapes are YAML's). */
function scalarText(v: string | boolean): string {
  if (typeof v === "boolean") return v ? "true" : "false";
  return PLAIN_SAFE.test(v) && !YAML11_WORDS.test(v) ? v : JSON.stringify(v);
}

/** The lines of a mapping whose keys stand at `col`. */
function mapLines(obj: { [key: string]: Wire }, col: number, out: string[]): void {
  const pad = " ".repeat(col);
  for (const [key, v] of Object.entries(obj)) {
    if (typeof v === "string" || typeof v === "boolean") out.push(`${pad}${key}: ${scalarText(v)}`);
    else if (Array.isArray(v)) {
      if (v.length === 0) out.push(`${pad}${key}: []`);
      else {
        out.push(`${pad}${key}:`);
        for (const item of v) itemLines(item, col, out);
      }
    } else if (Object.keys(v).length === 0) out.push(`${pad}${key}: {}`);
    else {
      out.push(`${pad}${key}:`);
      mapLines(v, col + 2, out);
    }
  }
}

/** The lines of one sequence item whose dash stands at `col`. */
function itemLines(item: Wire, col: number, out: string[]): void {
  const pad = " ".repeat(col);
  if (typeof item === "string" || typeof item === "boolean") {
    out.push(`${pad}- ${scalarText(item)}`);
    return;
  }
  if (Array.isArray(item) || Object.keys(item).length === 0) {
    // Not written by kubeiam's wire form; kept correct all the same.
    out.push(`${pad}- ${Array.isArray(item) ? "[]" : "{}"}`);
    if (Array.isArray(item) && item.length > 0) throw new Error("nested sequences are not written here");
    return;
  }
  const first = out.length;
  mapLines(item, col + 2, out);
  out[first] = `${pad}- ${(out[first] as string).slice(col + 2)}`;
}

/** A mapping value after its key's colon: ` {}`, or a new line and its block. */
function valueText(obj: { [key: string]: Wire }, col: number): string {
  if (Object.keys(obj).length === 0) return " {}";
  const out: string[] = [];
  mapLines(obj, col, out);
  return `\n${out.join("\n")}`;
}

function itemText(item: { [key: string]: Wire }, col: number): string {
  const out: string[] = [];
  itemLines(item, col, out);
  return out.join("\n");
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Adds (or, with `overwrite`, replaces the body of) a cluster, a user and a context, and points
 * `current-context` at the context unless told not to, returning the new text. Lines it does not
 * edit stay byte for byte. A taken name without `overwrite` throws nothing: check
 * {@link kubeconfigTextConflicts} first (as the flow does, to word its own error).
 *
 * @example
 * ```ts
 * const scanned = scanKubeconfigText(text);
 * if (scanned !== undefined) text = spliceKubeconfigEntries(scanned, entries, { overwrite: true }).text;
 * ```
 */
export function spliceKubeconfigEntries(
  scanned: KubeconfigText,
  entries: Partial<KubeconfigEntries>,
  options: MergeKubeconfigOptions = {},
): MergeKubeconfigResult & { text: string } {
  const { text } = scanned;
  const layout = layoutOf(text, scanned.top) as Layout;
  const result: MergeKubeconfigResult = { added: [], replaced: [] };
  const bodies: [Section, string, { [key: string]: Wire }][] = [];
  if (entries.cluster) bodies.push(["clusters", entries.cluster.name, clusterToWire(entries.cluster.cluster) as { [key: string]: Wire }]);
  if (entries.user) bodies.push(["users", entries.user.name, userToWire(entries.user.user) as { [key: string]: Wire }]);
  if (entries.context) bodies.push(["contexts", entries.context.name, contextToWire(entries.context.context) as { [key: string]: Wire }]);
  const newItem = (section: Section, name: string, body: { [key: string]: Wire }): { [key: string]: Wire } =>
    section === "users" ? { name, [INNER[section]]: body } : { [INNER[section]]: body, name };

  if (scanned.top === undefined) {
    // Blanks and comments only: a whole kubeconfig after them, as the full path writes one.
    const wire: { [key: string]: Wire } = { apiVersion: "v1", clusters: [], contexts: [], "current-context": "", kind: "Config", preferences: {}, users: [] };
    for (const [section, name, body] of bodies) {
      (wire[section] as Wire[]).push(newItem(section, name, body));
      result.added.push(`${KIND[section]} ${JSON.stringify(name)}`);
    }
    if (entries.context && options.setCurrentContext !== false) wire["current-context"] = entries.context.name;
    const out: string[] = [];
    mapLines(wire, 0, out);
    const head = text === "" || text.endsWith("\n") ? text : `${text}\n`;
    return { ...result, text: restoreLineEnds(`${head}${out.join("\n")}\n`, scanned.crlf) };
  }

  const edits: Edit[] = [];
  const appended: string[] = [];
  const top = scanned.top;
  for (const [section, name, body] of bodies) {
    const label = `${KIND[section]} ${JSON.stringify(name)}`;
    const info = layout.sections[section];
    const at = info === undefined ? -1 : info.names.indexOf(name);
    if (info === undefined) {
      appended.push(`${section}:\n${itemText(newItem(section, name, body), 0)}`);
      result.added.push(label);
      continue;
    }
    const value = info.entry.value;
    if (at >= 0 && value.kind === "seq") {
      const item = value.items[at] as MapNode;
      const inner = item.entries.find((e) => e.key === INNER[section]);
      if (inner !== undefined) {
        edits.push({ start: inner.colonEnd, end: inner.value.kind === "null" ? inner.colonEnd : inner.value.end, text: valueText(body, item.col + 2) });
      } else {
        edits.push({ start: item.end, end: item.end, text: `\n${" ".repeat(item.col)}${INNER[section]}:${valueText(body, item.col + 2)}` });
      }
      result.replaced.push(label);
    } else if (value.kind === "seq") {
      edits.push({ start: value.end, end: value.end, text: `\n${itemText(newItem(section, name, body), value.col)}` });
      result.added.push(label);
    } else {
      // `clusters:` with nothing, or `[]`: a block sequence in its place, at the key's column.
      edits.push({ start: info.entry.colonEnd, end: value.end, text: `\n${itemText(newItem(section, name, body), top.col)}` });
      result.added.push(label);
    }
  }
  if (entries.context && options.setCurrentContext !== false) {
    const current = layout.current;
    const name = scalarText(entries.context.name);
    if (current === undefined) appended.push(`current-context: ${name}`);
    else edits.push({ start: current.colonEnd, end: current.value.kind === "null" ? current.colonEnd : current.value.end, text: ` ${name}` });
  }
  let out = text;
  if (appended.length > 0) {
    const sep = out === "" || out.endsWith("\n") ? "" : "\n";
    out = `${out}${sep}${appended.join("\n")}\n`;
  }
  // From the end back, so that each edit's offsets still hold.
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { ...result, text: restoreLineEnds(out, scanned.crlf) };
}

function restoreLineEnds(text: string, crlf: boolean): string {
  return crlf ? text.replaceAll("\n", "\r\n") : text;
}
