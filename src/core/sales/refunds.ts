import type Stripe from 'stripe';
import { scaleRoundHalfUp } from './amounts.js';
import { reconcileCommission } from '../commissions/engine.js';
import { park, type EventContext } from '../webhooks/events.js';
import { chargeInvoiceId, idOf } from '../webhooks/stripe-payloads.js';
import type { Sale } from '../storage/types.js';

/**
 * `charge.refunded`. `amount_refunded` is the charge's cumulative total, so the charge's refunded
 * amount is raised to it (never lowered): a repeat or an older event changes nothing. Refunds are
 * recorded untaxed, in the sale's currency: what the sale's charges had refunded together, as a
 * share of what the sale was paid, times the sale. An invoice paid by several charges thus loses
 * only the refunded charge's share, and rounding once over the sum keeps the refunds of all its
 * charges within the sale. A refund whose sale is not known yet waits, parked, for it.
 */
export async function chargeRefundedEvent(context: EventContext): Promise<void> {
  const charge = context.event.data.object as Stripe.Charge;
  const paymentIntentId = idOf(charge.payment_intent);
  const sale = await saleOfCharge(context, charge, paymentIntentId);
  if (!sale) {
    await park(context, paymentIntentId ? `payment_intent:${paymentIntentId}` : `invoice:${chargeInvoiceId(charge)}`);
    return;
  }
  if (charge.amount <= 0) return;
  const paid = paidForSale(sale, charge);
  const refundedByCharges = await context.tx.recordChargeRefund({ saleId: sale.id, chargeId: charge.id, amountRefunded: Math.min(charge.amount_refunded, charge.amount) });
  const refunded = Math.min(scaleRoundHalfUp(sale.amount, Math.min(refundedByCharges, paid), paid), sale.amount);
  await context.tx.raiseSaleRefunded(sale.id, refunded);
  await reconcileCommission(context.tx, sale.id);
}

/**
 * What the charge's refund is a share of: everything the sale was paid (all of an invoice's
 * payments). A sale recorded before charge amounts were kept, or one charged in another currency
 * than it is recorded in (Adaptive Pricing's presentment currency), is taken as this one charge.
 */
function paidForSale(sale: Sale, charge: Stripe.Charge): number {
  const paid = sale.chargeAmount;
  return paid !== null && paid >= charge.amount && charge.currency?.toLowerCase() === sale.currency ? paid : charge.amount;
}

/** The sale a charge paid: by payment intent, by (legacy) invoice, or by the invoice payment, asked of Stripe if need be. */
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
