import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { stripeServer, world } from '../support/world.js';
import { charge, checkoutSession, dispute, event } from '../support/stripe-fixtures.js';

/** A Stripe API answer held back until `release` is called. */
function stall<T>(answer: T) {
  let release!: () => void;
  const settled = new Promise<T>((resolve) => {
    release = () => resolve(answer);
  });
  return { settled, release };
}

describe.each(backends())('Stripe look-ups never hold a transaction open ($name)', (backend) => {
  it('while the API stalls on a dispute’s charge, other webhooks still commit', async () => {
    const w = await world(backend);
    await w.deliver(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
    const held = stall(charge({ id: 'ch_slow', amount: 20000 }));
    stripeServer.answers.set('GET /v1/charges/ch_slow', held.settled);
    try {
      const disputed = w.deliver(event('charge.dispute.created', dispute({ amount: 5000, charge: 'ch_slow' })));
      await expect.poll(() => stripeServer.requests.some((r) => r.path === '/v1/charges/ch_slow')).toBe(true);

      // The dispute waits on Stripe; a sale of another customer goes through meanwhile.
      const other = await w.deliver(
        event('checkout.session.completed', checkoutSession({ id: 'cs_other', payment_intent: 'pi_other', customer: 'cus_other', customer_details: null })),
      );
      expect(other.status).toBe(200);
      expect(await w.count('sa_sales')).toBe(2);
      expect(await w.count('sa_sale_disputes')).toBe(0);

      held.release();
      expect((await disputed).status).toBe(200);
    } finally {
      stripeServer.answers.clear();
    }
    // 10000 × 5000 / 20000, recorded once the answer came, in one transaction.
    expect((await w.attribution.sales.list()).find((sale) => sale.stripePaymentIntentId === 'pi_checkout_1')).toMatchObject({ amountDisputed: 2500 });
    expect(await w.count('sa_sale_disputes')).toBe(1);
  });

  it('a look-up that times out answers 5xx with nothing written; Stripe’s retry then applies the event', async () => {
    const w = await world(backend, undefined, { stripeTimeoutMs: 100 });
    await w.deliver(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
    const held = stall(charge({ id: 'ch_hung', amount: 20000 }));
    stripeServer.answers.set('GET /v1/charges/ch_hung', held.settled);
    const disputed = event('charge.dispute.created', dispute({ amount: 5000, charge: 'ch_hung' }));
    try {
      const first = await w.deliver(disputed);
      expect(first.status).toBe(500);
      expect(await w.count('sa_webhook_events')).toBe(1);
      expect(await w.count('sa_sale_disputes')).toBe(0);
    } finally {
      held.release();
      stripeServer.answers.clear();
    }
    stripeServer.answers.set('GET /v1/charges/ch_hung', charge({ id: 'ch_hung', amount: 20000 }));
    try {
      expect((await w.deliver(disputed)).status).toBe(200);
    } finally {
      stripeServer.answers.clear();
    }
    expect(await w.count('sa_webhook_events')).toBe(2);
    expect((await w.attribution.sales.list())[0]).toMatchObject({ amountDisputed: 2500 });
  });

  it('a convert that calls out (an FX service) runs outside the transaction and once per commission', async () => {
    let calls = 0;
    const w = await world(backend, undefined, {
      program: { currency: 'eur', reward: { type: 'percent', percent: 10, duration: 'lifetime' } },
      convert: async ({ amount }) => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return Math.round(amount * 0.9);
      },
    });
    await w.deliver(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
    expect(calls).toBe(1);
    expect(await w.attribution.commissions.list({ partnerId: w.alice })).toMatchObject([{ amount: 900, currency: 'eur' }]);
  });
});
