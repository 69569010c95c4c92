// Headless Chromium for the console's browser tests: Debian's package at /usr/bin/chromium (installed by
// scripts/stack/chromium.sh), driven by playwright-core, with a fresh profile and no traffic but to 127.0.0.1.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from './collector-process';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of the console tests (git-ignored). */
export const ARTIFACTS = path.join(REPO_ROOT, '.stack', 'test-artifacts', 'console');

/** A launched browser (its context) with its own profile folder; close() ends it and removes the folder. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** launchBrowser starts headless Chromium; fails with the install command when the binary is missing. */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run bash scripts/stack/chromium.sh`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-console-chromium-'));
  // A persistent context is how playwright-core passes --user-data-dir: a fresh folder for every run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  // Nothing leaves the machine: any request not to 127.0.0.1 is aborted.
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => route.abort(),
  );
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** shot saves a full-page screenshot under ARTIFACTS and returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}
