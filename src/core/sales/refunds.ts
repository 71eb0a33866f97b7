import { reconcileCommission } from '../commissions/engine.js';
import { scaleRoundHalfUp, type Amount } from '../kernel/money.js';
import type { Sale, StorageOperations } from '../storage/types.js';

/** One charge's refunds, as its payment reports them. */
export interface ChargeRefund {
  chargeId: string;
  /** What the charge took, in its own currency. */
  chargeAmount: Amount;
  chargeCurrency: string | null;
  /** The charge's cumulative refunded total (not this refund's amount). */
  amountRefunded: Amount;
}

/**
 * The refund rule. A charge's refunded amount is raised to its cumulative total (never lowered):
 * a repeat or an older report changes nothing. Refunds are recorded untaxed, in the sale's
 * currency: what the sale's charges had refunded together, as a share of what the sale was paid,
 * times the sale. An invoice paid by several charges thus loses only the refunded charge's share,
 * and rounding once over the sum keeps the refunds of all its charges within the sale. The sale's
 * commission is then reconciled (reduced, voided or clawed back).
 */
export async function refundSale(tx: StorageOperations, sale: Sale, refund: ChargeRefund): Promise<void> {
  if (refund.chargeAmount <= 0) return;
  const paid = paidForSale(sale, refund);
  const refundedByCharges = await tx.recordChargeRefund({ saleId: sale.id, chargeId: refund.chargeId, amountRefunded: Math.min(refund.amountRefunded, refund.chargeAmount) });
  const refunded = Math.min(scaleRoundHalfUp(sale.amount, Math.min(refundedByCharges, paid), paid), sale.amount);
  await tx.raiseSaleRefunded(sale.id, refunded);
  await reconcileCommission(tx, sale.id);
}

/**
 * What the charge's refund is a share of: everything the sale was paid (all of an invoice's
 * payments). A sale recorded before charge amounts were kept, or one charged in another currency
 * than it is recorded in (Adaptive Pricing's presentment currency), is taken as this one charge.
 */
function paidForSale(sale: Sale, refund: ChargeRefund): Amount {
  const paid = sale.chargeAmount;
  return paid !== null && paid >= refund.chargeAmount && refund.chargeCurrency?.toLowerCase() === sale.currency ? paid : refund.chargeAmount;
}
