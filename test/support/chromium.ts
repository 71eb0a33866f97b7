import { existsSync, mkdirSync } from 'node:fs';
import sparticuz from '@sparticuz/chromium';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Where a headless Chromium is, with nothing installed by hand: `CHROMIUM_PATH` when set, Debian's
 * when present, else the binary `@sparticuz/chromium` ships inside its npm package, unpacked to the
 * temp directory on first use. The test run's global setup calls it once and sets `CHROMIUM_PATH`
 * for its workers: two workers unpacking at once made one of them spawn a half-written binary
 * (`spawn ETXTBSY`).
 */
export async function chromiumExecutable(): Promise<string> {
  const debian = '/usr/bin/chromium';
  return process.env.CHROMIUM_PATH ?? (existsSync(debian) ? debian : await sparticuz.executablePath());
}

export async function launchChromium(): Promise<Browser> {
  // No background networking: this machine's closed network refuses it, many times per start.
  return chromium.launch({
    executablePath: await chromiumExecutable(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

/**
 * Saves a full-page picture to `test-artifacts/` for a human to look at. Headless Chromium now
 * and then answers "Unable to capture screenshot" while it is compositing (seen under a busy CI
 * leg), so it is tried a few times; the picture asserts nothing, so a page that still cannot be
 * captured is reported and the test goes on to its remaining assertions.
 */
export async function saveScreenshot(page: Page, name: string, attempts = 3): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = new URL(`${name}.png`, ARTIFACTS).pathname;
  for (let attempt = 1; ; attempt++) {
    try {
      // Short: three tries must fit well inside the test's own timeout.
      await page.screenshot({ path, fullPage: true, timeout: 5_000 });
      return;
    } catch (error) {
      if (attempt >= attempts) {
        console.warn(`test-artifacts/${name}.png not saved after ${attempts} tries: ${(error as Error).message.split('\n')[0]}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}
