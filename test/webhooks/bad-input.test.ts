import type Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { backends, type Backend } from '../support/backends.js';
import { SECRET, signer, world, type World } from '../support/world.js';
import { charge, checkoutSession, customer, dispute, event, invoice } from '../support/stripe-fixtures.js';

/**
 * Payloads no Stripe object can be. Each is refused with 400 (so Stripe does not retry it for days)
 * and writes nothing. Stripe computes every one of these fields itself: tax within the total, the
 * untaxed total within the total, amounts and converted totals non-negative, ISO currency codes,
 * signatures stamped no later than now. None of them can come from Stripe, so none is answered
 * 200-and-ignored.
 */
describe.each(backends())('bad input answers 400 and writes nothing ($name)', (backend: Backend) => {
  let w: World;
  beforeAll(async () => {
    w = await world(backend);
  });

  async function refused(stripeEvent: Stripe.Event, reason: RegExp) {
    const before = await w.counts();
    const { status, body } = await w.deliver(stripeEvent);
    expect({ status, error: body.error }).toEqual({ status: 400, error: expect.stringMatching(reason) });
    expect(await w.counts()).toEqual(before);
  }

  it('a body of literally null', async () => {
    const before = await w.counts();
    const payload = 'null';
    const answer = await w.attribution.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }));
    expect(answer).toEqual({ status: 400, body: { error: 'Malformed Stripe event: the event must be a JSON object' } });
    expect(await w.counts()).toEqual(before);
  });

  it('a legacy Adaptive Pricing session whose tax exceeds its total, or with a negative converted total', async () => {
    const legacy = (amountTax: number, convertedTotal: number) =>
      event('checkout.session.completed', checkoutSession({
        currency: 'eur',
        amount_total: 11000,
        total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: amountTax },
        currency_conversion: { amount_subtotal: 11000, amount_total: convertedTotal, fx_rate: '0.9166' as unknown as Stripe.Decimal, source_currency: 'usd' },
        metadata: { sa_click_id: w.aliceClick },
      }));
    await refused(legacy(12000, 12001), /amount_tax must be between 0 and amount_total/);
    await refused(legacy(1000, -12001), /currency_conversion\.amount_total must be a non-negative integer/);
  });

  it('an invoice without the time it was created, refused before any query carries an invalid date', async () => {
    const paid = invoice({ metadata: { sa_click_id: w.aliceClick } }) as unknown as Record<string, unknown>;
    delete paid.created;
    await refused(event('invoice.paid', paid as unknown as Stripe.Invoice), /not a Stripe timestamp/);
  });

  it('a negative dispute amount on a known sale', async () => {
    expect((await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_known', payment_intent: 'pi_known', metadata: { sa_click_id: w.aliceClick } })))).status).toBe(200);
    await refused(event('charge.dispute.created', dispute({ amount: -5000, charge: charge({ payment_intent: 'pi_known', amount: 10000 }) })), /data\.object\.amount cannot be negative/);
  });

  it('a currency that is not three letters, on the object or its conversion', async () => {
    await refused(event('checkout.session.completed', checkoutSession({ currency: 'u'.repeat(300), metadata: { sa_click_id: w.aliceClick } })), /currency must be a three-letter ISO currency code/);
    await refused(event('invoice.paid', invoice({ currency: 'us' })), /currency must be a three-letter/);
    await refused(
      event('checkout.session.completed', checkoutSession({ currency_conversion: { amount_subtotal: 1, amount_total: 1, fx_rate: '1' as unknown as Stripe.Decimal, source_currency: 'us dollars' } })),
      /currency_conversion\.source_currency must be a three-letter/,
    );
  });

  it('an untaxed total greater than the total', async () => {
    await refused(event('invoice.paid', invoice({ total: 100, amount_paid: 100, total_excluding_tax: 1e15 })), /total_excluding_tax cannot exceed total/);
  });

  it('a signature timestamped further in the future than the tolerance; within it, accepted', async () => {
    const payload = JSON.stringify(event('customer.created', customer({ id: 'cus_future', email: 'future@example.com' })));
    const now = Math.floor(Date.now() / 1000);
    const before = await w.counts();
    const ahead = await w.attribution.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: now + 365 * 86_400 }));
    expect(ahead).toMatchObject({ status: 400, body: { error: expect.stringMatching(/in the future \(tolerance 300 s\)/) } });
    expect(await w.counts()).toEqual(before);
    const skewed = await w.attribution.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: now + 60 }));
    expect(skewed.status).toBe(200);
  });
});
