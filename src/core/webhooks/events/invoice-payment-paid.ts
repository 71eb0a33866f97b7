import type Stripe from 'stripe';
import { linkInvoicePayment } from '../../sales/invoice-payments.js';
import { idOf } from '../../stripe/expandable.js';
import type { EventContext, EventOutcome } from '../event-context.js';

/**
 * `invoice_payment.paid` (Basil onwards): which payment intent paid which invoice. A refund of
 * that payment that waited for this link is applied once the sale is known under it.
 */
export async function invoicePaymentPaid(context: EventContext): Promise<EventOutcome | void> {
  const payment = context.event.data.object as Stripe.InvoicePayment;
  const invoiceId = idOf(payment.invoice as string | { id: string } | null);
  const paymentIntentId = idOf(payment.payment?.payment_intent ?? null);
  if (!invoiceId || !paymentIntentId) return;
  return { saleKnown: await linkInvoicePayment(context.tx, { paymentIntentId, invoiceId }) };
}
