import type Stripe from 'stripe';
import { recordSale } from '../../sales/record-sale.js';
import { idOf } from '../../stripe/expandable.js';
import type { EventContext, EventOutcome } from '../event-context.js';
import { cardFingerprint, paymentIntentInvoiceId, toDate } from '../stripe-payloads.js';

/**
 * `payment_intent.succeeded`: a sale only for payment intents created directly with our metadata.
 * Those of a Checkout session (`sa_via: 'checkout'`) or of an invoice are that session's or
 * invoice's sale, never a second one. Payment intents carry no tax breakdown: the amount received
 * is the sale. Other tools' keys (`legacyKeys`) are not read here: without `sa_via` a Checkout's
 * own payment intent cannot be told apart, and would become the sale with its tax.
 */
export async function paymentIntentSucceeded(context: EventContext): Promise<EventOutcome | void> {
  const intent = context.event.data.object as Stripe.PaymentIntent;
  const metadata = intent.metadata ?? {};
  if (!metadata.sa_click_id && !metadata.sa_customer_key) return;
  if (metadata.sa_via === 'checkout' || paymentIntentInvoiceId(intent)) return;
  if (await context.tx.findInvoiceForPaymentIntent(intent.id)) return;
  if (intent.amount_received <= 0) return;

  const evidence = {
    livemode: intent.livemode,
    at: toDate(intent.created),
    stripeCustomerId: idOf(intent.customer),
    customerKey: metadata.sa_customer_key ?? null,
    email: intent.receipt_email,
    clickIds: [metadata.sa_click_id],
    programIds: [metadata.sa_program_id],
    purchase: { stripePaymentIntentId: intent.id },
  };
  const sale = {
    livemode: intent.livemode,
    stripePaymentIntentId: intent.id,
    amount: intent.amount_received,
    currency: intent.currency,
    chargeAmount: intent.amount_received,
    cardFingerprint: cardFingerprint(intent),
    occurredAt: toDate(intent.created),
  };
  // A payment intent already recorded is another object's sale (its session's or invoice's): that
  // object's attribution stands, this intent's metadata never re-credits it.
  const saleKnown = await recordSale(context.tx, context.options, context.lookup, evidence, sale, { claim: false });
  return { saleKnown };
}
