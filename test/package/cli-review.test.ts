import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import { stripeAttribution } from '../support/cli.js';
import { checkoutSession, event } from '../support/stripe-fixtures.js';
import { migratedDataDirAt } from '../support/data-dirs.js';
import { merchantProject } from '../support/project.js';

/** A merchant's project whose TypeScript config (loaded by the CLI through jiti) builds its instance from the installed package, on an embedded database. */
function project(): { dir: string; options: AttributionOptions } {
  const dir = merchantProject();
  const options: AttributionOptions = { database: migratedDataDirAt(join(dir, '.data')), clicks: { ipSalt: 'pepper' }, program: { currency: 'usd', holdDays: 0, reward: { type: 'percent', percent: 30 } } };
  writeFileSync(join(dir, 'stripe-attribution.config.ts'), `import { createAttribution } from 'stripe-attribution';\nexport default () => createAttribution(${JSON.stringify(options)});\n`);
  return { dir, options };
}

/** Two purchases from throwaway addresses through Alice's link, recorded by the app; it closes before the CLI opens the database. */
async function twoHeld(options: AttributionOptions): Promise<string[]> {
  const app = createAttribution(options);
  await app.migrate();
  await app.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice' });
  const { clickId } = await app.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
  const now = Math.floor(Date.now() / 1000) + 60;
  for (const id of ['cs_1', 'cs_2']) {
    await app.handleEvent(event('checkout.session.completed', checkoutSession({ id, livemode: true, created: now, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@mailinator.com`, metadata: { sa_click_id: clickId! } }), { livemode: true }));
  }
  const ids = (await app.commissions.review.list()).map((c) => c.id);
  await app.close();
  return ids;
}

describe('review in the CLI', { timeout: 120_000 }, () => {
  it('lists held commissions with their flags, clears one and voids the other on the app’s config', async () => {
    const { dir, options } = project();
    // Open throughout: the in-process CLI shares a directory this process has open instead of
    // loading it again for every command (opening it is cli.test.ts's subject).
    const keeper = createAttribution({ ...options, onError: () => {} });
    onTestFinished(() => keeper.close());
    await keeper.storage();
    const [first, second] = await twoHeld(options);
    expect(first && second).toBeTruthy();

    const listed = await stripeAttribution(['review', 'list'], {}, dir);
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout).toContain(first);
    expect(listed.stdout).toContain("disposableEmail: The buyer's email is at a throwaway domain (mailinator.com)");

    expect(await stripeAttribution(['review', 'clear', first!, '--note', 'known buyer'], {}, dir)).toMatchObject({ code: 0, stdout: `Commission ${first}: cleared, now pending (30.00 USD)\n` });
    expect(await stripeAttribution(['review', 'void', second!, '--reason', 'fake account'], {}, dir)).toMatchObject({ code: 0 });
    const again = await stripeAttribution(['review', 'clear', first!], {}, dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not held for review: its review is cleared');
    expect((await stripeAttribution(['review', 'list'], {}, dir)).stdout).toBe('No commissions held for review.\n');

    const app = createAttribution(options);
    const after = await app.commissions.list();
    expect(after.map((c) => [c.id, c.status, c.review])).toEqual([[first, 'pending', 'cleared'], [second, 'voided', 'voided']]);
    expect(await app.commissions.review.decision(first!)).toMatchObject({ note: 'known buyer', decidedBy: 'cli' });
    await app.close();
  });

  it('refuses to decide without the app’s config, before opening anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-review-bare-'));
    const result = await stripeAttribution(['review', 'void', 'com_1', '--reason', 'x', '--data-dir', join(dir, 'none')], {}, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('review void needs your app’s configuration');
  });
});
