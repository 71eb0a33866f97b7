import { AttributionError, CommissionInPayoutError } from '../kernel/errors.js';
import { assertAmount } from '../kernel/money.js';
import type { ResolvedOptions } from '../options/options.js';
import type { Commission, Storage } from '../storage/types.js';
import { emit } from '../transaction/hooks.js';
import type { TransactionRunner } from '../transaction/run.js';
import { createReview, type CommissionReview } from '../fraud/review.js';

export interface Commissions {
  list(filter?: { partnerId?: string; saleId?: string; customerId?: string; programId?: string }): Promise<Commission[]>;
  /**
   * Approves every pending commission whose hold period ended by `now` (default: the clock).
   * Idempotent, and safe from a cron in several instances at once: each row changes once.
   */
  approveDue(now?: Date): Promise<{ approved: number }>;
  /** Approves pending commissions by hand, before their hold ends. Held, voided or paid ones are left as they are. */
  approve(ids: readonly string[], now?: Date): Promise<{ approved: number }>;
  /**
   * Marks approved commissions paid (optionally under your payout id). Others are left as they
   * are, except one in a pending payout: the payout pays it, so this throws
   * `CommissionInPayoutError` and marks none.
   */
  markPaid(ids: readonly string[], options?: { payoutId?: string; paidAt?: Date }): Promise<{ paid: number }>;
  /**
   * Voids a commission by hand, with a reason kept in the ledger. `fraud: true` also blocks every
   * later commission for the customer. A commission in a pending payout throws
   * `CommissionInPayoutError`: cancel the payout first.
   */
  void(id: string, reason: string, options?: { fraud?: boolean }): Promise<Commission>;
  /**
   * Adds (or, negative, removes) an amount by hand, with a reason kept in the ledger, and returns
   * the commission that changed. A paid sale commission stays as it was paid: the change is a
   * `clawback` commission of its own (returned; `commission.clawed_back` when negative), approved
   * at once and netted in the partner's next payout. Refused: a clawback, a voided commission, a
   * paid lead or event commission, and a change that would leave less than nothing (a commission
   * below zero, or a sale's commission and clawbacks together). A commission in a pending payout
   * throws `CommissionInPayoutError`: cancel the payout first.
   */
  adjust(id: string, delta: number, reason: string): Promise<Commission>;
  /** Fraud review: commissions a fraud rule flagged, held until cleared or voided here. */
  readonly review: CommissionReview;
}

/** Raises `name` for each commission changed; returns how many. */
function announce(name: 'commission.approved' | 'commission.paid', changed: readonly Commission[]): number {
  for (const commission of changed) emit(name, { commission });
  return changed.length;
}

export function createCommissions(storage: () => Promise<Storage>, options: ResolvedOptions, transactions: TransactionRunner): Commissions {
  const existing = async (id: string) => {
    const commission = await (await storage()).getCommission(id);
    if (!commission) throw new AttributionError(`No commission ${id}`);
    return commission;
  };
  return {
    review: createReview(storage, transactions),
    list: async (filter = {}) => (await storage()).listCommissions(filter),
    approveDue: async (now = options.clock()) =>
      transactions.run(await storage(), async (tx) => ({ approved: announce('commission.approved', await tx.approveDueCommissions(now)) })),
    approve: async (ids, now = options.clock()) =>
      transactions.run(await storage(), async (tx) => ({ approved: announce('commission.approved', await tx.approveCommissions(ids, now)) })),
    markPaid: async (ids, paid = {}) =>
      transactions.run(await storage(), async (tx) => {
        const count = announce('commission.paid', await tx.markCommissionsPaid(ids, paid.paidAt ?? options.clock(), paid.payoutId ?? null));
        if (count < ids.length) {
          // The update skipped it under its own row lock; rolling back keeps the batch all or nothing.
          const inPayout = (await Promise.all(ids.map((id) => tx.getCommission(id)))).find((c) => c?.status === 'approved' && c.payoutId);
          if (inPayout) throw new CommissionInPayoutError(inPayout.id, inPayout.payoutId!);
        }
        return { paid: count };
      }),
    void: async (id, reason, how = {}) => {
      if (!reason) throw new AttributionError('Voiding a commission needs a reason, kept in the ledger');
      const { customerId, saleId } = await existing(id);
      return transactions.run(await storage(), async (tx) => {
        // The lock order of every ledger change (customer, sale, commission); the amount is read
        // under the sale's lock, so a refund landing meanwhile cannot leave a remainder.
        if (how.fraud && customerId) await tx.blockCustomer(customerId, 'fraud');
        if (saleId) await tx.lockSale(saleId);
        const commission = (await tx.getCommission(id))!;
        if (commission.status === 'paid') {
          throw new AttributionError(`Commission ${id} is paid already${commission.kind === 'sale' ? ': adjust it instead, which records a clawback netted in the next payout' : ''}`);
        }
        // Its sale earns nothing any more: a later refund, dispute or reconcile must not revive it.
        await tx.endCommissionReward(id);
        const voided = await tx.adjustCommission(id, { delta: -commission.amount, reason, status: 'voided', outsidePayout: true, from: commission.status });
        emit('commission.voided', { commission: voided });
        return voided;
      });
    },
    adjust: async (id, delta, reason) => {
      if (!reason) throw new AttributionError('Adjusting a commission needs a reason, kept in the ledger');
      assertAmount(delta, 'delta');
      if (delta === 0) throw new AttributionError('Adjusting a commission needs a delta other than 0');
      const { saleId } = await existing(id);
      return transactions.run(await storage(), async (tx) => {
        // The ledger's lock order, as in void: a refund landing meanwhile reconciles against this change.
        if (saleId) await tx.lockSale(saleId);
        const commission = (await tx.getCommission(id))!;
        if (commission.kind === 'clawback') throw new AttributionError(`Commission ${id} is a clawback: adjust the commission of sale ${saleId} instead`);
        if (commission.status === 'voided') throw new AttributionError(`Commission ${id} is voided: there is nothing to adjust`);
        if (commission.status !== 'paid' && commission.amount + delta < 0) {
          throw new AttributionError(`Commission ${id} is ${commission.amount}: adjusting it by ${delta} would take it below zero (void it instead)`);
        }
        // A sale's commission and its clawbacks (a reversed payout's, say) never add up to less than nothing.
        const recorded = saleId ? await tx.recordedForSale(saleId) : commission.amount;
        if (recorded + delta < 0) throw new AttributionError(`Sale ${saleId} has ${recorded} of commission left: taking ${-delta} would take more than it earned`);
        // Counted as the merchant's own (`manual`), so a later refund's reconcile keeps it.
        if (commission.status !== 'paid') return tx.adjustCommission(id, { delta, manual: delta, reason, outsidePayout: true, from: commission.status });
        // What was paid stays as it was paid, so the payout still adds up.
        if (commission.kind !== 'sale' || !saleId) {
          throw new AttributionError(`Commission ${id} is a paid ${commission.kind} commission: only a paid sale commission can be adjusted, by a clawback netted in the next payout`);
        }
        await tx.adjustCommission(id, { delta: 0, manual: delta, reason, outsidePayout: true, from: 'paid' });
        const { record } = await tx.insertCommission({
          livemode: commission.livemode,
          partnerId: commission.partnerId,
          customerId: commission.customerId,
          saleId,
          kind: 'clawback',
          status: 'approved',
          amount: delta,
          currency: commission.currency,
          reason,
          approvedAt: options.clock(),
        });
        emit('commission.created', { commission: record });
        if (delta < 0) emit('commission.clawed_back', { commission: record });
        return record;
      });
    },
  };
}
