/**
 * How a URL appears in any message, log line or progress line: scheme, host, port and path only.
 * A user name and password (`https://user:PASSWORD@host/`), a query (`?X-Amz-Signature=…`) and a
 * fragment may hold secrets, so they are never shown.
 */

/** The most of a URL shown in a message; longer ones are cut (with "…"), so one line stays one line. */
const MAX_SHOWN = 200;

/**
 * A URL for a message: `scheme://host:port/path`, without user, password, query or fragment. Text
 * that does not parse as a URL is shown the same way as far as it can be: everything between `//`
 * and the last `@` before the path, and everything from `?` or `#`, is dropped, and control
 * characters are escaped.
 *
 * @example
 * ```ts
 * displayUrl("https://user:PASSWORD@nks.example:8443/vnks/v2?sig=abc"); // "https://nks.example:8443/vnks/v2"
 * ```
 */
export function displayUrl(url: string | URL): string {
  let shown: string;
  try {
    const u = typeof url === "string" ? new URL(url.trim()) : url;
    // `host` keeps a non-default port; `pathname` is already percent-encoded, so it holds no line break.
    shown = u.host === "" ? `${u.protocol}${u.pathname}` : `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    shown = String(url)
      .trim()
      .replace(/[?#].*$/s, "")
      .replace(/^([^/]*\/\/)[^/]*@/, "$1");
  }
  // eslint-disable-next-line no-control-regex
  shown = shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown;
}

/**
 * Every URL inside a piece of text (an error message from a library, say) replaced by
 * {@link displayUrl}'s form of it.
 *
 * @example
 * ```ts
 * redactUrls("cannot fetch https://u:p@host/x?token=1: refused"); // "cannot fetch https://host/x: refused"
 * ```
 */
export function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (m) => {
    // A trailing ":" or ")" or "," is the sentence's, not the URL's.
    const tail = /[.,:;)\]]+$/.exec(m)?.[0] ?? "";
    return displayUrl(m.slice(0, m.length - tail.length)) + tail;
  });
}
