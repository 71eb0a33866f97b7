import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { attributionMiddleware } from '../../src/express/index.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import { backends } from '../support/backends.js';
import { world, type World } from '../support/world.js';
import { T0, checkoutSession, event } from '../support/stripe-fixtures.js';

const DAY = 86_400_000;

const program: AttributionOptions['program'] = {
  currency: 'usd',
  holdDays: 30,
  eventRewards: {
    demo_booked: { type: 'flat', amount: 2500, once: true },
    deal_won: { type: 'percent', percent: 10 },
  },
};

/** The merchant's app: the middleware, and a route that records a booked demo for the signed-in user. */
function app(w: World) {
  const server = express();
  server.use(attributionMiddleware(w.attribution));
  server.use(express.json());
  server.post('/demo', async (req, res) => {
    const { user, booking } = req.body as { user: string; booking: string };
    const { event, created, commission } = await w.attribution.trackEvent('demo_booked', { customerExternalId: user, idempotencyKey: booking });
    res.json({ created, event: { id: event.id, name: event.name, partnerId: event.partnerId }, commission: commission && { kind: commission.kind, amount: commission.amount, currency: commission.currency, status: commission.status } });
  });
  return server;
}

describe.each(backends())('custom milestone events on $name', (backend) => {
  it('a milestone booked in a request is credited to the visitor’s click and rewarded once; a repeated key changes nothing', async () => {
    const w = await world(backend, undefined, { program });
    const agent = request.agent(app(w));
    const visit = await agent.get('/pricing?via=bob').set('user-agent', 'Mozilla/5.0 (Macintosh) Safari/605.1.15');
    expect(visit.headers['set-cookie']?.[0]).toMatch(/^sa_click=clk_/);

    const first = await agent.post('/demo').send({ user: 'user_1', booking: 'booking_1' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: true, event: { name: 'demo_booked', partnerId: w.bob }, commission: { kind: 'event', amount: 2500, currency: 'usd', status: 'pending' } });
    expect(await w.attribution.customers.get({ externalId: 'user_1', livemode: true })).toMatchObject({ partnerId: w.bob, attributedBy: 'click' });

    const before = { commissions: await w.attribution.commissions.list(), events: await w.count('sa_milestones') };
    const repeat = await agent.post('/demo').send({ user: 'user_1', booking: 'booking_1' });
    expect(repeat.body).toEqual({ created: false, event: first.body.event, commission: null });
    // Another booking is a new milestone, but the reward is paid once per customer.
    const second = await agent.post('/demo').send({ user: 'user_1', booking: 'booking_2' });
    expect(second.body).toMatchObject({ created: true, commission: null, event: { partnerId: w.bob } });
    expect(await w.attribution.commissions.list()).toEqual(before.commissions);
    expect(await w.count('sa_milestones')).toBe(before.events + 1);

    // Concurrent duplicates of a new key: one milestone, one answer created.
    const racing = await Promise.all([1, 2, 3].map(() => w.attribution.trackEvent('demo_booked', { customerExternalId: 'user_2', idempotencyKey: 'booking_3', clickId: w.aliceClick })));
    expect(racing.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(racing.map((result) => result.event.id)).size).toBe(1);
    // A reward paid once meets the earlier one on a unique key, even for distinct events at once.
    await Promise.all(['booking_4', 'booking_5'].map((key) => w.attribution.trackEvent('demo_booked', { customerExternalId: 'user_2', idempotencyKey: key })));
    expect((await w.attribution.commissions.list({ partnerId: w.alice })).filter((c) => c.kind === 'event')).toHaveLength(1);
    expect(await w.attribution.sales.list({ livemode: false })).toEqual([]);
  });

  it('a percent reward of a job’s milestone goes to the partner the customer bought through, and through the whole lifecycle', async () => {
    const w = await world(backend, undefined, { program });
    const session = checkoutSession({ metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_9' } });
    expect((await w.deliver(event('checkout.session.completed', session))).status).toBe(200);

    // From a job: no request, no click; the customer's partner decides.
    const won = await w.attribution.trackEvent('deal_won', { customerExternalId: 'user_9', value: 12_345, currency: 'EUR', idempotencyKey: 'deal_1', livemode: false });
    expect(won.event).toMatchObject({ partnerId: w.alice, value: 12_345, currency: 'eur', livemode: false });
    // 10 % of 123.45 is 12.345: rounded half up once.
    expect(won.commission).toMatchObject({ kind: 'event', eventId: won.event.id, amount: 1235, currency: 'eur', status: 'pending', saleId: null });
    // An event nobody rewards is still recorded and reported.
    await w.attribution.trackEvent('trial_activated', { customerExternalId: 'user_9', idempotencyKey: 'trial_1', livemode: false });

    const heldUntil = won.commission!.holdUntil!;
    expect(heldUntil.getTime() - won.event.occurredAt.getTime()).toBe(30 * DAY);
    expect((await w.attribution.commissions.approveDue(new Date(heldUntil.getTime() - 1))).approved).toBe(0);
    await w.attribution.commissions.approveDue(heldUntil);
    const [payout] = (await w.attribution.payouts.create({ livemode: false, currency: 'eur' })).filter((p) => p.partnerId === w.alice);
    expect(payout).toMatchObject({ amount: 1235, currency: 'eur' });

    const [row] = await w.attribution.report({ from: new Date((T0 - 86_400) * 1000), to: new Date((T0 + 86_400) * 1000), interval: 'all', partnerId: w.alice, livemode: false });
    expect(row!.events).toEqual({ deal_won: 1, trial_activated: 1 });
    expect(row!.currencies.eur!.commissions.approved).toBe(1235);
  });

  it('refuses a percent-rewarded event without a value, and a flat reward without a program currency', async () => {
    const w = await world(backend, undefined, { program });
    await expect(w.attribution.trackEvent('deal_won', { customerExternalId: 'user_1', idempotencyKey: 'k' })).rejects.toThrow(/needs value/);
    await expect(world(backend, undefined, { program: { eventRewards: { demo_booked: { type: 'flat', amount: 1 } } } })).rejects.toThrow(/program.currency/);
    expect(await w.count('sa_milestones')).toBe(0);
  });
});
