import { commissionTrialSeats } from '../commissions/engine.js';
import { attributeBuyer, type BuyerEvidence } from '../customers/attribute.js';
import type { ResolvedOptions } from '../options/options.js';
import type { StorageOperations, SubscriptionState } from '../storage/types.js';
import type { Lookup } from '../transaction/lookups.js';
import { creditLaterSales } from './record-sale.js';

export interface SubscriptionChange {
  /** Who subscribed, when the subscription carries attribution or is a new trial; else null. */
  buyer: BuyerEvidence | null;
  /** The subscribing customer's Stripe id: how a subscription without attribution finds its customer. */
  stripeCustomerId: string | null;
  /** For a new trial, its seats: a lead, paid per seat with `leadReward.perTrialSeat`. Null otherwise. */
  trialSeats: number | null;
  state: Omit<SubscriptionState, 'customerId'>;
}

/**
 * The subscription's state (plan, quantity — expansion or contraction — and its end, which is
 * churn: no recurring commissions after it), kept as of `state.at` so an older report never
 * overwrites a newer one. A new trial is a lead, attributed from the subscription's evidence.
 */
export async function recordSubscription(tx: StorageOperations, options: ResolvedOptions, lookup: Lookup, change: SubscriptionChange): Promise<void> {
  const buyer = change.buyer ? await attributeBuyer(tx, options, change.buyer) : undefined;
  const customer = buyer?.customer ?? (change.stripeCustomerId ? await tx.findCustomer({ stripeCustomerId: change.stripeCustomerId }) : undefined);
  if (change.trialSeats !== null && buyer && change.buyer) await commissionTrialSeats(tx, options, buyer.customer, change.buyer.at, change.trialSeats);
  await tx.upsertSubscription({ ...change.state, customerId: customer?.id ?? null });
  // After the state: a later sale of a subscription that has ended earns nothing.
  if (buyer) await creditLaterSales(tx, options, lookup, buyer);
}
