import { describe, expect, it } from 'vitest';
import { CommissionInPayoutError, PayoutChangedError } from '../../src/core/index.js';
import { backends } from '../support/backends.js';
import { T0, charge, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const DAY = 86_400;
const afterHold = new Date((T0 + 31 * DAY) * 1000);

async function sale(w: World, id: string): Promise<string> {
  await w.deliver(
    event('checkout.session.completed', checkoutSession({ id, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@example.com`, metadata: { sa_click_id: w.aliceClick } })),
  );
  await w.attribution.commissions.approveDue(afterHold);
  const [commission] = (await w.attribution.commissions.list()).filter((c) => c.saleId !== null && c.status === 'approved' && c.customerId && c.payoutId === null);
  return commission!.id;
}

/** Every paid payout is exactly its commissions, all paid; no commission is paid outside one and in one. */
async function expectLedgerConsistent(w: World) {
  const commissions = await w.attribution.commissions.list();
  for (const payout of await w.attribution.payouts.list({ livemode: false })) {
    const inIt = commissions.filter((c) => c.payoutId === payout.id);
    expect(inIt.reduce((sum, c) => sum + c.amount, 0)).toBe(payout.amount);
    expect(inIt).toHaveLength(payout.commissionCount);
    expect(inIt.every((c) => c.status === (payout.status === 'paid' ? 'paid' : 'approved'))).toBe(true);
  }
}

describe.each(backends())('payouts that cannot pay twice on $name', (backend) => {
  const program = { program: { holdDays: 30, reward: { type: 'percent' as const, percent: 30 } } };

  it('races the dashboard’s mark-paid against payout runs and the CLI’s mark-paid: one outcome each time, ledger consistent', async () => {
    const w = await world(backend, undefined, program);
    for (let round = 0; round < 8; round++) {
      const commissionId = await sale(w, `race${round}`);
      const [dashboard, created] = await Promise.allSettled([w.attribution.commissions.markPaid([commissionId]), w.attribution.payouts.create({ livemode: false })]);
      const commission = (await w.attribution.commissions.list()).find((c) => c.id === commissionId)!;
      const payouts = created.status === 'fulfilled' ? created.value : [];
      if (dashboard.status === 'fulfilled' && dashboard.value.paid === 1) {
        // Paid by hand first: no payout took it.
        expect(commission).toMatchObject({ status: 'paid', payoutId: null });
        expect(payouts).toEqual([]);
      } else {
        expect(dashboard.status === 'rejected' && dashboard.reason).toBeInstanceOf(CommissionInPayoutError);
        expect(payouts).toHaveLength(1);
        const payoutId = payouts[0]!.id;
        // The dashboard again, a void and two CLI payments, all at once.
        const [byHand, voided, first, second] = await Promise.allSettled([
          w.attribution.commissions.markPaid([commissionId]),
          w.attribution.commissions.void(commissionId, 'duplicate'),
          w.attribution.payouts.markPaid(payoutId),
          w.attribution.payouts.markPaid(payoutId),
        ]);
        expect(byHand.status === 'rejected' && byHand.reason).toBeInstanceOf(CommissionInPayoutError);
        expect(voided.status === 'rejected' && (voided.reason as Error).message).toMatch(/in payout po_.*mark the payout paid, or cancel the payout first/);
        const results = [first, second].map((r) => (r.status === 'fulfilled' ? r.value!.alreadyPaid : r.reason));
        expect(results.sort()).toEqual([false, true]);
      }
      await expectLedgerConsistent(w);
    }
    const paid = (await w.attribution.commissions.list()).filter((c) => c.status === 'paid');
    expect(paid).toHaveLength(8);
  });

  it('marking a paid payout paid again changes nothing and says so', async () => {
    const w = await world(backend, undefined, program);
    await sale(w, 'twice');
    const [payout] = await w.attribution.payouts.create({ livemode: false });
    const at = new Date('2026-03-01T10:00:00Z');
    const first = await w.attribution.payouts.markPaid(payout!.id, at);
    expect(first).toMatchObject({ status: 'paid', alreadyPaid: false, paidAt: at, amount: 3000, commissionCount: 1 });
    const again = await w.attribution.payouts.markPaid(payout!.id, new Date('2026-04-01T10:00:00Z'));
    expect(again).toMatchObject({ status: 'paid', alreadyPaid: true, paidAt: at });
    expect((await w.attribution.commissions.list()).map((c) => c.paidAt)).toEqual([at]);
    await expect(w.attribution.payouts.cancel(payout!.id)).rejects.toThrow(/paid payout never changes/);
    expect(await w.attribution.payouts.markPaid('po_missing')).toBeUndefined();
  });

  it('a refund after the payout was made refuses mark-paid until it is cancelled and made again', async () => {
    const w = await world(backend, undefined, program);
    const commissionId = await sale(w, 'refunded');
    const [payout] = await w.attribution.payouts.create({ livemode: false });
    expect(payout!.amount).toBe(3000);
    await w.deliver(event('charge.refunded', charge({ payment_intent: 'pi_refunded', amount: 10000, amount_refunded: 5000 })));
    await expect(w.attribution.payouts.markPaid(payout!.id)).rejects.toBeInstanceOf(PayoutChangedError);
    expect((await w.attribution.payouts.list({ livemode: false }))[0]).toMatchObject({ id: payout!.id, status: 'pending' });
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ status: 'approved', amount: 1500, paidAt: null });

    // By hand, a commission in the payout is left alone: nothing written.
    await expect(w.attribution.commissions.adjust(commissionId, -500, 'goodwill')).rejects.toThrow(`Commission ${commissionId} is in payout ${payout!.id}`);
    expect((await w.attribution.commissions.list())[0]!.amount).toBe(1500);

    expect(await w.attribution.payouts.cancel(payout!.id)).toBe(true);
    expect(await w.attribution.payouts.list({ livemode: false })).toEqual([]);
    const [remade] = await w.attribution.payouts.create({ livemode: false });
    expect(remade).toMatchObject({ amount: 1500, commissionCount: 1 });
    expect(await w.attribution.payouts.markPaid(remade!.id)).toMatchObject({ alreadyPaid: false, amount: 1500 });
    await expectLedgerConsistent(w);
  });
});
