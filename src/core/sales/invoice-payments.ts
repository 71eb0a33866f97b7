import type { SaleKeys, StorageOperations } from '../storage/types.js';

/**
 * Remembers which payment intent paid which invoice, and gives the invoice's sale that payment
 * intent when it has none yet, so refunds and disputes on that charge find it. An invoice paid by
 * several payments keeps the first as the sale's. Returns the payment key its sale is now known
 * under (events waiting for another payment of the same invoice are due too), or null without a sale.
 */
export async function linkInvoicePayment(tx: StorageOperations, link: { paymentIntentId: string; invoiceId: string }): Promise<SaleKeys | null> {
  await tx.recordInvoicePayment(link);
  const sale = await tx.findSale({ stripeInvoiceId: link.invoiceId });
  if (!sale) return null;
  if (!sale.stripePaymentIntentId) await tx.setSalePaymentIntent(sale.id, link.paymentIntentId);
  return { stripePaymentIntentId: link.paymentIntentId };
}
