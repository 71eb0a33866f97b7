import type Stripe from 'stripe';
import { scaleRoundHalfUp } from './amounts.js';
import { reconcileCommission } from '../commissions/engine.js';
import { saleOfCharge } from './refunds.js';
import { park, type EventContext } from '../webhooks/events.js';
import { idOf, toDate } from '../webhooks/stripe-payloads.js';

/**
 * `charge.dispute.created` / `charge.dispute.updated` / `charge.dispute.closed`: the dispute's
 * latest state against its sale, untaxed (the disputed share of the charge times the sale). Open
 * and lost disputes count as disputed; won ones stop counting. Keyed by the dispute and ordered by
 * Stripe's event time, so repeats and late older events change nothing.
 */
export async function disputeEvent(context: EventContext): Promise<void> {
  const dispute = context.event.data.object as Stripe.Dispute;
  const paymentIntentId = idOf(dispute.payment_intent);
  const sale = await saleOfCharge(context, typeof dispute.charge === 'string' ? null : dispute.charge, paymentIntentId);
  if (!sale) {
    await park(context, `payment_intent:${paymentIntentId}`);
    return;
  }
  const charged = sale.chargeAmount ?? (typeof dispute.charge !== 'string' ? dispute.charge : await chargeOf(context, dispute.charge))?.amount;
  // Without the charged total (an older sale and no Stripe client to ask), the dispute is taken as covering the whole payment.
  const amount = charged && charged > 0 ? Math.min(scaleRoundHalfUp(sale.amount, Math.min(dispute.amount, charged), charged), sale.amount) : sale.amount;
  await context.tx.recordDispute({ id: dispute.id, saleId: sale.id, amount, status: dispute.status, at: toDate(context.event.created) });
  await reconcileCommission(context.tx, sale.id);
}

async function chargeOf(context: EventContext, chargeId: string): Promise<Stripe.Charge | undefined> {
  const stripe = context.options.stripe;
  return stripe ? context.lookup(`charges.retrieve:${chargeId}`, () => stripe.charges.retrieve(chargeId)) : undefined;
}
