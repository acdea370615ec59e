/**
 * The clusters page: for everyone, the clusters they may reach with a "Download kubeconfig" link (the
 * exec form) and the commands to copy; for admins also a form to register a cluster and a button to
 * delete one.
 */
import { html, type Html } from "../html.js";
import { consolePage, csrfField, type PageFrame } from "../layout.js";

/** One cluster as the list shows it. */
export interface ClusterRow {
  name: string;
  provider: string;
  region: string;
  endpoint: string;
  status: string;
}

/** What the clusters page shows. */
export interface ClustersView {
  clusters: readonly ClusterRow[];
  /** The broker's URL as kubeconfigs name it. */
  server: string;
  /** Admins: the credentials a new cluster may use (names and providers only). */
  credentials?: readonly { name: string; provider: string }[];
}

const CLOUD_NAMES: Record<string, string> = { ncp: "NAVER Cloud (NKS)", aws: "AWS (EKS)", gcp: "Google Cloud (GKE)" };

/**
 * A command line with a Copy button (shown by the script; without it, the text is there to select).
 *
 * @example
 * ```ts
 * commandLine("cmd-login", "kubeiam broker login --server https://broker");
 * ```
 */
export function commandLine(id: string, command: string, label: string): Html {
  return html`<div class="command"><code id="${id}">${command}</code><button type="button" class="secondary small" data-copy="${id}" aria-label="Copy: ${label}" hidden>Copy</button></div>`;
}

function statusClass(status: string): string {
  return /^(active|running)$/i.test(status) ? "ok" : /^(deleting|inactive|error|failed)/i.test(status) ? "bad" : "other";
}

/**
 * The clusters page.
 *
 * @example
 * ```ts
 * clustersPage(frame, { clusters, server: "https://broker.example" });
 * ```
 */
export function clustersPage(frame: PageFrame, view: ClustersView): Html {
  const admin = frame.viewer?.role === "admin";
  const { server } = view;
  const rows = view.clusters.map(
    (c, i) => html`<tr>
<th scope="row">${c.name}</th>
<td>${CLOUD_NAMES[c.provider] ?? c.provider}</td>
<td>${c.region}</td>
<td class="mono">${c.endpoint}</td>
<td><span class="status ${statusClass(c.status)}">${c.status}</span></td>
<td class="actions"><a href="/console/clusters/${encodeURIComponent(c.name)}/kubeconfig" download="${c.name}.kubeconfig" aria-label="Download kubeconfig for ${c.name}">Download kubeconfig</a></td>
${admin ? html`<td class="actions"><form method="post" action="/console/clusters/${encodeURIComponent(c.name)}/delete" data-confirm="Delete cluster ${c.name}? People lose access to it through the broker.">${csrfField(frame.csrf)}<button type="submit" class="danger small" aria-label="Delete cluster ${c.name}">Delete</button></form></td>` : ""}
</tr>
<tr><td colspan="${admin ? 7 : 6}">${commandLine(`cmd-${i}`, `kubeiam broker update-kubeconfig --server ${server} --cluster ${c.name}`, `update-kubeconfig for ${c.name}`)}</td></tr>`,
  );
  const table =
    view.clusters.length === 0
      ? html`<p class="empty">${admin ? "No clusters yet: register one below." : "No cluster is granted to you yet: ask an admin for a grant."}</p>`
      : html`<div class="table-wrap"><table>
<caption>${admin ? "Every cluster of this broker" : "The clusters granted to you"}, with the command that adds each to your kubeconfig</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Cloud</th><th scope="col">Region</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Kubeconfig</th>${admin ? html`<th scope="col">Admin</th>` : ""}</tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
  const intro = html`<p class="lead">A kubeconfig from here runs <code>kubeiam broker token</code>, which asks this broker for a short-lived token on each use: no cloud key and no token is in the file.</p>
<h2>Once per machine</h2>
${commandLine("cmd-install", "npm install -g kubeiam", "install kubeiam")}
${commandLine("cmd-login", `kubeiam broker login --server ${server}`, "broker login")}`;
  const addForm = admin ? addClusterForm(frame, view.credentials ?? []) : html``;
  return consolePage(frame, { title: "Clusters", section: "clusters" }, html`${intro}<h2>Clusters</h2>${table}${addForm}`);
}

function addClusterForm(frame: PageFrame, credentials: readonly { name: string; provider: string }[]): Html {
  if (credentials.length === 0) {
    return html`<h2>Register a cluster</h2><p class="empty">Add a credential first (see Credentials): the broker looks each cluster up with one.</p>`;
  }
  return html`<h2>Register a cluster</h2>
<p class="hint">The broker looks the cluster up through its cloud with the credential, and keeps its endpoint and CA. Fill in the field of the credential's cloud.</p>
<form class="stack" method="post" action="/console/clusters">
${csrfField(frame.csrf)}
<div class="field"><label for="cl-name">Name</label><input id="cl-name" name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*" maxlength="63"></div>
<div class="field"><label for="cl-credential">Credential</label><select id="cl-credential" name="credential" required>${credentials.map(
    (c) => html`<option value="${c.name}">${c.name} (${c.provider})</option>`,
  )}</select></div>
<div class="field"><label for="cl-region">Region</label><input id="cl-region" name="region" required maxlength="64" aria-describedby="cl-region-hint"><span id="cl-region-hint" class="hint">KR, SGN, JPN for NKS; ap-northeast-2 for EKS; for GKE the location.</span></div>
<div class="field"><label for="cl-uuid">NKS cluster UUID</label><input id="cl-uuid" name="clusterUuid" maxlength="255"></div>
<div class="field"><label for="cl-eks">EKS cluster name</label><input id="cl-eks" name="clusterName" maxlength="255"></div>
<div class="field"><label for="cl-project">GKE project</label><input id="cl-project" name="project" maxlength="255"></div>
<div class="field"><label for="cl-location">GKE location</label><input id="cl-location" name="location" maxlength="255"></div>
<div class="field"><label for="cl-gke">GKE cluster</label><input id="cl-gke" name="cluster" maxlength="255"></div>
<div class="field"><label for="cl-connection">cb-spider connection <span class="hint">(optional; the credential's name by default)</span></label><input id="cl-connection" name="connection" maxlength="63"></div>
<div><button type="submit">Register cluster</button></div>
</form>`;
}
