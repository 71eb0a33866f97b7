import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { T0, charge, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world } from '../support/world.js';

const DAY = 86_400;

describe.each(backends())('report on $name', (backend) => {
  it('per partner and month: clicks, leads, sales, revenue, refunds and commissions by status, per currency, live by default', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 30 } } });
    const sale = (id: string, days: number, overrides = {}) =>
      w.deliver(
        event('checkout.session.completed', checkoutSession({ id, created: T0 + days * DAY, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@example.com`, metadata: { sa_click_id: w.aliceClick }, ...overrides })),
      );
    await sale('may', 0);
    await sale('june', 35);
    await sale('june_eur', 36, { currency: 'eur', amount_total: 5000 });
    await sale('june_test', 37, { livemode: false });
    await sale('june_live2', 38, { livemode: true });
    await w.deliver(event('charge.refunded', charge({ payment_intent: 'pi_may', amount: 10000, amount_refunded: 10000, refunded: true })));

    // The fixtures' events are test mode; ask for that view, then the live one.
    const test = await w.attribution.report({ from: new Date(Date.UTC(2026, 3, 1)), to: new Date(Date.UTC(2026, 6, 1)), livemode: false });
    // The click an hour before the first sale; each test-mode buyer a lead in the month they bought.
    expect(test.map((row) => [row.period.toISOString(), row.partnerId, row.clicks, row.leads])).toEqual([
      ['2026-05-01T00:00:00.000Z', w.alice, 1, 1],
      ['2026-06-01T00:00:00.000Z', w.alice, 0, 3],
    ]);
    const may = test[0]!.currencies;
    expect(may.usd).toMatchObject({ sales: 1, revenue: 10000, refunded: 10000 });
    expect(may.usd!.commissions.voided).toBe(0);
    const june = test[1]!.currencies;
    expect(june.usd).toMatchObject({ sales: 2, revenue: 20000, refunded: 0, commissions: { pending: 6000 } });
    expect(june.eur).toMatchObject({ sales: 1, revenue: 5000, commissions: { pending: 1500 } });

    const live = await w.attribution.report({ from: new Date(Date.UTC(2026, 0, 1)), to: new Date(Date.UTC(2027, 0, 1)), interval: 'all' });
    const liveRow = live.find((row) => row.partnerId === w.alice)!;
    expect(liveRow.period.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(liveRow.currencies.usd).toMatchObject({ sales: 1, revenue: 10000, commissions: { pending: 3000 } });
    expect(liveRow.currencies.eur).toBeUndefined();
  });
});
