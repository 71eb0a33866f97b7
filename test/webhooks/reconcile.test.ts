import { beforeEach, describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { ConfigurationError } from '../../src/core/kernel/errors.js';
import type { ReconcileProgress } from '../../src/core/webhooks/reconcile.js';
import { backends } from '../support/backends.js';
import { stripeServer, world } from '../support/world.js';
import { T0, charge, checkoutSession, event, invoice, invoiceLine } from '../support/stripe-fixtures.js';

const DAY = 86_400_000;
/** The world's clock: an hour before the purchases. */
const NOW = (T0 - 3600) * 1000;
const since = new Date(NOW - DAY);

beforeEach(() => {
  stripeServer.events.length = 0;
  stripeServer.requests.length = 0;
  stripeServer.answers.clear();
});

const eventListings = () => stripeServer.requests.filter((request) => request.method === 'GET' && request.path === '/v1/events');

describe.each(backends())('attribution.reconcile() on $name', (backend) => {
  it('applies an event missed while the app was down, through the same path as webhooks', async () => {
    const w = await world(backend);
    stripeServer.events.push(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));

    const result = await w.attribution.reconcile({ since });

    expect(result).toMatchObject({ since, clamped: false, seen: 1, applied: 1, alreadyProcessed: 0, failed: 0 });
    expect(await w.attribution.sales.list({ livemode: false })).toMatchObject([{ partnerId: w.alice, amount: 10000 }]);
    expect(await w.attribution.commissions.list({ partnerId: w.alice })).toHaveLength(0); // no reward configured
    const [listing] = eventListings();
    expect(listing!.query).toMatchObject({ 'created[gte]': String(Math.floor(since.getTime() / 1000)), limit: '100', 'types[0]': 'checkout.session.completed' });
  });

  it('leaves events already delivered by webhook alone: the ledger is unchanged and they count as already processed', async () => {
    const w = await world(backend, undefined, { program: { reward: { type: 'percent', percent: 30, duration: 'lifetime' } } });
    const delivered = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } }));
    const refund = event('charge.refunded', charge({ amount_refunded: 5000 }));
    expect(await w.deliver(delivered)).toMatchObject({ status: 200 });
    expect(await w.deliver(refund)).toMatchObject({ status: 200 });
    const before = { sales: await w.attribution.sales.list({ livemode: false }), commissions: await w.attribution.commissions.list({}) };
    stripeServer.events.push(delivered, refund);

    expect(await w.attribution.reconcile({ since })).toMatchObject({ seen: 2, applied: 0, alreadyProcessed: 2, failed: 0 });
    expect(await w.attribution.reconcile({ since })).toMatchObject({ seen: 2, applied: 0, alreadyProcessed: 2, failed: 0 });
    expect({ sales: await w.attribution.sales.list({ livemode: false }), commissions: await w.attribution.commissions.list({}) }).toEqual(before);
    expect(await w.count('sa_webhook_events')).toBe(2);
  });

  it('reads every page, oldest first, and reports its progress', async () => {
    const w = await world(backend);
    const order: string[] = [];
    w.attribution.on('sale.created', ({ sale }) => void order.push(sale.stripeCheckoutSessionId!));
    // Created in this order; Stripe lists them newest first.
    const sessions = Array.from({ length: 130 }, (_, i) => event('checkout.session.completed', checkoutSession({ id: `cs_${i}`, payment_intent: `pi_${i}`, customer: `cus_${i}` })));
    stripeServer.events.push(...sessions);
    // One of them reached the app before it went down.
    await w.deliver(sessions[7]!);
    await w.attribution.outbox.drain();
    order.length = 0;
    const progress: ReconcileProgress[] = [];

    const result = await w.attribution.reconcile({ since, onProgress: (p) => progress.push(p) });

    expect(result).toMatchObject({ seen: 130, applied: 129, alreadyProcessed: 1, failed: 0 });
    await w.attribution.outbox.drain();
    expect(order).toEqual(sessions.filter((_, i) => i !== 7).map((s) => (s.data.object as { id: string }).id));
    const listings = eventListings();
    expect(listings).toHaveLength(2);
    expect(listings[1]!.query.starting_after).toBe(sessions[30]!.id);
    expect(progress[0]).toEqual({ phase: 'started', since, clamped: false });
    expect(progress).toContainEqual({ phase: 'listing', seen: 100, alreadyProcessed: 0, done: false });
    expect(progress.at(-1)).toEqual({ phase: 'applying', total: 129, applied: 129, alreadyProcessed: 1, failed: 0, done: true });
    expect(await w.count('sa_sales')).toBe(130);
  });

  it('reads 30 days back at most: an older `since` is clamped, not refused', async () => {
    const w = await world(backend);
    const result = await w.attribution.reconcile({ since: new Date(NOW - 90 * DAY) });
    const thirtyDaysAgo = new Date(NOW - 30 * DAY);
    expect(result).toMatchObject({ since: thirtyDaysAgo, clamped: true, seen: 0, applied: 0 });
    expect(eventListings()[0]!.query['created[gte]']).toBe(String(thirtyDaysAgo.getTime() / 1000));
  });

  it('one failing event is reported and counted; the others are applied, and the failed one again on the next run', async () => {
    const errors: string[] = [];
    const w = await world(backend, undefined, { onError: (_error, during) => void errors.push(during) });
    const longInvoice = event('invoice.paid', invoice({ lines: { object: 'list', data: [invoiceLine()], has_more: true, url: '/v1/invoices/in_1/lines' } }));
    const fine = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } }));
    stripeServer.events.push(longInvoice, fine);
    stripeServer.answers.set('GET /v1/invoices/in_1/lines', new Error('Stripe is having a bad day'));

    expect(await w.attribution.reconcile({ since })).toMatchObject({ seen: 2, applied: 1, alreadyProcessed: 0, failed: 1 });
    expect(errors).toEqual([`reconciling Stripe event ${longInvoice.id} (invoice.paid)`]);
    expect(await w.count('sa_webhook_events')).toBe(1);

    stripeServer.answers.delete('GET /v1/invoices/in_1/lines');
    expect(await w.attribution.reconcile({ since })).toMatchObject({ seen: 2, applied: 1, alreadyProcessed: 1, failed: 0 });
    expect(await w.count('sa_sales')).toBe(2);
  });

  it('needs the merchant’s Stripe client', async () => {
    const attribution = createAttribution({ database: 'memory://' });
    await expect(attribution.reconcile({ since })).rejects.toThrow(ConfigurationError);
    await expect(attribution.reconcile({ since })).rejects.toThrow(/pass `stripe` to createAttribution/);
    await attribution.close();
  });
});
