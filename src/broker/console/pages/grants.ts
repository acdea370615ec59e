/**
 * The grants page (admins): who may reach which cluster, a form to grant (a user or a group, and,
 * where the broker supports them, the credential to act as and an end time), and a button to revoke
 * each grant.
 */
import { html, type Html } from "../html.js";
import { consolePage, csrfField, type PageFrame } from "../layout.js";
import { displayTime } from "./users.js";

/** One grant as the list shows it. */
export interface GrantRow {
  /** `alice` or `group:platform`. */
  subject: string;
  /** A cluster name, or `*` for every cluster. */
  cluster: string;
  /** The credential tokens are minted with instead of the cluster's own. */
  as?: string;
  /** RFC 3339; the grant is refused from then on. */
  expiresAt?: string;
  /** Past its end (kept until revoked). */
  ended?: boolean;
}

/** What the grants page shows. */
export interface GrantsView {
  grants: readonly GrantRow[];
  /** The subjects whose grants are listed (every user, plus a group asked for). */
  subjectsShown: string;
  users: readonly string[];
  clusters: readonly string[];
  /** Credentials a grant may act as; absent when the broker's grants have no `as` and end time. */
  actAs?: readonly { name: string; provider: string }[];
  /** The subject typed into the lookup form. */
  lookup?: string;
}

/**
 * The grants page.
 *
 * @example
 * ```ts
 * grantsPage(frame, { grants, subjectsShown: "every user", users, clusters });
 * ```
 */
export function grantsPage(frame: PageFrame, view: GrantsView): Html {
  const options = view.actAs !== undefined;
  const rows = view.grants.map(
    (g) => html`<tr>
<th scope="row">${g.subject}</th>
<td>${g.cluster === "*" ? "* (every cluster)" : g.cluster}</td>
${options ? html`<td>${g.as ?? html`<span class="hint">the cluster's own</span>`}</td><td>${g.expiresAt === undefined ? html`<span class="hint">never</span>` : html`<time datetime="${g.expiresAt}">${displayTime(g.expiresAt)}</time>${g.ended === true ? " (ended)" : ""}`}</td>` : ""}
<td class="actions"><form method="post" action="/console/grants/revoke" data-confirm="Revoke the grant of ${g.subject} for ${g.cluster}?">${csrfField(frame.csrf)}<input type="hidden" name="subject" value="${g.subject}"><input type="hidden" name="cluster" value="${g.cluster}"><button type="submit" class="danger small" aria-label="Revoke ${g.subject} on ${g.cluster}">Revoke</button></form></td>
</tr>`,
  );
  const table =
    view.grants.length === 0
      ? html`<p class="empty">No grants for ${view.subjectsShown}.</p>`
      : html`<div class="table-wrap"><table>
<caption>Grants of ${view.subjectsShown}</caption>
<thead><tr><th scope="col">Subject</th><th scope="col">Cluster</th>${options ? html`<th scope="col">Acts as</th><th scope="col">Expires</th>` : ""}<th scope="col">Revoke</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
  const actAs = options
    ? html`<div class="field"><label for="grant-as">Act as credential <span class="hint">(optional)</span></label><select id="grant-as" name="as"><option value="">the cluster's own</option>${(view.actAs ?? []).map(
        (c) => html`<option value="${c.name}">${c.name} (${c.provider})</option>`,
      )}</select></div>
<div class="field"><label for="grant-expires">Expires at, UTC <span class="hint">(optional)</span></label><input id="grant-expires" name="expiresAt" type="datetime-local"></div>`
    : html``;
  return consolePage(
    frame,
    { title: "Grants", section: "grants" },
    html`<form class="inline" method="get" action="/console/grants" role="search">
<div class="field"><label for="lookup">Show the grants of</label><input id="lookup" name="subject" value="${view.lookup ?? ""}" placeholder="alice or group:platform" aria-describedby="lookup-hint"><span id="lookup-hint" class="hint">Empty: every user.</span></div>
<div><button type="submit" class="secondary">Show</button></div>
</form>
${table}
<h2>Grant a cluster</h2>
<form class="inline" method="post" action="/console/grants">
${csrfField(frame.csrf)}
<div class="field"><label for="grant-subject">User or group</label><input id="grant-subject" name="subject" required list="grant-users" aria-describedby="grant-subject-hint" autocomplete="off"><span id="grant-subject-hint" class="hint">A user name, or group:NAME</span>
<datalist id="grant-users">${view.users.map((u) => html`<option value="${u}"></option>`)}</datalist></div>
<div class="field"><label for="grant-cluster">Cluster</label><select id="grant-cluster" name="cluster" required>${view.clusters.map((c) => html`<option value="${c}">${c}</option>`)}<option value="*">* (every cluster)</option></select></div>
${actAs}
<div><button type="submit">Grant</button></div>
</form>`,
  );
}
