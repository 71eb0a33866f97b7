import type Stripe from 'stripe';
import { ConfigurationError } from '../kernel/errors.js';
import type { ResolvedOptions } from '../options/options.js';
import type { Storage } from '../storage/types.js';
import { applyEvent, applyParked } from './dispatch.js';
import type { TransactionRunner } from '../transaction/run.js';
import { HANDLED_EVENT_TYPES } from './event-handlers.js';

/** Stripe keeps events retrievable through `events.list` for 30 days. */
export const RECONCILE_MAX_DAYS = 30;
/** `events.list` takes at most this many names in `types`. */
const MAX_LISTED_TYPES = 20;
const PAGE_SIZE = 100;

export interface ReconcileRequest {
  /** Re-read events created since then. Older than 30 days is clamped to 30 days ago (see `clamped`). */
  since: Date;
  /** Told how far it got: when it starts, every 100 events listed or applied, and when each phase ends. */
  onProgress?: (progress: ReconcileProgress) => void;
}

export type ReconcileProgress =
  | { phase: 'started'; since: Date; clamped: boolean }
  | { phase: 'listing'; seen: number; alreadyProcessed: number; done: boolean }
  | { phase: 'applying'; total: number; applied: number; alreadyProcessed: number; failed: number; done: boolean };

export interface ReconcileResult {
  /** The start actually read from: `since`, or 30 days ago when `since` was older. */
  since: Date;
  clamped: boolean;
  /** Events of the handled types Stripe listed. */
  seen: number;
  /** Events this run applied: missed by the webhook (the app was down, the endpoint misconfigured). */
  applied: number;
  /** Events the database had already processed (delivered by webhook, or by an earlier run). */
  alreadyProcessed: number;
  /** Events whose processing failed, each reported to `onError`; nothing of them was kept. */
  failed: number;
  /** `applyParked()` run at the end, for events parked until a counterpart this run supplied. */
  parked: { retried: number; stillParked: number };
}

/**
 * Re-reads Stripe's event list through the merchant's client and applies, oldest first, each event
 * the database has not processed, through the same idempotent path as webhooks. Safe to run while
 * webhooks arrive and in several processes: an event is applied once whoever gets it first. One
 * event failing does not stop the others; it is counted and reported.
 */
export async function reconcile(storage: Storage, options: ResolvedOptions, transactions: TransactionRunner, request: ReconcileRequest): Promise<ReconcileResult> {
  const stripe = options.stripe;
  if (!stripe) {
    throw new ConfigurationError('reconcile() reads Stripe’s event list through your client: pass `stripe` to createAttribution({ stripe: new Stripe(key) })');
  }
  if (!(request.since instanceof Date) || Number.isNaN(request.since.getTime())) {
    throw new ConfigurationError('reconcile() needs `since`: the date to re-read Stripe events from');
  }
  const oldest = new Date(options.clock().getTime() - RECONCILE_MAX_DAYS * 86_400_000);
  const clamped = request.since < oldest;
  const since = clamped ? oldest : request.since;
  const progress = request.onProgress ?? (() => {});
  progress({ phase: 'started', since, clamped });

  const handled = new Set(HANDLED_EVENT_TYPES);
  let seen = 0;
  let alreadyProcessed = 0;
  // Only events still to apply are kept: Stripe lists newest first, and causes must go before effects.
  const missed: Stripe.Event[] = [];
  for await (const event of stripe.events.list(listParams(since))) {
    if (!handled.has(event.type)) continue;
    seen++;
    if (await storage.hasWebhookEvent(event.id)) alreadyProcessed++;
    else missed.push(event);
    if (seen % PAGE_SIZE === 0) progress({ phase: 'listing', seen, alreadyProcessed, done: false });
  }
  progress({ phase: 'listing', seen, alreadyProcessed, done: true });

  // Reversed before the stable sort, so events of the same second keep Stripe's order too.
  missed.reverse().sort((a, b) => a.created - b.created);
  let applied = 0;
  let failed = 0;
  const applying = (done: boolean) => progress({ phase: 'applying', total: missed.length, applied, alreadyProcessed, failed, done });
  for (const [index, event] of missed.entries()) {
    try {
      // A webhook delivering it meanwhile wins the event's row; this copy then changes nothing.
      if (await applyEvent(storage, options, transactions, event)) applied++;
      else alreadyProcessed++;
    } catch (error) {
      failed++;
      options.onError(error, `reconciling Stripe event ${event.id} (${event.type})`);
    }
    if ((index + 1) % PAGE_SIZE === 0) applying(false);
  }
  applying(true);

  const parked = await applyParked(storage, options, transactions);
  return { since, clamped, seen, applied, alreadyProcessed, failed, parked };
}

function listParams(since: Date): Stripe.EventListParams {
  const params: Stripe.EventListParams = { created: { gte: Math.floor(since.getTime() / 1000) }, limit: PAGE_SIZE };
  // Beyond Stripe's limit the whole list is read and filtered here instead.
  if (HANDLED_EVENT_TYPES.length <= MAX_LISTED_TYPES) params.types = HANDLED_EVENT_TYPES;
  return params;
}
