import { CommissionInPayoutError, ConflictError } from '../kernel/errors.js';
import { newId } from '../kernel/ids.js';
import { assertAmount, toAmount, type Amount } from '../kernel/money.js';
import type { Inserted } from './inserted.js';
import { programOfCustomer } from './programs.js';
import type { Db, Row } from './rows.js';

export type CommissionKind = 'sale' | 'lead' | 'clawback' | 'event';

export type CommissionStatus = 'pending' | 'approved' | 'held' | 'paid' | 'voided';

/** Why a fraud rule flagged a commission: the rule's name and a sentence for the merchant. */
export interface FraudFlag {
  rule: string;
  reason: string;
}

/** Where a flagged commission stands: held for review, then cleared or voided by the merchant. */
export type ReviewState = 'pending' | 'cleared' | 'voided';

export interface Commission {
  id: string;
  /** Its customer's program, whose terms it was computed with. */
  programId: string;
  livemode: boolean;
  partnerId: string;
  customerId: string | null;
  saleId: string | null;
  /** The milestone an `event` commission rewards. */
  eventId: string | null;
  kind: CommissionKind;
  status: CommissionStatus;
  amount: Amount;
  currency: string;
  reason: string | null;
  holdUntil: Date | null;
  /** The exact commission on the whole sale, × 10 000: what every later change is computed from. */
  exactNumerator: bigint;
  /** The sale amount `exactNumerator` was computed on. */
  basisAmount: Amount;
  /**
   * The merchant's own changes by `commissions.adjust`, net (for a paid sale commission, the
   * clawbacks recorded beside it): a sale's refunds and disputes reconcile to its exact commission
   * on what remains plus these, while anything remains.
   */
  manualAmount: Amount;
  /** The status to return to when the dispute that holds it is won. */
  statusBeforeHold: CommissionStatus | null;
  approvedAt: Date | null;
  paidAt: Date | null;
  payoutId: string | null;
  /** With currency conversion: the whole commission in the sale's currency, and as converted. */
  conversion: { sourceAmount: Amount; convertedAmount: Amount } | null;
  /** The fraud rules' flags (empty when none flagged it). Never shown to the partner. */
  flags: FraudFlag[];
  /** Null unless flagged: then `pending` (held) until the merchant clears or voids it. */
  review: ReviewState | null;
  createdAt: Date;
}

export interface NewCommission {
  livemode: boolean;
  partnerId: string;
  customerId?: string | null;
  saleId?: string | null;
  eventId?: string | null;
  /** A reward paid once per customer and event name: a second commission with the same key is not created. */
  onceKey?: string | null;
  kind: CommissionKind;
  status: CommissionStatus;
  amount: Amount;
  currency: string;
  reason?: string | null;
  holdUntil?: Date | null;
  exactNumerator?: bigint;
  basisAmount?: Amount;
  approvedAt?: Date | null;
  /** When it was earned (the sale's or lead's time). Default: now. */
  earnedAt?: Date;
  conversion?: { sourceAmount: Amount; convertedAmount: Amount } | null;
  /** Flags of the fraud rules: the commission is created held, its review pending. */
  flags?: FraudFlag[];
  /** With `flags`: the status it takes when cleared. */
  statusBeforeHold?: CommissionStatus | null;
}

/**
 * Partners' commissions and their adjustments.
 *
 * - `insertCommission`: idempotent on its unique keys (see below); a concurrent duplicate waits for
 *   the first to commit and gets its commission with `created: false`.
 * - `approveDueCommissions`, `approveCommissions`, `markCommissionsPaid`: one conditional statement
 *   each, so a row changes once; concurrent callers each count only the rows they changed.
 * - `adjustCommission`: two statements (the logged adjustment, then the new amount): call it inside
 *   the transaction that holds the sale's lock. With `outsidePayout`, the update itself refuses a
 *   commission in a pending payout (throwing), so a concurrent payout run or payment cannot slip in.
 * - `markCommissionsPaid` never touches a commission in a payout: the payout pays it.
 */
export interface CommissionStore {
  /**
   * Idempotent per sale, partner and kind for sale commissions, per customer and partner for
   * leads, per milestone and partner for event commissions, and on `onceKey` when given. A
   * commission belongs to its customer's program.
   */
  insertCommission(commission: NewCommission): Promise<Inserted<Commission>>;
  findSaleCommission(saleId: string, partnerId: string): Promise<Commission | undefined>;
  getCommission(id: string): Promise<Commission | undefined>;
  listCommissions(filter: { partnerId?: string; saleId?: string; customerId?: string; programId?: string }): Promise<Commission[]>;
  /** What is recorded for the sale: its commission and clawbacks, net. */
  recordedForSale(saleId: string): Promise<Amount>;
  /**
   * Adds `delta` to a commission (logged with its reason as an adjustment) and sets its status.
   * Call inside the transaction that holds the sale, so concurrent changes serialise on it.
   * `outsidePayout: true` (a change by hand) throws `CommissionInPayoutError` for a commission in a
   * pending payout; Stripe's own changes (refunds, disputes) go through and the payout then
   * refuses to be paid until made again. `from`: only while the commission still has that status
   * (a change by hand decided on it; marking paid takes no sale lock), else it throws. `manual`:
   * what the merchant changed by hand (this delta, or a clawback recorded beside a paid commission),
   * added to its `manualAmount`.
   */
  adjustCommission(
    id: string,
    change: { delta: Amount; reason: string; status?: CommissionStatus; statusBeforeHold?: CommissionStatus | null; outsidePayout?: boolean; from?: CommissionStatus; manual?: Amount },
  ): Promise<Commission>;
  /** Approves pending commissions whose hold ended by `now`. Returns how many. */
  approveDueCommissions(now: Date): Promise<Commission[]>;
  /** Approves the given pending commissions before their hold ends (others are left as they are); each row changes once. */
  approveCommissions(ids: readonly string[], now: Date): Promise<Commission[]>;
  /** Marks approved commissions that are in no payout paid. Returns those that changed. */
  markCommissionsPaid(ids: readonly string[], paidAt: Date, payoutId: string | null): Promise<Commission[]>;
  /**
   * The customer's sale commissions (not clawbacks), each with its sale's Stripe time: what a
   * moved reward anchor re-derives. Call after `lockRewardTerms`, whose row lock keeps the set still.
   */
  listCustomerSaleCommissions(customerId: string): Promise<Array<{ commission: Commission; saleOccurredAt: Date }>>;
  /**
   * Sets a commission's exact amount to zero: its sale no longer earns a reward (it fell out of
   * the customer's reward window), so reconciling it voids or claws back what was recorded, and
   * later refunds or disputes of the sale change nothing.
   */
  endCommissionReward(id: string): Promise<Commission>;
}

/** The commission store on the library's tables. */
export function commissionStore(db: Db): CommissionStore {
  return {
    async insertCommission(commission: NewCommission): Promise<Inserted<Commission>> {
      const inserted = await db
        .insertInto('commissions')
        .values({
          id: newId('com'),
          program_id: programOfCustomer(db, commission.customerId),
          livemode: commission.livemode,
          partner_id: commission.partnerId,
          customer_id: commission.customerId ?? null,
          sale_id: commission.saleId ?? null,
          event_id: commission.eventId ?? null,
          once_key: commission.onceKey ?? null,
          kind: commission.kind,
          status: commission.status,
          amount: assertAmount(commission.amount),
          currency: commission.currency.toLowerCase(),
          reason: commission.reason ?? null,
          hold_until: commission.holdUntil ?? null,
          exact_numerator: (commission.exactNumerator ?? 0n).toString(),
          basis_amount: commission.basisAmount ?? 0,
          approved_at: commission.approvedAt ?? null,
          status_before_hold: commission.statusBeforeHold ?? null,
          ...(commission.flags?.length ? { flags: JSON.stringify(commission.flags), review: 'pending' } : {}),
          ...(commission.earnedAt ? { earned_at: commission.earnedAt } : {}),
          ...(commission.conversion
            ? { source_amount: assertAmount(commission.conversion.sourceAmount), converted_amount: assertAmount(commission.conversion.convertedAmount) }
            : {}),
        })
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { record: toCommission(inserted), created: true };
      const onceKey = commission.onceKey;
      let existing = db.selectFrom('commissions').selectAll();
      existing = onceKey
        ? existing.where('once_key', '=', onceKey)
        : existing
            .where('partner_id', '=', commission.partnerId)
            .where('kind', '=', commission.kind)
            // Not a trial seat's lead commission, which has a key of its own.
            .where('once_key', 'is', null)
            .where(
              commission.kind === 'lead' ? 'customer_id' : commission.kind === 'event' ? 'event_id' : 'sale_id',
              '=',
              (commission.kind === 'lead' ? commission.customerId : commission.kind === 'event' ? commission.eventId : commission.saleId) ?? null,
            );
      // With a once key, the conflict may be on the milestone instead (a repeat of the same one).
      const found = (await existing.executeTakeFirst()) ?? (onceKey ? await eventCommission(db, commission) : undefined);
      if (!found) throw new Error(`insertCommission: conflicting ${commission.kind} commission not found`);
      return { record: toCommission(found), created: false };
    },

    async findSaleCommission(saleId: string, partnerId: string): Promise<Commission | undefined> {
      const row = await db
        .selectFrom('commissions')
        .selectAll()
        .where('sale_id', '=', saleId)
        .where('partner_id', '=', partnerId)
        .where('kind', '=', 'sale')
        .executeTakeFirst();
      return row && toCommission(row);
    },

    async getCommission(id: string): Promise<Commission | undefined> {
      const row = await db.selectFrom('commissions').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toCommission(row);
    },

    async listCommissions(filter: { partnerId?: string; saleId?: string; customerId?: string; programId?: string }): Promise<Commission[]> {
      let query = db.selectFrom('commissions').selectAll().orderBy('created_at').orderBy('id');
      if (filter.programId) query = query.where('program_id', '=', filter.programId);
      if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
      if (filter.saleId) query = query.where('sale_id', '=', filter.saleId);
      if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
      return (await query.execute()).map(toCommission);
    },

    async listCustomerSaleCommissions(customerId: string): Promise<Array<{ commission: Commission; saleOccurredAt: Date }>> {
      const rows = await db
        .selectFrom('commissions')
        .innerJoin('sales', 'sales.id', 'commissions.sale_id')
        .selectAll('commissions')
        .select('sales.occurred_at as sale_occurred_at')
        .where('commissions.customer_id', '=', customerId)
        .where('commissions.kind', '=', 'sale')
        .orderBy('sales.occurred_at')
        .orderBy('commissions.id')
        .execute();
      return rows.map(({ sale_occurred_at, ...row }) => ({ commission: toCommission(row), saleOccurredAt: sale_occurred_at }));
    },

    async endCommissionReward(id: string): Promise<Commission> {
      const row = await db.updateTable('commissions').set({ exact_numerator: '0', updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      return toCommission(row);
    },

    async recordedForSale(saleId: string): Promise<number> {
      const { total } = await db
        .selectFrom('commissions')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<string | number>('amount'), eb.val(0)).as('total'))
        .where('sale_id', '=', saleId)
        .where('kind', 'in', ['sale', 'clawback'])
        .executeTakeFirstOrThrow();
      return toAmount(total as string | number);
    },

    async adjustCommission(
      id: string,
      change: { delta: number; reason: string; status?: CommissionStatus; statusBeforeHold?: CommissionStatus | null; outsidePayout?: boolean; from?: CommissionStatus; manual?: number },
    ): Promise<Commission> {
      if (change.delta !== 0) {
        await db
          .insertInto('commission_adjustments')
          .values({ id: newId('adj'), commission_id: id, amount: assertAmount(change.delta), reason: change.reason })
          .execute();
      }
      let update = db
        .updateTable('commissions')
        .set((eb) => ({
          amount: eb('amount', '+', change.delta) as never,
          ...(change.manual ? { manual_amount: eb('manual_amount', '+', assertAmount(change.manual)) as never } : {}),
          updated_at: new Date(),
          ...(change.status ? { status: change.status } : {}),
          ...(change.statusBeforeHold !== undefined ? { status_before_hold: change.statusBeforeHold } : {}),
          ...(change.status === 'voided' ? { reason: change.reason } : {}),
        }))
        .where('id', '=', id);
      // A paid commission's payout is paid too; any other with a payout is in a pending one.
      if (change.outsidePayout) update = update.where((eb) => eb.or([eb('payout_id', 'is', null), eb('status', '=', 'paid')]));
      if (change.from) update = update.where('status', '=', change.from);
      const row = await update.returningAll().executeTakeFirst();
      if (!row) throw await notOutsidePayout(db, id, change.from);
      return toCommission(row);
    },

    async approveDueCommissions(now: Date): Promise<Commission[]> {
      const rows = await db
        .updateTable('commissions')
        .set({ status: 'approved', approved_at: now, updated_at: now })
        .where('status', '=', 'pending')
        .where('hold_until', '<=', now)
        .returningAll()
        .execute();
      return rows.map(toCommission);
    },

    async approveCommissions(ids: readonly string[], now: Date): Promise<Commission[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .updateTable('commissions')
        .set({ status: 'approved', approved_at: now, updated_at: now })
        .where('status', '=', 'pending')
        .where('id', 'in', [...ids])
        .returningAll()
        .execute();
      return rows.map(toCommission);
    },

    async markCommissionsPaid(ids: readonly string[], paidAt: Date, payoutId: string | null): Promise<Commission[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .updateTable('commissions')
        .set({ status: 'paid', paid_at: paidAt, payout_id: payoutId, updated_at: paidAt })
        .where('id', 'in', [...ids])
        .where('status', '=', 'approved')
        .where('payout_id', 'is', null)
        .returningAll()
        .execute();
      return rows.map(toCommission);
    },
  };
}

/** Why a guarded update changed nothing: the commission changed status, is in a pending payout, or is missing. */
async function notOutsidePayout(db: Db, id: string, from?: CommissionStatus): Promise<Error> {
  const row = await db.selectFrom('commissions').select(['payout_id', 'status']).where('id', '=', id).executeTakeFirst();
  if (row && from && row.status !== from) return new ConflictError(`Commission ${id} changed meanwhile (it is ${row.status} now, was ${from}): nothing was changed, try again`);
  return row?.payout_id ? new CommissionInPayoutError(id, row.payout_id) : new Error(`adjustCommission: no commission ${id}`);
}

export function toCommission(row: Row<'commissions'>): Commission {
  return {
    id: row.id,
    programId: row.program_id,
    livemode: row.livemode,
    partnerId: row.partner_id,
    customerId: row.customer_id,
    saleId: row.sale_id,
    eventId: row.event_id,
    kind: row.kind as CommissionKind,
    status: row.status as CommissionStatus,
    amount: toAmount(row.amount),
    currency: row.currency,
    reason: row.reason,
    holdUntil: row.hold_until,
    exactNumerator: BigInt(row.exact_numerator),
    basisAmount: toAmount(row.basis_amount),
    manualAmount: toAmount(row.manual_amount),
    statusBeforeHold: row.status_before_hold as CommissionStatus | null,
    approvedAt: row.approved_at,
    paidAt: row.paid_at,
    payoutId: row.payout_id,
    conversion:
      row.source_amount === null || row.converted_amount === null
        ? null
        : { sourceAmount: toAmount(row.source_amount), convertedAmount: toAmount(row.converted_amount) },
    flags: (typeof row.flags === 'string' ? JSON.parse(row.flags) : row.flags ?? []) as FraudFlag[],
    review: row.review as ReviewState | null,
    createdAt: row.created_at,
  };
}

/** The event commission of the milestone and partner (a once key's conflict may be on it instead). */
function eventCommission(db: Db, commission: NewCommission) {
  return db
    .selectFrom('commissions')
    .selectAll()
    .where('kind', '=', 'event')
    .where('event_id', '=', commission.eventId ?? null)
    .where('partner_id', '=', commission.partnerId)
    .executeTakeFirst();
}
