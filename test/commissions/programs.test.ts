import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { AttributionError, ConfigurationError, ConflictError } from '../../src/core/kernel/errors.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import { attributionMiddleware } from '../../src/express/index.js';
import { attributionMiddleware as fastifyAttribution } from '../../src/fastify/index.js';
import { attributionMiddleware as koaAttribution } from '../../src/koa/index.js';
import type { RecordedRequest } from '../support/stripe-server.js';
import { backends } from '../support/backends.js';
import { T0, checkoutSession, event, invoice } from '../support/stripe-fixtures.js';
import { stripeServer, world, type World } from '../support/world.js';

const DAY_MS = 86_400_000;
const BROWSER = 'Mozilla/5.0 (Macintosh) Safari/605.1.15';

/** Affiliates and resellers on different terms; affiliates, first, is the default program. */
const programs: AttributionOptions['programs'] = [
  { id: 'affiliates', currency: 'usd', holdDays: 30, reward: { type: 'percent', percent: 20 } },
  { id: 'resellers', currency: 'usd', holdDays: 10, reward: { type: 'percent', percent: 40 }, leadReward: { type: 'flat', amount: 500 } },
];

/** The keys under `prefix` of a form Stripe received, e.g. `metadata[sa_click_id]` → `sa_click_id`. */
function metadataOf(form: Record<string, string>, prefix = 'metadata'): Record<string, string> {
  return Object.fromEntries(
    Object.entries(form).flatMap(([key, value]) => (key.startsWith(`${prefix}[`) && key.endsWith(']') && !key.slice(prefix.length + 1, -1).includes('[') ? [[key.slice(prefix.length + 1, -1), value]] : [])),
  );
}

/** What the wrapped client sent to create checkout sessions during `action`. */
async function sessionsCreated(action: () => Promise<unknown>): Promise<RecordedRequest[]> {
  const before = stripeServer.requests.length;
  await action();
  return stripeServer.requests.slice(before).filter((sent) => sent.method === 'POST' && sent.path === '/v1/checkout/sessions');
}

/** The merchant's shop: a signed-in user's checkout tracks the lead, then creates the session through the wrapped client. */
function shop(w: World) {
  const app = express();
  app.use(attributionMiddleware(w.attribution));
  app.use(express.json());
  const billing = w.attribution.wrapStripe(stripeServer.client());
  app.post('/buy', async (req, res) => {
    const { user, email } = req.body as { user: string; email: string };
    const lead = await w.attribution.trackLead({ customerExternalId: user, email });
    const session = await billing.checkout.sessions.create({ mode: 'payment', line_items: [{ price: 'price_gold', quantity: 1 }], success_url: 'https://shop.example/thanks' });
    res.json({ session: session.id, programId: lead.customer.programId, partnerId: lead.customer.partnerId });
  });
  return app;
}

/** A visitor arriving through `code`, then buying: the session Stripe would complete, from what the wrapped client sent. */
async function visitAndBuy(w: World, code: string, user: string, n: number) {
  const agent = request.agent(shop(w));
  const visit = await agent.get(`/pricing?via=${code}`).set('user-agent', BROWSER);
  expect(visit.headers['set-cookie']?.[0]).toMatch(/^sa_click=clk_/);
  let bought: request.Response | undefined;
  const [sent] = await sessionsCreated(async () => (bought = await agent.post('/buy').send({ user, email: `${user}@example.com` })));
  const completed = checkoutSession({
    id: `cs_${user}`,
    livemode: true,
    payment_intent: `pi_${n}`,
    customer: `cus_${user}`,
    customer_details: null,
    customer_email: `${user}@example.com`,
    client_reference_id: sent!.form.client_reference_id ?? null,
    metadata: metadataOf(sent!.form),
  });
  expect((await w.deliver(event('checkout.session.completed', completed))).status).toBe(200);
  return { reply: bought!.body as { programId: string; partnerId: string }, form: sent!.form };
}

/** A paid subscription invoice whose subscription carries `metadata` (what the wrapped client put there). */
function paidInvoice(id: string, days: number, metadata: Record<string, string>) {
  const at = T0 + days * 86_400;
  return event(
    'invoice.paid',
    invoice({
      id,
      livemode: true,
      created: at,
      billing_reason: days === 0 ? 'subscription_create' : 'subscription_cycle',
      status_transitions: { finalized_at: at, marked_uncollectible_at: null, paid_at: at, voided_at: null },
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata, subscription: 'sub_1' } },
    }),
  );
}

describe.each(backends())('several programs on $name', (backend) => {
  it('one partner in two programs: each visit’s sale lands in its code’s program, on that program’s terms; reports and payouts per program', async () => {
    const w = await world(backend, undefined, { programs });
    await w.attribution.partners.addCode(w.alice, 'alice-pro', { programId: 'resellers' });
    expect((await w.attribution.partners.get(w.alice))!.programs).toEqual({
      affiliates: { codes: ['alice'], promotionCodes: ['promo_alice'], reward: null, groupId: null },
      resellers: { codes: ['alice-pro'], promotionCodes: [], reward: null, groupId: null },
    });

    const reseller = await visitAndBuy(w, 'alice-pro', 'user_r', 1);
    expect(reseller.reply).toMatchObject({ programId: 'resellers', partnerId: w.alice });
    // The wrapped client names the program wherever it writes the click.
    expect(reseller.form).toMatchObject({ 'metadata[sa_program_id]': 'resellers', 'payment_intent_data[metadata][sa_program_id]': 'resellers' });
    const affiliate = await visitAndBuy(w, 'alice', 'user_a', 2);
    expect(affiliate.reply).toMatchObject({ programId: 'affiliates', partnerId: w.alice });
    expect(affiliate.form['metadata[sa_program_id]']).toBe('affiliates');

    expect((await w.attribution.sales.list()).map((s) => [s.programId, s.partnerId, s.amount])).toEqual([
      ['resellers', w.alice, 10000],
      ['affiliates', w.alice, 10000],
    ]);
    const resellers = await w.attribution.commissions.list({ programId: 'resellers' });
    expect(resellers.map((c) => [c.kind, c.amount, c.currency, c.partnerId])).toEqual([
      ['lead', 500, 'usd', w.alice],
      ['sale', 4000, 'usd', w.alice],
    ]);
    expect(resellers[1]!.holdUntil!.getTime()).toBe(T0 * 1000 + 10 * DAY_MS);
    const affiliates = await w.attribution.commissions.list({ programId: 'affiliates' });
    expect(affiliates.map((c) => [c.kind, c.amount, c.holdUntil!.getTime()])).toEqual([['sale', 2000, T0 * 1000 + 30 * DAY_MS]]);

    const period = { from: new Date((T0 - 86_400) * 1000), to: new Date((T0 + 86_400) * 1000), interval: 'all' as const, partnerId: w.alice };
    const [inResellers] = await w.attribution.report({ ...period, programId: 'resellers' });
    expect(inResellers).toMatchObject({ clicks: 1, leads: 1, currencies: { usd: { sales: 1, revenue: 10000, commissions: { pending: 4500 } } } });
    const [inAffiliates] = await w.attribution.report({ ...period, programId: 'affiliates' });
    // The world's own click of Alice's is an affiliates click too.
    expect(inAffiliates).toMatchObject({ clicks: 2, leads: 1, currencies: { usd: { sales: 1, revenue: 10000, commissions: { pending: 2000 } } } });
    const [everywhere] = await w.attribution.report(period);
    expect(everywhere).toMatchObject({ clicks: 3, leads: 2, currencies: { usd: { sales: 2, revenue: 20000, commissions: { pending: 6500 } } } });

    // Resellers are due after 10 days, affiliates after 30: one payout per program.
    await w.attribution.commissions.approveDue(new Date(T0 * 1000 + 10 * DAY_MS));
    expect(await w.attribution.payouts.create({ programId: 'affiliates' })).toEqual([]);
    const [resellerPayout] = await w.attribution.payouts.create({ programId: 'resellers' });
    expect(resellerPayout).toMatchObject({ partnerId: w.alice, programId: 'resellers', amount: 4500, currency: 'usd' });
    await w.attribution.commissions.approveDue(new Date(T0 * 1000 + 30 * DAY_MS));
    const rest = await w.attribution.payouts.create();
    expect(rest.map((p) => [p.partnerId, p.programId, p.amount])).toEqual([[w.alice, 'affiliates', 2000]]);
    expect((await w.attribution.payouts.list({ programId: 'resellers' })).map((p) => p.id)).toEqual([resellerPayout!.id]);
    expect(await w.attribution.payouts.csv({ programId: 'affiliates' })).toContain(`,${w.alice},Alice,alice@partners.example,affiliates,usd,2000,20.00,true,`);
  });

  it('metadata.sa_program_id decides the program; a person is a customer in each program, with terms locked in each', async () => {
    const w = await world(backend, undefined, { programs });
    await w.attribution.partners.addCode(w.alice, 'alice-pro', { programId: 'resellers' });
    const { clickId: resellerClick } = await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice-pro', headers: { 'user-agent': BROWSER } });
    // user_r came through Alice's affiliate link first, later through her reseller link.
    expect((await w.attribution.trackLead({ customerExternalId: 'user_r', clickId: w.aliceClick })).customer).toMatchObject({ programId: 'affiliates', partnerId: w.alice });
    expect((await w.attribution.trackLead({ customerExternalId: 'user_r', clickId: resellerClick })).customer).toMatchObject({ programId: 'resellers', partnerId: w.alice });
    const affiliateRecord = await w.attribution.customers.get({ externalId: 'user_r', livemode: true, programId: 'affiliates' });
    const resellerRecord = await w.attribution.customers.get({ externalId: 'user_r', livemode: true, programId: 'resellers' });
    expect(affiliateRecord!.id).not.toBe(resellerRecord!.id);
    // Without a program, the record attributed first speaks for the person.
    expect((await w.attribution.customers.get({ externalId: 'user_r', livemode: true }))!.id).toBe(affiliateRecord!.id);

    // A job subscribes the user on the resellers' terms: no click, the program named explicitly.
    const billing = w.attribution.wrapStripe(stripeServer.client(), { customerKey: 'user_r', programId: 'resellers' });
    const [sent] = await sessionsCreated(() =>
      billing.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: 'price_gold', quantity: 1 }], success_url: 'https://shop.example/thanks' }),
    );
    const resellersMetadata = metadataOf(sent!.form, 'subscription_data[metadata]');
    expect(resellersMetadata).toEqual({ sa_customer_key: 'user_r', sa_program_id: 'resellers' });

    // Without a program in the metadata, the program the person was attributed in first.
    expect((await w.deliver(paidInvoice('in_aff_1', 0, { sa_customer_key: 'user_r' }))).status).toBe(200);
    expect((await w.deliver(paidInvoice('in_res_1', 1, resellersMetadata))).status).toBe(200);
    // A program nobody configured is not a program: ignored like no name at all.
    expect((await w.deliver(paidInvoice('in_bad_1', 2, { sa_customer_key: 'user_r', sa_program_id: 'nonsense' }))).status).toBe(200);
    // New terms for Alice's resellers apply to customers whose first sale there comes later.
    await w.attribution.partners.setReward(w.alice, { type: 'percent', percent: 50 }, { programId: 'resellers' });
    expect((await w.deliver(paidInvoice('in_res_2', 30, resellersMetadata))).status).toBe(200);
    const { clickId: secondResellerClick } = await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice-pro', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
    const newcomer = checkoutSession({ id: 'cs_new', created: T0 + 3 * 86_400, livemode: true, payment_intent: 'pi_new', customer: 'cus_new', customer_details: null, customer_email: 'new@example.com', metadata: { sa_click_id: secondResellerClick! } });
    expect((await w.deliver(event('checkout.session.completed', newcomer))).status).toBe(200);
    // An affiliates click does not count in a sale the metadata puts in resellers.
    const elsewhere = checkoutSession({ id: 'cs_else', created: T0 + 4 * 86_400, livemode: true, payment_intent: 'pi_else', customer: 'cus_else', customer_details: null, customer_email: 'else@example.com', metadata: { sa_click_id: w.aliceClick, sa_program_id: 'resellers' } });
    expect((await w.deliver(event('checkout.session.completed', elsewhere))).status).toBe(200);

    const sales = await w.attribution.sales.list();
    const commissions = await w.attribution.commissions.list({ partnerId: w.alice });
    const commissionOf = (saleId: string) => commissions.find((c) => c.saleId === saleId && c.kind === 'sale')?.amount ?? null;
    expect(sales.map((s) => [s.stripeInvoiceId ?? s.stripeCheckoutSessionId, s.programId, s.partnerId, commissionOf(s.id)])).toEqual([
      ['in_aff_1', 'affiliates', w.alice, 2000],
      ['in_res_1', 'resellers', w.alice, 4000],
      ['in_bad_1', 'affiliates', w.alice, 2000],
      ['cs_new', 'resellers', w.alice, 5000],
      ['cs_else', 'resellers', null, null],
      ['in_res_2', 'resellers', w.alice, 4000],
    ]);
    expect(sales.find((s) => s.stripeInvoiceId === 'in_res_1')!.customerId).toBe(resellerRecord!.id);
    expect(sales.find((s) => s.stripeInvoiceId === 'in_aff_1')!.customerId).toBe(affiliateRecord!.id);
    expect((await w.attribution.partners.get(w.alice))!.programs.resellers!.reward).toEqual({ type: 'percent', percent: 50 });
  });

  it('Koa and Fastify requests that capture a click give the wrapped client its program', async () => {
    const w = await world(backend, undefined, { programs });
    await w.attribution.partners.addCode(w.bob, 'bob-pro', { programId: 'resellers' });
    const billing = w.attribution.wrapStripe(stripeServer.client());
    const buy = () => billing.checkout.sessions.create({ mode: 'payment', line_items: [{ price: 'price_gold', quantity: 1 }], success_url: 'https://shop.example/thanks' });

    const koa = new Koa();
    koa.use(koaAttribution(w.attribution));
    koa.use(async (ctx) => {
      ctx.body = { session: (await buy()).id };
    });
    const fastify = Fastify();
    await fastify.register(fastifyAttribution(w.attribution));
    fastify.get('/buy', async () => ({ session: (await buy()).id }));
    await fastify.ready();

    for (const server of [koa.callback(), fastify.server]) {
      const [sent] = await sessionsCreated(() => request(server).get('/buy?via=bob-pro').set('user-agent', BROWSER).expect(200));
      expect(sent!.form).toMatchObject({ 'metadata[sa_program_id]': 'resellers', 'metadata[sa_click_id]': expect.stringMatching(/^clk_/) });
    }
    await fastify.close();
  });

  it('refuses ambiguous or broken program settings, and codes that would name two programs', async () => {
    expect(() => createAttribution({ program: {}, programs })).toThrow(ConfigurationError);
    expect(() => createAttribution({ programs: [] })).toThrow(/at least one program/);
    expect(() => createAttribution({ programs: [{ id: 'a' }, { id: 'a' }] })).toThrow(/Two programs have the id "a"/);
    expect(() => createAttribution({ programs: [{ id: 'Resellers!' }] })).toThrow(/lower-case letters/);
    expect(() => createAttribution({ programs: [{ id: 'a' }, { id: 'b', leadReward: { type: 'flat', amount: 1 } }] })).toThrow(/programs\[b\]\.leadReward needs programs\[b\]\.currency/);

    const w = await world(backend, undefined, { programs });
    await expect(w.attribution.partners.addCode(w.bob, 'bob-x', { programId: 'nonsense' })).rejects.toThrow(AttributionError);
    await expect(w.attribution.trackLead({ customerExternalId: 'u', programId: 'nonsense' })).rejects.toThrow(/No program "nonsense"/);
    expect(() => w.attribution.wrapStripe(stripeServer.client(), { programId: 'nonsense' })).toThrow(/No program "nonsense"/);
    // A code is unique across programs, so ?via=<code> alone names partner and program.
    await expect(w.attribution.partners.addCode(w.bob, 'alice', { programId: 'resellers' })).rejects.toThrow(ConflictError);
    await expect(w.attribution.partners.addCode(w.alice, 'alice', { programId: 'resellers' })).rejects.toThrow(/already this partner's in program "affiliates"/);
    expect(await w.count('sa_customers')).toBe(0);
  });
});

/** A test-mode checkout's customer in a single-program instance: the program shorthand is `'default'`. */
describe('the program shorthand', () => {
  it('is one program whose id is default, and the wrapped client names no program', async () => {
    const attribution = createAttribution({ database: 'memory://', program: { currency: 'usd' }, clicks: { ipSalt: 's' } });
    expect([...attribution.options.programs.keys()]).toEqual(['default']);
    expect(attribution.options.defaultProgramId).toBe('default');
    const [sent] = await sessionsCreated(() =>
      attribution.runInContext({ clickId: 'clk_aaaaaaaaaaaaaaaaaaaaaa', programId: 'default' }, () =>
        attribution.wrapStripe(stripeServer.client()).checkout.sessions.create({ mode: 'payment', success_url: 'https://shop.example/' }),
      ),
    );
    expect(sent!.form['metadata[sa_click_id]']).toBe('clk_aaaaaaaaaaaaaaaaaaaaaa');
    expect(Object.keys(sent!.form).filter((key) => key.includes('sa_program_id'))).toEqual([]);
    await attribution.close();
  });
});
