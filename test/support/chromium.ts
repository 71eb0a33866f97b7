import { existsSync } from 'node:fs';
import sparticuz from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';

/**
 * A headless Chromium with nothing installed by hand: `CHROMIUM_PATH` when set, Debian's when
 * present, else the binary `@sparticuz/chromium` ships inside its npm package (unpacked to the
 * temp directory on first use).
 */
export async function launchChromium(): Promise<Browser> {
  const debian = '/usr/bin/chromium';
  const executablePath = process.env.CHROMIUM_PATH ?? (existsSync(debian) ? debian : await sparticuz.executablePath());
  // No background networking: this machine's closed network refuses it, many times per start.
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
