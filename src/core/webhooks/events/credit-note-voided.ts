import type Stripe from 'stripe';
import { voidSaleCredit } from '../../sales/credit-notes.js';
import type { EventContext } from '../event-context.js';

/** `credit_note.voided`: the credit no longer reduces the sale. */
export async function creditNoteVoided(context: EventContext): Promise<void> {
  const note = context.event.data.object as Stripe.CreditNote;
  await voidSaleCredit(context.tx, note.id);
}
