import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { charge, checkoutSession, event, T0 } from '../support/stripe-fixtures.js';
import { ConflictError } from '../../src/core/kernel/errors.js';
import { overrideInTransactions, world, type World } from '../support/world.js';

const AFTER_HOLD = new Date((T0 + 31 * 86_400) * 1000);
const program = { program: { currency: 'usd', holdDays: 30, reward: { type: 'percent' as const, percent: 30 }, leadReward: { type: 'flat' as const, amount: 500 } }, outbox: { worker: false } };

/** A 100.00 checkout through Alice's click, its own customer: a 30.00 sale commission and a 5.00 lead commission. */
const buy = (w: World, id: string) =>
  w.deliver(event('checkout.session.completed', checkoutSession({ id, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@buyers.example`, metadata: { sa_click_id: w.aliceClick } })));

describe.each(backends())('adjusting a commission by hand on $name', (backend) => {
  it('a paid sale commission stays as paid: the change is a clawback netted in the next payout, announced, and a refund later takes only the rest', async () => {
    const w = await world(backend, undefined, program);
    const clawedBack: number[] = [];
    w.attribution.on('commission.clawed_back', ({ commission }) => void clawedBack.push(commission.amount));
    await buy(w, 'cs_first');
    await w.attribution.commissions.approveDue(AFTER_HOLD);
    const [paidOut] = await w.attribution.payouts.create({ livemode: false });
    expect(paidOut!.amount).toBe(3500);
    await w.attribution.payouts.markPaid(paidOut!.id);
    const sale = (await w.attribution.commissions.list()).find((c) => c.kind === 'sale')!;
    expect(sale.status).toBe('paid');

    const clawback = await w.attribution.commissions.adjust(sale.id, -1000, 'goodwill refund outside Stripe');
    expect(clawback).toMatchObject({ kind: 'clawback', status: 'approved', amount: -1000, saleId: sale.saleId, partnerId: w.alice, reason: 'goodwill refund outside Stripe' });
    expect(await w.attribution.commissions.list({ saleId: sale.saleId! })).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: sale.id, status: 'paid', amount: 3000 }), expect.objectContaining({ id: clawback.id })]),
    );
    // More than the sale still has is refused, and writes nothing.
    await expect(w.attribution.commissions.adjust(sale.id, -2001, 'typo')).rejects.toThrow(`Sale ${sale.saleId} has 2000 of commission left`);
    // A clawback is not adjusted on its own, nor is anything by nothing.
    await expect(w.attribution.commissions.adjust(clawback.id, -5000, 'typo')).rejects.toThrow(`Commission ${clawback.id} is a clawback`);
    await expect(w.attribution.commissions.adjust(sale.id, 0, 'nothing')).rejects.toThrow('a delta other than 0');
    expect(await w.attribution.commissions.list({ saleId: sale.saleId! })).toHaveLength(2);
    // A paid lead commission has no sale to claw back against.
    const lead = (await w.attribution.commissions.list()).find((c) => c.kind === 'lead')!;
    await expect(w.attribution.commissions.adjust(lead.id, -100, 'duplicate signup')).rejects.toThrow('only a paid sale commission can be adjusted');
    await w.attribution.outbox.drain();
    expect(clawedBack).toEqual([-1000]);

    // The next payout nets the clawback against a new sale: 30.00 + 5.00 − 10.00.
    await buy(w, 'cs_second');
    await w.attribution.commissions.approveDue(new Date(AFTER_HOLD.getTime() + 31 * 86_400_000));
    const [next] = await w.attribution.payouts.create({ livemode: false });
    expect(next!.amount).toBe(2500);

    // A full refund of the first sale takes back what remains of its commission, not all of it again.
    await w.deliver(event('charge.refunded', charge({ payment_intent: 'pi_cs_first', amount: 10000, amount_refunded: 10000, refunded: true })));
    const first = await w.attribution.commissions.list({ saleId: sale.saleId! });
    expect(first.map((c) => [c.kind, c.amount]).sort()).toEqual([['clawback', -1000], ['clawback', -2000], ['sale', 3000]]);
  });

  it('a change by hand outlives later refunds: each reconciles to the exact commission on what remains plus the change, before payout and after', async () => {
    const w = await world(backend, undefined, program);
    const refund = (id: string, refunded: number) =>
      w.deliver(event('charge.refunded', charge({ payment_intent: `pi_${id}`, amount: 10000, amount_refunded: refunded, refunded: refunded === 10000 })));
    const amountOf = async (id: string) => (await w.attribution.commissions.list({ saleId: (await w.attribution.commissions.list()).find((c) => c.id === id)!.saleId! })).reduce((sum, c) => sum + c.amount, 0);

    // Before payout, in place: 30.00 − 10.00 by hand, then 10 % refunded: 27.00 − 10.00, not 27.00.
    await buy(w, 'cs_pending');
    const pending = (await w.attribution.commissions.list()).find((c) => c.kind === 'sale')!;
    expect(await w.attribution.commissions.adjust(pending.id, -1000, 'goodwill')).toMatchObject({ amount: 2000, manualAmount: -1000 });
    await refund('cs_pending', 1000);
    expect(await amountOf(pending.id)).toBe(1700);
    // A bonus by hand, then half refunded: 15.00 − 10.00 + 2.50.
    await w.attribution.commissions.adjust(pending.id, 250, 'launch bonus');
    await refund('cs_pending', 5000);
    expect(await amountOf(pending.id)).toBe(750);
    // Refunded in full: nothing remains, and no change by hand takes it below nothing.
    await refund('cs_pending', 10000);
    expect((await w.attribution.commissions.list({ saleId: pending.saleId! }))).toEqual([expect.objectContaining({ id: pending.id, amount: 0, status: 'voided', manualAmount: -750 })]);

    // After payout: the change is a clawback, and the refund's clawback takes only its own share.
    await buy(w, 'cs_paid');
    await w.attribution.commissions.approveDue(AFTER_HOLD);
    const [payout] = await w.attribution.payouts.create({ livemode: false });
    await w.attribution.payouts.markPaid(payout!.id);
    const paid = (await w.attribution.commissions.list()).find((c) => c.kind === 'sale' && c.status === 'paid')!;
    await w.attribution.commissions.adjust(paid.id, -1000, 'goodwill');
    await refund('cs_paid', 1000);
    const afterRefund = await w.attribution.commissions.list({ saleId: paid.saleId! });
    expect(afterRefund.map((c) => [c.kind, c.status, c.amount]).sort()).toEqual([['clawback', 'approved', -1000], ['clawback', 'approved', -300], ['sale', 'paid', 3000]]);
    expect(afterRefund.find((c) => c.id === paid.id)!.manualAmount).toBe(-1000);

    // A bonus by hand is not kept on a sale refunded in full, before payout or after: nothing of it remains.
    const seen = new Set((await w.attribution.commissions.list()).map((c) => c.id));
    const newSale = async () => (await w.attribution.commissions.list()).find((c) => c.kind === 'sale' && !seen.has(c.id))!;
    await buy(w, 'cs_bonus');
    const bonus = await newSale();
    await w.attribution.commissions.adjust(bonus.id, 250, 'launch bonus');
    await refund('cs_bonus', 10000);
    expect(await w.attribution.commissions.list({ saleId: bonus.saleId! })).toEqual([expect.objectContaining({ id: bonus.id, amount: 0, status: 'voided', manualAmount: 250 })]);
    seen.add(bonus.id);
    await buy(w, 'cs_paid_bonus');
    const paidBonus = await newSale();
    await w.attribution.commissions.approveDue(AFTER_HOLD);
    const [second] = await w.attribution.payouts.create({ livemode: false });
    await w.attribution.payouts.markPaid(second!.id);
    await w.attribution.commissions.adjust(paidBonus.id, 250, 'launch bonus');
    await refund('cs_paid_bonus', 10000);
    expect(await amountOf(paidBonus.id)).toBe(0);
  });

  it('a commission paid between the read and the write (marking paid takes no sale lock) is neither adjusted nor voided in place', async () => {
    let payMeanwhile = false;
    const w = await world(
      backend,
      (real) =>
        overrideInTransactions(real, (tx) => ({
          // Another instance's markPaid commits right after this read: the row the update meets is paid.
          getCommission: async (id) => {
            const read = await tx.getCommission(id);
            if (payMeanwhile) await tx.markCommissionsPaid([id], AFTER_HOLD, null);
            return read;
          },
        })),
      program,
    );
    await buy(w, 'cs_race');
    await w.attribution.commissions.approveDue(AFTER_HOLD);
    const sale = (await w.attribution.commissions.list()).find((c) => c.kind === 'sale')!;
    payMeanwhile = true;
    for (const change of [() => w.attribution.commissions.adjust(sale.id, -500, 'goodwill'), () => w.attribution.commissions.void(sale.id, 'test order')]) {
      const refused = change();
      await expect(refused).rejects.toThrow(ConflictError);
      await expect(refused).rejects.toThrow(`Commission ${sale.id} changed meanwhile (it is paid now, was approved)`);
    }
    payMeanwhile = false;
    expect(await w.attribution.commissions.list({ saleId: sale.saleId! })).toEqual([expect.objectContaining({ id: sale.id, status: 'approved', amount: 3000 })]);
  });

  it('an unpaid commission changes in place; a voided one, or one taken below zero, is refused', async () => {
    const w = await world(backend, undefined, program);
    await buy(w, 'cs_pending');
    const sale = (await w.attribution.commissions.list()).find((c) => c.kind === 'sale')!;
    expect(await w.attribution.commissions.adjust(sale.id, 250, 'launch bonus')).toMatchObject({ id: sale.id, status: 'pending', amount: 3250 });
    await expect(w.attribution.commissions.adjust(sale.id, -3251, 'typo')).rejects.toThrow(`Commission ${sale.id} is 3250: adjusting it by -3251 would take it below zero`);
    expect((await w.attribution.commissions.list({ saleId: sale.saleId! }))[0]!.amount).toBe(3250);
    await w.attribution.commissions.void(sale.id, 'test order');
    await expect(w.attribution.commissions.adjust(sale.id, 100, 'bonus')).rejects.toThrow(`Commission ${sale.id} is voided`);
  });
});
