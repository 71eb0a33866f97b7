import { reconcileCommission } from '../commissions/engine.js';
import { scaleRoundHalfUp, type Amount } from '../kernel/money.js';
import type { Sale, StorageOperations } from '../storage/types.js';

/** A dispute's latest state, as its payment reports it. */
export interface DisputeState {
  id: string;
  /** The disputed amount, in the charge's currency. */
  amount: Amount;
  /** What the disputed payment took, when known. */
  chargedAmount: Amount | null;
  status: string;
  /** The time of the report, so an older one never overwrites a newer one. */
  at: Date;
}

/**
 * The dispute's latest state against its sale, untaxed (the disputed share of the charge times the
 * sale). Open and lost disputes count as disputed; won ones stop counting. Keyed by the dispute and
 * ordered by `at`, so repeats and late older reports change nothing.
 */
export async function recordSaleDispute(tx: StorageOperations, sale: Sale, dispute: DisputeState): Promise<void> {
  const charged = dispute.chargedAmount;
  // Without the charged total (an older sale and no Stripe client to ask), the dispute is taken as covering the whole payment.
  const amount = charged && charged > 0 ? Math.min(scaleRoundHalfUp(sale.amount, Math.min(dispute.amount, charged), charged), sale.amount) : sale.amount;
  await tx.recordDispute({ id: dispute.id, saleId: sale.id, amount, status: dispute.status, at: dispute.at });
  await reconcileCommission(tx, sale.id);
}
