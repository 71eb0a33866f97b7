import { describe, expect, it } from 'vitest';
import type { AttributionOptions } from '../../src/core/options/options.js';
import type { Commission } from '../../src/core/storage/types.js';
import { backends } from '../support/backends.js';
import { T0, charge, checkoutSession, event, invoice } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

/**
 * DESIGN §5: the customer's first sale is the earliest by Stripe time, whatever order the webhooks
 * come in. An earlier purchase delivered after a later one moves the `'once'` sale and the month
 * window to it, and the later sale's commission is corrected through the ledger.
 */
const DAY = 86_400;
type Reward = NonNullable<NonNullable<AttributionOptions['program']>['reward']>;
const program = (reward: Reward) => ({ program: { holdDays: 30, reward } });

/** A one-off purchase of the same customer through Alice's click, `days` after T0. */
const purchase = (w: World, n: number, days: number) =>
  event('checkout.session.completed', checkoutSession({ id: `cs_${n}`, payment_intent: `pi_${n}`, created: T0 + days * DAY, metadata: { sa_click_id: w.aliceClick } }));

/** A subscription invoice of the same customer, paid `days` after T0, through Alice's click. */
const paidInvoice = (w: World, id: string, days: number) =>
  event(
    'invoice.paid',
    invoice({
      id,
      created: T0 + days * DAY,
      billing_reason: days === 0 ? 'subscription_create' : 'subscription_cycle',
      status_transitions: { finalized_at: T0 + days * DAY, marked_uncollectible_at: null, paid_at: T0 + days * DAY, voided_at: null },
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: { sa_click_id: w.aliceClick }, subscription: 'sub_1' } },
    }),
  );

/** The ledger by sale (named by its Stripe time in days after T0): kind, status, amount, reason. */
async function ledger(w: World): Promise<Record<number, Array<[string, string, number, string | null]>>> {
  const sales = new Map((await w.attribution.sales.list({ livemode: false })).map((sale) => [sale.id, (sale.occurredAt.getTime() / 1000 - T0) / DAY]));
  const bySale: Record<number, Array<[string, string, number, string | null]>> = {};
  for (const c of await w.attribution.commissions.list()) (bySale[sales.get(c.saleId!)!] ??= []).push([c.kind, c.status, c.amount, c.reason]);
  return bySale;
}

describe.each(backends())('reward windows by Stripe time on $name', (backend) => {
  it("'once': the earlier purchase delivered last pays; the later one's commission is voided, and hooks say so", async () => {
    const w = await world(backend, undefined, program({ type: 'flat', amount: 2500, duration: 'once' }));
    const seen: string[] = [];
    w.attribution.on('commission.created', ({ commission }) => void seen.push(`created ${commission.amount}`));
    w.attribution.on('commission.voided', ({ commission }) => void seen.push(`voided ${commission.reason}`));
    await w.deliver(purchase(w, 2, 10));
    await w.deliver(purchase(w, 1, 0));
    expect(await ledger(w)).toEqual({ 0: [['sale', 'pending', 2500, null]], 10: [['sale', 'voided', 0, 'earlier_first_sale']] });
    await w.attribution.outbox.drain();
    expect(seen).toEqual(['created 2500', 'voided earlier_first_sale', 'created 2500']);

    // The voided commission earns nothing any more: a refund of its sale leaves it as it is, and
    // a refund of the first sale reduces the first sale's commission as usual.
    await w.deliver(event('charge.refunded', charge({ id: 'ch_2', payment_intent: 'pi_2', amount: 10000, amount_refunded: 4000 })));
    await w.deliver(event('charge.refunded', charge({ id: 'ch_1', payment_intent: 'pi_1', amount: 10000, amount_refunded: 10000, refunded: true })));
    expect(await ledger(w)).toEqual({ 0: [['sale', 'voided', 0, 'refunded']], 10: [['sale', 'voided', 0, 'earlier_first_sale']] });
  });

  it("'once' with the later purchase paid out already: a clawback nets it, approved at once", async () => {
    const w = await world(backend, undefined, program({ type: 'flat', amount: 2500, duration: 'once' }));
    await w.deliver(purchase(w, 2, 10));
    await w.attribution.commissions.approveDue(new Date((T0 + 45 * DAY) * 1000));
    const [paid] = await w.attribution.commissions.list();
    await w.attribution.commissions.markPaid([paid!.id]);
    await w.deliver(purchase(w, 1, 0));
    expect(await ledger(w)).toEqual({
      0: [['sale', 'pending', 2500, null]],
      10: [
        ['sale', 'paid', 2500, null],
        ['clawback', 'approved', -2500, 'earlier_first_sale'],
      ],
    });
    // A later refund of the clawed-back sale takes nothing more.
    await w.deliver(event('charge.refunded', charge({ id: 'ch_2', payment_intent: 'pi_2', amount: 10000, amount_refunded: 10000, refunded: true })));
    const net = (await w.attribution.commissions.list()).filter((c: Commission) => c.saleId === paid!.saleId).reduce((sum, c) => sum + c.amount, 0);
    expect(net).toBe(0);
  });

  it('{ months: 1 }: a late earlier sale moves the window, so a renewal that paid falls out of it', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 10, duration: { months: 1 } }));
    // Delivered first: day 20 opens a window to day 50, in which day 45 pays.
    await w.deliver(paidInvoice(w, 'in_20', 20));
    await w.deliver(paidInvoice(w, 'in_45', 45));
    expect(await ledger(w)).toEqual({ 20: [['sale', 'pending', 1000, null]], 45: [['sale', 'pending', 1000, null]] });
    // Day 0 (May 1) arrives late: the window ends June 1 (day 31), so day 45 no longer pays.
    await w.deliver(paidInvoice(w, 'in_0', 0));
    expect(await ledger(w)).toEqual({
      0: [['sale', 'pending', 1000, null]],
      20: [['sale', 'pending', 1000, null]],
      45: [['sale', 'voided', 0, 'earlier_first_sale']],
    });
    // A renewal after the moved window earns nothing, as in order.
    await w.deliver(paidInvoice(w, 'in_40', 40));
    expect((await ledger(w))[40]).toBeUndefined();
  });

  it('lifetime rewards and later sales inside the window are left as they are', async () => {
    const w = await world(backend, undefined, program({ type: 'percent', percent: 10 }));
    await w.deliver(paidInvoice(w, 'in_80', 80));
    await w.deliver(paidInvoice(w, 'in_0', 0));
    expect(await ledger(w)).toEqual({ 0: [['sale', 'pending', 1000, null]], 80: [['sale', 'pending', 1000, null]] });
  });

  it('the same Stripe second: the smaller sale id is the first sale, whichever arrives first', async () => {
    const w = await world(backend, undefined, program({ type: 'flat', amount: 2500, duration: 'once' }));
    await w.deliver(purchase(w, 1, 0));
    await w.deliver(purchase(w, 2, 0));
    const sales = (await w.attribution.sales.list({ livemode: false })).map((s) => s.id).sort();
    const paying = (await w.attribution.commissions.list()).filter((c) => c.amount > 0).map((c) => c.saleId);
    expect(paying).toEqual([sales[0]]);
  });
});
