import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { AttributionOptions } from '../../src/core/options/options.js';
import { backends } from '../support/backends.js';
import { T0, charge, checkoutSession, creditNote, discount, dispute, event, invoice, invoiceLine, invoicePayment, lineItem, subscription } from '../support/stripe-fixtures.js';
import { stripeServer, world, type World } from '../support/world.js';

const DAY = 86_400;
const program = (reward: NonNullable<AttributionOptions['program']>['reward'], extra: Partial<NonNullable<AttributionOptions['program']>> = {}) => ({
  program: { holdDays: 30, reward, ...extra },
});

/** A subscription invoice paid `days` after the first, credited through Alice's click. */
function paidInvoice(w: World, id: string, days: number, overrides: Partial<Stripe.Invoice> = {}) {
  return event(
    'invoice.paid',
    invoice({
      id,
      created: T0 + days * DAY,
      billing_reason: days === 0 ? 'subscription_create' : 'subscription_cycle',
      status_transitions: { finalized_at: T0 + days * DAY, marked_uncollectible_at: null, paid_at: T0 + days * DAY, voided_at: null },
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: { sa_click_id: w.aliceClick }, subscription: 'sub_1' } },
      ...overrides,
    }),
  );
}

const checkout = (w: World, overrides: Partial<Stripe.Checkout.Session> = {}) =>
  event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick }, ...overrides }));

describe.each(backends())('commission journeys on $name', (backend) => {
  it('12-month recurring: months 1 to 12 pay, month 13 pays nothing', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30, duration: { months: 12 } }));
    for (const [id, days] of [['in_m1', 0], ['in_m12', 334], ['in_m13', 365]] as const) await w.deliver(paidInvoice(w, id, days));
    const commissions = await w.attribution.commissions.list({ partnerId: w.alice });
    expect(commissions.map((c) => [c.kind, c.amount, c.status])).toEqual([
      ['sale', 3000, 'pending'],
      ['sale', 3000, 'pending'],
    ]);
    expect((await w.attribution.sales.list({ livemode: false })).map((s) => s.partnerId)).toEqual([w.alice, w.alice, w.alice]);
  });

  it('a partner’s own reward applies to customers whose first sale comes later; locked terms stay', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await w.deliver(checkout(w, { id: 'cs_1', payment_intent: 'pi_1', customer: 'cus_1', customer_details: null, customer_email: 'one@example.com' }));
    await w.attribution.partners.setReward(w.alice, { type: 'percent', percent: 50 });
    await w.deliver(checkout(w, { id: 'cs_2', payment_intent: 'pi_2', customer: 'cus_1', customer_details: null, customer_email: 'one@example.com', created: T0 + 60 }));
    await w.deliver(checkout(w, { id: 'cs_3', payment_intent: 'pi_3', customer: 'cus_2', customer_details: null, customer_email: 'two@example.com', created: T0 + 120 }));
    expect((await w.attribution.commissions.list()).map((c) => c.amount)).toEqual([3000, 3000, 5000]);
    await expect(w.attribution.partners.setReward(w.alice, { type: 'percent', percent: 150 })).rejects.toThrow(/between 0 and 100/);
  });

  it('lifetime keeps paying; once pays the first sale only', async () => {
    const lifetime = await world(backend, undefined, program({ type: 'percent', percent: 10, duration: 'lifetime' }));
    for (const [id, days] of [['in_1', 0], ['in_2', 900]] as const) await lifetime.deliver(paidInvoice(lifetime, id, days));
    expect((await lifetime.attribution.commissions.list()).map((c) => c.amount)).toEqual([1000, 1000]);

    const once = await world(backend, undefined, program({ type: 'flat', amount: 2500, duration: 'once' }));
    for (const [id, days] of [['in_1', 0], ['in_2', 30]] as const) await once.deliver(paidInvoice(once, id, days));
    expect((await once.attribution.commissions.list()).map((c) => c.amount)).toEqual([2500]);
  });

  it('product-specific rates apply per line, rounded once over the sum', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30, products: { prod_gold: { type: 'percent', percent: 40 } } }));
    const lines = [
      invoiceLine({ id: 'il_gold', amount: 3333 }),
      invoiceLine({ id: 'il_silver', amount: 6667, pricing: { type: 'price_details', price_details: { price: 'price_silver', product: 'prod_silver' }, unit_amount_decimal: null } }),
    ];
    await w.deliver(paidInvoice(w, 'in_1', 0, { lines: { object: 'list', data: lines, has_more: false, url: '' } }));
    // 3333 × 40 % + 6667 × 30 % = 1333.2 + 2000.1 = 3333.3 → 3333
    expect((await w.attribution.commissions.list()).map((c) => c.amount)).toEqual([3333]);
  });

  it('a checkout’s line items are fetched through the merchant’s client only when a product rate needs them', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 10, products: { prod_gold: { type: 'percent', percent: 50 } } }));
    stripeServer.answers.set('GET /v1/checkout/sessions/cs_lines/line_items', {
      object: 'list',
      has_more: false,
      url: '/v1/checkout/sessions/cs_lines/line_items',
      data: [lineItem('li_gold', 'prod_gold', 7140, 1140), lineItem('li_other', 'prod_other', 4760, 760)],
    });
    try {
      await w.deliver(checkout(w, { id: 'cs_lines', amount_total: 11900, total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 1900 } }));
    } finally {
      stripeServer.answers.clear();
    }
    // Sale 10000 split 6000 / 4000: 6000 × 50 % + 4000 × 10 % = 3400.
    expect((await w.attribution.commissions.list()).map((c) => c.amount)).toEqual([3400]);
    const [sale] = await w.attribution.sales.list({ livemode: false });
    expect((await w.storage.getSaleLines(sale!.id)).map((line) => [line.stripeProductId, line.amount])).toEqual([
      ['prod_gold', 6000],
      ['prod_other', 4000],
    ]);

    const plain = await world(backend, undefined, program({ type: 'percent', percent: 10 }));
    const before = stripeServer.requests.length;
    await plain.deliver(checkout(plain));
    expect(stripeServer.requests.slice(before).some((r) => r.path.includes('line_items'))).toBe(false);
  });

  it('a line item’s promotion code and its product rate come from one listing of the line items', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 10, products: { prod_gold: { type: 'percent', percent: 50 } } }));
    const gold = { ...lineItem('li_gold', 'prod_gold', 6000), amount_discount: 1000, discounts: [{ amount: 1000, discount: discount({ id: 'di_gold' }) }] };
    stripeServer.answers.set('GET /v1/checkout/sessions/cs_coded/line_items', { object: 'list', has_more: false, url: '/v1/checkout/sessions/cs_coded/line_items', data: [gold, lineItem('li_other', 'prod_other', 4000)] });
    const before = stripeServer.requests.length;
    try {
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_coded', amount_total: 10000, total_details: { amount_discount: 1000, amount_shipping: 0, amount_tax: 0 } })));
    } finally {
      stripeServer.answers.clear();
    }
    // No click: the code on the gold line credits Alice. 6000 × 50 % + 4000 × 10 % = 3400.
    expect((await w.attribution.commissions.list()).map((c) => [c.partnerId, c.amount])).toEqual([[w.alice, 3400]]);
    expect(stripeServer.requests.slice(before).filter((r) => r.path.includes('line_items'))).toHaveLength(1);
  });

  it('pending during the hold, approved after it (idempotently), then paid', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 20 }));
    await w.deliver(checkout(w));
    const [commission] = await w.attribution.commissions.list();
    expect(commission).toMatchObject({ status: 'pending', amount: 2000, holdUntil: new Date((T0 + 30 * DAY) * 1000) });
    expect(await w.attribution.commissions.approveDue(new Date((T0 + 29 * DAY) * 1000))).toEqual({ approved: 0 });
    const after = new Date((T0 + 31 * DAY) * 1000);
    const [a, b] = await Promise.all([w.attribution.commissions.approveDue(after), w.attribution.commissions.approveDue(after)]);
    expect(a.approved + b.approved).toBe(1);
    expect(await w.attribution.commissions.markPaid([commission!.id], { payoutId: 'po_1' })).toEqual({ paid: 1 });
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ status: 'paid', payoutId: 'po_1' });
  });

  it('partial refunds ×3 before approval add up exactly; a full refund voids', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 33.33 }));
    await w.deliver(checkout(w, { amount_total: 9999, total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 } }));
    expect((await w.attribution.commissions.list())[0]!.amount).toBe(3333); // 9999 × 33.33 % = 3332.67
    for (const refunded of [1111, 2222, 5000]) await w.deliver(event('charge.refunded', charge({ amount: 9999, amount_refunded: refunded })));
    // What remains: 4999 × 33.33 % = 1666.17 → 1666, however the refunds were split.
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 1666, status: 'pending' });
    await w.deliver(event('charge.refunded', charge({ amount: 9999, amount_refunded: 9999, refunded: true })));
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 0, status: 'voided', reason: 'refunded' });
  });

  it('a refund after approval, before payout, adjusts the approved commission', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await w.deliver(checkout(w));
    await w.attribution.commissions.approveDue(new Date((T0 + 31 * DAY) * 1000));
    await w.deliver(event('charge.refunded', charge({ amount: 10000, amount_refunded: 4000 })));
    const ledger = await w.attribution.commissions.list();
    expect(ledger.map((c) => [c.kind, c.status, c.amount])).toEqual([['sale', 'approved', 1800]]);
  });

  it('a refund after payout is a clawback, approved at once', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await w.deliver(checkout(w));
    await w.attribution.commissions.approveDue(new Date((T0 + 31 * DAY) * 1000));
    const [paid] = await w.attribution.commissions.list();
    await w.attribution.commissions.markPaid([paid!.id]);
    await w.deliver(event('charge.refunded', charge({ amount: 10000, amount_refunded: 2500 })));
    const ledger = await w.attribution.commissions.list();
    expect(ledger.map((c) => [c.kind, c.status, c.amount])).toEqual([
      ['sale', 'paid', 3000],
      ['clawback', 'approved', -750],
    ]);
  });

  it('a refund recorded before the commission existed is applied to it', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await w.deliver(event('charge.refunded', charge({ amount: 10000, amount_refunded: 5000 })));
    await w.deliver(checkout(w));
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 1500 });
  });

  it('a dispute holds the commission; won releases it, lost reduces it like a refund', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await w.deliver(checkout(w));
    const theCharge = charge({ amount: 10000 });
    await w.deliver(event('charge.dispute.created', dispute({ amount: 10000, charge: theCharge })));
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ status: 'held', amount: 3000 });
    expect(await w.attribution.commissions.approveDue(new Date((T0 + 60 * DAY) * 1000))).toEqual({ approved: 0 });
    await w.deliver(event('charge.dispute.closed', dispute({ amount: 10000, charge: theCharge, status: 'won' })));
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ status: 'pending', amount: 3000 });

    const lost = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await lost.deliver(checkout(lost));
    await lost.deliver(event('charge.dispute.created', dispute({ id: 'dp_2', amount: 4000, charge: theCharge })));
    await lost.deliver(event('charge.dispute.closed', dispute({ id: 'dp_2', amount: 4000, charge: theCharge, status: 'lost' })));
    expect((await lost.attribution.commissions.list())[0]).toMatchObject({ status: 'pending', amount: 1800 });
  });

  it('a credit note to the balance reduces the commission', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await w.deliver(paidInvoice(w, 'in_1', 0, { total: 11900, total_excluding_tax: 10000, amount_paid: 11900, amount_due: 11900 }));
    await w.deliver(event('credit_note.created', creditNote()));
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 1500 });
  });

  it('a partner buying through their own link earns nothing, now or later', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    const own = { customer_details: { address: null, business_name: null, email: 'Alice@Partners.example', individual_name: null, name: 'Alice', phone: null, tax_exempt: 'none' as const, tax_ids: [] }, customer: 'cus_alice' };
    await w.deliver(checkout(w, { id: 'cs_1', payment_intent: 'pi_1', ...own }));
    await w.deliver(checkout(w, { id: 'cs_2', payment_intent: 'pi_2', created: T0 + 60, ...own }));
    const commissions = await w.attribution.commissions.list();
    expect(commissions.map((c) => [c.status, c.amount, c.reason])).toEqual([
      ['voided', 0, 'self_referral'],
      ['voided', 0, 'self_referral'],
    ]);
    // It stays Alice's sale all the same.
    expect((await w.attribution.sales.list({ livemode: false })).map((s) => s.partnerId)).toEqual([w.alice, w.alice]);
  });

  it('no recurring commissions after the subscription ended (churn)', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await w.deliver(paidInvoice(w, 'in_1', 0));
    await w.deliver(event('customer.subscription.deleted', subscription({ status: 'canceled', canceled_at: T0 + 40 * DAY, ended_at: T0 + 40 * DAY })));
    await w.deliver(paidInvoice(w, 'in_2', 60));
    expect((await w.attribution.commissions.list()).map((c) => c.amount)).toEqual([3000]);
  });

  it('manual void (fraud blocks later commissions) and adjustment keep their reasons', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
    await w.deliver(checkout(w, { id: 'cs_1', payment_intent: 'pi_1' }));
    const [first] = await w.attribution.commissions.list();
    expect(await w.attribution.commissions.adjust(first!.id, 200, 'launch bonus')).toMatchObject({ amount: 3200 });
    expect(await w.attribution.commissions.void(first!.id, 'card testing', { fraud: true })).toMatchObject({ status: 'voided', amount: 0, reason: 'card testing' });
    await w.deliver(checkout(w, { id: 'cs_2', payment_intent: 'pi_2', created: T0 + 60 }));
    expect((await w.attribution.commissions.list()).map((c) => [c.status, c.reason])).toEqual([
      ['voided', 'card testing'],
      ['voided', 'fraud'],
    ]);
  });

  it('with convert, commissions are in the program currency at the sale’s rate, and refunds scale them exactly', async () => {
    const calls: unknown[] = [];
    const w = await world(backend, undefined, {
      program: { currency: 'usd', holdDays: 30, reward: { type: 'percent', percent: 30 } },
      convert: ({ amount, from, to, at }) => {
        calls.push([amount, from, to, at.toISOString()]);
        return Math.round((amount * 108) / 100); // 1 EUR = 1.08 USD
      },
    });
    await w.deliver(checkout(w, { currency: 'eur', amount_total: 9999 }));
    expect(calls).toEqual([[3000, 'eur', 'usd', new Date(T0 * 1000).toISOString()]]); // 9999 × 30 % = 2999.7 → 3000
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ currency: 'usd', amount: 3240 });
    await w.deliver(event('charge.refunded', charge({ currency: 'eur', amount: 9999, amount_refunded: 3333 })));
    // Exact: 6666 × 30 % × 3240 / 3000 = 2159.78 → 2160.
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ currency: 'usd', amount: 2160 });
    expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ currency: 'eur', amount: 9999 });
  });

  describe('lead rewards per trial seat', () => {
    const perSeat = (perTrialSeat?: boolean) => ({ livemode: false, program: { currency: 'usd', holdDays: 14, leadReward: { type: 'flat' as const, amount: 200, ...(perTrialSeat === undefined ? {} : { perTrialSeat }) } } });
    const trial = (w: World, quantity: number, overrides: Partial<Stripe.Subscription> = {}) =>
      event('customer.subscription.created', subscription({ status: 'trialing', quantity, metadata: { sa_click_id: w.aliceClick }, ...overrides }));
    const leads = async (w: World) => (await w.attribution.commissions.list()).filter((c) => c.kind === 'lead');

    it('a trial of five seats pays five lead rewards, once, however often and however concurrently it arrives', async () => {
      const w = await world(backend, undefined, perSeat(true));
      const created = trial(w, 5);
      await Promise.all([w.deliver(created), w.deliver(created), w.attribution.handleEvent({ ...created, id: `${created.id}_reconciled` })]);
      await w.deliver(created);
      const paid = await leads(w);
      expect(paid.map((c) => [c.partnerId, c.amount, c.currency, c.status])).toEqual(Array.from({ length: 5 }, () => [w.alice, 200, 'usd', 'pending']));
      expect(paid.every((c) => c.holdUntil?.getTime() === (T0 + 14 * DAY) * 1000)).toBe(true);
      expect(new Set(paid.map((c) => c.customerId)).size).toBe(1);
      // The customer is one lead in reports; the seats are in the commissions.
      const [row] = await w.attribution.report({ from: new Date((T0 - DAY) * 1000), to: new Date((T0 + DAY) * 1000), interval: 'all', livemode: false });
      expect(row).toMatchObject({ partnerId: w.alice, leads: 1, currencies: { usd: { commissions: { pending: 1000 } } } });
    });

    it('the signup’s lead is the first seat; a later trial pays the seats of the largest trial, never a seat twice', async () => {
      const w = await world(backend, undefined, perSeat(true));
      await w.attribution.trackLead({ customerExternalId: 'user_team', clickId: w.aliceClick });
      expect(await leads(w)).toHaveLength(1);
      await w.deliver(trial(w, 3, { metadata: { sa_customer_key: 'user_team' } }));
      expect(await leads(w)).toHaveLength(3);
      await w.deliver(trial(w, 2, { id: 'sub_2', metadata: { sa_customer_key: 'user_team' } }));
      expect(await leads(w)).toHaveLength(3);
      await w.deliver(trial(w, 4, { id: 'sub_3', metadata: { sa_customer_key: 'user_team' } }));
      expect((await leads(w)).map((c) => c.amount)).toEqual([200, 200, 200, 200]);
      // Seats of an active (not trialing) subscription, or added later, are not leads.
      await w.deliver(event('customer.subscription.created', subscription({ id: 'sub_4', quantity: 9, metadata: { sa_customer_key: 'user_team' } })));
      await w.deliver(event('customer.subscription.updated', subscription({ id: 'sub_3', status: 'trialing', quantity: 9, metadata: { sa_customer_key: 'user_team' } })));
      expect(await leads(w)).toHaveLength(4);
    });

    it('off by default: a trial of five seats is one lead reward; an unattributed trial pays none', async () => {
      const w = await world(backend, undefined, perSeat());
      await w.deliver(trial(w, 5));
      await w.deliver(trial(w, 5, { id: 'sub_other', customer: 'cus_other', metadata: {} }));
      expect((await leads(w)).map((c) => c.amount)).toEqual([200]);
    });
  });

  describe('an invoice paid by several charges (Basil partial payments)', () => {
    /** Invoice in_split, untaxed `total`, paid by pi_big and pi_small (charges ch_big and ch_small) summing to it. */
    async function splitInvoice(w: World, big: number, small: number, overrides: Partial<Stripe.Invoice> = {}) {
      const total = big + small;
      await w.deliver(paidInvoice(w, 'in_split', 0, { total, subtotal: total, total_excluding_tax: total, amount_due: total, amount_paid: total, ...overrides }));
      for (const [intent, amount] of [['pi_big', big], ['pi_small', small]] as const) {
        await w.deliver(event('invoice_payment.paid', invoicePayment({ id: `inpay_${intent}`, invoice: 'in_split', amount_paid: amount, amount_requested: amount, payment: { type: 'payment_intent', payment_intent: intent } })));
      }
    }
    const refundOf = (which: 'big' | 'small', amount: number, refunded: number) =>
      event('charge.refunded', charge({ id: `ch_${which}`, payment_intent: `pi_${which}`, amount, amount_refunded: refunded, refunded: refunded === amount }));

    it('a full refund of one charge claws back only that charge’s share of the invoice; each charge’s refunds add up', async () => {
      const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
      await splitInvoice(w, 15000, 5000);
      expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 6000 });
      const small = refundOf('small', 5000, 5000);
      await w.deliver(small);
      await w.deliver(small);
      // A quarter of the invoice came back: 15000 remain, 30 % of it.
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 20000, amountRefunded: 5000 });
      expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 4500, status: 'pending' });
      // The other charge's cumulative total adds to the first's, and an older event of it changes nothing.
      await w.deliver(refundOf('big', 15000, 6000));
      await w.deliver(refundOf('big', 15000, 3000));
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountRefunded: 11000 });
      expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 2700 });
      await w.deliver(refundOf('big', 15000, 15000));
      expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 0, status: 'voided', reason: 'refunded' });
    });

    it('after payout the clawback is that charge’s share, and all clawbacks together never exceed the commission', async () => {
      const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
      // 9999 untaxed out of 10000 paid as 5000 + 5000: each charge's exact share is 4999.5.
      await splitInvoice(w, 5000, 5000, { total_excluding_tax: 9999 });
      await w.attribution.commissions.approveDue(new Date((T0 + 31 * DAY) * 1000));
      const [paid] = await w.attribution.commissions.list();
      expect(paid).toMatchObject({ amount: 3000 }); // 9999 × 30 % = 2999.7
      await w.attribution.commissions.markPaid([paid!.id]);
      await w.deliver(refundOf('small', 5000, 5000));
      expect((await w.attribution.commissions.list()).map((c) => [c.kind, c.amount])).toEqual([
        ['sale', 3000],
        ['clawback', -1500], // 4999 remain: 1499.7 → 1500
      ]);
      await w.deliver(refundOf('big', 5000, 5000));
      const ledger = await w.attribution.commissions.list();
      expect(ledger.map((c) => [c.kind, c.amount])).toEqual([
        ['sale', 3000],
        ['clawback', -1500],
        ['clawback', -1500],
      ]);
      expect(ledger.reduce((sum, c) => sum + c.amount, 0)).toBe(0);
      // Rounded once over both charges: never more than the sale, though each half rounds up to 5000.
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 9999, amountRefunded: 9999 });
    });

    it('a lost dispute on one charge reduces the commission by that charge’s share only', async () => {
      const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
      await splitInvoice(w, 15000, 5000);
      const disputed = dispute({ id: 'dp_small', amount: 5000, charge: 'ch_small', payment_intent: 'pi_small' });
      await w.deliver(event('charge.dispute.created', disputed));
      expect((await w.attribution.commissions.list())[0]).toMatchObject({ status: 'held', amount: 6000 });
      await w.deliver(event('charge.dispute.closed', { ...disputed, status: 'lost' }));
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountDisputed: 5000 });
      expect((await w.attribution.commissions.list())[0]).toMatchObject({ status: 'pending', amount: 4500 });
      // Then the other charge is refunded in full: nothing remains, and nothing more than the commission went back.
      await w.deliver(refundOf('big', 15000, 15000));
      expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 0, status: 'voided' });
    });

    it('lost disputes on both charges, each rounded up, never count more than the sale or claw back more than the commission', async () => {
      const w = await world(backend, undefined, program({ type: 'percent', percent: 30 }));
      await splitInvoice(w, 5000, 5000, { total_excluding_tax: 9999 });
      for (const which of ['big', 'small'] as const) {
        const disputed = dispute({ id: `dp_${which}`, amount: 5000, charge: `ch_${which}`, payment_intent: `pi_${which}` });
        await w.deliver(event('charge.dispute.created', disputed));
        await w.deliver(event('charge.dispute.closed', { ...disputed, status: 'lost' }));
      }
      expect((await w.attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amount: 9999, amountDisputed: 9999 });
      expect((await w.attribution.commissions.list()).map((c) => [c.amount, c.status, c.reason])).toEqual([[0, 'voided', 'dispute_lost']]);
    });

    it('a refund that arrived before the invoice knew its charge is applied when invoice_payment.paid names it', async () => {
      const w = await world(backend, undefined, { ...program({ type: 'percent', percent: 30 }), stripe: undefined });
      await w.deliver(paidInvoice(w, 'in_split', 0, { total: 20000, subtotal: 20000, total_excluding_tax: 20000, amount_due: 20000, amount_paid: 20000 }));
      await w.deliver(event('invoice_payment.paid', invoicePayment({ id: 'inpay_big', invoice: 'in_split', amount_paid: 15000, payment: { type: 'payment_intent', payment_intent: 'pi_big' } })));
      await w.deliver(refundOf('small', 5000, 5000));
      expect(await w.count('sa_parked_events')).toBe(1);
      await w.deliver(event('invoice_payment.paid', invoicePayment({ id: 'inpay_small', invoice: 'in_split', amount_paid: 5000, payment: { type: 'payment_intent', payment_intent: 'pi_small' } })));
      expect(await w.count('sa_parked_events')).toBe(0);
      expect((await w.attribution.commissions.list())[0]).toMatchObject({ amount: 4500 });
    });
  });

  it('a lead reward pays once per customer, in test mode kept as test data', async () => {
    const w = await world(backend, undefined, { livemode: false, program: { currency: 'usd', holdDays: 0, leadReward: { type: 'flat', amount: 200 } } });
    await w.attribution.trackLead({ customerExternalId: 'user_1', clickId: w.aliceClick });
    await w.attribution.trackLead({ customerExternalId: 'user_1', clickId: w.aliceClick });
    const commissions = await w.attribution.commissions.list();
    expect(commissions.map((c) => [c.kind, c.amount, c.currency])).toEqual([['lead', 200, 'usd']]);
    await w.deliver(checkout(w));
    expect((await w.attribution.commissions.list()).map((c) => c.kind)).toEqual(['lead', 'lead']);
    expect((await w.attribution.commissions.list()).every((c) => c.livemode === false)).toBe(true);
  });
});
