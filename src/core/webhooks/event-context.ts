import type Stripe from 'stripe';
import type { ResolvedOptions } from '../options/options.js';
import type { SaleKeys, StorageOperations } from '../storage/types.js';
import type { Lookup } from '../transaction/lookups.js';

/** What an event handler works with: one transaction, the options, and the event. */
export interface EventContext {
  tx: StorageOperations;
  options: ResolvedOptions;
  event: Stripe.Event;
  /** Stripe API look-ups, answered outside the transaction (see `transactionWithLookups`). */
  lookup: Lookup;
}

/**
 * What a handler hands back to the dispatcher, which acts on it in the same transaction: the keys
 * a sale became known under (events parked waiting for it are applied now), or the parking key
 * (`webhooks/parking.ts`) of a counterpart that has not arrived, so the event waits for it.
 */
export interface EventOutcome {
  saleKnown?: SaleKeys | null;
  waitingFor?: string;
}

export type EventHandler = (context: EventContext) => Promise<EventOutcome | void>;
