import { AttributionError } from '../kernel/errors.js';
import { assertAmount } from '../kernel/money.js';
import type { ResolvedOptions } from '../options/options.js';
import type { Sale, Storage } from '../storage/types.js';
import { attributeBuyer } from '../customers/attribute.js';
import { creditLaterSales } from './record-sale.js';
import { commissionSale } from '../commissions/engine.js';
import { emit } from '../transaction/hooks.js';
import { transactionWithLookups } from '../transaction/lookups.js';
import type { TransactionRunner } from '../transaction/run.js';

export interface TrackSaleInput {
  /** Your id for the buyer (as given to `trackLead`). */
  customerExternalId: string;
  /** Untaxed, in minor units of `currency`. */
  amount: number;
  currency: string;
  /** Your invoice or order id: a repeat with the same id returns the first sale. */
  invoiceId: string;
  /** When it was paid. Default: now (the clock). */
  paidAt?: Date;
  email?: string | null;
  livemode?: boolean;
  /** The program it belongs to. Default: the customer's (the one they were attributed in first), else the default program. */
  programId?: string;
}

/**
 * A sale billed outside Stripe, through the same ledger: attributed by the customer (tracked as a
 * lead before), idempotent on `invoiceId`.
 */
export async function trackSale(options: ResolvedOptions, transactions: TransactionRunner, storage: Storage, input: TrackSaleInput): Promise<{ sale: Sale; duplicate: boolean }> {
  if (!input.invoiceId) throw new AttributionError('trackSale needs invoiceId: it makes a repeated call harmless');
  assertAmount(input.amount);
  if (input.amount < 0) throw new AttributionError('trackSale amount must not be negative');
  const livemode = input.livemode ?? options.livemode;
  const at = input.paidAt ?? options.clock();
  return transactionWithLookups(storage, transactions, async (tx, lookup) => {
    const existing = await tx.findSale({ externalInvoiceId: input.invoiceId });
    if (existing) return { sale: existing, duplicate: true };
    const buyer = await attributeBuyer(tx, options, {
      livemode,
      at,
      stripeCustomerId: null,
      customerKey: input.customerExternalId,
      email: input.email ?? null,
      clickIds: [],
      programIds: [input.programId],
      purchase: { externalInvoiceId: input.invoiceId },
    });
    const { record, created } = await tx.insertSale({
      livemode,
      customerId: buyer.customer.id,
      partnerId: buyer.partnerId,
      clickId: buyer.clickId,
      externalInvoiceId: input.invoiceId,
      amount: input.amount,
      currency: input.currency,
      occurredAt: at,
    });
    if (created) {
      emit('sale.created', { sale: record });
      await commissionSale(tx, options, lookup, record);
    }
    await creditLaterSales(tx, options, lookup, buyer);
    return { sale: record, duplicate: !created };
  });
}
