import type Stripe from 'stripe';
import type { ResolvedOptions } from '../options.js';
import type { Sale, SaleKeys, StorageOperations } from '../storage/types.js';
import type { Lookup } from './lookups.js';

/** What an event handler works with: one transaction, the options, and the event. */
export interface EventContext {
  tx: StorageOperations;
  options: ResolvedOptions;
  event: Stripe.Event;
  /** Stripe API look-ups, answered outside the transaction (see `transactionWithLookups`). */
  lookup: Lookup;
  /** Call once a sale is known under `keys`: events parked waiting for it are applied now. */
  saleKnown(keys: SaleKeys): Promise<void>;
  /**
   * Call for a sale just recorded (or, `claimed`, recorded earlier and just credited to a partner):
   * its commission, then what waited for it.
   */
  saleRecorded(sale: Sale, how?: { claimed: boolean }): Promise<void>;
}

export type EventHandler = (context: EventContext) => Promise<void>;

/**
 * Keeps an event whose counterpart has not arrived (a refund before its sale) in the database,
 * in the same transaction that records it as received. `waitingFor` names the counterpart.
 */
export async function park(context: EventContext, waitingFor: string): Promise<void> {
  await context.tx.parkEvent({ eventId: context.event.id, waitingFor, event: context.event });
}

/** The parking keys under which events may wait for a sale with these identifiers. */
export function parkingKeys(keys: SaleKeys): string[] {
  return [
    keys.stripePaymentIntentId && `payment_intent:${keys.stripePaymentIntentId}`,
    keys.stripeInvoiceId && `invoice:${keys.stripeInvoiceId}`,
  ].filter((key): key is string => Boolean(key));
}
