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
  status: 'pending' | 'paid';
  createdAt: Date;
  paidAt: Date | null;
}

/**
 * Payouts: approved commissions grouped per partner, program and currency.
 *
 * - `createPayouts`: several statements; commissions are claimed with row locks (skipping rows
 *   another run holds), so concurrent runs never put one commission in two payouts. Call it inside
 *   `transaction`, so a failure leaves no half-made payout.
 * - `markPayoutPaid`: a conditional update; of concurrent callers one marks it paid and every
 *   caller gets the paid payout back.
 */
export interface PayoutStore {
  /**
   * Groups approved commissions not yet in a payout (clawbacks included, netted) into one payout
   * per partner and currency, for one mode (live or test, never mixed), when the total reaches
   * `minimumAmount`. Commissions are claimed with row locks, so concurrent calls never put one
   * commission in two payouts.
   */
  createPayouts(request: { minimumAmount: Amount; currency?: string; programId?: string; livemode: boolean }): Promise<Payout[]>;
  listPayouts(filter: { status?: 'pending' | 'paid'; livemode?: boolean; partnerId?: string; programId?: string }): Promise<Payout[]>;
  /** Marks a payout and its commissions paid. */
  markPayoutPaid(id: string, paidAt: Date): Promise<Payout | undefined>;
}

/** The payout store on the library's tables. */
export function payoutStore(db: Db): PayoutStore {
  return {
    async createPayouts(request: { minimumAmount: number; currency?: string; programId?: string; livemode: boolean }): Promise<Payout[]> {
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
        const amount = claimed.reduce((sum, row) => sum + toAmount(row.amount), 0);
        if (amount < Math.max(request.minimumAmount, 1)) {
          // Another payout run took part of it meanwhile: give the rest back for the next run.
          await db.updateTable('commissions').set({ payout_id: null }).where('payout_id', '=', id).execute();
          await db.deleteFrom('payouts').where('id', '=', id).execute();
          continue;
        }
        await db.updateTable('payouts').set({ amount }).where('id', '=', id).execute();
        created.push(id);
      }
      if (created.length === 0) return [];
      return (await payoutQuery(db).where('payouts.id', 'in', created).execute()).map(toPayout);
    },

    async listPayouts(filter: { status?: 'pending' | 'paid'; livemode?: boolean; partnerId?: string; programId?: string }): Promise<Payout[]> {
      let query = payoutQuery(db);
      if (filter.programId) query = query.where('payouts.program_id', '=', filter.programId);
      if (filter.status) query = query.where('payouts.status', '=', filter.status);
      if (filter.livemode !== undefined) query = query.where('payouts.livemode', '=', filter.livemode);
      if (filter.partnerId) query = query.where('payouts.partner_id', '=', filter.partnerId);
      return (await query.execute()).map(toPayout);
    },

    async markPayoutPaid(id: string, paidAt: Date): Promise<Payout | undefined> {
      const updated = await db.updateTable('payouts').set({ status: 'paid', paid_at: paidAt }).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
      if (updated.numUpdatedRows > 0n) {
        await db.updateTable('commissions').set({ status: 'paid', paid_at: paidAt, updated_at: paidAt }).where('payout_id', '=', id).where('status', '=', 'approved').execute();
      }
      const row = await payoutQuery(db).where('payouts.id', '=', id).executeTakeFirst();
      return row && toPayout(row);
    },
  };
}

function toPayout(row: Row<'payouts'> & { partner_name: string; partner_email: string | null }): Payout {
  return {
    id: row.id,
    partnerId: row.partner_id,
    programId: row.program_id,
    partnerName: row.partner_name,
    partnerEmail: row.partner_email,
    livemode: row.livemode,
    currency: row.currency,
    amount: toAmount(row.amount),
    status: row.status as Payout['status'],
    createdAt: row.created_at,
    paidAt: row.paid_at,
  };
}

/** Payouts with their partner's name and email, oldest first. */
function payoutQuery(db: Db) {
  return db
    .selectFrom('payouts')
    .innerJoin('partners', 'partners.id', 'payouts.partner_id')
    .selectAll('payouts')
    .select(['partners.name as partner_name', 'partners.email as partner_email'])
    .orderBy('payouts.created_at')
    .orderBy('payouts.id');
}
