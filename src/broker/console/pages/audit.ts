/**
 * The audit page (admins): the trail as a table (time, actor, action, cluster, outcome, and where from
 * and why), filtered by user and cluster, paged back by entry id, under the result of checking the
 * trail's hash chain.
 */
import type { AuditEntryAnswer } from "../../audit-entry.js";
import { html, type Html } from "../html.js";
import { consolePage, type PageFrame } from "../layout.js";
import { displayTime } from "./users.js";

/** One audit entry as the table shows it: the fields of GET /v1/audit's answer (../../audit-entry.ts) it has columns for. */
export type AuditRow = Pick<AuditEntryAnswer, "id" | "time" | "actor" | "action" | "cluster" | "outcome" | "remote" | "reason">;

/** What checking the chain said. */
export type ChainCheck =
  | { kind: "ok"; entries: number }
  | { kind: "broken"; firstBad: number; reason: string }
  | { kind: "unavailable"; why: string };

/** The filters of the table. */
export interface AuditFilter {
  user?: string;
  cluster?: string;
  limit: number;
  before?: number;
}

/** What the audit page shows. */
export interface AuditView {
  entries: readonly AuditRow[];
  filter: AuditFilter;
  chain: ChainCheck;
}

/** The page sizes offered. */
export const AUDIT_PAGE_SIZES = [25, 50, 100, 500] as const;

/**
 * The query string of the audit page for a filter.
 *
 * @example
 * ```ts
 * auditQuery({ user: "alice", limit: 50, before: 120 }); // "?user=alice&limit=50&before=120"
 * ```
 */
export function auditQuery(filter: AuditFilter): string {
  const q = new URLSearchParams();
  if (filter.user !== undefined) q.set("user", filter.user);
  if (filter.cluster !== undefined) q.set("cluster", filter.cluster);
  q.set("limit", String(filter.limit));
  if (filter.before !== undefined) q.set("before", String(filter.before));
  return `?${q.toString()}`;
}

function chainNotice(chain: ChainCheck): Html {
  switch (chain.kind) {
    case "ok":
      return html`<div class="notice ok" role="status" id="chain">Chain verified: all ${chain.entries} entries are intact and in order.</div>`;
    case "broken":
      return html`<div class="notice error" role="alert" id="chain">Chain broken at entry ${chain.firstBad}: ${chain.reason}</div>`;
    case "unavailable":
      return html`<div class="notice" role="status" id="chain">Chain not checked: ${chain.why}</div>`;
  }
}

/**
 * The audit page.
 *
 * @example
 * ```ts
 * auditPage(frame, { entries, filter: { limit: 50 }, chain: { kind: "ok", entries: 812 } });
 * ```
 */
export function auditPage(frame: PageFrame, view: AuditView): Html {
  const { filter, entries } = view;
  const last = entries[entries.length - 1];
  const older = entries.length === filter.limit && last !== undefined ? `/console/audit${auditQuery({ ...filter, before: last.id })}` : undefined;
  const newest = filter.before !== undefined ? `/console/audit${auditQuery({ ...filter, before: undefined })}` : undefined;
  const pager =
    older === undefined && newest === undefined
      ? html``
      : html`<nav class="pager" aria-label="Audit pages">${newest === undefined ? "" : html`<a href="${newest}">Newest entries</a>`}${older === undefined ? "" : html`<a href="${older}">Older entries</a>`}</nav>`;
  const rows = entries.map(
    (e) => html`<tr>
<td>${e.id}</td>
<td><time datetime="${e.time}">${displayTime(e.time)}</time></td>
<td>${e.actor}</td>
<td class="nowrap">${e.action}</td>
<td class="nowrap">${e.cluster ?? ""}</td>
<td class="outcome-${e.outcome.replace(/[^a-z]/g, "")}">${e.outcome}</td>
<td>${e.remote ?? ""}</td>
<td>${e.reason ?? ""}</td>
</tr>`,
  );
  return consolePage(
    frame,
    { title: "Audit", section: "audit" },
    html`${chainNotice(view.chain)}
<form class="inline" method="get" action="/console/audit" role="search" aria-label="Filter the audit trail">
<div class="field"><label for="audit-user">Actor</label><input id="audit-user" name="user" value="${filter.user ?? ""}" maxlength="200" autocomplete="off"></div>
<div class="field"><label for="audit-cluster">Cluster</label><input id="audit-cluster" name="cluster" value="${filter.cluster ?? ""}" maxlength="200" autocomplete="off"></div>
<div class="field"><label for="audit-limit">Entries per page</label><select id="audit-limit" name="limit">${AUDIT_PAGE_SIZES.map(
      (n) => html`<option value="${n}"${n === filter.limit ? html` selected` : ""}>${n}</option>`,
    )}</select></div>
<div><button type="submit">Filter</button></div>
</form>
${
  entries.length === 0
    ? html`<p class="empty">No entries${filter.before === undefined ? "" : " older than these"} match.</p>`
    : html`<div class="table-wrap"><table>
<caption>Audit entries, newest first${filter.user === undefined ? "" : `, actor ${filter.user}`}${filter.cluster === undefined ? "" : `, cluster ${filter.cluster}`}</caption>
<thead><tr><th scope="col">ID</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Cluster</th><th scope="col">Outcome</th><th scope="col">From</th><th scope="col">Reason</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
}
${pager}`,
  );
}
