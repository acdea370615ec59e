/**
 * `npm run screenshots`: the console's pages as the README shows them, made by the same harness as
 * the browser tests (Debian's Chromium, the sandbox, a broker in-process in a temp folder), written
 * to docs/console-*.png. Not a test file: the test runner does not run it.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import { call } from "../broker/helpers.js";
import { clickAndWait, launchBrowser } from "./browser.js";
import { startConsoleFixture } from "./fixture.js";

const DOCS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "docs");

async function shoot(page: Page, name: string): Promise<void> {
  const path = join(DOCS, `console-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`wrote ${path}`);
}

async function main(): Promise<void> {
  mkdirSync(DOCS, { recursive: true });
  const world = await startConsoleFixture();
  const chromium = await launchBrowser();
  try {
    // Some activity for the audit trail: alice's tokens, and a refusal for the cluster she lacks.
    for (const cluster of ["bars-kr", "bars-kr", "bars-sgn"]) await call(world.base, "GET", `/v1/clusters/${cluster}/token`, { token: world.alice });
    const signIn = async (token: string): Promise<Page> => {
      const page = await chromium.newPage();
      await page.setViewport({ width: 1200, height: 720 });
      await page.goto(world.base);
      await page.locator("::-p-aria(Broker token)").fill(token);
      await clickAndWait(page, "::-p-aria([name='Sign in'][role='button'])");
      return page;
    };
    const first = await chromium.newPage();
    await first.setViewport({ width: 1200, height: 560 });
    await first.goto(world.base);
    await shoot(first, "sign-in");
    const alice = await signIn(world.alice);
    await shoot(alice, "clusters");
    const admin = await signIn(world.admin);
    await clickAndWait(admin, "::-p-aria([name='Audit'][role='link'])");
    await shoot(admin, "audit");
    await clickAndWait(admin, "::-p-aria([name='Users'][role='link'])");
    await admin.locator("::-p-aria([name='Name'][role='textbox'])").fill("bob");
    await clickAndWait(admin, "::-p-aria([name='Add user'][role='button'])");
    await shoot(admin, "users");
    if (chromium.problems.length > 0) throw new Error(`the pages had problems:\n${chromium.problems.join("\n")}`);
  } finally {
    await chromium.close();
    await world.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
