import { sql } from 'kysely';
import type { Db, Row } from './rows.js';

/** A hook event as written in the transaction that raised it. */
export interface NewOutboxEvent {
  /** Stable: the same on every delivery attempt, for handlers to dedupe on. */
  id: string;
  name: string;
  /** JSON text (see `transaction/outbox-json.ts`). */
  payload: string;
  /** Events with the same key (the customer's id) are delivered one at a time, in the order raised. */
  orderingKey: string | null;
  /** When it may first be delivered. */
  at: Date;
}

export interface OutboxEvent {
  id: string;
  name: string;
  payload: string;
  orderingKey: string | null;
  /** Delivery attempts so far, this one included once claimed. */
  attempts: number;
  nextAttemptAt: Date | null;
  claimedUntil: Date | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

export interface OutboxStatus {
  /** Waiting for delivery (never failed, or failed and due for another attempt). */
  pending: number;
  /** Failed at least once and still retried. */
  failing: number;
  /** Given up after the last attempt: delivered again only by a replay (`outbox.retry`). */
  dead: number;
  /** Undelivered and older than the `stuckAfter` given: no worker is delivering them. */
  stuck: number;
  /** The last error of the most recently failed event, if any. */
  lastError: string | null;
}

/**
 * The transactional outbox.
 *
 * Atomic: `insertOutboxEvents` is one statement, in the transaction of the ledger change. A claim
 * is one statement that takes rows with `for update skip locked` and leases them until
 * `claimedUntil`, so concurrent workers (in any instance) never hold the same row at once, and a
 * crashed worker's rows are claimable again once its lease ran out. A row is claimable only when no
 * earlier undelivered row (not given up) has its ordering key: one customer's events go out one at
 * a time, in order. `markOutboxDelivered` and `recordOutboxFailure` act only while the claim is the
 * caller's (its token).
 */
export interface OutboxStore {
  insertOutboxEvents(events: readonly NewOutboxEvent[]): Promise<void>;
  /** Claims due events named in `names` (what the caller delivers), each customer's earliest undelivered only. */
  claimOutboxEvents(request: { names: readonly string[]; now: Date; claimedUntil: Date; token: string; limit: number }): Promise<OutboxEvent[]>;
  markOutboxDelivered(id: string, token: string, at: Date): Promise<void>;
  /** Hands back claimed events this claim did not start: claimable again at once, their attempt not counted. */
  releaseOutboxClaims(ids: readonly string[], token: string): Promise<void>;
  /** Releases the claim with the error; `nextAttemptAt` null gives the event up. */
  recordOutboxFailure(id: string, token: string, error: string, nextAttemptAt: Date | null): Promise<void>;
  outboxStatus(request: { now: Date; stuckAfter: Date }): Promise<OutboxStatus>;
  /** Undelivered events that failed at least once, oldest first. */
  listFailedOutboxEvents(limit: number): Promise<OutboxEvent[]>;
  /**
   * Makes failed or given-up events (those ids, or every one) due now, with their attempts reset.
   * Returns how many.
   */
  retryOutboxEvents(request: { ids?: readonly string[]; now: Date }): Promise<number>;
  /** Deletes events delivered before `before`. Returns how many. */
  purgeDeliveredOutboxEvents(before: Date): Promise<number>;
}

export function outboxStore(db: Db): OutboxStore {
  return {
    async insertOutboxEvents(events) {
      if (events.length === 0) return;
      await db
        .insertInto('outbox_events')
        .values(events.map((event) => ({ id: event.id, name: event.name, payload: event.payload, ordering_key: event.orderingKey, next_attempt_at: event.at })))
        .execute();
    },

    async claimOutboxEvents({ names, now, claimedUntil, token, limit }) {
      if (names.length === 0) return [];
      const pick = db
        .selectFrom('outbox_events as o')
        .select('o.id')
        .where('o.name', 'in', [...names])
        .where('o.delivered_at', 'is', null)
        .where('o.next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('o.claimed_until', 'is', null), eb('o.claimed_until', '<=', now)]))
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('outbox_events as earlier')
                .select('earlier.id')
                .whereRef('earlier.ordering_key', '=', 'o.ordering_key')
                .whereRef('earlier.seq', '<', 'o.seq')
                .where('earlier.delivered_at', 'is', null)
                .where('earlier.next_attempt_at', 'is not', null),
            ),
          ),
        )
        .orderBy('o.seq')
        .limit(limit)
        .forUpdate()
        .skipLocked();
      const rows = await db
        .updateTable('outbox_events')
        .set((eb) => ({ claimed_until: claimedUntil, claim_token: token, attempts: eb('attempts', '+', 1) }))
        .where('id', 'in', pick)
        .returningAll()
        .execute();
      return rows.map(toOutboxEvent).sort((a, b) => Number(a.seq) - Number(b.seq)).map(({ seq: _, ...event }) => event);
    },

    async markOutboxDelivered(id, token, at) {
      await db
        .updateTable('outbox_events')
        .set({ delivered_at: at, claimed_until: null, claim_token: null, last_error: null })
        .where('id', '=', id)
        .where('claim_token', '=', token)
        .execute();
    },

    async releaseOutboxClaims(ids, token) {
      if (ids.length === 0) return;
      await db
        .updateTable('outbox_events')
        .set((eb) => ({ claimed_until: null, claim_token: null, attempts: eb('attempts', '-', 1) }))
        .where('id', 'in', [...ids])
        .where('claim_token', '=', token)
        .execute();
    },

    async recordOutboxFailure(id, token, error, nextAttemptAt) {
      await db
        .updateTable('outbox_events')
        .set({ last_error: error.slice(0, 2000), next_attempt_at: nextAttemptAt, claimed_until: null, claim_token: null })
        .where('id', '=', id)
        .where('claim_token', '=', token)
        .execute();
    },

    async outboxStatus({ now, stuckAfter }) {
      const row = await db
        .selectFrom('outbox_events')
        .where('delivered_at', 'is', null)
        .select([
          sql<number>`count(*) filter (where next_attempt_at is not null and last_error is null)::int`.as('pending'),
          sql<number>`count(*) filter (where next_attempt_at is not null and last_error is not null)::int`.as('failing'),
          sql<number>`count(*) filter (where next_attempt_at is null)::int`.as('dead'),
          sql<number>`count(*) filter (where next_attempt_at is not null and coalesce(claimed_until, next_attempt_at) <= ${now} and created_at <= ${stuckAfter})::int`.as('stuck'),
        ])
        .executeTakeFirstOrThrow();
      const last = await db
        .selectFrom('outbox_events')
        .select('last_error')
        .where('delivered_at', 'is', null)
        .where('last_error', 'is not', null)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return { pending: Number(row.pending), failing: Number(row.failing), dead: Number(row.dead), stuck: Number(row.stuck), lastError: last?.last_error ?? null };
    },

    async listFailedOutboxEvents(limit) {
      const rows = await db
        .selectFrom('outbox_events')
        .selectAll()
        .where('delivered_at', 'is', null)
        .where('last_error', 'is not', null)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(toOutboxEvent).map(({ seq: _, ...event }) => event);
    },

    async retryOutboxEvents({ ids, now }) {
      if (ids && ids.length === 0) return 0;
      let update = db
        .updateTable('outbox_events')
        .set({ next_attempt_at: now, attempts: 0 })
        .where('delivered_at', 'is', null)
        .where((eb) => eb.or([eb('last_error', 'is not', null), eb('next_attempt_at', 'is', null)]));
      if (ids) update = update.where('id', 'in', [...ids]);
      const result = await update.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async purgeDeliveredOutboxEvents(before) {
      const result = await db.deleteFrom('outbox_events').where('delivered_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toOutboxEvent(row: Row<'outbox_events'>): OutboxEvent & { seq: string | number } {
  return {
    id: row.id,
    seq: row.seq,
    name: row.name,
    // jsonb comes back parsed; handed on as the JSON text it was written as.
    payload: typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload),
    orderingKey: row.ordering_key,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    claimedUntil: row.claimed_until,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}
