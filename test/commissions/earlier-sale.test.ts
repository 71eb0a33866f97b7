import { describe, expect, it } from 'vitest';
import type { SaleReward } from '../../src/core/commissions/rewards.js';
import { backends } from '../support/backends.js';
import { T0, charge, event, invoice, invoicePayment } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

/**
 * DESIGN §5: the ledger after any delivery order equals in-order delivery. A subscriber's first
 * invoice comes while Alice's click is live; their renewal comes after the click's 90 days, so the
 * renewal alone would not credit them. Delivered first, the renewal is recorded unattributed; the
 * first invoice arriving after it must still credit the customer (the renewal is not an earlier
 * purchase by Stripe time) and then credit the renewal with its commission, net of what was
 * refunded of it meanwhile.
 */
const DAY = 86_400;
const RENEWAL_DAY = 120;

/** Customer `customer`'s subscription invoice paid `day` days after T0, carrying Alice's click in the subscription's metadata. */
function paidInvoice(w: World, customer: string, kind: 'first' | 'renewal') {
  const day = kind === 'first' ? 0 : RENEWAL_DAY;
  const id = `in_${customer}_${kind}`;
  const at = T0 + day * DAY;
  return event(
    'invoice.paid',
    invoice({
      id,
      customer,
      customer_email: `${customer}@example.com`,
      created: at,
      billing_reason: kind === 'first' ? 'subscription_create' : 'subscription_cycle',
      status_transitions: { finalized_at: at, marked_uncollectible_at: null, paid_at: at, voided_at: null },
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: { sa_click_id: w.aliceClick }, subscription: `sub_${customer}` } },
      payments: { object: 'list', data: [invoicePayment({ id: `inpay_${id}`, invoice: id, payment: { type: 'payment_intent', payment_intent: `pi_${id}` } })], has_more: false, url: '' },
    }),
    { created: at },
  );
}

function refunded(customer: string, amountRefunded: number) {
  const at = T0 + (RENEWAL_DAY + 1) * DAY;
  return event('charge.refunded', charge({ id: `ch_${customer}_renewal`, customer, payment_intent: `pi_in_${customer}_renewal`, amount_refunded: amountRefunded, refunded: amountRefunded === 10000 }), { created: at });
}

type Step = 'first' | 'renewal' | { refund: number };

/** Delivers `steps` for `customer`; returns its sales and commissions as comparable rows (ids replaced by the invoice's role). */
async function ledgerAfter(w: World, customer: string, steps: readonly Step[]) {
  for (const step of steps) {
    const delivered = typeof step === 'string' ? paidInvoice(w, customer, step) : refunded(customer, step.refund);
    expect((await w.deliver(delivered)).status).toBe(200);
  }
  const sales = (await w.attribution.sales.list({ livemode: false })).filter((s) => s.stripeInvoiceId?.startsWith(`in_${customer}_`));
  const role = (saleId: string | null) => sales.find((s) => s.id === saleId)?.stripeInvoiceId?.slice(`in_${customer}_`.length) ?? null;
  const customerId = sales[0]!.customerId!;
  const commissions = (await w.attribution.commissions.list({ customerId })).map((c) => ({
    sale: role(c.saleId),
    kind: c.kind,
    partnerId: c.partnerId,
    amount: c.amount,
    status: c.status,
  }));
  return {
    sales: sales.map((s) => ({ sale: role(s.id), partnerId: s.partnerId, amount: s.amount, refunded: s.amountRefunded })).sort((a, b) => a.sale!.localeCompare(b.sale!)),
    commissions: commissions.sort((a, b) => `${a.kind}:${a.sale}`.localeCompare(`${b.kind}:${b.sale}`)),
  };
}

const rewards: Array<[string, SaleReward, number]> = [
  // [name, reward, the renewal's commission in order (before refunds)]
  ['12 months', { type: 'percent', percent: 30, duration: { months: 12 } }, 3000],
  ['lifetime', { type: 'percent', percent: 30, duration: 'lifetime' }, 3000],
  ['3 months (the renewal is outside)', { type: 'percent', percent: 30, duration: { months: 3 } }, 0],
  ['once', { type: 'flat', amount: 2500, duration: 'once' }, 0],
];

describe.each(backends())('an earlier first sale delivered after a later one, on $name', (backend) => {
  it.each(rewards)('%s: the renewal delivered first ends as in order', async (name, reward, renewalCommission) => {
    const w = await world(backend, undefined, { program: { currency: 'usd', holdDays: 30, reward, leadReward: { type: 'flat', amount: 200 } } });
    const tag = name.split(' ')[0]!.replace(/\W/g, '');
    const inOrder = await ledgerAfter(w, `cus_io_${tag}`, ['first', 'renewal']);
    const reversed = await ledgerAfter(w, `cus_rev_${tag}`, ['renewal', 'first']);
    expect(inOrder.sales.map((s) => s.partnerId)).toEqual([w.alice, w.alice]);
    expect(inOrder.commissions.filter((c) => c.sale === 'renewal').map((c) => c.amount)).toEqual(renewalCommission ? [renewalCommission] : []);
    expect(inOrder.commissions.filter((c) => c.kind === 'lead')).toHaveLength(1);
    expect(reversed).toEqual(inOrder);
  });

  it('a refund recorded on the renewal before the first sale arrives: the renewal’s commission is net of it', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 30, duration: 'lifetime' } } });
    const inOrder = await ledgerAfter(w, 'cus_io_refund', ['first', 'renewal', { refund: 2500 }]);
    const reversed = await ledgerAfter(w, 'cus_rev_refund', ['renewal', { refund: 2500 }, 'first']);
    // 30 % of the 7,500 that remain.
    expect(inOrder.commissions).toEqual([
      { sale: 'first', kind: 'sale', partnerId: w.alice, amount: 3000, status: 'pending' },
      { sale: 'renewal', kind: 'sale', partnerId: w.alice, amount: 2250, status: 'pending' },
    ]);
    expect(reversed).toEqual(inOrder);

    const whole = await ledgerAfter(w, 'cus_io_whole', ['first', 'renewal', { refund: 10000 }]);
    const wholeReversed = await ledgerAfter(w, 'cus_rev_whole', ['renewal', { refund: 10000 }, 'first']);
    expect(whole.commissions.find((c) => c.sale === 'renewal')).toMatchObject({ amount: 0, status: 'voided' });
    expect(wholeReversed).toEqual(whole);
  });

  it('a customer who bought unattributed earlier by Stripe time is still not claimed by a later click', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 30, duration: 'lifetime' } } });
    // Two days before the first invoice, a purchase without a click.
    const earlier = paidInvoice(w, 'cus_unattributed', 'first');
    Object.assign(earlier.data.object, { id: 'in_cus_unattributed_earlier', created: T0 - 2 * DAY, payments: null });
    earlier.data.object.parent!.subscription_details!.metadata = {};
    earlier.data.object.status_transitions.paid_at = T0 - 2 * DAY;
    for (const delivered of [earlier, paidInvoice(w, 'cus_unattributed', 'first')]) expect((await w.deliver(delivered)).status).toBe(200);
    const sales = (await w.attribution.sales.list({ livemode: false })).filter((s) => s.stripeInvoiceId?.startsWith('in_cus_unattributed_'));
    expect(sales.map((s) => [s.stripeInvoiceId, s.partnerId])).toEqual([
      ['in_cus_unattributed_earlier', null],
      ['in_cus_unattributed_first', null],
    ]);
    expect(await w.attribution.commissions.list({ customerId: sales[0]!.customerId! })).toEqual([]);
  });
});
