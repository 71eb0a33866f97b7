import { sql } from 'kysely';
import { FORGOTTEN_PREFIX } from './redaction.js';
import { newId } from '../kernel/ids.js';
import type { Inserted } from './inserted.js';
import { DEFAULT_PROGRAM_ID } from './programs.js';
import type { Db, Row } from './rows.js';
import { saleKeyConditions, type SaleKeys } from './sale-keys.js';

/** How a customer came to belong to a partner (DESIGN.md §3). */
export type AttributionSource = 'click' | 'promotion_code';

/**
 * A buyer within one program: a person who came through two programs is a customer in each, with
 * a partner, locked terms and a block of its own in each.
 */
export interface Customer {
  id: string;
  programId: string;
  livemode: boolean;
  /** The merchant's own user id (`sa_customer_key` in Stripe metadata). */
  externalId: string | null;
  stripeCustomerId: string | null;
  /** Lower-cased. */
  email: string | null;
  name: string | null;
  partnerId: string | null;
  clickId: string | null;
  attributedBy: AttributionSource | null;
  attributedAt: Date | null;
  /** Set by a self-referral or a manual fraud void: no commissions for this customer any more. */
  blockedReason: string | null;
  createdAt: Date;
}

export interface NewCustomer {
  livemode: boolean;
  /** Default `'default'`. */
  programId?: string;
  externalId?: string | null;
  stripeCustomerId?: string | null;
  email?: string | null;
  name?: string | null;
  /**
   * The partner a new customer is credited to, decided before the insert (no earlier customer,
   * so no earlier purchase): written in the same statement, and only if this call creates the
   * customer — one found already stored keeps its own attribution.
   */
  attribution?: CustomerAttribution;
}

export interface CustomerAttribution {
  partnerId: string;
  clickId: string | null;
  attributedBy: AttributionSource;
  at: Date;
}

export type CustomerLookup =
  | { id: string }
  | { stripeCustomerId: string; programId?: string }
  | { externalId: string; livemode?: boolean; programId?: string }
  | { email: string; livemode?: boolean; programId?: string };

/**
 * Buyers, one per program, with their attribution, locked reward terms and block. (Erasing one is
 * `Storage.forgetCustomer`, which runs its own transaction.)
 *
 * Atomic: every write is one statement, decided in the database, never by a read first.
 * - `insertCustomer`: a concurrent duplicate (same user id, Stripe customer id, or guest email)
 *   waits for the first to commit and gets its customer with `created: false`.
 * - `attributeCustomer`, `claimStripeMetadataWrite`: of concurrent callers exactly one gets `true`.
 * - `lockRewardTerms`: concurrent first sales take turns on the customer's row; every caller gets
 *   the first one's terms back, and the anchor as of its turn.
 * - `linkCustomer`, `blockCustomer`: fill what is empty only, so the first value stays.
 */
export interface CustomerStore {
  /**
   * Idempotent on `externalId` and on `stripeCustomerId` within the program: a repeat returns the
   * stored customer.
   */
  insertCustomer(customer: NewCustomer): Promise<Inserted<Customer>>;
  /**
   * By our id, by Stripe's (unique in a program), or by your user id or email within one mode (live
   * or test). Without `livemode`, either mode. Without `programId`, any program: the customer
   * attributed first speaks for the person, then the oldest.
   */
  findCustomer(by: CustomerLookup): Promise<Customer | undefined>;
  /** Fills identifiers the customer did not have yet; never replaces one it has. */
  linkCustomer(id: string, ids: { externalId?: string; stripeCustomerId?: string; email?: string }): Promise<Customer>;
  /**
   * Gives an unattributed customer to a partner. Returns false (and changes nothing) when the
   * customer already has one: attribution never moves.
   */
  attributeCustomer(id: string, attribution: CustomerAttribution): Promise<boolean>;
  /**
   * Whether any sale is recorded for the customer (a buyer is not claimed by a later click),
   * not counting the sale known under `except` — the purchase being attributed right now — and,
   * with `before`, only sales earlier than it by Stripe time.
   */
  customerHasSales(customerId: string, except?: SaleKeys, before?: Date): Promise<boolean>;
  /** Attributed customers (leads), the most recently attributed first. */
  listLeads(filter: { partnerId?: string; programId?: string; livemode?: boolean; limit: number }): Promise<Customer[]>;
  /**
   * Locks the customer's reward terms at their first attributed sale and anchors their reward
   * window (the `'once'` sale, the start of a month window) at the earliest such sale by Stripe
   * time: the smallest `(at, saleId)`, ties at the same instant going to the smaller sale id. The
   * terms are the first caller's and never change; the anchor moves to an earlier sale whenever
   * one arrives late. One statement under the customer's row lock, so concurrent callers take
   * turns and every caller gets the locked terms and the anchor as of its turn back, with
   * `replaced`: the anchor this call moved away from (null when it moved nothing).
   */
  lockRewardTerms<T>(
    customerId: string,
    first: { terms: T; saleId: string; at: Date },
  ): Promise<{ terms: T; saleId: string; at: Date; replaced: { saleId: string; at: Date } | null }>;
  blockCustomer(customerId: string, reason: string): Promise<void>;
  /**
   * Claims the one write-back of the customer's `sa_customer_key` to Stripe's metadata: true for
   * the first caller ever, false for every other (concurrent callers wait for the first to end).
   */
  claimStripeMetadataWrite(customerId: string, at: Date): Promise<boolean>;
}

/** The customer store on the library's tables. */
export function customerStore(db: Db): CustomerStore {
  return {
    async insertCustomer(customer: NewCustomer): Promise<Inserted<Customer>> {
      const programId = customer.programId ?? DEFAULT_PROGRAM_ID;
      const inserted = await db
        .insertInto('customers')
        .values({
          id: newId('sac'),
          program_id: programId,
          livemode: customer.livemode,
          external_id: customer.externalId ?? null,
          stripe_customer_id: customer.stripeCustomerId ?? null,
          email: customer.email?.toLowerCase() ?? null,
          name: customer.name ?? null,
          ...(customer.attribution
            ? {
                partner_id: customer.attribution.partnerId,
                click_id: customer.attribution.clickId,
                attributed_by: customer.attribution.attributedBy,
                attributed_at: customer.attribution.at,
              }
            : {}),
        })
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { record: toCustomer(inserted), created: true };
      const existing = await db
        .selectFrom('customers')
        .selectAll()
        .where('program_id', '=', programId)
        .where((eb) =>
          eb.or([
            ...(customer.externalId ? [eb.and([eb('external_id', '=', customer.externalId), eb('livemode', '=', customer.livemode)])] : []),
            ...(customer.stripeCustomerId ? [eb('stripe_customer_id', '=', customer.stripeCustomerId)] : []),
            // A guest, known by email alone, met another guest with that email (the partial unique index).
            ...(!customer.externalId && !customer.stripeCustomerId && customer.email
              ? [eb.and([eb('email', '=', customer.email.toLowerCase()), eb('livemode', '=', customer.livemode), eb('external_id', 'is', null), eb('stripe_customer_id', 'is', null)])]
              : []),
          ]),
        )
        .orderBy('created_at')
        .executeTakeFirstOrThrow();
      return { record: toCustomer(existing), created: false };
    },

    async findCustomer(by: CustomerLookup): Promise<Customer | undefined> {
      let query = db.selectFrom('customers').selectAll();
      if ('id' in by) query = query.where('id', '=', by.id);
      else {
        if ('stripeCustomerId' in by) query = query.where('stripe_customer_id', '=', by.stripeCustomerId);
        else if ('externalId' in by) query = query.where('external_id', '=', by.externalId);
        else query = query.where('email', '=', by.email.toLowerCase());
        if ('livemode' in by && by.livemode !== undefined) query = query.where('livemode', '=', by.livemode);
        if (by.programId !== undefined) query = query.where('program_id', '=', by.programId);
        // Several customers may share an email, or one person be a customer in several programs:
        // the attributed, oldest one speaks for them (nulls sort last).
        query = query.orderBy('attributed_at', 'asc').orderBy('created_at').orderBy('id');
      }
      const row = await query.executeTakeFirst();
      return row && toCustomer(row);
    },

    async linkCustomer(
      id: string,
      ids: { externalId?: string; stripeCustomerId?: string; email?: string },
    ): Promise<Customer> {
      const row = await db
        .updateTable('customers')
        .set((eb) => ({
          external_id: eb.fn.coalesce('external_id', eb.val(ids.externalId ?? null)),
          stripe_customer_id: eb.fn.coalesce('stripe_customer_id', eb.val(ids.stripeCustomerId ?? null)),
          // A forgotten customer's email stays erased, whatever a later Stripe event still carries.
          email: sql<string | null>`case when ${sql.ref('external_id')} like ${FORGOTTEN_PREFIX + '%'} then null else coalesce(${sql.ref('email')}, ${ids.email?.toLowerCase() ?? null}) end`,
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toCustomer(row);
    },

    async attributeCustomer(id: string, attribution: CustomerAttribution): Promise<boolean> {
      const result = await db
        .updateTable('customers')
        .set({
          partner_id: attribution.partnerId,
          click_id: attribution.clickId,
          attributed_by: attribution.attributedBy,
          attributed_at: attribution.at,
        })
        .where('id', '=', id)
        .where('partner_id', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async customerHasSales(customerId: string, except: SaleKeys = {}, before?: Date): Promise<boolean> {
      let query = db.selectFrom('sales').select('id').where('customer_id', '=', customerId);
      if (before) query = query.where('occurred_at', '<', before);
      // `is distinct from`: a sale with no value in a key column is a different sale, not an unknown one.
      for (const [column, value] of saleKeyConditions(except)) query = query.where(column, 'is distinct from', value);
      return (await query.limit(1).executeTakeFirst()) !== undefined;
    },

    async listLeads(filter: { partnerId?: string; programId?: string; livemode?: boolean; limit: number }): Promise<Customer[]> {
      let query = db.selectFrom('customers').selectAll().where('partner_id', 'is not', null).where('attributed_at', 'is not', null);
      if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
      if (filter.programId) query = query.where('program_id', '=', filter.programId);
      if (filter.livemode !== undefined) query = query.where('livemode', '=', filter.livemode);
      return (await query.orderBy('attributed_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute()).map(toCustomer);
    },

    async lockRewardTerms<T>(
      customerId: string,
      first: { terms: T; saleId: string; at: Date },
    ): Promise<{ terms: T; saleId: string; at: Date; replaced: { saleId: string; at: Date } | null }> {
      // One statement: the CTE takes the row lock and reads the anchor as of this turn (the latest
      // committed one under READ COMMITTED), the update moves it only to an earlier (at, id), and the
      // loser's coalesce keeps the winner's terms. Both SET expressions read the row before the update.
      // `for no key update`, not `for update`: the caller's own sale and commission inserts hold a key-share
      // lock on this row (their foreign keys), which `for update` waits for — two first sales of one
      // customer, each holding one and asking for the other's, deadlocked (40P01).
      const earlier = sql<boolean>`(first_sale_at is null or (${first.at}::timestamptz, ${first.saleId}::text) < (first_sale_at, first_sale_id))`;
      const row = await db
        .with('previous', (db) =>
          db.selectFrom('customers').select(['first_sale_id as previous_sale_id', 'first_sale_at as previous_sale_at']).where('id', '=', customerId).forNoKeyUpdate(),
        )
        .updateTable('customers')
        .from('previous')
        .set({
          reward_terms: sql<string>`coalesce(reward_terms, ${JSON.stringify(first.terms)}::jsonb)`,
          first_sale_id: sql<string>`case when ${earlier} then ${first.saleId} else first_sale_id end`,
          first_sale_at: sql<Date>`case when ${earlier} then ${first.at}::timestamptz else first_sale_at end`,
        })
        .where('customers.id', '=', customerId)
        .returning(['reward_terms', 'first_sale_id', 'first_sale_at', 'previous.previous_sale_id', 'previous.previous_sale_at'])
        .executeTakeFirstOrThrow();
      const moved = row.previous_sale_id !== null && row.previous_sale_id !== row.first_sale_id;
      return {
        terms: row.reward_terms as T,
        saleId: row.first_sale_id!,
        at: row.first_sale_at!,
        replaced: moved ? { saleId: row.previous_sale_id!, at: row.previous_sale_at! } : null,
      };
    },

    async blockCustomer(customerId: string, reason: string): Promise<void> {
      await db.updateTable('customers').set({ blocked_reason: reason }).where('id', '=', customerId).where('blocked_reason', 'is', null).execute();
    },

    async claimStripeMetadataWrite(customerId: string, at: Date): Promise<boolean> {
      const claimed = await db
        .updateTable('customers')
        .set({ stripe_metadata_written_at: at })
        .where('id', '=', customerId)
        .where('stripe_metadata_written_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      return claimed !== undefined;
    },
  };
}

export function toCustomer(row: Row<'customers'>): Customer {
  return {
    id: row.id,
    programId: row.program_id,
    livemode: row.livemode,
    externalId: row.external_id,
    stripeCustomerId: row.stripe_customer_id,
    email: row.email,
    name: row.name,
    partnerId: row.partner_id,
    clickId: row.click_id,
    attributedBy: row.attributed_by as AttributionSource | null,
    attributedAt: row.attributed_at,
    blockedReason: row.blocked_reason,
    createdAt: row.created_at,
  };
}
