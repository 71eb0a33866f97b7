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
  const toCard = (note.refunds ?? []).reduce((sum, refund) => sum + refund.amount_refunded, 0);
  const offCard = Math.max(note.post_payment_amount - toCard, 0);
  if (offCard === 0) return;
  const untaxed = scaleRoundHalfUp(offCard, Math.max(note.total_excluding_tax ?? note.total, 0), note.total);
  await context.tx.recordSaleCredit({ creditNoteId: note.id, saleId: sale.id, amount: Math.min(untaxed, sale.amount) });
  await reconcileCommission(context.tx, sale.id);
}
