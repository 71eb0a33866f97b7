import type Stripe from 'stripe';
import { recordSubscription } from '../../sales/subscriptions.js';
import { idOf } from '../../stripe/expandable.js';
import type { EventContext } from '../event-context.js';
import { readLegacyKeys } from '../legacy-keys.js';
import { toDate } from '../stripe-payloads.js';

/**
 * `customer.subscription.created` (and `.updated`, `.deleted`: each reports the subscription's
 * state as of the event's time). A new subscription in `trialing` is a lead, attributed from the
 * subscription's metadata; with `leadReward.perTrialSeat` its lead reward is paid per seat.
 */
export async function customerSubscriptionCreated(context: EventContext): Promise<void> {
  const subscription = context.event.data.object as Stripe.Subscription;
  const metadata = subscription.metadata ?? {};
  const stripeCustomerId = idOf(subscription.customer);
  const isTrialLead = context.event.type === 'customer.subscription.created' && subscription.status === 'trialing';
  const legacy = readLegacyKeys(context.options.legacyKeys, [metadata]);
  const customerKey = metadata.sa_customer_key ?? legacy.customerKey;
  const attributed = isTrialLead || metadata.sa_click_id || customerKey || legacy.clickIds.length;
  const quantity = (subscription.items?.data ?? []).reduce((sum, line) => sum + (line.quantity ?? 0), 0) || null;
  const item = subscription.items?.data[0];
  await recordSubscription(context.tx, context.options, context.lookup, {
    buyer: attributed
      ? {
          livemode: subscription.livemode,
          at: toDate(subscription.created),
          stripeCustomerId,
          customerKey,
          email: null,
          clickIds: [metadata.sa_click_id],
          legacyClickIds: legacy.clickIds,
          programIds: [metadata.sa_program_id],
        }
      : null,
    stripeCustomerId,
    trialSeats: isTrialLead ? (quantity ?? 1) : null,
    state: {
      id: subscription.id,
      livemode: subscription.livemode,
      status: subscription.status,
      quantity,
      stripePriceId: item?.price?.id ?? null,
      canceledAt: subscription.canceled_at ? toDate(subscription.canceled_at) : null,
      endedAt: subscription.ended_at ? toDate(subscription.ended_at) : null,
      at: toDate(context.event.created),
    },
  });
}
