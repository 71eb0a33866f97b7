import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { embeddedBackend, freshStorage } from '../support/backends.js';
import { checkoutSession, event } from '../support/stripe-fixtures.js';

const PROGRAM = { currency: 'usd', reward: { type: 'percent', percent: 30 }, leadReward: { type: 'flat', amount: 200 } } as const;

describe('test mode follows the Stripe client’s key when livemode is not set', () => {
  it('test keys (secret or restricted) make your own leads test data; live keys, no client, or livemode given decide otherwise', () => {
    const mode = (options: Parameters<typeof createAttribution>[0]) => createAttribution({ database: 'memory://', ...options }).options.livemode;
    expect(mode({ stripe: new Stripe('sk_test_mode') })).toBe(false);
    expect(mode({ stripe: new Stripe('rk_test_mode') })).toBe(false);
    expect(mode({ stripe: new Stripe('sk_live_mode') })).toBe(true);
    expect(mode({ stripe: new Stripe('rk_live_mode') })).toBe(true);
    expect(mode({})).toBe(true);
    expect(mode({ stripe: new Stripe('sk_test_mode'), livemode: true })).toBe(true);
  });

  it('one person in test mode is one customer: their lead and their test-mode purchase, one lead reward', async () => {
    const app = createAttribution({ database: await freshStorage(embeddedBackend()), stripe: new Stripe('sk_test_quickstart'), clicks: { ipSalt: 'pepper' }, program: PROGRAM });
    try {
      await app.partners.create({ name: 'Alice', code: 'alice' });
      const { clickId } = await app.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
      const { customer: lead } = await app.trackLead({ customerExternalId: 'user_1', email: 'zoe@example.com', clickId });
      expect(lead.livemode).toBe(false);

      // Stripe's test mode: the checkout the wrapped client created carries the user's key.
      const purchase = checkoutSession({ created: Math.floor(Date.now() / 1000) + 5, metadata: { sa_click_id: clickId!, sa_customer_key: 'user_1' } });
      expect(purchase.livemode).toBe(false);
      expect((await app.handleEvent(event('checkout.session.completed', purchase))).status).toBe(200);

      const [sale] = await app.sales.list({ livemode: false });
      expect(sale).toMatchObject({ customerId: lead.id, amount: 10000 });
      expect(await app.customers.get({ externalId: 'user_1', livemode: true })).toBeUndefined();
      const commissions = await app.commissions.list();
      expect(commissions.map(({ kind, amount, livemode, customerId }) => ({ kind, amount, livemode, customerId }))).toEqual([
        { kind: 'lead', amount: 200, livemode: false, customerId: lead.id },
        { kind: 'sale', amount: 3000, livemode: false, customerId: lead.id },
      ]);
      // The live report shows none of it; the test report all of it.
      const period = { from: new Date(0), to: new Date(Date.UTC(9999, 0, 1)), interval: 'all' as const };
      expect((await app.report({ ...period, livemode: true })).flatMap((row) => Object.keys(row.currencies))).toEqual([]);
      expect((await app.report({ ...period, livemode: false }))[0]).toMatchObject({ leads: 1, currencies: { usd: { sales: 1, revenue: 10000 } } });
    } finally {
      await app.close();
    }
  });
});
