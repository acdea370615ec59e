/**
 * A scripted, browser-less person for the sandbox's sign-in: follows a `verification_uri_complete`
 * link as a browser would (cookies per host, redirects, plain HTML forms, no script), signs in on the
 * sandbox identity provider's development login page and consents. What the demo, the bench and the
 * tests use to play the person in a device flow.
 */

/** What the person saw at the end. */
export interface BrowserlessResult {
  /** The last page's status and text (the broker's "signed in" page, or why not). */
  status: number;
  text: string;
  /** Every URL visited, in order (no query: a code or state is not kept). */
  visited: string[];
}

/** A cookie jar keyed by host:port. */
class Jar {
  readonly #byHost = new Map<string, Map<string, string>>();
  header(url: URL): string | undefined {
    const jar = this.#byHost.get(url.host);
    if (jar === undefined || jar.size === 0) return undefined;
    return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  take(url: URL, res: Response): void {
    let jar = this.#byHost.get(url.host);
    if (jar === undefined) this.#byHost.set(url.host, (jar = new Map()));
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || attrs.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (gone || value === "") jar.delete(name);
      else jar.set(name, value);
    }
  }
}

function decode(text: string): string {
  return text.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x2F;/gi, "/");
}

/** The first POST form of a page: its action and its fields (hidden ones with their values). */
function firstForm(html: string): { action: string; method: string; fields: Map<string, string> } | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (form === null) return undefined;
  const attr = (tag: string, name: string): string | undefined => {
    const m = new RegExp(`\\b${name}="([^"]*)"`, "i").exec(tag);
    return m === null ? undefined : decode(m[1] ?? "");
  };
  const fields = new Map<string, string>();
  for (const input of (form[2] ?? "").matchAll(/<input\b([^>]*)>/gi)) {
    const name = attr(input[1] ?? "", "name");
    if (name !== undefined) fields.set(name, attr(input[1] ?? "", "value") ?? "");
  }
  return { action: attr(form[1] ?? "", "action") ?? "", method: (attr(form[1] ?? "", "method") ?? "get").toLowerCase(), fields };
}

/**
 * Opens `link` and goes through every page until one has no form left to submit (or a step limit):
 * the broker's page (continue), the identity provider's login (as `login`, any password) and consent.
 *
 * @example
 * ```ts
 * const done = await signInWithoutBrowser(answer.verification_uri_complete, "carol");
 * // done.text says "You are signed in … as carol@example.com"
 * ```
 */
export async function signInWithoutBrowser(link: string, login: string, options: { signal?: AbortSignal; maxSteps?: number } = {}): Promise<BrowserlessResult> {
  const jar = new Jar();
  const visited: string[] = [];
  let url = new URL(link);
  let method = "GET";
  let body: URLSearchParams | undefined;
  const signal = options.signal ?? AbortSignal.timeout(30_000);
  for (let step = 0; step < (options.maxSteps ?? 20); step++) {
    visited.push(`${method} ${url.origin}${url.pathname}`);
    const headers: Record<string, string> = { accept: "text/html" };
    const cookie = jar.header(url);
    if (cookie !== undefined) headers.cookie = cookie;
    if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    const res = await fetch(url, { method, headers, redirect: "manual", signal, ...(body === undefined ? {} : { body: body.toString() }) });
    jar.take(url, res);
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location !== null) {
      await res.arrayBuffer();
      url = new URL(location, url);
      // 303 (and 302 after a POST, as browsers do) continue with GET.
      if (res.status !== 307 && res.status !== 308) {
        method = "GET";
        body = undefined;
      }
      continue;
    }
    const text = await res.text();
    const form = res.status === 200 ? firstForm(text) : undefined;
    if (form === undefined) return { status: res.status, text, visited };
    const fields = form.fields;
    if (fields.has("login")) fields.set("login", login);
    if (fields.has("password")) fields.set("password", "any password");
    if (fields.has("user_code") && fields.get("user_code") === "") return { status: res.status, text, visited };
    url = new URL(form.action, url);
    method = form.method === "post" ? "POST" : "GET";
    const params = new URLSearchParams([...fields]);
    if (method === "GET") {
      url.search = params.toString();
      body = undefined;
    } else {
      body = params;
    }
  }
  throw new Error(`signInWithoutBrowser: no end after ${options.maxSteps ?? 20} pages (last: ${url.origin}${url.pathname})`);
}
