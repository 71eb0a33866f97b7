import type Stripe from 'stripe';
import { recordSaleDispute } from '../../sales/disputes.js';
import { idOf } from '../../stripe/expandable.js';
import type { EventContext, EventOutcome } from '../event-context.js';
import { waitingForPayment } from '../parking.js';
import { saleOfCharge } from '../sale-of-charge.js';
import { toDate } from '../stripe-payloads.js';

/**
 * `charge.dispute.created` (and `.updated`, `.closed`: each reports the dispute's latest state, ordered
 * by the event's time). A dispute whose sale is not known yet waits, parked, for it.
 */
export async function chargeDisputeCreated(context: EventContext): Promise<EventOutcome | void> {
  const dispute = context.event.data.object as Stripe.Dispute;
  const paymentIntentId = idOf(dispute.payment_intent);
  const sale = await saleOfCharge(context, typeof dispute.charge === 'string' ? null : dispute.charge, paymentIntentId);
  if (!sale) return { waitingFor: waitingForPayment(paymentIntentId) };
  const charged = sale.chargeAmount ?? (typeof dispute.charge !== 'string' ? dispute.charge : await chargeOf(context, dispute.charge))?.amount;
  await recordSaleDispute(context.tx, sale, { id: dispute.id, amount: dispute.amount, chargedAmount: charged ?? null, status: dispute.status, at: toDate(context.event.created) });
}

/** Only an older sale lacks its charged amount: the charge is asked of Stripe, when there is a client. */
async function chargeOf(context: EventContext, chargeId: string): Promise<Stripe.Charge | undefined> {
  const stripe = context.options.stripe;
  return stripe ? context.lookup(`charges.retrieve:${chargeId}`, () => stripe.charges.retrieve(chargeId)) : undefined;
}
