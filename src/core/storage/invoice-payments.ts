import type { Db } from './rows.js';

/**
 * Which invoice a payment intent paid, learned from whichever event told first.
 *
 * Atomic: one statement each. `recordInvoicePayment` is idempotent on the payment intent: a repeat
 * or a concurrent duplicate changes nothing, the first link stays.
 */
export interface InvoicePaymentStore {
  /** Remembers which invoice a payment intent paid. Idempotent. */
  recordInvoicePayment(link: { paymentIntentId: string; invoiceId: string }): Promise<void>;
  findInvoiceForPaymentIntent(paymentIntentId: string): Promise<string | undefined>;
  findPaymentIntentForInvoice(invoiceId: string): Promise<string | undefined>;
}

/** The invoice payment store on the library's tables. */
export function invoicePaymentStore(db: Db): InvoicePaymentStore {
  return {
    async recordInvoicePayment(link: { paymentIntentId: string; invoiceId: string }): Promise<void> {
      await db
        .insertInto('invoice_payments')
        .values({ payment_intent_id: link.paymentIntentId, invoice_id: link.invoiceId })
        .onConflict((oc) => oc.column('payment_intent_id').doNothing())
        .execute();
    },

    async findInvoiceForPaymentIntent(paymentIntentId: string): Promise<string | undefined> {
      const row = await db.selectFrom('invoice_payments').select('invoice_id').where('payment_intent_id', '=', paymentIntentId).executeTakeFirst();
      return row?.invoice_id;
    },

    async findPaymentIntentForInvoice(invoiceId: string): Promise<string | undefined> {
      const row = await db.selectFrom('invoice_payments').select('payment_intent_id').where('invoice_id', '=', invoiceId).orderBy('created_at').executeTakeFirst();
      return row?.payment_intent_id;
    },
  };
}
