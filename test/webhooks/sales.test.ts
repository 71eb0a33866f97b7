import express from 'express';
import Stripe from 'stripe';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import type { Storage } from '../../src/core/storage/types.js';
import { attributionMiddleware } from '../../src/express/index.js';
import { backends } from '../support/backends.js';
import { SECRET, overrideInTransactions, signer, stripeServer, world, type World } from '../support/world.js';
import {
  LEGACY_API_VERSION as LEGACY,
  T0,
  charge,
  checkoutSession,
  creditNote,
  customer,
  discount,
  dispute,
  event,
  invoice,
  invoiceLine,
  invoicePayment,
  legacyCharge,
  legacyCreditNote,
  legacyInvoice,
  lineItem,
  paymentIntent,
  subscription,
} from '../support/stripe-fixtures.js';

const subscriptionSession = (w: World, overrides: Partial<Stripe.Checkout.Session> = {}) =>
  checkoutSession({
    id: 'cs_sub',
    mode: 'subscription',
    payment_intent: null,
    invoice: 'in_1',
    subscription: 'sub_1',
    metadata: { sa_click_id: w.aliceClick },
    ...overrides,
  });

const firstInvoice = (w: World | null, overrides: Partial<Stripe.Invoice> = {}) =>
  invoice({
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: w ? { sa_click_id: w.aliceClick } : {}, subscription: 'sub_1' },
    },
    ...overrides,
  });

describe.each(backends())('Stripe sales on $name', (backend) => {
  describe('checkout in payment mode', () => {
    it('is one sale, untaxed, credited to the click in its metadata; a repeat and a concurrent copy change nothing', async () => {
      const w = await world(backend);
      const completed = event(
        'checkout.session.completed',
        checkoutSession({ amount_total: 11900, amount_subtotal: 10000, total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 1900 }, metadata: { sa_click_id: w.aliceClick } }),
      );
      const results = await Promise.all([w.deliver(completed), w.deliver(completed)]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      expect(await w.deliver(completed)).toMatchObject({ status: 200 });
      const sales = await w.attribution.sales.list({ livemode: false });
      expect(sales).toHaveLength(1);
      expect(sales[0]).toMatchObject({ amount: 10000, currency: 'usd', partnerId: w.alice, clickId: w.aliceClick, stripePaymentIntentId: 'pi_checkout_1', livemode: false });
      expect(await w.count('sa_webhook_events')).toBe(1);
      expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_buyer' })).toMatchObject({ partnerId: w.alice, email: 'buyer@example.com' });
    });

    it('a guest checkout is credited through client_reference_id when it is one of our clicks, not when it is an order number', async () => {
      const w = await world(backend);
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_a', payment_intent: 'pi_a', customer: 'cus_a', client_reference_id: w.aliceClick })));
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_b', created: T0 + 60, payment_intent: 'pi_b', customer: 'cus_b', client_reference_id: 'order_1234', customer_details: null, customer_email: 'other@example.com' })));
      const sales = await w.attribution.sales.list({ livemode: false });
      expect(sales.map((s) => [s.stripePaymentIntentId, s.partnerId])).toEqual([
        ['pi_a', w.alice],
        ['pi_b', null],
      ]);
    });

    it('test-mode events never touch live customers of the same user id or email', async () => {
      const w = await world(backend);
      const bobClick = (await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=bob', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } })).clickId!;
      const live = createAttribution({ database: w.storage, livemode: true, clock: () => new Date((T0 - 60) * 1000), onError: () => {} });
      await live.trackLead({ customerExternalId: 'user_same', email: 'buyer@example.com', clickId: bobClick });
      await w.deliver(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_same' } })));
      expect(await w.attribution.customers.get({ externalId: 'user_same', livemode: true })).toMatchObject({ partnerId: w.bob, stripeCustomerId: null });
      expect(await w.attribution.customers.get({ externalId: 'user_same', livemode: false })).toMatchObject({ partnerId: w.alice, stripeCustomerId: 'cus_buyer' });
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ partnerId: w.alice, livemode: false });
    });

    it('a promotion code alone credits its partner', async () => {
      const w = await world(backend);
      await w.deliver(event('checkout.session.completed', checkoutSession({ discounts: [{ coupon: 'co_1', promotion_code: 'promo_alice' }] })));
      const [sale] = await w.attribution.sales.list({ livemode: false });
      expect(sale).toMatchObject({ partnerId: w.alice, clickId: null });
      expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_buyer' })).toMatchObject({ attributedBy: 'promotion_code' });
    });

    describe('a promotion code on a line item', () => {
      const discounted = { amount_total: 9000, total_details: { amount_discount: 1000, amount_shipping: 0, amount_tax: 0 } };
      const withCode = (items: Stripe.LineItem[]) => ({ object: 'list', has_more: false, url: '/v1/checkout/sessions/cs_test_1/line_items', data: items });
      const codedItem = { ...lineItem('li_gold', 'prod_gold', 9000), amount_discount: 1000, discounts: [{ amount: 1000, discount: discount({ id: 'di_line' }) }] };

      it('credits its partner, from the line items listed with their discounts expanded', async () => {
        const w = await world(backend);
        stripeServer.answers.set('GET /v1/checkout/sessions/cs_test_1/line_items', withCode([codedItem, lineItem('li_plain', 'prod_plain', 0)]));
        const before = stripeServer.requests.length;
        try {
          await w.deliver(event('checkout.session.completed', checkoutSession(discounted)));
        } finally {
          stripeServer.answers.clear();
        }
        expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ partnerId: w.alice, clickId: null, amount: 9000 });
        expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_buyer' })).toMatchObject({ attributedBy: 'promotion_code' });
        const listed = stripeServer.requests.slice(before).filter((r) => r.path === '/v1/checkout/sessions/cs_test_1/line_items');
        expect(listed.map((r) => r.query['expand[0]'])).toEqual(['data.discounts']);
      });

      it('comes after the click, and is not looked for when the session had no discount', async () => {
        const w = await world(backend);
        const bobClick = (await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=bob', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } })).clickId!;
        stripeServer.answers.set('GET /v1/checkout/sessions/cs_clicked/line_items', withCode([codedItem]));
        const before = stripeServer.requests.length;
        try {
          await w.deliver(event('checkout.session.completed', checkoutSession({ ...discounted, id: 'cs_clicked', metadata: { sa_click_id: bobClick } })));
          await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_plain', payment_intent: 'pi_plain', customer: 'cus_plain', customer_details: null, customer_email: 'plain@example.com' })));
        } finally {
          stripeServer.answers.clear();
        }
        expect((await w.attribution.sales.list({ livemode: false })).map((sale) => sale.partnerId)).toEqual([w.bob, null]);
        expect(stripeServer.requests.slice(before).some((r) => r.path.includes('line_items'))).toBe(false);
      });
    });

    it('an already attributed customer keeps their partner, whatever click a later checkout carries', async () => {
      const w = await world(backend);
      const bobClick = (await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=bob', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } })).clickId!;
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_1', payment_intent: 'pi_1', metadata: { sa_click_id: w.aliceClick } })));
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_2', created: T0 + 60, payment_intent: 'pi_2', metadata: { sa_click_id: bobClick } })));
      expect((await w.attribution.sales.list({ livemode: false })).map((s) => s.partnerId)).toEqual([w.alice, w.alice]);
    });

    it('a customer who already bought without a partner is not claimed by a later click', async () => {
      const w = await world(backend);
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_plain', payment_intent: 'pi_plain' })));
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_later', created: T0 + 60, payment_intent: 'pi_later', metadata: { sa_click_id: w.aliceClick } })));
      expect((await w.attribution.sales.list({ livemode: false })).map((sale) => sale.partnerId)).toEqual([null, null]);
      expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_buyer' })).toMatchObject({ partnerId: null });
    });

    for (const order of ['session first', 'invoice first'] as const) {
      it(`a checkout that also creates an invoice is one sale, credited to its partner (${order})`, async () => {
        const w = await world(backend);
        const session = event('checkout.session.completed', checkoutSession({ payment_intent: 'pi_inv', invoice: 'in_inv', metadata: { sa_click_id: w.aliceClick } }));
        const paid = event('invoice.paid', invoice({ id: 'in_inv', parent: null, billing_reason: 'manual' }));
        const linked = event('invoice_payment.paid', invoicePayment({ invoice: 'in_inv', payment: { type: 'payment_intent', payment_intent: 'pi_inv' } }));
        const deliveries = order === 'session first' ? [session, paid, linked] : [paid, linked, session];
        for (const delivery of deliveries) expect((await w.deliver(delivery)).status).toBe(200);
        const sales = await w.attribution.sales.list({ livemode: false });
        expect(sales).toHaveLength(1);
        expect(sales[0]).toMatchObject({ stripePaymentIntentId: 'pi_inv', stripeInvoiceId: 'in_inv', partnerId: w.alice });
      });
    }

    it('Adaptive Pricing before 2025-03-31: the merchant’s currency from currency_conversion, tax share removed', async () => {
      const w = await world(backend);
      const session = checkoutSession({
        currency: 'eur',
        amount_total: 11000,
        total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 1000 },
        currency_conversion: { amount_subtotal: 11000, amount_total: 12001, fx_rate: '0.9166' as unknown as Stripe.Decimal, source_currency: 'usd' },
        metadata: { sa_click_id: w.aliceClick },
      });
      await w.deliver(event('checkout.session.completed', session, LEGACY));
      // 12001 × 10000 / 11000 = 10910.0 → 10910
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 10910, currency: 'usd' });
    });

    it('Adaptive Pricing since 2025-03-31: the session already reports the merchant’s currency; presentment_details is ignored', async () => {
      const w = await world(backend);
      const session = checkoutSession({
        amount_total: 11900,
        total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 1900 },
        presentment_details: { presentment_amount: 10950, presentment_currency: 'eur' },
        metadata: { sa_click_id: w.aliceClick },
      });
      await w.deliver(event('checkout.session.completed', session));
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 10000, currency: 'usd' });
    });

    it('an async payment becomes a sale when it succeeds; setup mode never', async () => {
      const w = await world(backend);
      await w.deliver(event('checkout.session.completed', checkoutSession({ payment_status: 'unpaid', metadata: { sa_click_id: w.aliceClick } })));
      expect(await w.attribution.sales.list({ livemode: false })).toEqual([]);
      await w.deliver(event('checkout.session.async_payment_succeeded', checkoutSession({ payment_status: 'paid', metadata: { sa_click_id: w.aliceClick } })));
      expect(await w.attribution.sales.list({ livemode: false })).toHaveLength(1);
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_setup', mode: 'setup', payment_intent: null, amount_total: null, payment_status: 'no_payment_required' })));
      expect(await w.attribution.sales.list({ livemode: false })).toHaveLength(1);
    });
  });

  describe('subscriptions', () => {
    for (const order of ['session first', 'invoice first'] as const) {
      it(`the first paid invoice is the sale, attributed through the session (${order}), delivered twice`, async () => {
        const w = await world(backend);
        const session = event('checkout.session.completed', subscriptionSession(w));
        const paid = event('invoice.paid', firstInvoice(null));
        const succeeded = event('invoice.payment_succeeded', firstInvoice(null));
        const sequence = order === 'session first' ? [session, paid, succeeded] : [paid, succeeded, session];
        for (const delivery of [...sequence, ...sequence]) expect((await w.deliver(delivery)).status).toBe(200);
        const sales = await w.attribution.sales.list({ livemode: false });
        expect(sales).toHaveLength(1);
        expect(sales[0]).toMatchObject({ stripeInvoiceId: 'in_1', stripeSubscriptionId: 'sub_1', amount: 10000, partnerId: w.alice, billingReason: 'subscription_create' });
        expect(await w.storage.getSaleLines(sales[0]!.id)).toEqual([
          { position: 0, stripeProductId: 'prod_gold', stripePriceId: 'price_gold', description: '1 × Gold (at $100.00 / month)', quantity: 1, amount: 10000 },
        ]);
      });
    }

    it('renewals belong to the partner for the subscription’s life; a direct subscription is attributed by its metadata', async () => {
      const w = await world(backend);
      await w.deliver(event('invoice.paid', firstInvoice(w)));
      await w.deliver(event('invoice.paid', invoice({ id: 'in_2', billing_reason: 'subscription_cycle', created: T0 + 30 * 86400 })));
      await w.deliver(event('invoice.paid', invoice({ id: 'in_3', billing_reason: 'subscription_cycle', created: T0 + 400 * 86400 })));
      expect((await w.attribution.sales.list({ livemode: false })).map((s) => [s.stripeInvoiceId, s.partnerId])).toEqual([
        ['in_1', w.alice],
        ['in_2', w.alice],
        ['in_3', w.alice],
      ]);
    });

    it('an upgrade’s proration invoice is a sale for what was paid', async () => {
      const w = await world(backend);
      await w.deliver(event('invoice.paid', firstInvoice(w)));
      const credit = invoiceLine({ id: 'il_credit', amount: -3000, description: 'Unused time on Silver' });
      const charged = invoiceLine({ id: 'il_gold', amount: 5000, description: 'Remaining time on Gold' });
      await w.deliver(event('invoice.paid', invoice({ id: 'in_upgrade', billing_reason: 'subscription_update', created: T0 + 86400, total: 2000, subtotal: 2000, total_excluding_tax: 2000, amount_due: 2000, amount_paid: 2000, lines: { object: 'list', data: [credit, charged], has_more: false, url: '' } })));
      const upgrade = (await w.attribution.sales.list({ livemode: false })).find((sale) => sale.stripeInvoiceId === 'in_upgrade')!;
      expect(upgrade).toMatchObject({ amount: 2000, billingReason: 'subscription_update', partnerId: w.alice });
      expect((await w.storage.getSaleLines(upgrade.id)).map((line) => line.amount)).toEqual([0, 2000]);
    });

    it('reads the legacy (2024-06-20) invoice shape the same way', async () => {
      const w = await world(backend);
      const basil = firstInvoice(w, { total: 11900, total_excluding_tax: 10000, amount_paid: 11900, amount_due: 11900 });
      await w.deliver(event('invoice.paid', legacyInvoice(basil, 'pi_legacy'), LEGACY));
      const [sale] = await w.attribution.sales.list({ livemode: false });
      expect(sale).toMatchObject({ amount: 10000, partnerId: w.alice, stripeSubscriptionId: 'sub_1', stripePaymentIntentId: 'pi_legacy' });
      expect((await w.storage.getSaleLines(sale!.id))[0]).toMatchObject({ stripeProductId: 'prod_gold', stripePriceId: 'price_gold' });
    });

    it('tax and customer credit: the sale is what was paid without its tax share; $0 and 100%-off invoices are not sales', async () => {
      const w = await world(backend);
      // 11900 with 1900 tax, half of it paid from the customer's credit balance.
      await w.deliver(event('invoice.paid', firstInvoice(w, { total: 11900, total_excluding_tax: 10000, amount_due: 5950, amount_paid: 5950 })));
      await w.deliver(event('invoice.paid', invoice({ id: 'in_free', total: 0, subtotal: 10000, total_excluding_tax: 0, amount_due: 0, amount_paid: 0, billing_reason: 'subscription_cycle' })));
      const sales = await w.attribution.sales.list({ livemode: false });
      expect(sales.map((s) => [s.stripeInvoiceId, s.amount])).toEqual([['in_1', 5000]]);
    });

    it('an invoice with more lines than the webhook carries has them listed through the merchant’s client', async () => {
      const w = await world(backend);
      const more = [invoiceLine({ id: 'il_1', amount: 5000 }), invoiceLine({ id: 'il_2', amount: 5000, pricing: { type: 'price_details', price_details: { price: 'price_x', product: 'prod_x' }, unit_amount_decimal: null } })];
      stripeServer.answers.set('GET /v1/invoices/in_1/lines', { object: 'list', has_more: false, url: '/v1/invoices/in_1/lines', data: more });
      try {
        await w.deliver(event('invoice.paid', firstInvoice(w, { lines: { object: 'list', data: [more[0]!], has_more: true, url: '/v1/invoices/in_1/lines' } })));
      } finally {
        stripeServer.answers.clear();
      }
      const [sale] = await w.attribution.sales.list({ livemode: false });
      expect((await w.storage.getSaleLines(sale!.id)).map((line) => [line.stripeProductId, line.amount])).toEqual([
        ['prod_gold', 5000],
        ['prod_x', 5000],
      ]);
    });

    describe('a promotion code on an invoice line', () => {
      /** The first invoice, paid without a click, with a discount on its line only (named by id, as webhooks do). */
      const lineDiscounted = (overrides: Partial<Stripe.InvoiceLineItem> = {}) =>
        firstInvoice(null, {
          total: 9000, subtotal: 10000, total_excluding_tax: 9000, amount_due: 9000, amount_paid: 9000,
          total_discount_amounts: [{ amount: 1000, discount: 'di_line' }],
          lines: { object: 'list', has_more: false, url: '/v1/invoices/in_1/lines', data: [invoiceLine({ discounts: ['di_line'], discount_amounts: [{ amount: 1000, discount: 'di_line' }], ...overrides })] },
        });

      it('credits its partner: the invoice is fetched once with its lines’ discounts expanded', async () => {
        const w = await world(backend);
        const expanded = lineDiscounted({ discounts: [discount({ id: 'di_line' })] });
        stripeServer.answers.set('GET /v1/invoices/in_1', expanded);
        const before = stripeServer.requests.length;
        try {
          await w.deliver(event('invoice.paid', lineDiscounted()));
          await w.deliver(event('invoice.payment_succeeded', lineDiscounted()));
        } finally {
          stripeServer.answers.clear();
        }
        expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ partnerId: w.alice, clickId: null, amount: 9000 });
        const retrieved = stripeServer.requests.slice(before).filter((r) => r.path === '/v1/invoices/in_1');
        expect(retrieved).toHaveLength(1);
        expect([retrieved[0]!.query['expand[0]'], retrieved[0]!.query['expand[1]']]).toEqual(['discounts', 'lines.data.discounts']);
      });

      it('on a line beyond the webhook’s first page, found in the lines listed with their discounts', async () => {
        const w = await world(backend);
        const more = [invoiceLine({ id: 'il_1', amount: 5000 }), invoiceLine({ id: 'il_2', amount: 5000, discounts: [discount({ id: 'di_line' })], discount_amounts: [{ amount: 1000, discount: 'di_line' }] })];
        stripeServer.answers.set('GET /v1/invoices/in_1/lines', { object: 'list', has_more: false, url: '/v1/invoices/in_1/lines', data: more });
        const before = stripeServer.requests.length;
        try {
          await w.deliver(event('invoice.paid', firstInvoice(null, { total_discount_amounts: [{ amount: 1000, discount: 'di_line' }], lines: { object: 'list', data: [more[0]!], has_more: true, url: '/v1/invoices/in_1/lines' } })));
        } finally {
          stripeServer.answers.clear();
        }
        expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ partnerId: w.alice });
        const listed = stripeServer.requests.slice(before).filter((r) => r.path === '/v1/invoices/in_1/lines');
        expect(listed.map((r) => r.query['expand[0]'])).toEqual(['data.discounts']);
      });

      it('a legacy (2024-06-20) line’s expanded discount credits its partner without asking Stripe', async () => {
        const w = await world(backend);
        const legacy = legacyInvoice(lineDiscounted({ id: 'il_legacy' }), 'pi_legacy') as unknown as { lines: { data: Array<Record<string, unknown>> } };
        legacy.lines.data[0] = { ...legacy.lines.data[0], discounts: [], discount_amounts: [], discount: discount({ id: 'di_old' }) };
        const before = stripeServer.requests.length;
        await w.deliver(event('invoice.paid', legacy as unknown as Stripe.Invoice, LEGACY));
        expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ partnerId: w.alice, stripePaymentIntentId: 'pi_legacy' });
        expect(stripeServer.requests.slice(before).some((r) => r.path.startsWith('/v1/invoices'))).toBe(false);
      });

      it('comes after the customer’s partner: an attributed customer’s invoice asks Stripe nothing', async () => {
        const w = await world(backend);
        const bobClick = (await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=bob', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } })).clickId!;
        await w.deliver(event('customer.created', customer({ metadata: { sa_click_id: bobClick } })));
        const before = stripeServer.requests.length;
        await w.deliver(event('invoice.paid', lineDiscounted()));
        expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ partnerId: w.bob });
        expect(stripeServer.requests.slice(before).some((r) => r.path.startsWith('/v1/invoices'))).toBe(false);
      });
    });

    it('splits the sale across lines pro rata, the shares summing to the sale', async () => {
      const w = await world(backend);
      const lines = [
        invoiceLine({ id: 'il_a', amount: 3333 }),
        invoiceLine({ id: 'il_b', amount: 3333, pricing: { type: 'price_details', price_details: { price: 'price_silver', product: 'prod_silver' }, unit_amount_decimal: null } }),
        invoiceLine({ id: 'il_c', amount: 3334 }),
      ];
      await w.deliver(event('invoice.paid', firstInvoice(w, { total: 10000, total_excluding_tax: 10000, amount_paid: 7001, lines: { object: 'list', data: lines, has_more: false, url: '' } })));
      const [sale] = await w.attribution.sales.list({ livemode: false });
      const shares = (await w.storage.getSaleLines(sale!.id)).map((line) => line.amount);
      expect(shares.reduce((a, b) => a + b, 0)).toBe(7001);
      // 7001 × 3333/10000 = 2333.33 (twice), × 3334/10000 = 2334.13: the one cent left goes to the
      // largest remainder, the first line.
      expect(shares).toEqual([2334, 2333, 2334]);
    });
  });

  describe('direct payments', () => {
    it('a payment intent created with our metadata is a sale; one from Checkout is not counted twice', async () => {
      const w = await world(backend);
      await w.deliver(event('payment_intent.succeeded', paymentIntent({ metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_7' } })));
      await w.deliver(event('checkout.session.completed', checkoutSession({ created: T0 + 60, metadata: { sa_click_id: w.aliceClick } })));
      await w.deliver(event('payment_intent.succeeded', paymentIntent({ id: 'pi_checkout_1', amount_received: 10000, metadata: { sa_click_id: w.aliceClick, sa_via: 'checkout' } })));
      await w.deliver(event('payment_intent.succeeded', paymentIntent({ id: 'pi_plain', metadata: {} })));
      expect((await w.attribution.sales.list({ livemode: false })).map((s) => [s.stripePaymentIntentId, s.amount, s.partnerId])).toEqual([
        ['pi_direct_1', 2500, w.alice],
        ['pi_checkout_1', 10000, w.alice],
      ]);
      expect(await w.attribution.customers.get({ externalId: 'user_7' })).toMatchObject({ stripeCustomerId: 'cus_buyer' });
    });
  });

  describe('refunds', () => {
    it('a partial refund of a one-time payment is recorded untaxed; cumulative totals make repeats and older events harmless', async () => {
      const w = await world(backend);
      await w.deliver(event('checkout.session.completed', checkoutSession({ amount_total: 11900, total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 1900 }, metadata: { sa_click_id: w.aliceClick } })));
      const later = event('charge.refunded', charge({ amount: 11900, amount_refunded: 5000 }));
      const earlier = event('charge.refunded', charge({ amount: 11900, amount_refunded: 2000 }));
      await w.deliver(later);
      await w.deliver(earlier);
      await w.deliver(later);
      // 10000 × 5000 / 11900 = 4201.68 → 4202
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 10000, amountRefunded: 4202 });
    });

    it('a refund before its sale waits, parked, and is applied when the sale arrives', async () => {
      const w = await world(backend);
      expect((await w.deliver(event('charge.refunded', charge({ amount: 10000, amount_refunded: 10000, refunded: true })))).status).toBe(200);
      expect(await w.count('sa_parked_events')).toBe(1);
      await w.deliver(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
      expect(await w.count('sa_parked_events')).toBe(0);
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 10000, amountRefunded: 10000 });
    });

    it('a Basil renewal charge names only its payment intent: its invoice is asked of Stripe', async () => {
      const w = await world(backend);
      await w.deliver(event('invoice.paid', firstInvoice(w, { id: 'in_api' })));
      stripeServer.answers.set('GET /v1/invoice_payments', { object: 'list', has_more: false, url: '/v1/invoice_payments', data: [invoicePayment({ invoice: 'in_api', payment: { type: 'payment_intent', payment_intent: 'pi_api' } })] });
      try {
        expect((await w.deliver(event('charge.refunded', charge({ payment_intent: 'pi_api', amount_refunded: 2500 })))).status).toBe(200);
      } finally {
        stripeServer.answers.clear();
      }
      expect(await w.count('sa_parked_events')).toBe(0);
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ stripeInvoiceId: 'in_api', amountRefunded: 2500 });
      expect(stripeServer.requests.some((r) => r.method === 'GET' && r.path === '/v1/invoice_payments')).toBe(true);
    });

    it('a legacy (2024-06-20) charge names its invoice directly', async () => {
      const w = await world(backend);
      const basil = firstInvoice(w, { id: 'in_legacy' });
      await w.deliver(event('invoice.paid', legacyInvoice(basil, null), LEGACY));
      const refunded = legacyCharge(charge({ payment_intent: 'pi_unknown', amount_refunded: 10000, refunded: true }), 'in_legacy');
      await w.deliver(event('charge.refunded', refunded, LEGACY));
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ stripeInvoiceId: 'in_legacy', amountRefunded: 10000 });
    });

    it('without an API answer, the refund waits for invoice_payment.paid', async () => {
      const w = await world(backend);
      await w.deliver(event('invoice.paid', firstInvoice(w, { id: 'in_9' })));
      const attribution = createAttribution({ database: w.storage, webhookSecret: SECRET, onError: () => {} });
      const deliver = (e: Stripe.Event) => {
        const payload = JSON.stringify(e);
        return attribution.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }));
      };
      await deliver(event('charge.refunded', charge({ payment_intent: 'pi_9', amount_refunded: 2500 })));
      expect(await w.count('sa_parked_events')).toBe(1);
      await deliver(event('invoice_payment.paid', invoicePayment({ invoice: 'in_9', payment: { type: 'payment_intent', payment_intent: 'pi_9' } })));
      expect(await w.count('sa_parked_events')).toBe(0);
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ stripeInvoiceId: 'in_9', stripePaymentIntentId: 'pi_9', amountRefunded: 2500 });
    });
  });

  describe('disputes', () => {
    it('opened counts as disputed, untaxed; won stops counting; an older event arriving late changes nothing', async () => {
      const w = await world(backend);
      await w.deliver(event('checkout.session.completed', checkoutSession({ amount_total: 11900, total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 1900 }, metadata: { sa_click_id: w.aliceClick } })));
      const theCharge = charge({ amount: 11900 });
      const opened = event('charge.dispute.created', dispute({ amount: 5950, charge: theCharge }));
      const won = event('charge.dispute.closed', dispute({ amount: 5950, charge: theCharge, status: 'won' }));
      await w.deliver(opened);
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountDisputed: 5000 });
      await w.deliver(won);
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountDisputed: 0 });
      // The 'created' event delivered again after the close (Stripe retries): older, ignored.
      await w.attribution.handleEvent({ ...opened, id: `${opened.id}_late` });
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountDisputed: 0 });
    });

    it('a lost dispute stays disputed; one that arrives before its sale waits, parked', async () => {
      const w = await world(backend);
      await w.deliver(event('charge.dispute.closed', dispute({ status: 'lost', charge: charge({ amount: 10000 }) })));
      expect(await w.count('sa_parked_events')).toBe(1);
      await w.deliver(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 10000, amountDisputed: 10000 });
      expect(await w.count('sa_parked_events')).toBe(0);
    });

    it('a dispute naming its charge only by id is scaled by what the payment charged, without asking Stripe', async () => {
      const w = await world(backend);
      await w.deliver(event('checkout.session.completed', checkoutSession({ amount_total: 11900, total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 1900 }, metadata: { sa_click_id: w.aliceClick } })));
      await w.deliver(event('charge.dispute.created', dispute({ amount: 5950, charge: 'ch_unasked' })));
      // 10000 × 5950 / 11900
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ chargeAmount: 11900, amountDisputed: 5000 });
      expect(stripeServer.requests.some((r) => r.path === '/v1/charges/ch_unasked')).toBe(false);
    });

    it('a dispute on several charges of one invoice is scaled by the invoice’s paid amount', async () => {
      const w = await world(backend);
      await w.deliver(event('invoice.paid', firstInvoice(w, { id: 'in_split', total: 20000, total_excluding_tax: 20000, amount_paid: 20000, amount_due: 20000 })));
      await w.deliver(event('invoice_payment.paid', invoicePayment({ invoice: 'in_split', payment: { type: 'payment_intent', payment_intent: 'pi_half' } })));
      // One of the two 10 000 charges is disputed in full: half the invoice.
      await w.deliver(event('charge.dispute.created', dispute({ amount: 10000, charge: charge({ amount: 10000 }), payment_intent: 'pi_half' })));
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 20000, amountDisputed: 10000 });
    });

    it('asks Stripe for the charge when the dispute names it only by id and the sale predates kept charge amounts', async () => {
      const w = await world(backend);
      await w.storage.insertSale({ livemode: false, stripePaymentIntentId: 'pi_checkout_1', amount: 10000, currency: 'usd', occurredAt: new Date(T0 * 1000) });
      stripeServer.answers.set('GET /v1/charges/ch_1', charge({ amount: 20000 }));
      try {
        await w.deliver(event('charge.dispute.created', dispute({ amount: 5000, charge: 'ch_1' })));
      } finally {
        stripeServer.answers.clear();
      }
      // 10000 × 5000 / 20000
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountDisputed: 2500 });
    });
  });

  describe('credit notes', () => {
    it('the part credited to the balance reduces the sale, untaxed, once; the part refunded to the card is left to charge.refunded', async () => {
      const w = await world(backend);
      await w.deliver(event('invoice.paid', firstInvoice(w, { total: 11900, total_excluding_tax: 10000, amount_paid: 11900, amount_due: 11900 })));
      const credited = event('credit_note.created', creditNote());
      await w.deliver(credited);
      await w.deliver(credited);
      await w.deliver(event('credit_note.created', creditNote({ id: 'cn_card', refunds: [{ amount_refunded: 5950, payment_record_refund: null, refund: 're_1', type: 'refund' }] })));
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 10000, amountCredited: 5000, amountRefunded: 0 });
      await w.deliver(event('credit_note.voided', creditNote({ status: 'void', voided_at: T0 + 2 * 86400 })));
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountCredited: 0 });
    });

    it('a legacy credit note names one refund: only the rest reduces the sale', async () => {
      const w = await world(backend);
      await w.deliver(event('invoice.paid', firstInvoice(w, { total: 11900, total_excluding_tax: 10000, amount_paid: 11900, amount_due: 11900 })));
      const legacy = legacyCreditNote(creditNote({ id: 'cn_legacy', total: 11900, total_excluding_tax: 10000, post_payment_amount: 11900, amount: 11900 }), 're_legacy');
      stripeServer.answers.set('GET /v1/refunds/re_legacy', { id: 're_legacy', object: 'refund', amount: 5950 });
      try {
        await w.deliver(event('credit_note.created', legacy, LEGACY));
      } finally {
        stripeServer.answers.clear();
      }
      // 11900 − 5950 to the card = 5950 credited, 5000 of it untaxed.
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountCredited: 5000 });
    });
  });

  describe('subscriptions', () => {
    it('a trial is a lead; quantity changes and the end (churn) are kept as of Stripe’s time', async () => {
      const w = await world(backend);
      await w.deliver(event('customer.subscription.created', subscription({ status: 'trialing', metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_trial' } })));
      expect(await w.attribution.customers.get({ externalId: 'user_trial' })).toMatchObject({ partnerId: w.alice, stripeCustomerId: 'cus_buyer' });
      const grown = event('customer.subscription.updated', subscription({ quantity: 3 }));
      const ended = event('customer.subscription.deleted', subscription({ status: 'canceled', quantity: 3, canceled_at: T0 + 90 * 86400, ended_at: T0 + 90 * 86400 }));
      await w.deliver(grown);
      expect(await w.storage.getSubscription('sub_1')).toMatchObject({ status: 'active', quantity: 3, endedAt: null });
      await w.deliver(ended);
      await w.attribution.handleEvent({ ...grown, id: `${grown.id}_late` }); // older, delivered late
      expect(await w.storage.getSubscription('sub_1')).toMatchObject({ status: 'canceled', quantity: 3, endedAt: new Date((T0 + 90 * 86400) * 1000) });
    });
  });

  describe('leads from Stripe', () => {
    it('customer.created with our metadata is a lead, credited once; updates never move it', async () => {
      const w = await world(backend);
      const bobClick = (await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=bob', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } })).clickId!;
      await w.deliver(event('customer.created', customer({ id: 'cus_lead', metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_9' } })));
      await w.deliver(event('customer.updated', customer({ id: 'cus_lead', metadata: { sa_click_id: bobClick, sa_customer_key: 'user_9' } })));
      expect(await w.attribution.customers.get({ externalId: 'user_9' })).toMatchObject({ stripeCustomerId: 'cus_lead', partnerId: w.alice });
    });
  });

  describe('delivery guarantees', () => {
    it('applyParked() retries what is still parked: a customer whose click this database did not know yet', async () => {
      const w = await world(backend);
      const early = 'clk_earlyearlyearlyearly_1';
      await w.deliver(event('customer.created', customer({ id: 'cus_early', metadata: { sa_click_id: early } })));
      expect(await w.count('sa_parked_events')).toBe(1);
      expect(await w.attribution.applyParked()).toEqual({ retried: 1, stillParked: 1 });
      expect((await w.storage.takeParkedEvents()).map((p) => [p.attempts, p.lastError])).toEqual([[1, `still waiting for click:${early}`]]);
      await w.deliver(event('customer.created', customer({ id: 'cus_early', metadata: { sa_click_id: early } })));
      const alice = (await w.storage.listPartnerCodes(w.alice)).codes[0]!;
      await w.storage.insertClick({ id: early, partnerId: w.alice, linkCode: alice, landingUrl: null, referrer: null, userAgent: null, ipHash: null, country: null, createdAt: new Date((T0 - 60) * 1000) });
      expect(await w.attribution.applyParked()).toEqual({ retried: 1, stillParked: 0 });
      expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_early' })).toMatchObject({ partnerId: w.alice, clickId: early });
    });

    it('applyParked() retries each event on its own: a failing one keeps its error, the others go on', async () => {
      const w = await world(backend);
      await w.deliver(event('charge.refunded', charge({ id: 'ch_a', payment_intent: 'pi_a', amount_refunded: 1000 })));
      await w.deliver(event('charge.refunded', charge({ id: 'ch_b', payment_intent: 'pi_checkout_1', amount_refunded: 1000 })));
      await w.storage.insertSale({ livemode: false, stripePaymentIntentId: 'pi_checkout_1', amount: 10000, currency: 'usd', occurredAt: new Date(T0 * 1000) });
      stripeServer.answers.set('GET /v1/invoice_payments', new Error('Stripe is having a moment'));
      try {
        expect(await w.attribution.applyParked()).toEqual({ retried: 1, stillParked: 1 });
      } finally {
        stripeServer.answers.clear();
      }
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountRefunded: 1000 });
      const [failed] = await w.storage.takeParkedEvents();
      expect(failed).toMatchObject({ waitingFor: 'payment_intent:pi_a', attempts: 1, lastError: expect.stringContaining('Stripe is having a moment') });
    });

    it('accepts events signed with either secret during a rotation', async () => {
      const w = await world(backend);
      const rotating = createAttribution({ database: w.storage, webhookSecret: ['whsec_new', SECRET], onError: () => {} });
      const payload = JSON.stringify(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
      const oldSigned = await rotating.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }));
      expect(oldSigned.status).toBe(200);
      const other = JSON.stringify(event('product.created', { id: 'prod_2', object: 'product' }));
      expect((await rotating.handleWebhook(other, signer.webhooks.generateTestHeaderString({ payload: other, secret: 'whsec_new' }))).status).toBe(200);
    });

    it('a failure on our side answers 500 with nothing kept; the retry records the sale once', async () => {
      let failures = 1;
      const w = await world(backend, (real) =>
        overrideInTransactions(real, (tx) => ({
          insertSale: async (sale) => {
            if (failures-- > 0) throw new Error('connection reset mid-transaction');
            return tx.insertSale(sale);
          },
        })),
      );
      const completed = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } }));
      expect((await w.deliver(completed)).status).toBe(500);
      expect(await w.count('sa_webhook_events')).toBe(0);
      expect(await w.count('sa_customers')).toBe(0);
      expect((await w.deliver(completed)).status).toBe(200);
      expect(await w.attribution.sales.list({ livemode: false })).toHaveLength(1);
      expect(await w.count('sa_webhook_events')).toBe(1);
    });

    it('bad signatures answer 400 and write nothing; unknown types answer 200', async () => {
      const w = await world(backend);
      const payload = JSON.stringify(event('checkout.session.completed', checkoutSession()));
      const stale = signer.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 600 });
      expect((await w.attribution.handleWebhook(payload, stale)).status).toBe(400);
      expect((await w.attribution.handleWebhook(payload, 't=1,v1=deadbeef')).status).toBe(400);
      const garbage = 'not json at all';
      expect(await w.attribution.handleWebhook(garbage, signer.webhooks.generateTestHeaderString({ payload: garbage, secret: SECRET }))).toMatchObject({ status: 400, body: { error: expect.stringContaining('Malformed') } });
      expect(await w.count('sa_webhook_events')).toBe(0);
      expect(await w.deliver(event('product.created', { id: 'prod_1', object: 'product' }))).toEqual({ status: 200, body: { received: true, type: 'product.created' } });
      expect(await w.count('sa_webhook_events')).toBe(0);
    });

    it('handleEvent gives the same guarantees to merchants who verify webhooks themselves', async () => {
      const w = await world(backend);
      const completed = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } }));
      await Promise.all([w.attribution.handleEvent(completed), w.attribution.handleEvent(completed)]);
      expect(await w.attribution.sales.list({ livemode: false })).toHaveLength(1);
    });

    it('arrives through the Express adapter’s raw-body route', async () => {
      const w = await world(backend);
      const app = express();
      app.use(attributionMiddleware(w.attribution));
      app.use(express.json());
      const payload = JSON.stringify(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
      const reply = await request(app)
        .post('/webhooks/stripe')
        .set('content-type', 'application/json')
        .set('stripe-signature', signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }))
        .send(payload);
      expect(reply.status).toBe(200);
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ partnerId: w.alice, amount: 10000 });
    });
  });

  describe('trackSale (billing outside Stripe)', () => {
    it('goes through the same ledger, attributed by the lead; invoiceId makes a repeat a flagged duplicate', async () => {
      const w = await world(backend);
      await w.attribution.trackLead({ customerExternalId: 'user_ext', clickId: w.aliceClick });
      const first = await w.attribution.trackSale({ customerExternalId: 'user_ext', amount: 4900, currency: 'EUR', invoiceId: 'ord_1' });
      const repeat = await w.attribution.trackSale({ customerExternalId: 'user_ext', amount: 4900, currency: 'EUR', invoiceId: 'ord_1' });
      expect(first).toMatchObject({ duplicate: false, sale: { amount: 4900, currency: 'eur', partnerId: w.alice, externalInvoiceId: 'ord_1' } });
      expect(repeat).toEqual({ duplicate: true, sale: first.sale });
    });

    it('sales.list() shows live sales only unless test mode is asked for', async () => {
      const w = await world(backend);
      const live = await w.attribution.trackSale({ customerExternalId: 'user_live', amount: 1000, currency: 'usd', invoiceId: 'ord_live' });
      await w.deliver(event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } })));
      expect(await w.attribution.sales.list()).toEqual([live.sale]);
      expect((await w.attribution.sales.list({ livemode: false })).map((sale) => sale.stripeCheckoutSessionId)).toEqual(['cs_test_1']);
    });
  });
});
