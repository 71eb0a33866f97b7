import type Stripe from 'stripe';
import { reverseTransfer } from '../../payouts/reversals.js';
import type { EventContext } from '../event-context.js';

/**
 * `transfer.reversed`: a payout's transfer came back. Reversed in full, the payout's commissions
 * are payable again; a partial reversal is the merchant's to settle (see `reverseTransfer`).
 */
export async function transferReversed(context: EventContext): Promise<void> {
  const transfer = context.event.data.object as Stripe.Transfer;
  await reverseTransfer(context.tx, context.options, {
    transferId: transfer.id,
    payoutId: transfer.metadata?.sa_payout_id,
    amount: transfer.amount,
    amountReversed: transfer.amount_reversed,
    at: new Date(context.event.created * 1000),
  });
}
