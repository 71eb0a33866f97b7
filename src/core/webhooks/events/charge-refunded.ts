import type Stripe from 'stripe';
import { refundSale } from '../../sales/refunds.js';
import { idOf } from '../../stripe/expandable.js';
import type { EventContext, EventOutcome } from '../event-context.js';
import { waitingForInvoice, waitingForPayment } from '../parking.js';
import { saleOfCharge } from '../sale-of-charge.js';
import { chargeInvoiceId } from '../stripe-payloads.js';

/**
 * `charge.refunded`: the charge's cumulative `amount_refunded` against its sale (the rule is in
 * `sales/refunds.ts`). A refund whose sale is not known yet waits, parked, for it.
 */
export async function chargeRefunded(context: EventContext): Promise<EventOutcome | void> {
  const charge = context.event.data.object as Stripe.Charge;
  const paymentIntentId = idOf(charge.payment_intent);
  const sale = await saleOfCharge(context, charge, paymentIntentId);
  if (!sale) return { waitingFor: paymentIntentId ? waitingForPayment(paymentIntentId) : waitingForInvoice(chargeInvoiceId(charge)) };
  await refundSale(context.tx, sale, { chargeId: charge.id, chargeAmount: charge.amount, chargeCurrency: charge.currency ?? null, amountRefunded: charge.amount_refunded });
}
