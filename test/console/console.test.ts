/**
 * The web console in a real browser (Debian's Chromium through puppeteer-core), against a broker
 * in-process over the sandbox: alice signs in with her broker token by the labels, sees her cluster
 * and not the other, downloads its kubeconfig, and the real kubectl lists namespaces with it; the
 * admin reads alice's entries in Audit, grants and revokes, adds and rotates a user; the session
 * cookie is HttpOnly, the CSP keeps scripts to the broker's files and forbids framing, no page has a
 * script error, an unlabelled control, or the NCP secret key.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { BrowserContext, Page } from "puppeteer-core";
import { parse as parseYaml } from "yaml";
import { call } from "../broker/helpers.js";
import { childEnv } from "../broker/serve-helpers.js";
import { requireTools } from "../helpers/tools.js";
import { clickAndWait, launchBrowser, type TestBrowser } from "./browser.js";
import { startConsoleFixture, type ConsoleFixture } from "./fixture.js";

before(() => requireTools("kubectl"));

// The little of the DOM that the functions run in the page use (the tests compile without lib "dom").
interface PageElement {
  id: string;
  tagName: string;
  type?: string;
  textContent: string | null;
  innerText: string;
  outerHTML: string;
  labels?: { length: number } | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  cookie: string;
  activeElement: PageElement | null;
  body: PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
};

let world: ConsoleFixture;
let chromium: TestBrowser;
/** Every page the tests looked at, with its HTML, for the checks that hold on all of them. */
const seen: { url: string; html: string }[] = [];

before(async () => {
  world = await startConsoleFixture();
  chromium = await launchBrowser();
});
after(async () => {
  await chromium?.close();
  await world?.close();
});

/** Runs a test body; when it fails, prints the broker's last log lines and the browser's problems. */
function step(name: string, body: () => Promise<void>): void {
  test(name, async () => {
    try {
      await body();
    } catch (error) {
      console.error(`--- broker log (last 40 lines) ---\n${world?.log.slice(-40).join("\n")}\n--- browser problems ---\n${chromium?.problems.join("\n")}`);
      throw error;
    }
  });
}

/** Records the page for the all-pages checks, and checks its controls have names. */
async function look(page: Page): Promise<string> {
  const html = await page.content();
  seen.push({ url: page.url(), html });
  const unlabelled = await page.evaluate(() => {
    const bad: string[] = [];
    for (const el of document.querySelectorAll("input, select, textarea, button, a")) {
      if (el.tagName === "INPUT" && el.type === "hidden") continue;
      const labelled =
        el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA"
          ? (el.labels?.length ?? 0) > 0 || el.getAttribute("aria-label") !== null
          : (el.textContent ?? "").trim() !== "" || el.getAttribute("aria-label") !== null;
      if (!labelled) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
  assert.deepEqual(unlabelled, [], `controls without a label on ${page.url()}`);
  return html;
}

/** Signs in on a fresh page of `context` with `token`, by the field's label and the button's name. */
async function signIn(context: BrowserContext, token: string): Promise<Page> {
  const page = await chromium.newPage(context);
  page.on("dialog", (d) => void d.accept());
  await page.goto(world.base);
  await look(page);
  await page.locator("::-p-aria(Broker token)").fill(token);
  await clickAndWait(page, "::-p-aria([name='Sign in'][role='button'])");
  return page;
}

async function tableText(page: Page): Promise<string> {
  return page.$eval("body", (m) => (m as unknown as PageElement).innerText);
}

function kubectl(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("kubectl", ["--request-timeout", "20s", "--cache-dir", join(world.dir, "kube-cache"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", () => resolve({ code: null, stdout, stderr: "kubectl could not start" }));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function waitForFile(path: string, timeoutMs = 15_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (existsSync(path)) {
      const text = readFileSync(path, "utf8");
      if (text.length > 0) return text;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no download at ${path} within ${timeoutMs} ms; the folder holds ${readdirSync(join(path, "..")).join(", ")}`);
}

let aliceContext: BrowserContext;
let alicePage: Page;
const downloads = (): string => {
  const dir = join(world.dir, "downloads");
  mkdirSync(dir, { recursive: true });
  return dir;
};

step("alice signs in with her broker token by the labels, and sees bars-kr and not bars-sgn", async () => {
  aliceContext = await chromium.browser.createBrowserContext({ downloadBehavior: { policy: "allow", downloadPath: downloads() } });
  alicePage = await signIn(aliceContext, world.alice);
  await look(alicePage);
  const text = await tableText(alicePage);
  assert.match(text, /Signed in as alice/);
  assert.match(text, /bars-kr/);
  assert.doesNotMatch(text, /bars-sgn/);
  assert.match(text, /kubeiam broker update-kubeconfig --server http:\/\/127\.0\.0\.1:\d+ --cluster bars-kr/);
  assert.doesNotMatch(text, /\bUsers\b|\bAudit\b/, "no admin pages for a user");
});

step("the session cookie is HttpOnly and SameSite, and no script can read it", async () => {
  const cookies = await aliceContext.cookies();
  const session = cookies.find((c) => c.name === "kubeiam-session");
  assert.ok(session, `a session cookie among ${cookies.map((c) => c.name).join(", ")}`);
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Lax");
  assert.equal(session.path, "/");
  assert.equal(await alicePage.evaluate(() => document.cookie.includes("kubeiam-session")), false);
});

step("Download kubeconfig yields the exec form, and the real kubectl lists namespaces with it through the broker", async () => {
  await alicePage.locator("::-p-aria([name='Download kubeconfig for bars-kr'][role='link'])").click();
  const yaml = await waitForFile(join(downloads(), "bars-kr.kubeconfig"));
  assert.ok(!yaml.includes(world.alice), "no broker token in the file");
  const config = parseYaml(yaml);
  assert.equal(config.users.length, 1);
  const exec = config.users[0].user.exec;
  assert.equal(exec.command, "kubeiam");
  assert.deepEqual(exec.args, ["broker", "token", "--server", world.base, "--cluster", "bars-kr"]);
  assert.equal(config.users[0].user.token, undefined, "no Kubernetes token in the file");
  const env = childEnv(join(world.dir, "alice-home"), { PATH: `${world.bin}:${process.env.PATH ?? ""}`, KUBEIAM_BROKER_TOKEN: world.alice });
  const ns = await kubectl(["--kubeconfig", join(downloads(), "bars-kr.kubeconfig"), "get", "namespaces"], env);
  assert.equal(ns.code, 0, ns.stderr);
  assert.match(ns.stdout, /^default\s+Active/m);
});

step("alice cannot open the admin pages: the REST route's own refusal, as a page", async () => {
  const r = await alicePage.goto(`${world.base}/console/audit`);
  assert.equal(r?.status(), 403);
  const text = await tableText(alicePage);
  assert.match(text, /reading the audit trail is for admins, and user alice is not one/);
  await look(alicePage);
  // Chromium reports the 403 of that navigation on the console: expected here.
  chromium.forgive(/\/console\/audit: Failed to load resource: the server responded with a status of 403/);
});

let adminContext: BrowserContext;
let adminPage: Page;

step("the admin signs in, opens Audit and sees alice's entries on bars-kr, under the chain's check", async () => {
  adminContext = await chromium.browser.createBrowserContext();
  adminPage = await signIn(adminContext, world.admin);
  await look(adminPage);
  await clickAndWait(adminPage, "::-p-aria([name='Audit'][role='link'])");
  await look(adminPage);
  const rows = await adminPage.$$eval("main table tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => (td.textContent ?? "").trim())));
  // ID, time, actor, action, cluster, outcome, from, reason
  assert.ok(
    rows.some((r) => r[2] === "alice" && r[3] === "token.issue" && r[4] === "bars-kr" && r[5] === "issued" && r[6] === "127.0.0.1"),
    `alice's token on bars-kr among ${JSON.stringify(rows.slice(0, 10))}`,
  );
  // The chain's verification result, from GET /v1/audit/verify through the same code as the REST route.
  assert.match(await adminPage.$eval("#chain", (e) => `${e.getAttribute("role") ?? ""}: ${(e.textContent ?? "").trim()}`), /^status: Chain verified: all \d+ entries are intact and in order\.$/);
  // The filters: alice only.
  await adminPage.locator("::-p-aria([name='Actor'][role='textbox'])").fill("alice");
  await adminPage.locator("::-p-aria([name='Cluster'][role='textbox'])").fill("bars-kr");
  await clickAndWait(adminPage, "::-p-aria([name='Filter'][role='button'])");
  const actors = await adminPage.$$eval("main table tbody tr td:nth-child(3)", (tds) => tds.map((td) => (td.textContent ?? "").trim()));
  assert.ok(actors.length > 0 && actors.every((a) => a === "alice"), actors.join(","));
  assert.match(adminPage.url(), /user=alice/);
  await look(adminPage);
});

step("the admin grants alice bars-sgn, she sees it, the admin revokes it, she does not; both in the audit as the REST routes write them", async () => {
  await adminPage.goto(`${world.base}/console/grants`);
  await look(adminPage);
  await adminPage.locator("::-p-aria([name='User or group'][role='combobox'])").fill("alice");
  await adminPage.select("#grant-cluster", "bars-sgn");
  await clickAndWait(adminPage, "::-p-aria([name='Grant'][role='button'])");
  await look(adminPage);
  assert.match(await tableText(adminPage), /Granted: alice on bars-sgn/);
  const seesIt = async (): Promise<boolean> => {
    const r = await call(world.base, "GET", "/v1/clusters", { token: world.alice });
    return (r.json.clusters as { name: string }[]).some((c) => c.name === "bars-sgn");
  };
  assert.equal(await seesIt(), true);
  await alicePage.goto(world.base);
  assert.match(await tableText(alicePage), /bars-sgn/);
  await clickAndWait(adminPage, "::-p-aria([name='Revoke alice on bars-sgn'][role='button'])");
  await look(adminPage);
  assert.match(await tableText(adminPage), /Revoked: alice on bars-sgn/);
  assert.equal(await seesIt(), false);
  const audit = await call(world.base, "GET", "/v1/audit?user=admin&limit=5", { token: world.admin });
  const actions = (audit.json.entries as { action: string; cluster: string; reason: string; remote: string }[]).map((e) => `${e.action} ${e.cluster} ${e.reason} ${e.remote}`);
  assert.ok(actions.includes("grant.put bars-sgn alice 127.0.0.1"), actions.join("; "));
  assert.ok(actions.includes("grant.delete bars-sgn alice 127.0.0.1"), actions.join("; "));
});

step("the admin adds a user (the token shown once works), rotates it (the old one stops), and deletes the user", async () => {
  await clickAndWait(adminPage, "::-p-aria([name='Users'][role='link'])");
  await adminPage.locator("::-p-aria([name='Name'][role='textbox'])").fill("bob");
  await clickAndWait(adminPage, "::-p-aria([name='Add user'][role='button'])");
  await look(adminPage);
  const first = await adminPage.$eval("#new-token", (e) => (e.textContent ?? "").trim());
  assert.match(first, /^kbi_[A-Za-z0-9_-]{43}$/);
  assert.equal((await call(world.base, "GET", "/v1/clusters", { token: first })).status, 200);
  // Shown once: the page reloaded does not have it.
  await adminPage.goto(`${world.base}/console/users`);
  assert.ok(!(await adminPage.content()).includes(first));
  await clickAndWait(adminPage, "::-p-aria([name='Rotate the token of bob'][role='button'])");
  await look(adminPage);
  const second = await adminPage.$eval("#new-token", (e) => (e.textContent ?? "").trim());
  assert.notEqual(second, first);
  assert.equal((await call(world.base, "GET", "/v1/clusters", { token: first })).status, 401);
  assert.equal((await call(world.base, "GET", "/v1/clusters", { token: second })).status, 200);
  await clickAndWait(adminPage, "::-p-aria([name='Delete user bob'][role='button'])");
  await look(adminPage);
  assert.match(await tableText(adminPage), /User bob is deleted/);
  assert.equal((await call(world.base, "GET", "/v1/clusters", { token: second })).status, 401);
});

step("the credentials page shows names and providers, and the clusters page every cluster, to the admin", async () => {
  await clickAndWait(adminPage, "::-p-aria([name='Credentials'][role='link'])");
  await look(adminPage);
  assert.match(await tableText(adminPage), /sandbox\s+ncp/);
  await clickAndWait(adminPage, "::-p-aria([name='Clusters'][role='link'])");
  await look(adminPage);
  const text = await tableText(adminPage);
  assert.match(text, /bars-kr/);
  assert.match(text, /bars-sgn/);
});

step("everything works from the keyboard: sign in with Tab, typing and Enter", async () => {
  const page = await chromium.newPage();
  await page.goto(world.base);
  for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.id === "token")); i++) await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "token", "Tab reaches the Broker token field");
  await page.keyboard.type(world.alice);
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  assert.match(await tableText(page), /Signed in as alice/);
  await look(page);
  await page.close();
});

step("signing out ends the session on the broker: the page asks to sign in again, and the old cookie no longer works", async () => {
  const before = (await aliceContext.cookies()).filter((c) => c.name.startsWith("kubeiam-"));
  assert.ok(before.some((c) => c.name === "kubeiam-session" && /^kbs_/.test(c.value)), "a session token in the cookie, not the broker token");
  await clickAndWait(alicePage, "::-p-aria([name='Sign out'][role='button'])");
  await look(alicePage);
  assert.match(await tableText(alicePage), /You are signed out/);
  assert.equal((await alicePage.$("::-p-aria(Broker token)")) !== null, true);
  const cookies = await aliceContext.cookies();
  assert.equal(cookies.find((c) => c.name === "kubeiam-session"), undefined);
  // Someone who kept the cookies: refused, asked to sign in.
  const thief = await chromium.browser.createBrowserContext();
  await thief.setCookie(...before.map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path, httpOnly: c.httpOnly, sameSite: c.sameSite })));
  const page = await chromium.newPage(thief);
  const r = await page.goto(world.base);
  assert.equal(r?.status(), 401);
  assert.match(await tableText(page), /Your session has ended: sign in again/);
  assert.doesNotMatch(await tableText(page), /Signed in as/);
  chromium.forgive(/Failed to load resource: the server responded with a status of 401/);
  await look(page);
  await thief.close();
});

step("the CSP keeps scripts to the broker's own files and forbids framing; no page has inline script or handlers", async () => {
  const r = await fetch(`${world.base}/`);
  const csp = r.headers.get("content-security-policy") ?? "";
  assert.match(csp, /(^|; )script-src 'self'(;|$)/);
  assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.equal(r.headers.get("x-frame-options"), "DENY");
  for (const { url, html } of seen) {
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc="\/console\/assets\/)[^>]*>/, `an inline or foreign script on ${url}`);
    assert.doesNotMatch(html, /\son[a-z]+=/i, `an inline event handler on ${url}`);
  }
  // A page on another origin that frames the console: the frame stays empty. The control, a frame of
  // /healthz (which sets no frame-ancestors), shows that a framed page's text is seen when it loads.
  const framer: Server = createServer((_req, res) =>
    res.end(`<!doctype html><iframe id="console" src="${world.base}/"></iframe><iframe id="control" src="${world.base}/healthz"></iframe>`),
  );
  await new Promise<void>((resolve) => framer.listen(0, "127.0.0.1", resolve));
  try {
    const page = await (await chromium.browser.createBrowserContext()).newPage();
    await page.goto(`http://localhost:${(framer.address() as AddressInfo).port}/`, { waitUntil: "load", timeout: 20_000 });
    const textOf = async (id: string): Promise<string> => {
      const handle = await page.$(`#${id}`);
      const frame = await handle?.contentFrame();
      assert.ok(frame, `frame ${id}`);
      return frame.evaluate(() => document.body?.innerText ?? "").catch(() => "");
    };
    assert.match(await textOf("control"), /"status":"ok"/);
    assert.ok(!(await textOf("console")).includes("Broker token"), "the console rendered inside another site's frame");
    await page.close();
  } finally {
    framer.close();
  }
});

step("no script error, console error or failed request on any page; no page shows the NCP secret key", async () => {
  assert.ok(seen.length >= 12, `pages looked at: ${seen.length}`);
  assert.deepEqual(chromium.problems, []);
  for (const { url, html } of seen) {
    assert.ok(!html.includes(world.sandbox.secretKey), `the NCP secret key on ${url}`);
    assert.ok(!html.includes(world.sandbox.accessKey), `the NCP access key on ${url}`);
  }
});
