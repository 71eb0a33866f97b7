import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { stripeServer, world } from '../support/world.js';
import { charge, checkoutSession, event, invoice, invoicePayment } from '../support/stripe-fixtures.js';

/** Stripe's answer to "which invoice did payment intent pi_renewal pay?" */
const paymentsList = { object: 'list', has_more: false, url: '/v1/invoice_payments', data: [invoicePayment({ invoice: 'in_renewal', payment: { type: 'payment_intent', payment_intent: 'pi_renewal' } })] };

/** A Basil renewal: its charge names only the payment intent, so its refund asks Stripe for the invoice. */
const renewal = invoice({ id: 'in_renewal', billing_reason: 'subscription_cycle' });
const renewalRefund = event('charge.refunded', charge({ id: 'ch_renewal', payment_intent: 'pi_renewal', amount_refunded: 2500 }));

/** A Stripe API answer held back until `release` is called. */
function stall<T>(answer: T) {
  let release!: () => void;
  const settled = new Promise<T>((resolve) => {
    release = () => resolve(answer);
  });
  return { settled, release };
}

describe.each(backends())('Stripe look-ups never hold a transaction open ($name)', (backend) => {
  it('while the API stalls on a refund’s look-up, other webhooks still commit', async () => {
    const w = await world(backend);
    await w.deliver(event('invoice.paid', renewal));
    const held = stall(paymentsList);
    stripeServer.answers.set('GET /v1/invoice_payments', held.settled);
    try {
      const refunded = w.deliver(renewalRefund);
      await expect.poll(() => stripeServer.requests.some((r) => r.path === '/v1/invoice_payments')).toBe(true);

      // The refund waits on Stripe; a sale of another customer goes through meanwhile (on PGlite,
      // one session for everything, it could not if the refund held a transaction open).
      const other = await w.deliver(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
      expect(other.status).toBe(200);
      expect(await w.count('sa_sales')).toBe(2);
      expect(await w.count('sa_invoice_payments')).toBe(0);

      held.release();
      expect((await refunded).status).toBe(200);
    } finally {
      stripeServer.answers.clear();
    }
    expect((await w.attribution.sales.list({ livemode: false })).find((sale) => sale.stripeInvoiceId === 'in_renewal')).toMatchObject({ amountRefunded: 2500 });
  });

  it('a look-up that times out answers 5xx with nothing written; Stripe’s retry then applies the event', async () => {
    const w = await world(backend, undefined, { stripeTimeoutMs: 100 });
    await w.deliver(event('invoice.paid', renewal));
    const held = stall(paymentsList);
    stripeServer.answers.set('GET /v1/invoice_payments', held.settled);
    try {
      expect((await w.deliver(renewalRefund)).status).toBe(500);
      expect(await w.count('sa_webhook_events')).toBe(1);
      expect(await w.count('sa_invoice_payments')).toBe(0);
      expect(await w.count('sa_parked_events')).toBe(0);
    } finally {
      held.release();
      stripeServer.answers.clear();
    }
    stripeServer.answers.set('GET /v1/invoice_payments', paymentsList);
    try {
      expect((await w.deliver(renewalRefund)).status).toBe(200);
    } finally {
      stripeServer.answers.clear();
    }
    expect(await w.count('sa_webhook_events')).toBe(2);
    expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountRefunded: 2500 });
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
