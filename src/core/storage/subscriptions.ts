import type { Db } from './rows.js';

export interface SubscriptionState {
  id: string;
  livemode: boolean;
  customerId: string | null;
  status: string;
  quantity: number | null;
  stripePriceId: string | null;
  canceledAt: Date | null;
  /** Set when the subscription ended: churn. */
  endedAt: Date | null;
  /** Stripe's time of the event this state comes from. */
  at: Date;
}

/**
 * Subscriptions as Stripe last described them.
 *
 * Atomic: `upsertSubscription` is one statement guarded by Stripe's time of the event, so whatever
 * order events (or concurrent copies) arrive in, the newest state stays.
 */
export interface SubscriptionStore {
  /** Records a subscription's state as of `at`; an older event never overwrites a newer one. */
  upsertSubscription(subscription: SubscriptionState): Promise<void>;
  getSubscription(id: string): Promise<SubscriptionState | undefined>;
}

/** The subscription store on the library's tables. */
export function subscriptionStore(db: Db): SubscriptionStore {
  return {
    async upsertSubscription(subscription: SubscriptionState): Promise<void> {
      const values = {
        id: subscription.id,
        livemode: subscription.livemode,
        customer_id: subscription.customerId,
        status: subscription.status,
        quantity: subscription.quantity,
        stripe_price_id: subscription.stripePriceId,
        canceled_at: subscription.canceledAt,
        ended_at: subscription.endedAt,
        stripe_updated_at: subscription.at,
      };
      await db
        .insertInto('subscriptions')
        .values(values)
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({
              status: eb.ref('excluded.status'),
              quantity: eb.ref('excluded.quantity'),
              stripe_price_id: eb.ref('excluded.stripe_price_id'),
              canceled_at: eb.ref('excluded.canceled_at'),
              ended_at: eb.ref('excluded.ended_at'),
              customer_id: eb.fn.coalesce('subscriptions.customer_id', eb.ref('excluded.customer_id')),
              stripe_updated_at: eb.ref('excluded.stripe_updated_at'),
            }))
            .whereRef('subscriptions.stripe_updated_at', '<=', 'excluded.stripe_updated_at'),
        )
        .execute();
    },

    async getSubscription(id: string): Promise<SubscriptionState | undefined> {
      const row = await db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
      return (
        row && {
          id: row.id,
          livemode: row.livemode,
          customerId: row.customer_id,
          status: row.status,
          quantity: row.quantity,
          stripePriceId: row.stripe_price_id,
          canceledAt: row.canceled_at,
          endedAt: row.ended_at,
          at: row.stripe_updated_at,
        }
      );
    },
  };
}
