/**
 * A real browser for the console's tests and screenshots: Debian's Chromium driven by puppeteer-core
 * (nothing is downloaded), headless, in a fresh profile in a temp folder, with every page's script
 * errors, console errors and failed requests collected so that a test can assert there were none.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { existsSync } from "node:fs";
import puppeteer, { type Browser, type BrowserContext, type Page } from "puppeteer-core";

/** Where Debian's chromium package puts the browser (`.ci/run` installs it when missing). */
export const CHROMIUM = process.env.KUBEIAM_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** A launched browser, its profile folder, and what its pages reported. */
export interface TestBrowser {
  browser: Browser;
  /** Script errors, console errors and failed requests of every page opened with {@link TestBrowser.newPage}. */
  problems: string[];
  /** A page (in `context`, else in a new context of its own: no cookies shared), watched for problems. */
  newPage(context?: BrowserContext): Promise<Page>;
  /** Drops the problems matching `pattern` (one the test caused on purpose and checked). */
  forgive(pattern: RegExp): void;
  close(): Promise<void>;
}

/**
 * Launches Chromium headless with a fresh profile; throws one line naming the package when it is
 * not installed.
 *
 * @example
 * ```ts
 * const b = await launchBrowser();
 * const page = await b.newPage();
 * await page.goto(url);
 * assert.deepEqual(b.problems, []);
 * ```
 */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium), as .ci/run does`);
  const profile = mkdtempSync(join(tmpdir(), "kubeiam-chromium-"));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      protocolTimeout: 60_000,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        `--user-data-dir=${profile}`,
      ],
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const problems: string[] = [];
  return {
    browser,
    problems,
    newPage: async (context) => {
      const page = await (context ?? (await browser.createBrowserContext())).newPage();
      page.setDefaultTimeout(15_000);
      page.setDefaultNavigationTimeout(20_000);
      page.on("pageerror", (error) => problems.push(`script error on ${page.url()}: ${String(error)}`));
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warn") problems.push(`console ${message.type()} on ${page.url()}: ${message.text()}`);
      });
      page.on("requestfailed", (request) => {
        // A download is reported as aborted by the page; it is not a failure.
        const why = request.failure()?.errorText ?? "";
        if (why !== "net::ERR_ABORTED") problems.push(`request failed on ${page.url()}: ${request.url()} ${why}`);
      });
      return page;
    },
    forgive: (pattern) => {
      for (let i = problems.length - 1; i >= 0; i--) if (pattern.test(problems[i] ?? "")) problems.splice(i, 1);
    },
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Clicks the element and waits for the navigation it causes (both bounded by the page's timeouts).
 *
 * @example
 * ```ts
 * await clickAndWait(page, "xpath/.//button[text()='Sign in']");
 * ```
 */
export async function clickAndWait(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(selector)]);
}
