import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { backends } from '../support/backends.js';
import { stripeAttribution } from '../support/cli.js';
import { migratedDataDir } from '../support/data-dirs.js';
import { merchantProject } from '../support/project.js';
import { T0, charge, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world } from '../support/world.js';

const DAY = 86_400;
const afterHold = new Date((T0 + 31 * DAY) * 1000);

describe.each(backends())('payouts on $name', (backend) => {
  it('group approved commissions per partner and currency, net clawbacks, skip test mode and small totals, and never pay one twice', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 30 } } });
    const bobClick = (await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=bob', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } })).clickId!;
    const sale = (id: string, click: string, customer: string, overrides = {}) =>
      w.deliver(
        event('checkout.session.completed', checkoutSession({ id, payment_intent: `pi_${id}`, customer, customer_details: null, customer_email: `${customer}@example.com`, metadata: { sa_click_id: click }, ...overrides })),
      );
    await sale('a1', w.aliceClick, 'cus_a1');
    await sale('a2', w.aliceClick, 'cus_a2', { currency: 'eur' });
    await sale('b1', bobClick, 'cus_b1', { amount_total: 1000 });
    await sale('live', w.aliceClick, 'cus_live', { livemode: true });
    // Alice's first sale is paid out, then partly refunded: a clawback for the next payout.
    await w.attribution.commissions.approveDue(afterHold);
    const first = (await w.attribution.payouts.create({ currency: 'usd', livemode: false })).sort((a, b) => a.partnerName.localeCompare(b.partnerName));
    expect(first.map((p) => [p.partnerName, p.currency, p.amount])).toEqual([
      ['Alice', 'usd', 3000],
      ['Bob', 'usd', 300],
    ]);
    await w.attribution.payouts.markPaid(first[0]!.id);
    await w.deliver(event('charge.refunded', charge({ payment_intent: 'pi_a1', amount: 10000, amount_refunded: 5000 })));
    await sale('a3', w.aliceClick, 'cus_a3', { created: T0 + 60 });
    await w.attribution.commissions.approveDue(afterHold);

    const [one, two] = await Promise.all([
      w.attribution.payouts.create({ minimumAmount: 1000, livemode: false }),
      w.attribution.payouts.create({ minimumAmount: 1000, livemode: false }),
    ]);
    const second = [...one, ...two].sort((a, b) => a.currency.localeCompare(b.currency)).reverse();
    // Alice: 3000 (a3) − 1500 clawback in usd; 3000 in eur. Nothing counted twice.
    expect(second.map((p) => [p.partnerName, p.currency, p.amount]).sort()).toEqual([
      ['Alice', 'eur', 3000],
      ['Alice', 'usd', 1500],
    ]);
    const live = await w.attribution.payouts.create({ livemode: true });
    expect(live.map((p) => [p.partnerName, p.amount, p.livemode])).toEqual([['Alice', 3000, true]]);

    const csv = await w.attribution.payouts.csv({ livemode: false });
    expect(csv.split('\n')[0]).toBe('payout_id,partner_id,partner_name,partner_email,program_id,currency,amount_minor,amount,livemode,created_at');
    expect(csv).toContain(`,${w.alice},Alice,alice@partners.example,default,usd,1500,15.00,false,`);
    await w.attribution.payouts.markPaid(second[0]!.id);
    const paidCommissions = (await w.attribution.commissions.list()).filter((c) => c.payoutId === second[0]!.id);
    expect(paidCommissions.length).toBeGreaterThan(0);
    expect(paidCommissions.every((c) => c.status === 'paid')).toBe(true);
  });
});

describe('npx stripe-attribution payouts create --csv', () => {
  it('creates the payouts from the app’s own config and prints them as CSV', async () => {
    const dataDir = migratedDataDir('sa-payouts-');
    const program = { holdDays: 0, reward: { type: 'flat', amount: 1234 } } as const;
    const attribution = createAttribution({ database: dataDir, program, clock: () => new Date((T0 - 60) * 1000), clicks: { ipSalt: 's' } });
    await attribution.migrate();
    const partner = await attribution.partners.create({ name: 'Carla, "the closer"', code: 'carla' });
    const { clickId } = await attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=carla', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
    await attribution.handleEvent(event('checkout.session.completed', checkoutSession({ livemode: true, metadata: { sa_click_id: clickId! } })));
    await attribution.commissions.approveDue(new Date((T0 + DAY) * 1000));
    await attribution.close();

    // Money commands need the app's own config; it loads the built package (dist/), as in a merchant's project.
    const project = merchantProject();
    writeFileSync(
      join(project, 'stripe-attribution.config.mjs'),
      `import { createAttribution } from 'stripe-attribution';\nexport default createAttribution({ database: ${JSON.stringify(dataDir)}, program: ${JSON.stringify(program)} });\n`,
    );
    const { code, stdout, stderr } = await stripeAttribution(['payouts', 'create', '--csv'], {}, project);
    expect(code).toBe(0);
    expect(stderr).toContain('Created 1 payout.');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`,${partner.id},"Carla, ""the closer""",,default,usd,1234,12.34,true,`);
  });
});
