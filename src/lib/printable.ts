/**
 * Text from outside (a token's claim, a request path, a header) made safe to print on a terminal
 * or in a log: control characters, line breaks and invisible format characters (bidi overrides
 * among them) are written as escapes, so such text can neither drive the terminal nor forge lines.
 */

// C0, DEL and C1 controls (\p{Cc}), format characters such as U+202E and U+2066 (\p{Cf}), the line
// and paragraph separators, and lone surrogates: none of them prints as itself.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
const UNPRINTABLE_TEST = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(c: string): string {
  const short = SHORT[c];
  if (short !== undefined) return short;
  const code = c.codePointAt(0) ?? 0;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * The text with every unprintable character written as an escape (`\n`, `\r`, `\t`, `\u001b`,
 * `\u202e`, `\u{e0001}`); printable text, back-slashes included, is left as it is.
 *
 * @example
 * ```ts
 * printable("AK\u001b[2J\r\nvalid: yes"); // "AK\\u001b[2J\\r\\nvalid: yes"
 * ```
 */
export function printable(text: string): string {
  return UNPRINTABLE_TEST.test(text) ? text.replace(UNPRINTABLE, escapeOne) : text;
}

/**
 * {@link printable} text cut to `max` characters first (an ellipsis says it was cut): for naming an
 * outside value, such as an access key from a token, inside a message without quotes.
 *
 * @example
 * ```ts
 * `signed by access key ${clipped(accessKey, 64)}`; // signed by access key AK\nX
 * ```
 */
export function clipped(text: string, max = 80): string {
  return printable(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * {@link printable} text in double quotes, cut to `max` characters first: for quoting an outside
 * value inside a message.
 *
 * @example
 * ```ts
 * `the token's timestamp ${quoted(timestamp, 32)} is not …`; // the token's timestamp "1\\n2" is not …
 * ```
 */
export function quoted(text: string, max = 80): string {
  return `"${clipped(text, max)}"`;
}

/**
 * JSON for a terminal: `JSON.stringify` already escapes C0 controls; this also escapes DEL, C1
 * controls, format characters and the line separators as `\uXXXX`. Still valid JSON, with the same
 * values.
 *
 * @example
 * ```ts
 * ctx.out(`${printableJson({ accessKey: "AK\u202e" }, 2)}\n`); // {"accessKey": "AK\\u202e"}
 * ```
 */
export function printableJson(value: unknown, indent?: number): string {
  const json = JSON.stringify(value, null, indent);
  // Outside its strings JSON holds only structure and white space, so every match is inside a string.
  return UNPRINTABLE_TEST.test(json) ? json.replace(UNPRINTABLE, (c) => (c === "\n" ? c : escapeOne(c))) : json;
}

/**
 * One log line: {@link printable}, and at most `max` characters (a cut line says how much it lost),
 * so that no request can forge lines or flood the log.
 *
 * @example
 * ```ts
 * log(logLine(`api GET ${path} key=${accessKey} -> 401`));
 * ```
 */
export function logLine(line: string, max = 1000): string {
  const text = printable(line);
  if (text.length <= max) return text;
  // Escaped text is ASCII apart from printable characters; do not split a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? "") ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}
