import { reconcileCommission } from '../commissions/engine.js';
import { scaleRoundHalfUp, type Amount } from '../kernel/money.js';
import type { Sale, StorageOperations } from '../storage/types.js';

/** A credit on a paid invoice that did not go back to the card. */
export interface SaleCredit {
  creditNoteId: string;
  /** The part credited to the customer's balance or settled out of band, tax included. */
  offCard: Amount;
  /** The credit note's total and its untaxed total, for the tax share. */
  total: Amount;
  totalExcludingTax: Amount;
}

/**
 * A credit not refunded to the card reduces the sale like a refund, without its tax share, once
 * per credit note (the part refunded to the card is counted as that charge's refund).
 */
export async function creditSale(tx: StorageOperations, sale: Sale, credit: SaleCredit): Promise<void> {
  if (credit.offCard <= 0) return;
  const untaxed = scaleRoundHalfUp(credit.offCard, Math.max(credit.totalExcludingTax, 0), credit.total);
  await tx.recordSaleCredit({ creditNoteId: credit.creditNoteId, saleId: sale.id, amount: Math.min(untaxed, sale.amount) });
  await reconcileCommission(tx, sale.id);
}

/** A voided credit note no longer reduces its sale. */
export async function voidSaleCredit(tx: StorageOperations, creditNoteId: string): Promise<void> {
  const saleId = await tx.removeSaleCredit(creditNoteId);
  if (saleId) await reconcileCommission(tx, saleId);
}
