/**
 * The page a refusal or failure draws: the message (the REST route's own sentence, in the notices)
 * and a way back.
 */
import { html, type Html } from "../html.js";
import { consolePage, type PageFrame } from "../layout.js";

/**
 * The error page; the frame's notices hold the message.
 *
 * @example
 * ```ts
 * errorPage({ ...frame, notices: [{ kind: "error", text: refusal.message }] });
 * ```
 */
export function errorPage(frame: PageFrame): Html {
  return consolePage(frame, { title: "Not done", section: "clusters" }, html`<p><a href="/">Back to the clusters</a></p>`);
}
