import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { PayoutChangedError, PayoutTransferError } from '../../src/core/index.js';
import { backends } from '../support/backends.js';
import { T0, account, charge, event, transfer } from '../support/stripe-fixtures.js';
import { stripeServer } from '../support/world.js';
import { afterHold, connectWorld, transferRequests, transfersMade, type ConnectWorld } from './support.js';

async function pendingPayout(w: ConnectWorld) {
  const [payout] = await w.attribution.payouts.create({ livemode: false });
  expect(payout).toMatchObject({ partnerId: w.alice, amount: 3000, status: 'pending' });
  return payout!;
}

describe.each(backends())('payouts by Stripe transfer on $name', (backend) => {
  it('goes sale → flagged and held → cleared → approval → payout → transfer → paid, with one transfer naming the payout', async () => {
    const w = await connectWorld(backend);
    // A throwaway address: fraud review holds the commission, and no payout may include it.
    await w.sale('e2e', { customer_email: 'e2e@mailinator.com' });
    const held = (await w.attribution.commissions.list()).find((c) => c.saleId !== null)!;
    expect(held).toMatchObject({ status: 'held', amount: 3000, review: 'pending' });
    expect(held.flags.map((flag) => flag.rule)).toEqual(['disposableEmail']);
    expect(await w.attribution.payouts.run({ livemode: false })).toEqual({ created: [], paid: [], failed: [] });
    expect(transferRequests(w.aliceAccount)).toHaveLength(0);

    await w.attribution.commissions.review.clear(held.id, { note: 'a real customer', by: 'merchant' });
    await w.attribution.commissions.approveDue(afterHold);
    const commission = (await w.attribution.commissions.list()).find((c) => c.id === held.id)!;
    expect(commission).toMatchObject({ status: 'approved', amount: 3000, review: 'cleared' });

    const result = await w.attribution.payouts.run({ livemode: false });
    expect(result.failed).toEqual([]);
    expect(result.created).toHaveLength(1);
    const payoutId = result.created[0]!.id;
    expect(result.paid.map((p) => [p.id, p.status])).toEqual([[payoutId, 'paid']]);

    const [request] = transferRequests(w.aliceAccount);
    expect(request!.form).toMatchObject({
      amount: '3000',
      currency: 'usd',
      destination: w.aliceAccount,
      transfer_group: payoutId,
      'metadata[sa_payout_id]': payoutId,
      'metadata[sa_partner_id]': w.alice,
    });
    expect(request!.idempotencyKey).toBe(`sa-payout-${payoutId}-v0`);
    const made = transfersMade(w.aliceAccount);
    expect(made).toHaveLength(1);

    const [payout] = await w.attribution.payouts.list({ livemode: false });
    expect(payout).toMatchObject({ id: payoutId, status: 'paid', transferId: made[0]!.id, transferError: null });
    expect((await w.attribution.commissions.list()).find((c) => c.id === commission.id)).toMatchObject({ status: 'paid', payoutId });
    await w.attribution.outbox.drain();
    expect(w.raised.map((r) => r.name)).toEqual(['partner.payouts_enabled', 'payout.created', 'payout.paid']);

    // Nothing left to pay: a second run sends nothing.
    expect(await w.attribution.payouts.run({ livemode: false })).toEqual({ created: [], paid: [], failed: [] });
    expect(transferRequests(w.aliceAccount)).toHaveLength(1);
  });

  // A cut connection is retried once by stripe-node itself (same key): both tries are cut here.
  for (const [kind, sent] of [['500', 1], ['reset', 2]] as const) {
    it(`never pays twice when Stripe made the transfer and the answer was lost (${kind}): the retry gets the same transfer`, async () => {
      const w = await connectWorld(backend);
      await w.sale(`lost${kind}`);
      const payout = await pendingPayout(w);
      for (let i = 0; i < sent; i++) stripeServer.fail('POST /v1/transfers', { kind });

      const first = await w.attribution.payouts.pay(payout.id).catch((error: unknown) => error);
      expect(first).toBeInstanceOf(PayoutTransferError);
      expect((first as PayoutTransferError).refused).toBe(false);
      // Stripe made it; the ledger does not know yet: still payable, with the error shown.
      expect(transfersMade(w.aliceAccount)).toHaveLength(1);
      const [unknown] = await w.attribution.payouts.list({ livemode: false });
      expect(unknown).toMatchObject({ status: 'pending', transferId: null });
      expect(unknown!.transferError).toBeTruthy();

      const paid = await w.attribution.payouts.pay(payout.id);
      expect(paid).toMatchObject({ status: 'paid', alreadyPaid: false, transferId: transfersMade(w.aliceAccount)[0]!.id, transferError: null });
      const requests = transferRequests(w.aliceAccount);
      expect(requests).toHaveLength(sent + 1);
      expect(new Set(requests.map((r) => r.idempotencyKey))).toEqual(new Set([`sa-payout-${payout.id}-v0`]));
      expect(transfersMade(w.aliceAccount)).toHaveLength(1);
      // And once recorded, paying again asks Stripe nothing.
      expect(await w.attribution.payouts.pay(payout.id)).toMatchObject({ alreadyPaid: true });
      expect(transferRequests(w.aliceAccount)).toHaveLength(sent + 1);
      await w.attribution.outbox.drain();
      expect(w.raised.filter((r) => r.name === 'payout.paid')).toHaveLength(1);
    });
  }

  it('leaves a refused transfer payable with its error, and pays it later under a new idempotency key', async () => {
    const w = await connectWorld(backend);
    await w.sale('refused');
    const payout = await pendingPayout(w);
    stripeServer.fail('POST /v1/transfers', { kind: 'refuse', status: 400, code: 'balance_insufficient', message: 'You have insufficient available funds in your Stripe account.' });

    const result = await w.attribution.payouts.run({ livemode: false });
    expect(result.paid).toEqual([]);
    expect(result.failed.map((f) => [f.payout.id, f.error])).toEqual([[payout.id, expect.stringMatching(/insufficient available funds/)]]);
    const [stored] = await w.attribution.payouts.list({ livemode: false });
    expect(stored).toMatchObject({ status: 'pending', transferId: null, transferError: expect.stringMatching(/insufficient available funds/) });
    expect(transfersMade(w.aliceAccount)).toHaveLength(0);
    await w.attribution.outbox.drain();
    const failed = w.raised.find((r) => r.name === 'payout.failed')!.payload as { refused: boolean; payout: { id: string } };
    expect(failed).toMatchObject({ refused: true, payout: { id: payout.id } });

    const paid = await w.attribution.payouts.pay(payout.id);
    expect(paid).toMatchObject({ status: 'paid', transferError: null });
    expect(transferRequests(w.aliceAccount).map((r) => r.idempotencyKey)).toEqual([`sa-payout-${payout.id}-v0`, `sa-payout-${payout.id}-v1`]);
  });

  it('refuses, before asking Stripe, to transfer to an account whose transfers are not active', async () => {
    const w = await connectWorld(backend);
    await w.deliver(event('account.updated', account({ id: w.aliceAccount, capabilities: { transfers: 'inactive' } }), { account: w.aliceAccount }));
    await w.sale('disabled');
    const payout = await pendingPayout(w);
    const error = await w.attribution.payouts.pay(payout.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayoutTransferError);
    expect((error as Error).message).toMatch(/cannot receive transfers yet \(transfers inactive\)/);
    expect(transferRequests(w.aliceAccount)).toHaveLength(0);
    expect((await w.attribution.payouts.list({ livemode: false }))[0]).toMatchObject({ status: 'pending', transferError: expect.stringMatching(/cannot receive transfers/) });
    // run() leaves such partners' commissions for the CSV export: it makes no payout of them.
    await w.sale('disabled2');
    expect((await w.attribution.payouts.run({ livemode: false })).created).toEqual([]);
  });

  it('refuses a payout whose commissions changed since it was made, sending nothing', async () => {
    const w = await connectWorld(backend);
    await w.sale('changed');
    const payout = await pendingPayout(w);
    const commission = (await w.attribution.commissions.list()).find((c) => c.payoutId === payout.id)!;
    await w.storage.transaction((tx) => tx.adjustCommission(commission.id, { delta: -100, reason: 'test' }));
    await expect(w.attribution.payouts.pay(payout.id)).rejects.toBeInstanceOf(PayoutChangedError);
    expect(transferRequests(w.aliceAccount)).toHaveLength(0);
  });

  it('puts the commissions of a fully reversed transfer back (approved, payable again) and pays them in a new payout', async () => {
    const w = await connectWorld(backend);
    await w.sale('reversed');
    const { paid } = await w.attribution.payouts.run({ livemode: false });
    const first = paid[0]!;
    const reversal = event('transfer.reversed', transfer({ id: first.transferId!, amount: 3000, amount_reversed: 3000, reversed: true, destination: w.aliceAccount, metadata: { sa_payout_id: first.id } }));
    expect(await w.deliver(reversal)).toMatchObject({ status: 200 });
    expect(await w.deliver(reversal)).toMatchObject({ status: 200 });

    const payouts = await w.attribution.payouts.list({ livemode: false });
    expect(payouts).toEqual([expect.objectContaining({ id: first.id, status: 'reversed', transferId: first.transferId })]);
    const [commission] = (await w.attribution.commissions.list()).filter((c) => c.saleId !== null);
    expect(commission).toMatchObject({ status: 'approved', payoutId: null, paidAt: null });
    await expect(w.attribution.payouts.markPaid(first.id)).rejects.toThrow(/was reversed/);

    const again = await w.attribution.payouts.run({ livemode: false });
    expect(again.paid).toHaveLength(1);
    expect(again.paid[0]).toMatchObject({ amount: 3000, status: 'paid' });
    expect(again.paid[0]!.transferId).not.toBe(first.transferId);
    expect(transfersMade(w.aliceAccount)).toHaveLength(2);
  });

  it('carries a clawback larger than what is owed to later payouts, never losing it', async () => {
    const w = await connectWorld(backend);
    await w.sale('owed');
    const [first] = (await w.attribution.payouts.run({ livemode: false })).paid;
    expect(first).toMatchObject({ amount: 3000 });
    // The paid sale is refunded in full: −30.00 against a new sale's +15.00.
    await w.deliver(event('charge.refunded', charge({ payment_intent: 'pi_owed', amount: 10000, amount_refunded: 10000 })));
    await w.sale('small', { amount_total: 5000, amount_subtotal: 5000, created: T0 + 60 });
    expect(await w.attribution.payouts.run({ livemode: false })).toMatchObject({ created: [], paid: [] });
    const owed = (await w.attribution.commissions.list()).filter((c) => c.status === 'approved' && c.payoutId === null);
    expect(owed.reduce((sum, c) => sum + c.amount, 0)).toBe(-1500);

    // Two more sales: +60.00 − 15.00 carried = one payout of 45.00.
    await w.sale('big1', { created: T0 + 120 });
    await w.sale('big2', { created: T0 + 180 });
    const later = await w.attribution.payouts.run({ livemode: false });
    expect(later.paid.map((p) => p.amount)).toEqual([4500]);
    expect(transferRequests(w.aliceAccount).map((r) => r.form.amount)).toEqual(['3000', '4500']);
  });

  it('pays once when several instances run payouts at once', async () => {
    const w = await connectWorld(backend);
    await w.sale('race1');
    await w.sale('race2', { created: T0 + 60 });
    const instances = [w.attribution, ...[1, 2].map(() => createAttribution({ database: w.storage, webhookSecret: 'whsec_x', stripe: stripeServer.client(), livemode: true, clock: w.attribution.options.clock, onError: () => {} }))];
    const results = await Promise.all(instances.map((instance) => instance.payouts.run({ livemode: false })));
    expect(results.flatMap((r) => r.created)).toHaveLength(1);
    expect(results.flatMap((r) => r.paid).map((p) => p.amount)).toEqual([6000]);
    expect(transfersMade(w.aliceAccount)).toHaveLength(1);
    expect(new Set(transferRequests(w.aliceAccount).map((r) => r.idempotencyKey)).size).toBe(1);
    const commissions = (await w.attribution.commissions.list()).filter((c) => c.saleId !== null);
    expect(commissions.map((c) => c.status)).toEqual(['paid', 'paid']);
  });
});
