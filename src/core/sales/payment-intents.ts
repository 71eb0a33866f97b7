import type Stripe from 'stripe';
import { attributeBuyer } from './attribute.js';
import type { EventContext } from '../webhooks/events.js';
import { idOf, paymentIntentInvoiceId, toDate } from '../webhooks/stripe-payloads.js';

/**
 * `payment_intent.succeeded`: a sale only for payment intents created directly with our metadata.
 * Those of a Checkout session (`sa_via: 'checkout'`) or of an invoice are that session's or
 * invoice's sale, never a second one. Payment intents carry no tax breakdown: the amount received
 * is the sale. Other tools' keys (`legacyKeys`) are not read here: without `sa_via` a Checkout's
 * own payment intent cannot be told apart, and would become the sale with its tax.
 */
export async function paymentIntentSucceededEvent(context: EventContext): Promise<void> {
  const intent = context.event.data.object as Stripe.PaymentIntent;
  const metadata = intent.metadata ?? {};
  if (!metadata.sa_click_id && !metadata.sa_customer_key) return;
  if (metadata.sa_via === 'checkout' || paymentIntentInvoiceId(intent)) return;
  if (await context.tx.findInvoiceForPaymentIntent(intent.id)) return;
  if (intent.amount_received <= 0) return;

  const buyer = await attributeBuyer(context.tx, context.options, {
    livemode: intent.livemode,
    at: toDate(intent.created),
    stripeCustomerId: idOf(intent.customer),
    customerKey: metadata.sa_customer_key ?? null,
    email: intent.receipt_email,
    clickIds: [metadata.sa_click_id],
    programIds: [metadata.sa_program_id],
    purchase: { stripePaymentIntentId: intent.id },
  });
  const { record, created } = await context.tx.insertSale({
    livemode: intent.livemode,
    customerId: buyer.customer.id,
    partnerId: buyer.partnerId,
    clickId: buyer.clickId,
    stripePaymentIntentId: intent.id,
    amount: intent.amount_received,
    currency: intent.currency,
    chargeAmount: intent.amount_received,
    occurredAt: toDate(intent.created),
  });
  if (created) await context.saleRecorded(record);
}
