/**
 * HTML for the console's pages, escaped by construction: the `html` tag escapes every value it is
 * given unless that value is itself `Html` (made by the tag), so a name, a reason or an error message
 * from the store can never become markup.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Text made safe for an HTML text node or a quoted attribute value.
 *
 * @example
 * ```ts
 * escapeHtml(`<a href="x">`); // "&lt;a href=&quot;x&quot;&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Markup that is already safe: only the `html` tag (and {@link trustedHtml}) make one. */
export class Html {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  /** The markup. */
  toString(): string {
    return this.#text;
  }
}

/** What may stand in a `${…}` of the `html` tag: text is escaped, `Html` kept, nothing shown for null, undefined and false. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/**
 * A template tag that escapes each value (arrays are joined, `Html` is kept as it is).
 *
 * @example
 * ```ts
 * html`<td>${user.name}</td>`; // the name escaped
 * html`<ul>${names.map((n) => html`<li>${n}</li>`)}</ul>`;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i] as HtmlValue) + (strings[i + 1] ?? "");
  return new Html(out);
}

/**
 * Markup from a constant of this package (never from a request or the store).
 *
 * @example
 * ```ts
 * trustedHtml("<!doctype html>");
 * ```
 */
export function trustedHtml(markup: string): Html {
  return new Html(markup);
}
