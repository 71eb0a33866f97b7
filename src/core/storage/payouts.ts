import { AttributionError, PayoutChangedError, PayoutReversedError } from '../kernel/errors.js';
import { newId } from '../kernel/ids.js';
import { toAmount, type Amount } from '../kernel/money.js';
import type { Db, Row } from './rows.js';

export interface Payout {
  id: string;
  partnerId: string;
  /** A payout pays one program's commissions. */
  programId: string;
  partnerName: string;
  partnerEmail: string | null;
  livemode: boolean;
  currency: string;
  amount: Amount;
  /** `reversed`: paid by a transfer Stripe reversed in full; its commissions are payable again. */
  status: 'pending' | 'paid' | 'reversed';
  /** The Stripe transfer that paid it (Connect), else null. */
  transferId: string | null;
  /** Why its last transfer did not go through; null once paid. */
  transferError: string | null;
  /** How many commissions (clawbacks included) it was made of. */
  commissionCount: number;
  createdAt: Date;
  paidAt: Date | null;
}

/**
 * Payouts: approved commissions grouped per partner, program and currency.
 *
 * - `createPayouts`: several statements; commissions are claimed with row locks (skipping rows
 *   another run holds), so concurrent runs never put one commission in two payouts. Call it inside
 *   `transaction`, so a failure leaves no half-made payout.
 * - `markPayoutPaid`, `cancelPayout`: call inside `transaction`. Each locks the payout row, then its
 *   commissions, so concurrent callers take turns: of two marking one payout paid, one pays it and
 *   the other gets it back with `alreadyPaid: true`; a cancel racing a payment either cancels it
 *   or finds it paid.
 */
export interface PayoutStore {
  /**
   * Groups approved commissions not yet in a payout (clawbacks included, netted) into one payout
   * per partner and currency, for one mode (live or test, never mixed), when the total reaches
   * `minimumAmount`. Commissions are claimed with row locks, so concurrent calls never put one
   * commission in two payouts.
   */
  createPayouts(request: { minimumAmount: Amount; currency?: string; programId?: string; livemode: boolean; transfersOnly?: boolean }): Promise<Payout[]>;
  listPayouts(filter: { status?: Payout['status']; livemode?: boolean; partnerId?: string; programId?: string }): Promise<Payout[]>;
  /**
   * Marks a pending payout and its commissions paid; a paid one comes back unchanged with
   * `alreadyPaid: true`. Throws `PayoutChangedError`, changing nothing, when its commissions no
   * longer add up to its amount and count (one was refunded, disputed, voided or adjusted since).
   */
  markPayoutPaid(id: string, paidAt: Date): Promise<PaidPayout | undefined>;
  /**
   * Deletes a pending payout and hands its commissions back to the next `createPayouts`. Returns
   * false for an unknown id; a paid payout never changes, so cancelling one throws.
   */
  cancelPayout(id: string): Promise<boolean>;
}

/** A payout marked paid: `alreadyPaid` when it was paid before this call (on `paidAt`). */
export type PaidPayout = Payout & { alreadyPaid: boolean };

/** The payout store on the library's tables. */
export function payoutStore(db: Db): PayoutStore {
  return {
    async createPayouts(request: { minimumAmount: number; currency?: string; programId?: string; livemode: boolean; transfersOnly?: boolean }): Promise<Payout[]> {
      let candidates = db
        .selectFrom('commissions')
        .select(['partner_id', 'program_id', 'currency'])
        .select((eb) => eb.fn.sum<string | number>('amount').as('total'))
        .where('status', '=', 'approved')
        .where('payout_id', 'is', null)
        .where('livemode', '=', request.livemode)
        .groupBy(['partner_id', 'program_id', 'currency']);
      if (request.currency) candidates = candidates.where('currency', '=', request.currency.toLowerCase());
      if (request.programId) candidates = candidates.where('program_id', '=', request.programId);
      if (request.transfersOnly) candidates = candidates.where('partner_id', 'in', (eb) => eb.selectFrom('partners').select('id').where('transfers_status', '=', 'active'));
      const created: string[] = [];
      for (const group of await candidates.execute()) {
        if (toAmount(group.total) < Math.max(request.minimumAmount, 1)) continue;
        const id = newId('po');
        await db
          .insertInto('payouts')
          .values({ id, partner_id: group.partner_id, program_id: group.program_id, livemode: request.livemode, currency: group.currency, amount: 0, status: 'pending' })
          .execute();
        const claimed = await db
          .updateTable('commissions')
          .set({ payout_id: id })
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('commissions')
              .select('id')
              .where('partner_id', '=', group.partner_id)
              .where('program_id', '=', group.program_id)
              .where('currency', '=', group.currency)
              .where('livemode', '=', request.livemode)
              .where('status', '=', 'approved')
              .where('payout_id', 'is', null)
              .forUpdate()
              .skipLocked(),
          )
          .returning('amount')
          .execute();
        const commissionCount = claimed.length;
        const amount = claimed.reduce((sum, row) => sum + toAmount(row.amount), 0);
        if (amount < Math.max(request.minimumAmount, 1)) {
          // Another payout run took part of it meanwhile: give the rest back for the next run.
          await db.updateTable('commissions').set({ payout_id: null }).where('payout_id', '=', id).execute();
          await db.deleteFrom('payouts').where('id', '=', id).execute();
          continue;
        }
        await db.updateTable('payouts').set({ amount, commission_count: commissionCount }).where('id', '=', id).execute();
        created.push(id);
      }
      if (created.length === 0) return [];
      return (await payoutQuery(db).where('payouts.id', 'in', created).execute()).map(toPayout);
    },

    async listPayouts(filter: { status?: Payout['status']; livemode?: boolean; partnerId?: string; programId?: string }): Promise<Payout[]> {
      let query = payoutQuery(db);
      if (filter.programId) query = query.where('payouts.program_id', '=', filter.programId);
      if (filter.status) query = query.where('payouts.status', '=', filter.status);
      if (filter.livemode !== undefined) query = query.where('payouts.livemode', '=', filter.livemode);
      if (filter.partnerId) query = query.where('payouts.partner_id', '=', filter.partnerId);
      return (await query.execute()).map(toPayout);
    },

    async markPayoutPaid(id: string, paidAt: Date): Promise<PaidPayout | undefined> {
      const payout = await db.selectFrom('payouts').select(['status', 'amount', 'commission_count']).where('id', '=', id).forUpdate().executeTakeFirst();
      if (!payout) return undefined;
      if (payout.status === 'reversed') throw new PayoutReversedError(id);
      if (payout.status === 'pending') {
        // Locked, so a refund or void racing this payment lands before the check or after the payout is paid.
        await assertPayoutUnchanged(db, id, payout);
        await db.updateTable('payouts').set({ status: 'paid', paid_at: paidAt }).where('id', '=', id).execute();
        await db.updateTable('commissions').set({ status: 'paid', paid_at: paidAt, updated_at: paidAt }).where('payout_id', '=', id).execute();
      }
      const row = await payoutQuery(db).where('payouts.id', '=', id).executeTakeFirstOrThrow();
      return { ...toPayout(row), alreadyPaid: payout.status === 'paid' };
    },

    async cancelPayout(id: string): Promise<boolean> {
      const payout = await db.selectFrom('payouts').select(['status', 'paid_at']).where('id', '=', id).forUpdate().executeTakeFirst();
      if (!payout) return false;
      if (payout.status !== 'pending') {
        throw new AttributionError(`Payout ${id} was paid on ${payout.paid_at?.toISOString() ?? 'an unknown date'}: a paid payout never changes; later corrections go to the next payout`);
      }
      await db.updateTable('commissions').set({ payout_id: null }).where('payout_id', '=', id).execute();
      await db.deleteFrom('payouts').where('id', '=', id).execute();
      return true;
    },
  };
}

export function toPayout(row: Row<'payouts'> & { partner_name: string; partner_email: string | null }): Payout {
  return {
    id: row.id,
    partnerId: row.partner_id,
    programId: row.program_id,
    partnerName: row.partner_name,
    partnerEmail: row.partner_email,
    livemode: row.livemode,
    currency: row.currency,
    amount: toAmount(row.amount),
    commissionCount: row.commission_count,
    status: row.status as Payout['status'],
    transferId: row.transfer_id,
    transferError: row.transfer_error,
    createdAt: row.created_at,
    paidAt: row.paid_at,
  };
}

/** Payouts with their partner's name and email, oldest first. */
export function payoutQuery(db: Db) {
  return db
    .selectFrom('payouts')
    .innerJoin('partners', 'partners.id', 'payouts.partner_id')
    .selectAll('payouts')
    .select(['partners.name as partner_name', 'partners.email as partner_email'])
    .orderBy('payouts.created_at')
    .orderBy('payouts.id');
}

/**
 * Throws `PayoutChangedError` unless the payout's commissions (locked here) still add up to its
 * amount and count, all approved: a refund, dispute or void since it was made changes them.
 */
export async function assertPayoutUnchanged(db: Db, id: string, payout: { amount: Row<'payouts'>['amount']; commission_count: number }): Promise<void> {
  const commissions = await db.selectFrom('commissions').select(['amount', 'status']).where('payout_id', '=', id).forUpdate().execute();
  const unchanged =
    commissions.length === payout.commission_count &&
    commissions.every((commission) => commission.status === 'approved') &&
    commissions.reduce((sum, commission) => sum + toAmount(commission.amount), 0) === toAmount(payout.amount);
  if (!unchanged) throw new PayoutChangedError(id);
}
