import type Stripe from 'stripe';
import { attributeBuyer } from './attribute.js';
import { readLegacyKeys } from './legacy-keys.js';
import { commissionTrialSeats } from '../commissions/engine.js';
import type { EventContext } from '../webhooks/events.js';
import { idOf, toDate } from '../webhooks/stripe-payloads.js';

/**
 * `customer.subscription.created` / `.updated` / `.deleted`: the subscription's state (plan,
 * quantity — expansion or contraction — and its end, which is churn: no recurring commissions after
 * it), kept as of Stripe's event time so an older event never overwrites a newer one. A new
 * subscription in `trialing` is a lead, attributed from the subscription's metadata; with
 * `leadReward.perTrialSeat` its lead reward is paid per seat.
 */
export async function subscriptionEvent(context: EventContext): Promise<void> {
  const subscription = context.event.data.object as Stripe.Subscription;
  const metadata = subscription.metadata ?? {};
  const stripeCustomerId = idOf(subscription.customer);
  const isTrialLead = context.event.type === 'customer.subscription.created' && subscription.status === 'trialing';
  const legacy = readLegacyKeys(context.options.legacyKeys, [metadata]);
  const customerKey = metadata.sa_customer_key ?? legacy.customerKey;
  const buyer = isTrialLead || metadata.sa_click_id || customerKey || legacy.clickIds.length
    ? await attributeBuyer(context.tx, context.options, {
        livemode: subscription.livemode,
        at: toDate(subscription.created),
        stripeCustomerId,
        customerKey,
        email: null,
        clickIds: [metadata.sa_click_id],
        legacyClickIds: legacy.clickIds,
        programIds: [metadata.sa_program_id],
      })
    : undefined;
  const customer = buyer?.customer ?? (stripeCustomerId ? await context.tx.findCustomer({ stripeCustomerId }) : undefined);
  const quantity = (subscription.items?.data ?? []).reduce((sum, line) => sum + (line.quantity ?? 0), 0) || null;
  if (isTrialLead && buyer) await commissionTrialSeats(context.tx, context.options, buyer.customer, toDate(subscription.created), quantity ?? 1);
  const item = subscription.items?.data[0];
  await context.tx.upsertSubscription({
    id: subscription.id,
    livemode: subscription.livemode,
    customerId: customer?.id ?? null,
    status: subscription.status,
    quantity,
    stripePriceId: item?.price?.id ?? null,
    canceledAt: subscription.canceled_at ? toDate(subscription.canceled_at) : null,
    endedAt: subscription.ended_at ? toDate(subscription.ended_at) : null,
    at: toDate(context.event.created),
  });
}
