import type Stripe from 'stripe';
import type { ResolvedOptions } from '../options/options.js';
import type { Storage, StorageOperations } from '../storage/types.js';
import { transactionWithLookups, type Lookup } from '../transaction/lookups.js';
import type { TransactionRunner } from '../transaction/run.js';
import { handlerFor } from './event-handlers.js';
import { parkingKeys } from './parking.js';
import type { WebhookResponse } from './response.js';

/**
 * Processes one verified event exactly once: its id is recorded in the same transaction as its
 * effects, so a repeat (or a concurrent copy, which waits on the first's row) changes nothing,
 * and a failure rolls everything back for Stripe to retry.
 */
export async function processEvent(storage: Storage, options: ResolvedOptions, transactions: TransactionRunner, event: Stripe.Event): Promise<WebhookResponse> {
  await applyEvent(storage, options, transactions, event);
  return { status: 200, body: { received: true, type: event.type } };
}

/** `processEvent`'s work: true when this call applied the event, false for a repeat or an unhandled type. */
export async function applyEvent(storage: Storage, options: ResolvedOptions, transactions: TransactionRunner, event: Stripe.Event): Promise<boolean> {
  if (!handlerFor(event.type)) return false;
  return transactionWithLookups(storage, transactions, async (tx, lookup) => {
    const first = await tx.recordWebhookEvent({
      id: event.id,
      type: event.type,
      livemode: event.livemode,
      apiVersion: event.api_version ?? null,
      createdAt: new Date(event.created * 1000),
    });
    if (first) await dispatch(tx, options, lookup, event);
    return first;
  });
}

/**
 * Runs the event's handler and acts on what it reports, in the same transaction: an event whose
 * counterpart is missing is parked under its key; a sale now known under some keys has the events
 * parked waiting for those keys applied (they may in turn make more known).
 */
async function dispatch(tx: StorageOperations, options: ResolvedOptions, lookup: Lookup, event: Stripe.Event): Promise<void> {
  const outcome = await handlerFor(event.type)?.({ tx, options, lookup, event });
  if (!outcome) return;
  if (outcome.waitingFor) await tx.parkEvent({ eventId: event.id, waitingFor: outcome.waitingFor, event });
  for (const key of outcome.saleKnown ? parkingKeys(outcome.saleKnown) : []) {
    for (const parked of await tx.takeParkedEvents(key)) await dispatch(tx, options, lookup, parked.event as Stripe.Event);
  }
}

/** After this many failed retries a parked event is left for a person to look at (`last_error`). */
const MAX_PARKED_ATTEMPTS = 25;

/**
 * Retries parked events, each in a transaction of its own (from a cron; safe in several instances
 * at once: each event is taken by one of them). An event whose counterpart is still missing is
 * parked again; one whose retry fails keeps its error and counts an attempt, and after
 * MAX_PARKED_ATTEMPTS it is no longer retried.
 */
export async function applyParked(storage: Storage, options: ResolvedOptions, transactions: TransactionRunner): Promise<{ retried: number; stillParked: number }> {
  let retried = 0;
  for (const eventId of await storage.listParkedEventIds(MAX_PARKED_ATTEMPTS)) {
    try {
      const taken = await transactionWithLookups(storage, transactions, async (tx, lookup) => {
        const parked = await tx.takeParkedEvent(eventId);
        if (!parked) return false;
        await dispatch(tx, options, lookup, parked.event as Stripe.Event);
        // Parked again (its counterpart is still missing): that was one more attempt.
        await tx.recordParkedFailure(eventId, `still waiting for ${parked.waitingFor}`, parked.attempts + 1);
        return true;
      });
      if (taken) retried++;
    } catch (error) {
      options.onError(error, `retrying parked Stripe event ${eventId}`);
      await storage.recordParkedFailure(eventId, error instanceof Error ? error.message : String(error));
    }
  }
  return { retried, stillParked: await storage.countParkedEvents() };
}
