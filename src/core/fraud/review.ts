import { AttributionError, ConflictError } from '../kernel/errors.js';
import type { Commission, ReviewDecision, Storage } from '../storage/types.js';
import { emit } from '../transaction/hooks.js';
import type { TransactionRunner } from '../transaction/run.js';

/** The merchant's side of fraud review: commissions held with their flags, cleared or voided by hand. */
export interface CommissionReview {
  /** Commissions held for review (with their `flags`), oldest first. */
  list(filter?: { partnerId?: string; livemode?: boolean }): Promise<Commission[]>;
  /**
   * Releases a held commission to the normal flow: pending until its hold period ends, then
   * approved by `approveDue` (still held while a dispute of its sale is open). `note` and `by`
   * are kept with the decision. Throws `ConflictError` when it is not held for review (already
   * decided: two clears at once record one).
   */
  clear(id: string, options?: { note?: string; by?: string }): Promise<Commission>;
  /**
   * Voids a held commission with a reason kept in the ledger; its later refunds change nothing.
   * The customer is blocked from later commissions too (DESIGN §5's fraud void) unless `block: false`.
   * Throws `ConflictError` when it is not held for review.
   */
  void(id: string, options: { reason: string; by?: string; block?: boolean }): Promise<Commission>;
  /** The decision recorded on a commission (who, when, what, why), if any. */
  decision(id: string): Promise<ReviewDecision | undefined>;
}

export function createReview(storage: () => Promise<Storage>, transactions: TransactionRunner): CommissionReview {
  const decide = async (id: string, decision: 'cleared' | 'voided', note: string | null, by: string | null, block: boolean) =>
    transactions.run(await storage(), async (tx) => {
      const commission = await tx.getCommission(id);
      if (!commission) throw new AttributionError(`No commission ${id}`);
      if (commission.review !== 'pending' || commission.status !== 'held') throw notHeld(commission);
      // The lock order of every ledger change: the customer, then the sale, then its commission.
      if (decision === 'voided' && block && commission.customerId) await tx.blockCustomer(commission.customerId, 'fraud');
      const sale = commission.saleId ? await tx.lockSale(commission.saleId) : undefined;
      const disputed = sale ? (await tx.disputeTotals(sale.id)).open > 0 : false;
      const status = decision === 'voided' ? 'voided' : disputed ? 'held' : (commission.statusBeforeHold ?? 'pending');
      const decided = await tx.decideReview(id, { decision, status, note, decidedBy: by });
      // Decided by someone else since it was read: their decision stands.
      if (!decided) throw notHeld((await tx.getCommission(id)) ?? commission);
      if (decision === 'cleared') return decided;
      const voided = decided.amount === 0 ? decided : await tx.adjustCommission(id, { delta: -decided.amount, reason: note ?? 'fraud' });
      emit('commission.voided', { commission: voided });
      return voided;
    });
  return {
    list: async (filter = {}) => (await storage()).listFlaggedCommissions(filter),
    clear: (id, options = {}) => decide(id, 'cleared', options.note ?? null, options.by ?? null, false),
    void: async (id, options) => {
      if (!options?.reason) throw new AttributionError('Voiding a commission needs a reason, kept in the ledger');
      return decide(id, 'voided', options.reason, options.by ?? null, options.block ?? true);
    },
    decision: async (id) => (await storage()).getReviewDecision(id),
  };
}

function notHeld(commission: Commission): ConflictError {
  const state = commission.review ? `its review is ${commission.review}` : 'no fraud rule flagged it';
  return new ConflictError(`Commission ${commission.id} is not held for review: ${state}`);
}
