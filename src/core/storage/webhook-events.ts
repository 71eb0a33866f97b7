import type { Db, Row } from './rows.js';
import type { SaleKeys } from './sale-keys.js';

/**
 * The parking keys: an event whose counterpart has not arrived (a refund before its sale) waits in
 * the database under the key naming that counterpart, until it is known. Spelled here only (the
 * sale insert asks in the same statement whether any event waits for the new sale).
 */
export const waitingForPayment = (paymentIntentId: string | null): string => `payment_intent:${paymentIntentId}`;
export const waitingForInvoice = (invoiceId: string | null): string => `invoice:${invoiceId}`;
/** A click another instance (or an Edge middleware) recorded a moment ago; `applyParked` retries. */
export const waitingForClick = (clickId: string): string => `click:${clickId}`;

/** The parking keys under which events may wait for a sale with these identifiers. */
export function parkingKeys(keys: SaleKeys): string[] {
  return [
    keys.stripePaymentIntentId && waitingForPayment(keys.stripePaymentIntentId),
    keys.stripeInvoiceId && waitingForInvoice(keys.stripeInvoiceId),
  ].filter((key): key is string => Boolean(key));
}

/** A Stripe event whose effects are committed. */
export interface WebhookEventRecord {
  id: string;
  type: string;
  livemode: boolean;
  apiVersion: string | null;
  /** Stripe's `event.created`. */
  createdAt: Date;
}

/** An event that arrived before what it depends on, kept until its counterpart arrives. */
export interface ParkedEvent {
  eventId: string;
  /** What it waits for, e.g. `payment_intent:pi_123`: the counterpart's arrival looks this up. */
  waitingFor: string;
  event: unknown;
  attempts: number;
  lastError: string | null;
  parkedAt: Date;
}

/**
 * Stripe events received (their effects committed) and events parked until what they depend on
 * arrives.
 *
 * Atomic: one statement each. `recordWebhookEvent` is decided by the event id's unique key: of
 * concurrent copies exactly one gets `true`, the others wait for it to commit (or roll back, and
 * then one of them wins). `takeParkedEvents` / `takeParkedEvent` delete what they return and skip
 * rows another transaction is taking, so no two callers get the same event; a rollback puts it back.
 */
export interface WebhookEventStore {
  /**
   * Marks a Stripe event as processed. True for the first caller; false for a repeat. Call it in
   * the same transaction as the event's effects, so a rollback also forgets the event.
   */
  recordWebhookEvent(event: WebhookEventRecord): Promise<boolean>;
  hasWebhookEvent(id: string): Promise<boolean>;
  /** Parks an event; parking the same event again only updates what it waits for. */
  parkEvent(parked: { eventId: string; waitingFor: string; event: unknown }): Promise<void>;
  /**
   * Removes and returns the events waiting for `waitingFor` (all of them when omitted). Rows
   * another transaction is taking are skipped, so concurrent callers never get the same event.
   */
  takeParkedEvents(waitingFor?: string): Promise<ParkedEvent[]>;
  countParkedEvents(): Promise<number>;
  /** Ids of parked events tried fewer than `maxAttempts` times, oldest first. */
  listParkedEventIds(maxAttempts: number): Promise<string[]>;
  /** Removes and returns one parked event, unless another transaction is taking it. */
  takeParkedEvent(eventId: string): Promise<ParkedEvent | undefined>;
  /** Counts a failed retry of a parked event (or sets the count, for one parked again) and keeps why. */
  recordParkedFailure(eventId: string, error: string, attempts?: number): Promise<void>;
}

/** The webhook event store on the library's tables. */
export function webhookEventStore(db: Db): WebhookEventStore {
  return {
    async recordWebhookEvent(event: WebhookEventRecord): Promise<boolean> {
      const inserted = await db
        .insertInto('webhook_events')
        .values({
          id: event.id,
          type: event.type,
          livemode: event.livemode,
          api_version: event.apiVersion,
          stripe_created_at: event.createdAt,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async hasWebhookEvent(id: string): Promise<boolean> {
      const row = await db.selectFrom('webhook_events').select('id').where('id', '=', id).executeTakeFirst();
      return row !== undefined;
    },

    async parkEvent(parked: { eventId: string; waitingFor: string; event: unknown }): Promise<void> {
      await db
        .insertInto('parked_events')
        .values({ event_id: parked.eventId, waiting_for: parked.waitingFor, event: JSON.stringify(parked.event) })
        .onConflict((oc) => oc.column('event_id').doUpdateSet({ waiting_for: parked.waitingFor }))
        .execute();
    },

    async takeParkedEvents(waitingFor?: string): Promise<ParkedEvent[]> {
      let pick = db.selectFrom('parked_events').select('event_id').orderBy('parked_at').forUpdate().skipLocked();
      if (waitingFor !== undefined) pick = pick.where('waiting_for', '=', waitingFor);
      const rows = await db
        .deleteFrom('parked_events')
        .where('event_id', 'in', pick)
        .returningAll()
        .execute();
      return rows.map(toParkedEvent).sort((a, b) => a.parkedAt.getTime() - b.parkedAt.getTime());
    },

    async countParkedEvents(): Promise<number> {
      const { count } = await db
        .selectFrom('parked_events')
        .select((eb) => eb.fn.countAll<string | number>().as('count'))
        .executeTakeFirstOrThrow();
      return Number(count);
    },

    async listParkedEventIds(maxAttempts: number): Promise<string[]> {
      const rows = await db.selectFrom('parked_events').select('event_id').where('attempts', '<', maxAttempts).orderBy('parked_at').execute();
      return rows.map((row) => row.event_id);
    },

    async takeParkedEvent(eventId: string): Promise<ParkedEvent | undefined> {
      const pick = db.selectFrom('parked_events').select('event_id').where('event_id', '=', eventId).forUpdate().skipLocked();
      const row = await db.deleteFrom('parked_events').where('event_id', 'in', pick).returningAll().executeTakeFirst();
      return row && toParkedEvent(row);
    },

    async recordParkedFailure(eventId: string, error: string, attempts?: number): Promise<void> {
      await db
        .updateTable('parked_events')
        .set((eb) => ({ attempts: (attempts ?? eb('attempts', '+', 1)) as never, last_error: error.slice(0, 2000) }))
        .where('event_id', '=', eventId)
        .execute();
    },
  };
}

function toParkedEvent(row: Row<'parked_events'>): ParkedEvent {
  return { eventId: row.event_id, waitingFor: row.waiting_for, event: row.event, attempts: row.attempts, lastError: row.last_error, parkedAt: row.parked_at };
}
