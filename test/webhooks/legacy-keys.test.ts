import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import { ConfigurationError } from '../../src/core/kernel/errors.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import { backends, type Backend } from '../support/backends.js';
import { world, type World } from '../support/world.js';
import { LEGACY_API_VERSION as LEGACY, T0, checkoutSession, customer, event, invoice, legacyInvoice, subscription } from '../support/stripe-fixtures.js';

/** Worlds in test mode throughout, so leads tracked in code and Stripe's test events meet. */
const shop = (backend: Backend, extra: Partial<AttributionOptions> = {}) => world(backend, undefined, { livemode: false, ...extra });

const BROWSER = { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605.1.15' };

/** The import docs/MIGRATING.md shows: old clicks under their own ids, customers the old tool credited. */
async function importFromOldTool(
  attribution: Attribution,
  rows: { clicks?: Array<{ id: string; partnerId: string; code: string; at: Date }>; customers?: Array<{ userId: string; stripeCustomerId: string; partnerId: string; clickId: string | null; at: Date }> },
): Promise<void> {
  const storage = await attribution.storage();
  await storage.transaction(async (tx) => {
    for (const click of rows.clicks ?? []) {
      await tx.insertClick({ id: click.id, partnerId: click.partnerId, linkCode: click.code, landingUrl: null, referrer: null, userAgent: null, ipHash: null, country: null, createdAt: click.at });
    }
    for (const row of rows.customers ?? []) {
      const { record } = await tx.insertCustomer({ livemode: attribution.options.livemode, externalId: row.userId, stripeCustomerId: row.stripeCustomerId });
      await tx.attributeCustomer(record.id, { partnerId: row.partnerId, clickId: row.clickId, attributedBy: 'click', at: row.at });
    }
  });
}

const paidCheckout = (id: string, overrides: Partial<Stripe.Checkout.Session> = {}) =>
  checkoutSession({ id: `cs_${id}`, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@example.com`, ...overrides });

const subscriptionInvoice = (id: string, metadata: Record<string, string>, overrides: Partial<Stripe.Invoice> = {}) =>
  invoice({
    id: `in_${id}`,
    customer: `cus_${id}`,
    customer_email: `${id}@example.com`,
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata, subscription: `sub_${id}` } },
    ...overrides,
  });

async function saleOf(w: World, key: { stripeCheckoutSessionId?: string; stripeInvoiceId?: string }) {
  const sales = await w.attribution.sales.list({ livemode: false });
  return sales.find((sale) => (key.stripeCheckoutSessionId ? sale.stripeCheckoutSessionId === key.stripeCheckoutSessionId : sale.stripeInvoiceId === key.stripeInvoiceId));
}

describe.each(backends())('legacyKeys on $name', (backend) => {
  it("a peer's user id finds the customer tracked with it (Dub on a checkout, Affitor on a subscription in both payload shapes); off, it is not read", async () => {
    const on = await shop(backend, { legacyKeys: true });
    const off = await shop(backend);
    for (const w of [on, off]) {
      for (const userId of ['user_dub', 'user_aff_basil', 'user_aff_legacy']) {
        expect(await w.attribution.trackLead({ customerExternalId: userId, clickId: w.aliceClick })).toMatchObject({ attributed: true });
      }
      const replies = [
        await w.deliver(event('checkout.session.completed', paidCheckout('dub', { metadata: { dubCustomerExternalId: 'user_dub' } }))),
        await w.deliver(event('invoice.paid', subscriptionInvoice('aff_basil', { affitor_customer_key: 'user_aff_basil', program_id: 'prog_1' }))),
        await w.deliver(event('invoice.paid', legacyInvoice(subscriptionInvoice('aff_legacy', { affitor_customer_key: 'user_aff_legacy' })), LEGACY)),
      ];
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200]);
    }

    expect(await saleOf(on, { stripeCheckoutSessionId: 'cs_dub' })).toMatchObject({ partnerId: on.alice, amount: 10000 });
    expect(await saleOf(on, { stripeInvoiceId: 'in_aff_basil' })).toMatchObject({ partnerId: on.alice });
    expect(await saleOf(on, { stripeInvoiceId: 'in_aff_legacy' })).toMatchObject({ partnerId: on.alice });
    // The Stripe customer is now the tracked customer: its renewal needs no metadata at all.
    expect(await on.attribution.customers.get({ stripeCustomerId: 'cus_aff_basil' })).toMatchObject({ externalId: 'user_aff_basil', partnerId: on.alice });
    await on.deliver(event('invoice.paid', subscriptionInvoice('aff_basil', {}, { id: 'in_renewal', billing_reason: 'subscription_cycle', created: T0 + 30 * 86_400 })));
    expect(await saleOf(on, { stripeInvoiceId: 'in_renewal' })).toMatchObject({ partnerId: on.alice });

    for (const key of [{ stripeCheckoutSessionId: 'cs_dub' }, { stripeInvoiceId: 'in_aff_basil' }, { stripeInvoiceId: 'in_aff_legacy' }]) {
      expect(await saleOf(off, key)).toMatchObject({ partnerId: null });
    }
    expect(await off.attribution.customers.get({ stripeCustomerId: 'cus_dub' })).toMatchObject({ externalId: null, partnerId: null });
  });

  it("a peer's click id counts when the click was imported under it: Dub's dub_id_ client_reference_id and dubClickId, Selgeo's aff_click_id, Rewardful's referral", async () => {
    const w = await shop(backend, { legacyKeys: true });
    const at = new Date((T0 - 86_400) * 1000);
    const rewardfulReferral = '5f2b8c1e-3d4a-4b6f-9e7d-0a1b2c3d4e5f';
    await importFromOldTool(w.attribution, {
      clicks: ['cm3w8x2pay', 'cm3w8x2cus', 'selgeo_77', rewardfulReferral, 'aff_basil', 'aff_legacy'].map((id) => ({ id, partnerId: w.bob, code: 'bob', at })),
    });

    await w.deliver(event('checkout.session.completed', paidCheckout('link', { client_reference_id: 'dub_id_cm3w8x2pay' })));
    await w.deliver(event('customer.created', customer({ id: 'cus_signup', email: 'signup@example.com', metadata: { dubCustomerExternalId: 'user_signup', dubClickId: 'cm3w8x2cus' } })));
    await w.deliver(event('checkout.session.completed', paidCheckout('selgeo', { metadata: { aff_click_id: 'selgeo_77' } })));
    await w.deliver(event('checkout.session.completed', paidCheckout('rewardful', { client_reference_id: rewardfulReferral })));
    await w.deliver(event('invoice.paid', subscriptionInvoice('aff_basil', { affitor_click_id: 'aff_basil' })));
    await w.deliver(event('invoice.paid', legacyInvoice(subscriptionInvoice('aff_legacy', { affitor_click_id: 'aff_legacy' })), LEGACY));

    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_link' })).toMatchObject({ partnerId: w.bob, clickId: 'cm3w8x2pay' });
    expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_signup' })).toMatchObject({ externalId: 'user_signup', partnerId: w.bob, clickId: 'cm3w8x2cus' });
    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_selgeo' })).toMatchObject({ partnerId: w.bob, clickId: 'selgeo_77' });
    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_rewardful' })).toMatchObject({ partnerId: w.bob, clickId: rewardfulReferral });
    expect(await saleOf(w, { stripeInvoiceId: 'in_aff_basil' })).toMatchObject({ partnerId: w.bob, clickId: 'aff_basil' });
    expect(await saleOf(w, { stripeInvoiceId: 'in_aff_legacy' })).toMatchObject({ partnerId: w.bob, clickId: 'aff_legacy' });
  });

  it('an unknown, expired or odd legacy id is no evidence: the sale is recorded without a partner, nothing is parked, nothing fails', async () => {
    const w = await shop(backend, { legacyKeys: true });
    // Imported, but older than the click lifetime (90 days) when the checkout was created.
    await importFromOldTool(w.attribution, { clicks: [{ id: 'cm_expired', partnerId: w.bob, code: 'bob', at: new Date((T0 - 91 * 86_400) * 1000) }] });

    const replies = [
      await w.deliver(event('checkout.session.completed', paidCheckout('unknown', { client_reference_id: 'dub_id_never_imported', metadata: { dubClickId: 'never_imported', aff_click_id: 'x'.repeat(501) } }))),
      await w.deliver(event('checkout.session.completed', paidCheckout('expired', { metadata: { dubClickId: 'cm_expired' } }))),
      await w.deliver(event('customer.created', customer({ id: 'cus_stranger', email: 'stranger@example.com', metadata: { dubClickId: 'never_imported' } }))),
      await w.deliver(event('customer.subscription.created', subscription({ id: 'sub_stranger', customer: 'cus_stranger', metadata: { affitor_click_id: 'nope', referral: 'nope' } }))),
    ];

    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_unknown' })).toMatchObject({ partnerId: null, clickId: null });
    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_expired' })).toMatchObject({ partnerId: null, clickId: null });
    expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_stranger' })).toMatchObject({ partnerId: null });
    expect(await w.count('sa_parked_events')).toBe(0);
  });

  it('our own keys win over legacy ones, and a legacy key never moves a customer a partner already has', async () => {
    const w = await shop(backend, { legacyKeys: true });
    const { clickId: bobClick } = await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=bob', headers: BROWSER });
    await importFromOldTool(w.attribution, { clicks: [{ id: 'cm_bob_dub', partnerId: w.bob, code: 'bob', at: new Date((T0 - 86_400) * 1000) }] });
    await w.attribution.trackLead({ customerExternalId: 'user_alice', clickId: w.aliceClick });
    await w.attribution.trackLead({ customerExternalId: 'user_bob', clickId: bobClick });

    // Our click in metadata, or in client_reference_id, beats Dub's click for another partner.
    await w.deliver(event('checkout.session.completed', paidCheckout('ours_meta', { metadata: { sa_click_id: w.aliceClick, dubClickId: 'cm_bob_dub' } })));
    await w.deliver(event('checkout.session.completed', paidCheckout('ours_ref', { client_reference_id: w.aliceClick, metadata: { affitor_click_id: 'cm_bob_dub' } })));
    // Our user id beats Dub's and Affitor's, wherever on the invoice each sits.
    await w.deliver(event('invoice.paid', subscriptionInvoice('ours_key', { dubCustomerExternalId: 'user_bob' }, { metadata: { sa_customer_key: 'user_alice', affitor_customer_key: 'user_bob' } })));
    // A customer already Alice's stays hers, whatever a later checkout carries.
    await w.deliver(event('checkout.session.completed', paidCheckout('ours_meta', { id: 'cs_later', payment_intent: 'pi_later', created: T0 + 60, metadata: { dubCustomerExternalId: 'user_bob', dubClickId: 'cm_bob_dub' } })));

    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_ours_meta' })).toMatchObject({ partnerId: w.alice, clickId: w.aliceClick });
    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_ours_ref' })).toMatchObject({ partnerId: w.alice, clickId: w.aliceClick });
    expect(await saleOf(w, { stripeInvoiceId: 'in_ours_key' })).toMatchObject({ partnerId: w.alice });
    expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_ours_key' })).toMatchObject({ externalId: 'user_alice' });
    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_later' })).toMatchObject({ partnerId: w.alice });
    expect(await w.attribution.customers.get({ externalId: 'user_bob', livemode: false })).toMatchObject({ partnerId: w.bob, stripeCustomerId: null });
  });

  it('a list reads only the tools named in it; an unknown tool fails at boot', async () => {
    const w = await shop(backend, { legacyKeys: ['affitor'] });
    await w.attribution.trackLead({ customerExternalId: 'user_1', clickId: w.aliceClick });
    await w.deliver(event('checkout.session.completed', paidCheckout('dub', { metadata: { dubCustomerExternalId: 'user_1' } })));
    await w.deliver(event('checkout.session.completed', paidCheckout('affitor', { metadata: { affitor_customer_key: 'user_1' } })));

    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_dub' })).toMatchObject({ partnerId: null });
    expect(await saleOf(w, { stripeCheckoutSessionId: 'cs_affitor' })).toMatchObject({ partnerId: w.alice });
    expect(() => createAttribution({ legacyKeys: ['dub', 'tolt' as 'dub'] })).toThrow(ConfigurationError);
    expect(() => createAttribution({ legacyKeys: ['dub', 'tolt' as 'dub'] })).toThrow(/unknown source "tolt"/);
  });

  it('customers imported with their Stripe id keep their partner on renewals, with no lead reward paid again', async () => {
    const w = await shop(backend, { program: { currency: 'usd', reward: { type: 'percent', percent: 20 }, leadReward: { type: 'flat', amount: 500 } } });
    await importFromOldTool(w.attribution, {
      customers: [{ userId: 'user_old', stripeCustomerId: 'cus_old', partnerId: w.bob, clickId: null, at: new Date('2025-11-02T00:00:00Z') }],
    });

    await w.deliver(event('invoice.paid', subscriptionInvoice('old', {}, { billing_reason: 'subscription_cycle' })));

    const sale = await saleOf(w, { stripeInvoiceId: 'in_old' });
    expect(sale).toMatchObject({ partnerId: w.bob, amount: 10000 });
    const commissions = await w.attribution.commissions.list({ partnerId: w.bob });
    expect(commissions.map((commission) => [commission.kind, commission.amount])).toEqual([['sale', 2000]]);
  });
});
