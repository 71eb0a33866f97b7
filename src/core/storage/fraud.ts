import { sql } from 'kysely';
import { newId } from '../kernel/ids.js';
import { toCommission, type Commission, type CommissionStatus } from './commissions.js';
import type { Db } from './rows.js';

/** What the fraud rules compare a new sale with, for one partner. */
export interface FraudEvidenceRequest {
  livemode: boolean;
  partnerId: string;
  customerId: string;
  saleId: string;
  /** The sale's click, whose IP hash and time the click rules look at. */
  clickId: string | null;
  cardFingerprint: string | null;
  /** Half the window, either side of the sale's click, in which its IP hash's clicks are counted. */
  clickWindowMs: number;
  /** The partner's sales (other than this one) paid in `[refundSince, refundUntil]` give its refund rate. */
  refundSince: Date;
  refundUntil: Date;
}

export interface FraudEvidence {
  /** The sale's click, when it has one still stored. */
  click: { userAgent: string | null; ipHash: string | null; createdAt: Date } | null;
  /** The partner's clicks from the click's IP hash within the window around it (the click included). */
  clicksFromIp: number;
  /** The partner's other sales in the refund window, and how many of them were refunded (in part or in full). */
  partnerSales: number;
  partnerRefundedSales: number;
  /** The partner's other customers who paid with the same card. */
  customersSharingCard: number;
  /** The partner's other customers whose attributed click came from the same IP hash. */
  customersSharingIp: number;
  /** Whether the merchant already cleared a flagged commission of this customer and partner. */
  clearedBefore: boolean;
}

/**
 * The fraud review's reads and writes.
 *
 * - `readFraudEvidence`: everything the built-in rules need beyond what the sale's transaction read
 *   already, in one statement.
 * - `decideReview`: one conditional update (a commission held for review, its review pending), so
 *   of two decisions at once exactly one applies; then its row in the review ledger (unique per
 *   commission).
 */
export interface FraudStore {
  readFraudEvidence(request: FraudEvidenceRequest): Promise<FraudEvidence>;
  /** Commissions held for review, oldest first. */
  listFlaggedCommissions(filter: { partnerId?: string; livemode?: boolean }): Promise<Commission[]>;
  /**
   * Records the merchant's decision on a commission held for review: `cleared` sets `status`,
   * `voided` voids it and ends its reward (its later refunds change nothing). Undefined when the
   * commission is not held for review (decided already, or never flagged).
   */
  decideReview(id: string, decision: { decision: 'cleared' | 'voided'; status: CommissionStatus; note: string | null; decidedBy: string | null }): Promise<Commission | undefined>;
  /** The decision recorded for a commission, if any. */
  getReviewDecision(commissionId: string): Promise<ReviewDecision | undefined>;
}

export interface ReviewDecision {
  commissionId: string;
  decision: 'cleared' | 'voided';
  note: string | null;
  decidedBy: string | null;
  decidedAt: Date;
}

export function fraudStore(db: Db): FraudStore {
  return {
    async readFraudEvidence(request: FraudEvidenceRequest): Promise<FraudEvidence> {
      const { partnerId, customerId, clickId } = request;
      const ipOfClick = db.selectFrom('clicks').select('ip_hash').where('id', '=', clickId ?? '');
      const atOfClick = db.selectFrom('clicks').select('created_at').where('id', '=', clickId ?? '');
      const window = `${Math.round(request.clickWindowMs)} milliseconds`;
      const row = await db
        .selectNoFrom((eb) => [
          eb.selectFrom('clicks').select('user_agent').where('id', '=', clickId ?? '').as('user_agent'),
          ipOfClick.as('ip_hash'),
          atOfClick.as('click_at'),
          eb
            .selectFrom('clicks as k')
            .select((k) => k.fn.countAll<string | number>().as('n'))
            .where('k.partner_id', '=', partnerId)
            .where('k.ip_hash', '=', ipOfClick)
            .where('k.created_at', '>=', sql<Date>`(${atOfClick}) - ${window}::interval`)
            .where('k.created_at', '<=', sql<Date>`(${atOfClick}) + ${window}::interval`)
            .as('clicks_from_ip'),
          eb
            .selectFrom('sales as s')
            .select((s) => s.fn.countAll<string | number>().as('n'))
            .where('s.partner_id', '=', partnerId)
            .where('s.livemode', '=', request.livemode)
            .where('s.id', '<>', request.saleId)
            .where('s.occurred_at', '>=', request.refundSince)
            .where('s.occurred_at', '<=', request.refundUntil)
            .as('partner_sales'),
          eb
            .selectFrom('sales as s')
            .select((s) => s.fn.countAll<string | number>().as('n'))
            .where('s.partner_id', '=', partnerId)
            .where('s.livemode', '=', request.livemode)
            .where('s.id', '<>', request.saleId)
            .where('s.occurred_at', '>=', request.refundSince)
            .where('s.occurred_at', '<=', request.refundUntil)
            .where('s.amount_refunded', '>', 0)
            .as('partner_refunded_sales'),
          request.cardFingerprint
            ? eb
                .selectFrom('sales as s')
                .select(sql<string | number>`count(distinct s.customer_id)`.as('n'))
                .where('s.partner_id', '=', partnerId)
                .where('s.card_fingerprint', '=', request.cardFingerprint)
                .where('s.customer_id', '<>', customerId)
                .as('customers_sharing_card')
            : sql<number>`0`.as('customers_sharing_card'),
          eb
            .selectFrom('customers as cu')
            .innerJoin('clicks as k', 'k.id', 'cu.click_id')
            .select((s) => s.fn.countAll<string | number>().as('n'))
            .where('cu.partner_id', '=', partnerId)
            .where('cu.id', '<>', customerId)
            .where('k.ip_hash', '=', ipOfClick)
            .as('customers_sharing_ip'),
          eb
            .exists(
              eb
                .selectFrom('commissions')
                .select('id')
                .where('customer_id', '=', customerId)
                .where('partner_id', '=', partnerId)
                .where('review', '=', 'cleared'),
            )
            .as('cleared_before'),
        ])
        .executeTakeFirstOrThrow();
      const clickAt = row.click_at == null ? null : new Date(row.click_at as Date | string);
      return {
        click: clickAt ? { userAgent: row.user_agent ?? null, ipHash: row.ip_hash ?? null, createdAt: clickAt } : null,
        clicksFromIp: Number(row.clicks_from_ip ?? 0),
        partnerSales: Number(row.partner_sales ?? 0),
        partnerRefundedSales: Number(row.partner_refunded_sales ?? 0),
        customersSharingCard: Number(row.customers_sharing_card ?? 0),
        customersSharingIp: Number(row.customers_sharing_ip ?? 0),
        clearedBefore: Boolean(row.cleared_before),
      };
    },

    async listFlaggedCommissions(filter: { partnerId?: string; livemode?: boolean }): Promise<Commission[]> {
      let query = db.selectFrom('commissions').selectAll().where('review', '=', 'pending').where('status', '=', 'held').orderBy('created_at').orderBy('id');
      if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
      if (filter.livemode !== undefined) query = query.where('livemode', '=', filter.livemode);
      return (await query.execute()).map(toCommission);
    },

    async decideReview(id, { decision, status, note, decidedBy }): Promise<Commission | undefined> {
      const row = await db
        .updateTable('commissions')
        .set({
          review: decision,
          status,
          updated_at: new Date(),
          ...(decision === 'voided' ? { exact_numerator: '0', reason: note ?? 'fraud' } : {}),
        })
        .where('id', '=', id)
        .where('review', '=', 'pending')
        .where('status', '=', 'held')
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await db.insertInto('commission_reviews').values({ id: newId('rev'), commission_id: id, decision, note, decided_by: decidedBy }).execute();
      return toCommission(row);
    },

    async getReviewDecision(commissionId: string): Promise<ReviewDecision | undefined> {
      const row = await db.selectFrom('commission_reviews').selectAll().where('commission_id', '=', commissionId).executeTakeFirst();
      return row && { commissionId: row.commission_id, decision: row.decision as ReviewDecision['decision'], note: row.note, decidedBy: row.decided_by, decidedAt: row.created_at };
    },
  };
}
