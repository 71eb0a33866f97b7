import type Stripe from 'stripe';
import { scaleRoundHalfUp } from './amounts.js';
import { reconcileCommission } from '../commissions/engine.js';
import { park, type EventContext } from '../webhooks/events.js';
import { idOf } from '../webhooks/stripe-payloads.js';

/**
 * `credit_note.created` on a paid invoice. The part refunded to the card arrives as
 * `charge.refunded` and is counted there; the rest — credited to the customer's balance or settled
 * out of band — reduces the sale like a refund, without its tax share, once per credit note.
 */
export async function creditNoteEvent(context: EventContext): Promise<void> {
  const note = context.event.data.object as Stripe.CreditNote;
  if (note.status === 'void' || note.post_payment_amount <= 0 || note.total <= 0) return;
  const invoiceId = idOf(note.invoice);
  const sale = invoiceId ? await context.tx.findSale({ stripeInvoiceId: invoiceId }) : undefined;
  if (!sale) {
    await park(context, `invoice:${invoiceId}`);
    return;
  }
  const toCard = await refundedToCard(context, note);
  const offCard = Math.max(note.post_payment_amount - toCard, 0);
  if (offCard === 0) return;
  const untaxed = scaleRoundHalfUp(offCard, Math.max(note.total_excluding_tax ?? note.total, 0), note.total);
  await context.tx.recordSaleCredit({ creditNoteId: note.id, saleId: sale.id, amount: Math.min(untaxed, sale.amount) });
  await reconcileCommission(context.tx, sale.id);
}

/**
 * What of the credit note went back to the payment method. Basil lists it in `refunds`; older
 * payloads name a single `refund`, whose amount is read from Stripe (or, without a client, the
 * whole note is taken as refunded to the card, so `charge.refunded` alone counts it, never twice).
 */
async function refundedToCard(context: EventContext, note: Stripe.CreditNote): Promise<number> {
  if (note.refunds) return note.refunds.reduce((sum, refund) => sum + refund.amount_refunded, 0);
  const legacy = (note as unknown as { refund?: string | { amount: number } | null }).refund;
  if (!legacy) return 0;
  if (typeof legacy !== 'string') return legacy.amount;
  const stripe = context.options.stripe;
  if (!stripe) return note.post_payment_amount;
  return (await context.lookup(`refunds.retrieve:${legacy}`, () => stripe.refunds.retrieve(legacy))).amount;
}

/** `credit_note.voided`: the credit no longer reduces the sale. */
export async function creditNoteVoidedEvent(context: EventContext): Promise<void> {
  const note = context.event.data.object as Stripe.CreditNote;
  const saleId = await context.tx.removeSaleCredit(note.id);
  if (saleId) await reconcileCommission(context.tx, saleId);
}

