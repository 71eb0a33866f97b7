import { sql } from 'kysely';
import { newId } from '../kernel/ids.js';
import { assertAmount, toAmount, type Amount } from '../kernel/money.js';
import type { Inserted } from './inserted.js';
import { programOfCustomer } from './programs.js';
import type { Db, Row } from './rows.js';
import { saleKeyConditions, type SaleKeys } from './sale-keys.js';
import { parkingKeys } from './webhook-events.js';

export interface Sale {
  id: string;
  /** Its customer's program (the default program's when it has no customer). */
  programId: string;
  livemode: boolean;
  customerId: string | null;
  /** Null for an unattributed sale: still recorded, it explains the funnel. */
  partnerId: string | null;
  clickId: string | null;
  stripePaymentIntentId: string | null;
  stripeInvoiceId: string | null;
  stripeCheckoutSessionId: string | null;
  stripeSubscriptionId: string | null;
  /** `trackSale`'s idempotency key for billing outside Stripe. */
  externalInvoiceId: string | null;
  /** Untaxed, in minor units of `currency`, as paid. */
  amount: Amount;
  currency: string;
  /** Untaxed, refunded to the payment method (cumulative, from `charge.refunded`). */
  amountRefunded: Amount;
  /** Untaxed, under disputes that are open or lost. */
  amountDisputed: Amount;
  /** Untaxed, credited to the customer's balance or settled out of band by credit notes. */
  amountCredited: Amount;
  /**
   * What the buyer was charged for it, tax included, in the charge's currency (null for sales made
   * before it was kept, and for `trackSale`): disputes are scaled against it without asking Stripe.
   */
  chargeAmount: Amount | null;
  billingReason: string | null;
  /** The paying card's fingerprint, when the payment showed it: the fraud rules compare customers by it. */
  cardFingerprint: string | null;
  /** Stripe's own time of the payment, never the time of delivery. */
  occurredAt: Date;
  createdAt: Date;
}

export interface NewSale {
  livemode: boolean;
  customerId?: string | null;
  partnerId?: string | null;
  clickId?: string | null;
  stripePaymentIntentId?: string | null;
  stripeInvoiceId?: string | null;
  stripeCheckoutSessionId?: string | null;
  stripeSubscriptionId?: string | null;
  externalInvoiceId?: string | null;
  amount: Amount;
  currency: string;
  chargeAmount?: Amount | null;
  billingReason?: string | null;
  cardFingerprint?: string | null;
  occurredAt: Date;
  lines?: NewSaleLine[];
}

/** A sale's share per line item (pro rata, largest remainder, summing to the sale's amount). */
export interface SaleLine {
  position: number;
  stripeProductId: string | null;
  stripePriceId: string | null;
  description: string | null;
  quantity: number | null;
  amount: Amount;
}

export type NewSaleLine = Omit<SaleLine, 'position'>;

/**
 * Sales and their line shares. (Refunds and credits: `SaleRefundStore`; disputes:
 * `SaleDisputeStore`; the invoice a payment intent paid: `InvoicePaymentStore`.)
 *
 * - `insertSale`: idempotent on any of the sale's keys; a concurrent duplicate waits for the first
 *   to commit and gets its sale with `created: false`. The sale and its lines are one statement.
 * - `attributeSale`: one conditional statement; of concurrent callers exactly one gets `true`.
 * - `setSalePaymentIntent`, `addSaleLines`: one statement each, filling only what is missing, so
 *   the first value stays.
 * - `lockSale`: holds the sale's row until the transaction ends; outside `transaction` it locks
 *   nothing beyond its own statement.
 */
export interface SaleStore {
  /**
   * Idempotent on any of the sale's keys: one payment is one sale, whichever event came first. The
   * sale belongs to its customer's program. `eventsWaiting`, for a new sale: whether events are
   * parked waiting for it under its keys (`parkingKeys`), read in the same statement.
   */
  insertSale(sale: NewSale): Promise<Inserted<Sale> & { eventsWaiting?: boolean }>;
  findSale(keys: SaleKeys): Promise<Sale | undefined>;
  listSales(filter: { partnerId?: string; customerId?: string; programId?: string; livemode?: boolean }): Promise<Sale[]>;
  /**
   * Credits an unattributed sale (the same purchase, whose attribution arrived later) and moves it
   * to that customer's program. False if it had a partner.
   */
  attributeSale(saleId: string, attribution: { partnerId: string; clickId: string | null; customerId: string }): Promise<boolean>;
  /** Fills the sale's payment intent when it was not known yet; never replaces one. */
  setSalePaymentIntent(saleId: string, paymentIntentId: string): Promise<void>;
  /** Locks the sale's row until the transaction ends, so changes to one sale's commission take turns. */
  lockSale(saleId: string): Promise<Sale | undefined>;
  getSaleLines(saleId: string): Promise<SaleLine[]>;
  /** Stores a sale's line shares learned after the sale (checkout line items). Idempotent. */
  addSaleLines(saleId: string, lines: readonly NewSaleLine[]): Promise<void>;
}

/** The sale store on the library's tables. */
export function saleStore(db: Db): SaleStore {
  const store: SaleStore = {
    async insertSale(sale: NewSale): Promise<Inserted<Sale> & { eventsWaiting?: boolean }> {
      const id = newId('sale');
      const lines = sale.lines ?? [];
      const waitingFor = parkingKeys(sale);
      // One statement: the sale, its lines (only if the sale is new), and whether events are parked for it.
      const inserted = await db
        .with('inserted', (q) =>
          q
            .insertInto('sales')
            .values({
              id,
              program_id: programOfCustomer(db, sale.customerId),
              livemode: sale.livemode,
              customer_id: sale.customerId ?? null,
              partner_id: sale.partnerId ?? null,
              click_id: sale.clickId ?? null,
              stripe_payment_intent_id: sale.stripePaymentIntentId ?? null,
              stripe_invoice_id: sale.stripeInvoiceId ?? null,
              stripe_checkout_session_id: sale.stripeCheckoutSessionId ?? null,
              stripe_subscription_id: sale.stripeSubscriptionId ?? null,
              external_invoice_id: sale.externalInvoiceId ?? null,
              amount: assertAmount(sale.amount),
              currency: sale.currency.toLowerCase(),
              charge_amount: sale.chargeAmount == null ? null : assertAmount(sale.chargeAmount),
              billing_reason: sale.billingReason ?? null,
              card_fingerprint: sale.cardFingerprint ?? null,
              occurred_at: sale.occurredAt,
            })
            // No conflict target: a clash on any of the sale's keys means the sale is already known.
            .onConflict((oc) => oc.doNothing())
            .returningAll(),
        )
        .with('lines', (q) =>
          q
            .insertInto('sale_lines')
            .columns(['sale_id', 'position', 'stripe_product_id', 'stripe_price_id', 'description', 'quantity', 'amount'])
            .expression(
              // The lines as rows of one JSON parameter, inserted only when the sale itself was.
              sql`select inserted.id, line.position, line.product, line.price, line.description, line.quantity, line.amount
                  from inserted, jsonb_to_recordset(${JSON.stringify(lines.map(lineRecord))}::jsonb)
                  as line(position int, product text, price text, description text, quantity int, amount bigint)`,
            ),
        )
        .selectFrom('inserted')
        .selectAll()
        .select((eb) => eb.or(waitingFor.length ? [eb.exists(eb.selectFrom('parked_events').select('event_id').where('waiting_for', 'in', waitingFor))] : []).as('events_waiting'))
        .executeTakeFirst();
      if (!inserted) {
        const existing = await store.findSale(sale);
        if (!existing) throw new Error('A sale conflicted on a key but could not be read back');
        // Not asked for a sale already known: its caller applies what waits for it, if anything.
        return { record: existing, created: false };
      }
      const { events_waiting: eventsWaiting, ...row } = inserted;
      return { record: toSale(row), created: true, eventsWaiting: Boolean(eventsWaiting) };
    },

    async findSale(keys: SaleKeys): Promise<Sale | undefined> {
      const present = saleKeyConditions(keys);
      if (present.length === 0) return undefined;
      const row = await db
        .selectFrom('sales')
        .selectAll()
        .where((eb) => eb.or(present.map(([column, value]) => eb(column, '=', value))))
        .orderBy('created_at')
        .executeTakeFirst();
      return row && toSale(row);
    },

    async listSales(filter: { partnerId?: string; customerId?: string; programId?: string; livemode?: boolean }): Promise<Sale[]> {
      let query = db.selectFrom('sales').selectAll().orderBy('occurred_at').orderBy('created_at').orderBy('id');
      if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
      if (filter.programId) query = query.where('program_id', '=', filter.programId);
      if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
      if (filter.livemode !== undefined) query = query.where('livemode', '=', filter.livemode);
      return (await query.execute()).map(toSale);
    },

    async attributeSale(saleId: string, attribution: { partnerId: string; clickId: string | null; customerId: string }): Promise<boolean> {
      const result = await db
        .updateTable('sales')
        .set({
          partner_id: attribution.partnerId,
          click_id: attribution.clickId,
          customer_id: attribution.customerId,
          program_id: programOfCustomer(db, attribution.customerId),
        })
        .where('id', '=', saleId)
        .where('partner_id', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async setSalePaymentIntent(saleId: string, paymentIntentId: string): Promise<void> {
      await db
        .updateTable('sales')
        .set({ stripe_payment_intent_id: paymentIntentId })
        .where('id', '=', saleId)
        .where('stripe_payment_intent_id', 'is', null)
        // Another sale holding it is the same payment seen first under its payment intent: leave both keys as they are.
        .where((eb) => eb.not(eb.exists(eb.selectFrom('sales as holder').select('holder.id').where('holder.stripe_payment_intent_id', '=', paymentIntentId))))
        .execute();
    },

    lockSale(saleId: string): Promise<Sale | undefined> {
      return lockSaleRow(db, saleId);
    },

    async getSaleLines(saleId: string): Promise<SaleLine[]> {
      const rows = await db.selectFrom('sale_lines').selectAll().where('sale_id', '=', saleId).orderBy('position').execute();
      return rows.map((row) => ({
        position: row.position,
        stripeProductId: row.stripe_product_id,
        stripePriceId: row.stripe_price_id,
        description: row.description,
        quantity: row.quantity,
        amount: toAmount(row.amount),
      }));
    },

    async addSaleLines(saleId: string, lines: readonly NewSaleLine[]): Promise<void> {
      if (lines.length === 0) return;
      await db
        .insertInto('sale_lines')
        .values(
          lines.map((line, position) => ({
            sale_id: saleId,
            position,
            stripe_product_id: line.stripeProductId,
            stripe_price_id: line.stripePriceId,
            description: line.description,
            quantity: line.quantity,
            amount: assertAmount(line.amount, 'line amount'),
          })),
        )
        .onConflict((oc) => oc.columns(['sale_id', 'position']).doNothing())
        .execute();
    },
  };
  return store;
}

function lineRecord(line: NewSaleLine, position: number) {
  return {
    position,
    product: line.stripeProductId,
    price: line.stripePriceId,
    description: line.description,
    quantity: line.quantity,
    amount: assertAmount(line.amount, 'line amount'),
  };
}

/** A sale row as the domain reads it; the refund and dispute stores return sales too. */
export function toSale(row: Row<'sales'>): Sale {
  return {
    id: row.id,
    programId: row.program_id,
    livemode: row.livemode,
    customerId: row.customer_id,
    partnerId: row.partner_id,
    clickId: row.click_id,
    stripePaymentIntentId: row.stripe_payment_intent_id,
    stripeInvoiceId: row.stripe_invoice_id,
    stripeCheckoutSessionId: row.stripe_checkout_session_id,
    stripeSubscriptionId: row.stripe_subscription_id,
    externalInvoiceId: row.external_invoice_id,
    amount: toAmount(row.amount),
    currency: row.currency,
    amountRefunded: toAmount(row.amount_refunded),
    amountDisputed: toAmount(row.amount_disputed),
    amountCredited: toAmount(row.amount_credited),
    chargeAmount: row.charge_amount == null ? null : toAmount(row.charge_amount),
    billingReason: row.billing_reason,
    cardFingerprint: row.card_fingerprint,
    occurredAt: row.occurred_at,
    createdAt: row.created_at,
  };
}

/**
 * Locks the sale's row until the transaction ends and returns it: changes to one sale (refunds,
 * credits, disputes, its commission) take turns on it. `for no key update` still makes them take
 * turns, but lets rows that reference the sale (its refunds, disputes, commissions) be inserted
 * meanwhile: their foreign-key checks' key-share locks would wait on `for update`.
 */
export async function lockSaleRow(db: Db, saleId: string): Promise<Sale | undefined> {
  const row = await db.selectFrom('sales').selectAll().where('id', '=', saleId).forNoKeyUpdate().executeTakeFirst();
  return row && toSale(row);
}
