/** Launches Debian's Chromium through Playwright (no browser download on this machine). */
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/**
 * Where the tests write their screenshots: test-results/screenshots (ignored by git), so that `npm test`
 * leaves the work tree clean. `npm run screenshots` points this at docs/screenshots to refresh the
 * README's pictures on purpose.
 */
export const SCREENSHOTS_DIR = process.env.ASSENT_SCREENSHOTS_DIR ?? join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
