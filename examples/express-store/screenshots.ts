/**
 * `npm run screenshots`: regenerates the README's pictures (docs/dashboard.png, docs/portal.png)
 * from the demo's seeded program (`npm run demo -- --serve`), in the headless Chromium the browser
 * tests use. Deterministic data, so a new picture differs only where the dashboard did.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../test/support/chromium.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const demo = spawn(process.execPath, ['--import', 'tsx', 'examples/express-store/demo.ts', '--serve'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const exited = once(demo, 'exit');

const urls: Record<string, string> = {};
for await (const line of createInterface({ input: demo.stdout! })) {
  console.log(line);
  const [, label, url] = /^(Dashboard|.+'s portal):\s+(\S+)$/.exec(line) ?? [];
  if (label && url) urls[label === 'Dashboard' ? 'dashboard' : 'portal'] = url;
  if (line === 'Ctrl-C stops it.') break;
}
if (!urls.dashboard || !urls.portal) throw new Error('The demo stopped before printing its URLs');

const browser = await launchChromium();
try {
  for (const [name, url] of Object.entries(urls)) {
    // The top of each page: the charts, the partner table and the latest events.
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 1100 } })).newPage();
    const response = await page.goto(url);
    if (response?.status() !== 200) throw new Error(`${url} answered ${response?.status()}`);
    await page.screenshot({ path: `${root}docs/${name}.png` });
    console.log(`Wrote docs/${name}.png`);
  }
} finally {
  await browser.close();
  demo.kill('SIGINT');
  await exited;
}
