/**
 * The users page (admins): every user with their role, a form to add one, and per user a button to
 * rotate their token and one to delete them. A new or rotated token is shown once, on the answer to
 * the form, and never again.
 */
import { html, type Html } from "../html.js";
import { consolePage, csrfField, type PageFrame } from "../layout.js";
import { commandLine } from "./clusters.js";

/** One user as the list shows them. */
export interface UserRow {
  name: string;
  role: string;
  createdAt: string;
}

/** What the users page shows. */
export interface UsersView {
  users: readonly UserRow[];
  server: string;
  /** A token just made: shown on this answer only. */
  newToken?: { user: string; token: string; why: "created" | "rotated" };
}

function tokenNotice(view: UsersView): Html {
  const t = view.newToken;
  if (t === undefined) return html``;
  return html`<section class="notice secret" aria-labelledby="new-token-title">
<h2 id="new-token-title">${t.why === "created" ? `User ${t.user} added` : `New token for ${t.user}`}: their broker token, shown only now</h2>
<p>Hand it to ${t.user} over a channel you trust. The broker keeps only its digest: a lost token is replaced by rotating it${t.why === "rotated" ? "; the old one has stopped working" : ""}.</p>
${commandLine("new-token", t.token, `the broker token of ${t.user}`)}
<p>${t.user} signs in here with it, or on their machine with:</p>
${commandLine("new-token-login", `kubeiam broker login --server ${view.server}`, "broker login")}
<p class="hint">(which reads the token from its input)</p>
</section>`;
}

/**
 * The users page.
 *
 * @example
 * ```ts
 * usersPage(frame, { users, server, newToken: { user: "alice", token, why: "created" } });
 * ```
 */
export function usersPage(frame: PageFrame, view: UsersView): Html {
  const me = frame.viewer?.name;
  const rows = view.users.map(
    (u) => html`<tr>
<th scope="row">${u.name}</th>
<td>${u.role}</td>
<td><time datetime="${u.createdAt}">${displayTime(u.createdAt)}</time></td>
<td class="actions">
<form method="post" action="/console/users/${encodeURIComponent(u.name)}/rotate" data-confirm="Rotate the token of ${u.name}? Their current token stops working at once.">${csrfField(frame.csrf)}<button type="submit" class="secondary small" aria-label="Rotate the token of ${u.name}">Rotate token</button></form>
${u.name === me ? "" : html`<form method="post" action="/console/users/${encodeURIComponent(u.name)}/delete" data-confirm="Delete user ${u.name}? Their token and sessions stop working at once.">${csrfField(frame.csrf)}<button type="submit" class="danger small" aria-label="Delete user ${u.name}">Delete</button></form>`}
</td>
</tr>`,
  );
  return consolePage(
    frame,
    { title: "Users", section: "users" },
    html`${tokenNotice(view)}
<div class="table-wrap"><table>
<caption>People and programs holding a broker token</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Added</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
<h2>Add a user</h2>
<form class="inline" method="post" action="/console/users">
${csrfField(frame.csrf)}
<div class="field"><label for="user-name">Name</label><input id="user-name" name="name" required maxlength="63" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*" autocomplete="off"></div>
<div class="field"><label for="user-role">Role</label><select id="user-role" name="role"><option value="user" selected>user</option><option value="admin">admin</option></select></div>
<div><button type="submit">Add user</button></div>
</form>`,
  );
}

/**
 * An RFC 3339 time as `YYYY-MM-DD HH:MM:SS UTC` (the text the tables show; the `datetime` attribute
 * keeps the exact value).
 *
 * @example
 * ```ts
 * displayTime("2026-12-07T03:21:32.123Z"); // "2026-12-07 03:21:32 UTC"
 * ```
 */
export function displayTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m === null ? iso : `${m[1] ?? ""} ${m[2] ?? ""} UTC`;
}
