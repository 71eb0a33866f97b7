import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import type { ProgramOptions } from '../../src/core/options/options.js';
import { stripeAttribution } from '../support/cli.js';
import { DATABASE_URL } from '../support/backends.js';
import { merchantProject } from '../support/project.js';
import { checkoutSession, event } from '../support/stripe-fixtures.js';
import { emptyDataDir } from '../support/data-dirs.js';

// The config loads the built package (dist/) from the merchant's node_modules: run `npm run build` first.
const PORTAL = { secret: 'portal-secret-of-the-cli-partner-suite-0123', url: 'https://shop.example/admin/attribution/portal', siteUrl: 'https://shop.example/' };
const PROGRAM: ProgramOptions = { reward: { type: 'percent', percent: 30 } };

/** Where the CLI's database is: the embedded one in a directory, or a schema of its own on Postgres. */
const targets = [
  { name: 'pglite', database: () => emptyDataDir('sa-cli-partners-'), flags: (db: string) => ['--data-dir', db], options: (db: string) => ({ database: db }) },
  ...(DATABASE_URL
    ? [
        {
          name: 'postgres',
          database: () => `sa_cli_partners_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`,
          flags: (schema: string) => ['--database-url', DATABASE_URL!, '--schema', schema],
          options: (schema: string) => ({ database: DATABASE_URL, schema }),
        },
      ]
    : []),
];

describe.each(targets)('partner management in the CLI, on $name', { timeout: 180_000 }, (target) => {
  let db: string;
  let flags: string[];
  let config: string[];
  let app: Attribution;
  let alice: string;
  const cli = (...args: string[]) => stripeAttribution(args);

  beforeAll(async () => {
    db = target.database();
    flags = target.flags(db);
    expect((await cli('migrate', ...flags)).code).toBe(0);
    const project = merchantProject();
    writeFileSync(
      join(project, 'stripe-attribution.config.mjs'),
      `import { createAttribution } from 'stripe-attribution';\nexport default createAttribution(${JSON.stringify({ ...target.options(db), livemode: false, program: PROGRAM, portal: PORTAL })});\n`,
    );
    config = ['--config', join(project, 'stripe-attribution.config.mjs')];
    app = createAttribution({ ...target.options(db), livemode: false, program: PROGRAM, portal: PORTAL, onError: () => {} });
    alice = (await app.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice' })).id;
    const { clickId } = await app.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
    const now = Math.floor(Date.now() / 1000);
    await app.handleEvent({ ...event('checkout.session.completed', checkoutSession({ created: now + 5, amount_total: 10000, amount_subtotal: 10000, metadata: { sa_click_id: clickId! } })), created: now + 6 });
    await app.handleEvent({ ...event('checkout.session.completed', checkoutSession({ id: 'cs_second', payment_intent: 'pi_second', created: now + 7, amount_total: 5000, amount_subtotal: 5000, metadata: { sa_click_id: clickId! } })), created: now + 8 });
    // Kept open: the in-process CLI shares an embedded directory this process has open, instead of
    // loading it again for every command (the opening itself is cli.test.ts's subject).
  });
  afterAll(() => app.close());

  it('adds, shows, edits, disables and enables a partner from the flags alone', async () => {
    expect(await cli('partners', 'add', 'Bob', '--code', 'bob', '--email', 'bob@partners.example', ...flags)).toMatchObject({ code: 0, stdout: expect.stringContaining('referral code bob') });
    const edited = await cli('partners', 'edit', 'bob', '--name', 'Robert', '--remove-email', ...flags);
    expect(edited).toMatchObject({ code: 0, stdout: expect.stringContaining('Robert, no email') });
    expect((await cli('partners', 'disable', 'bob', ...flags)).code).toBe(0);
    const shown = await cli('partners', 'show', 'bob', '--json', ...flags);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'Robert', email: null, status: 'disabled', codes: ['bob'] });
    expect((await cli('partners', 'enable', 'bob', ...flags)).code).toBe(0);
    const list = await cli('partners', 'list', '--json', ...flags);
    expect(JSON.parse(list.stdout).map((p: { name: string; status: string }) => [p.name, p.status])).toEqual([['Alice', 'active'], ['Robert', 'active']]);
    expect(await cli('partners', 'edit', 'bob', '--email', 'not an email', ...flags)).toMatchObject({ code: 1, stderr: expect.stringContaining('not an email address') });
    expect(await cli('partners', 'show', 'nobody', ...flags)).toMatchObject({ code: 1, stderr: expect.stringContaining('No partner with id or code "nobody"') });
  });

  it('adds and removes codes and promotion codes; a code another partner owns is refused', async () => {
    expect(await cli('partners', 'add-code', 'bob', 'Bobby', ...flags)).toMatchObject({ code: 0, stdout: expect.stringContaining('code bobby added') });
    expect(await cli('partners', 'add-code', 'bob', 'alice', ...flags)).toMatchObject({ code: 1, stderr: expect.stringContaining('already belongs to another partner') });
    expect((await cli('partners', 'remove-code', 'bobby', 'bob', ...flags)).code).toBe(0);
    expect((await cli('partners', 'add-promo', 'bobby', 'promo_bob', ...flags)).code).toBe(0);
    let shown = JSON.parse((await cli('partners', 'show', 'bobby', '--json', ...flags)).stdout);
    expect([shown.codes, shown.promotionCodes]).toEqual([['bobby'], ['promo_bob']]);
    expect((await cli('partners', 'remove-promo', 'bobby', 'promo_bob', ...flags)).code).toBe(0);
    expect(await cli('partners', 'remove-promo', 'bobby', 'promo_bob', ...flags)).toMatchObject({ code: 1, stderr: expect.stringContaining('has no promotion code promo_bob') });
    shown = JSON.parse((await cli('partners', 'show', 'bobby', '--json', ...flags)).stdout);
    expect([shown.codes, shown.promotionCodes]).toEqual([['bobby'], []]);
  });

  it('sets a reward and a group, and prints a portal link, only with the app’s config', async () => {
    for (const args of [['partners', 'set-reward', 'alice', '25%'], ['partners', 'set-group', 'alice', 'none'], ['partners', 'portal-link', 'alice']]) {
      const refused = await cli(...args, ...flags);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${args.slice(0, 2).join(' ')} needs your app’s configuration`);
    }
    expect(await cli('partners', 'set-reward', 'alice', 'lots', ...config)).toMatchObject({ code: 2, stderr: expect.stringContaining('a percent such as 20%') });
    expect(await cli('partners', 'set-reward', 'alice', '25%', '--duration', '12m', ...config)).toMatchObject({ code: 0, stdout: expect.stringContaining('reward 25%, 12 months') });
    const shown = await cli('partners', 'show', 'alice', ...config);
    expect(shown.stdout).toContain('code alice  https://shop.example/?via=alice');
    expect(shown.stdout).toContain('reward 25%, 12 months');
    expect(await cli('partners', 'set-group', 'alice', 'grp_nope', ...config)).toMatchObject({ code: 1, stderr: expect.stringContaining('No partner group grp_nope') });
    const link = await cli('partners', 'portal-link', 'alice', '--expires-in', '30', ...config);
    expect(link.code).toBe(0);
    const url = new URL(link.stdout.trim());
    expect(url.origin + url.pathname).toBe(PORTAL.url);
    expect(url.searchParams.get('token')!.startsWith(`${alice}.`)).toBe(true);
  });

  it('lists, approves and voids commissions; lists sales', async () => {
    const listed = JSON.parse((await cli('commissions', 'list', '--test', '--json', ...flags)).stdout) as { id: string; status: string; amount: number }[];
    expect(listed.map((c) => [c.status, c.amount])).toEqual([['pending', 3000], ['pending', 1500]]);
    expect((await cli('commissions', 'list', ...flags)).stdout).toContain('No commissions in live mode');
    const [first, second] = listed;
    expect((await cli('commissions', 'approve', first!.id, ...flags)).code).toBe(2);
    expect(await cli('commissions', 'approve', first!.id, ...config)).toMatchObject({ code: 0, stdout: 'Approved 1 of 1 commission.\n' });
    expect(await cli('commissions', 'void', second!.id, ...config)).toMatchObject({ code: 2, stderr: expect.stringContaining("required option '--reason <text>'") });
    expect(await cli('commissions', 'void', second!.id, '--reason', 'test order', ...config)).toMatchObject({ code: 0, stdout: expect.stringContaining('voided (test order)') });
    const after = JSON.parse((await cli('commissions', 'list', '--test', '--json', '--partner', 'alice', ...flags)).stdout) as { status: string; reason: string | null }[];
    expect(after.map((c) => [c.status, c.reason])).toEqual([['approved', null], ['voided', 'test order']]);
    expect((await cli('commissions', 'list', '--test', '--status', 'voided', ...flags)).stdout).toContain('test order');

    const sales = await cli('sales', 'list', '--test', '--partner', 'alice', ...flags);
    expect(sales.code).toBe(0);
    expect(sales.stdout).toContain('100.00 USD');
    expect(sales.stdout).toContain('50.00 USD');
    const csv = (await cli('sales', 'list', '--test', '--csv', ...flags)).stdout.trim().split('\n');
    expect(csv[0]).toBe('sale,date,partner_id,customer_id,amount,refunded,currency,source');
    expect(csv.slice(1).map((line) => line.split(',')[4])).toEqual(['10000', '5000']);
  });

  it('forgets a customer by email, and says so when there is none', async () => {
    const email = 'buyer@example.com'; // the testing kit's checkout buyer
    expect(await cli('customers', 'forget', email, '--email', ...flags)).toMatchObject({ code: 0, stdout: expect.stringContaining('personal data erased') });
    expect(await cli('customers', 'forget', email, '--email', ...flags)).toMatchObject({ code: 1, stderr: expect.stringContaining('nothing was erased') });
  });
});
