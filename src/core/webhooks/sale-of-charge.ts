import type Stripe from 'stripe';
import { idOf } from '../stripe/expandable.js';
import type { Sale } from '../storage/types.js';
import type { EventContext } from './event-context.js';
import { chargeInvoiceId } from './stripe-payloads.js';

/**
 * The sale a charge paid (for its refunds and disputes): by payment intent, by (legacy) invoice,
 * or by the invoice payment, asked of Stripe if need be.
 */
export async function saleOfCharge(context: EventContext, charge: Stripe.Charge | null, paymentIntentId: string | null): Promise<Sale | undefined> {
  const { tx } = context;
  const invoiceId = (charge && chargeInvoiceId(charge)) ?? (paymentIntentId ? await tx.findInvoiceForPaymentIntent(paymentIntentId) : undefined);
  const found = await tx.findSale({ stripePaymentIntentId: paymentIntentId, stripeInvoiceId: invoiceId });
  if (found || !paymentIntentId || !context.options.stripe) return found;
  // Basil renewal charges name only their payment intent: ask Stripe which invoice it paid.
  const stripe = context.options.stripe;
  const payments = await context.lookup(`invoicePayments.list:${paymentIntentId}`, () =>
    stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: paymentIntentId } }),
  );
  const paidInvoice = idOf((payments.data[0]?.invoice ?? null) as string | { id: string } | null);
  if (!paidInvoice) return undefined;
  await tx.recordInvoicePayment({ paymentIntentId, invoiceId: paidInvoice });
  return tx.findSale({ stripeInvoiceId: paidInvoice });
}
