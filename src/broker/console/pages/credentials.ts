/**
 * The credentials page (admins): the cloud keys the broker holds, by name and provider only, with a
 * delete button. Keys are added from the command line (from the environment or stdin), so that no page
 * ever holds a cloud secret.
 */
import { html, type Html } from "../html.js";
import { consolePage, csrfField, type PageFrame } from "../layout.js";
import { commandLine } from "./clusters.js";
import { displayTime } from "./users.js";

/** One credential as the list shows it: never a key. */
export interface CredentialRow {
  name: string;
  provider: string;
  createdAt?: string;
}

/**
 * The credentials page.
 *
 * @example
 * ```ts
 * credentialsPage(frame, { credentials: [{ name: "ncp-main", provider: "ncp" }], server });
 * ```
 */
export function credentialsPage(frame: PageFrame, view: { credentials: readonly CredentialRow[]; server: string }): Html {
  const rows = view.credentials.map(
    (c) => html`<tr>
<th scope="row">${c.name}</th>
<td>${c.provider}</td>
<td>${c.createdAt === undefined ? "" : html`<time datetime="${c.createdAt}">${displayTime(c.createdAt)}</time>`}</td>
<td class="actions"><form method="post" action="/console/credentials/${encodeURIComponent(c.name)}/delete" data-confirm="Delete credential ${c.name}? The broker refuses while a cluster uses it.">${csrfField(frame.csrf)}<button type="submit" class="danger small" aria-label="Delete credential ${c.name}">Delete</button></form></td>
</tr>`,
  );
  return consolePage(
    frame,
    { title: "Credentials", section: "credentials" },
    html`<p class="lead">Cloud keys the broker holds, sealed under its master key. No page shows or takes a key.</p>
${
  view.credentials.length === 0
    ? html`<p class="empty">No credentials yet.</p>`
    : html`<div class="table-wrap"><table>
<caption>Credentials, by name and provider</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Added</th><th scope="col">Delete</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
}
<h2>Add a credential</h2>
<p>From a machine that holds the key, with an admin token (the keys come from the environment or stdin, never from the command line):</p>
${commandLine("cmd-cred-ncp", `kubeiam broker credential add ncp-main --provider ncp --server ${view.server}`, "credential add for NCP")}
${commandLine("cmd-cred-aws", `kubeiam broker credential add aws-main --provider aws --server ${view.server}`, "credential add for AWS")}
${commandLine("cmd-cred-gcp", `kubeiam broker credential add gcp-main --provider gcp --stdin --server ${view.server} < key.json`, "credential add for GCP")}`,
  );
}
