/**
 * The frame of every console page: the document head (the package's own stylesheet, script and icon,
 * nothing inline), a skip link, the navigation for the caller's role, the sign-out form, notices, and
 * a live region the script announces to.
 */
import type { ConsoleAssets } from "./assets.js";
import { html, trustedHtml, type Html } from "./html.js";

/** A page of the navigation. */
export type ConsoleSection = "clusters" | "users" | "grants" | "credentials" | "audit" | "sign-in";

/** The person signed in, as the pages need them. */
export interface ConsoleViewer {
  name: string;
  role: "admin" | "user";
}

/** A message above the page's content. */
export interface Notice {
  kind: "ok" | "error";
  text: string;
}

/** What every page is drawn with. */
export interface PageFrame {
  assets: ConsoleAssets;
  /** Absent on the sign-in page. */
  viewer?: ConsoleViewer;
  /** The CSRF token for the page's forms (the sign-out form among them). */
  csrf: string;
  notices?: readonly Notice[];
}

const NAV: readonly { section: ConsoleSection; href: string; label: string; admin: boolean }[] = [
  { section: "clusters", href: "/", label: "Clusters", admin: false },
  { section: "users", href: "/console/users", label: "Users", admin: true },
  { section: "grants", href: "/console/grants", label: "Grants", admin: true },
  { section: "credentials", href: "/console/credentials", label: "Credentials", admin: true },
  { section: "audit", href: "/console/audit", label: "Audit", admin: true },
];

/**
 * The hidden CSRF field every form carries.
 *
 * @example
 * ```ts
 * html`<form method="post" action="/console/users">${csrfField(frame.csrf)}…</form>`;
 * ```
 */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

function notices(list: readonly Notice[] | undefined): Html {
  if (list === undefined || list.length === 0) return html``;
  return html`${list.map((n) => html`<div class="notice ${n.kind}" role="${n.kind === "error" ? "alert" : "status"}">${n.text}</div>`)}`;
}

/**
 * A whole page: head, header with navigation (admin pages only for admins), the title as `<h1>`, the
 * notices and the body.
 *
 * @example
 * ```ts
 * const page = consolePage(frame, { title: "Users", section: "users" }, html`<p>…</p>`);
 * ```
 */
export function consolePage(frame: PageFrame, page: { title: string; section: ConsoleSection }, body: Html): Html {
  const { assets, viewer } = frame;
  const header =
    viewer === undefined
      ? html`<header class="top"><a class="brand" href="/">kubeiam broker</a></header>`
      : html`<header class="top">
  <a class="brand" href="/">kubeiam broker</a>
  <nav aria-label="Console"><ul>${NAV.filter((n) => !n.admin || viewer.role === "admin").map(
    (n) => html`<li><a href="${n.href}"${n.section === page.section ? trustedHtml(' aria-current="page"') : ""}>${n.label}</a></li>`,
  )}</ul></nav>
  <div class="who"><span>Signed in as <strong>${viewer.name}</strong> (${viewer.role})</span>
    <form method="post" action="/console/sign-out">${csrfField(frame.csrf)}<button type="submit">Sign out</button></form></div>
</header>`;
  return html`${trustedHtml("<!doctype html>")}
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · kubeiam broker</title>
<link rel="icon" href="${assets.icon.href}" type="image/svg+xml">
<link rel="stylesheet" href="${assets.css.href}">
<script src="${assets.js.href}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
${header}
<main id="main">
<h1>${page.title}</h1>
${notices(frame.notices)}
<p id="console-status" class="hint" role="status" aria-live="polite"></p>
${body}
</main>
</body>
</html>
`;
}
