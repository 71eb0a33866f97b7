import { AttributionError } from '../errors.js';
import { assertAmount } from '../money.js';
import type { ResolvedOptions } from '../options.js';
import type { Sale, Storage } from '../storage/types.js';
import type { TrackSaleInput } from '../attribution.js';
import { attributeBuyer } from './attribute.js';
import { commissionSale } from '../commissions/engine.js';
import { emit } from '../hooks.js';
import { transactionWithLookups } from '../webhooks/lookups.js';

/**
 * A sale billed outside Stripe, through the same ledger: attributed by the customer (tracked as a
 * lead before), idempotent on `invoiceId`.
 */
export async function trackSale(options: ResolvedOptions, storage: Storage, input: TrackSaleInput): Promise<{ sale: Sale; duplicate: boolean }> {
  if (!input.invoiceId) throw new AttributionError('trackSale needs invoiceId: it makes a repeated call harmless');
  assertAmount(input.amount);
  if (input.amount < 0) throw new AttributionError('trackSale amount must not be negative');
  const livemode = input.livemode ?? options.livemode;
  const at = input.paidAt ?? options.clock();
  return transactionWithLookups(storage, options, async (tx, lookup) => {
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
    return { sale: record, duplicate: !created };
  });
}
