import type Stripe from 'stripe';
import { creditSale } from '../../sales/credit-notes.js';
import { idOf } from '../../stripe/expandable.js';
import type { EventContext, EventOutcome } from '../event-context.js';
import { waitingForInvoice } from '../parking.js';

/**
 * `credit_note.created` on a paid invoice. The part refunded to the card arrives as
 * `charge.refunded` and is counted there; the rest reduces the sale (`sales/credit-notes.ts`).
 * A credit note whose sale is not known yet waits, parked, for it.
 */
export async function creditNoteCreated(context: EventContext): Promise<EventOutcome | void> {
  const note = context.event.data.object as Stripe.CreditNote;
  if (note.status === 'void' || note.post_payment_amount <= 0 || note.total <= 0) return;
  const invoiceId = idOf(note.invoice);
  const sale = invoiceId ? await context.tx.findSale({ stripeInvoiceId: invoiceId }) : undefined;
  if (!sale) return { waitingFor: waitingForInvoice(invoiceId) };
  const toCard = await refundedToCard(context, note);
  await creditSale(context.tx, sale, {
    creditNoteId: note.id,
    offCard: Math.max(note.post_payment_amount - toCard, 0),
    total: note.total,
    totalExcludingTax: note.total_excluding_tax ?? note.total,
  });
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
