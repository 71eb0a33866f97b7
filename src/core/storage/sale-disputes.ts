import { assertAmount, toAmount, type Amount } from '../kernel/money.js';
import type { Db } from './rows.js';
import { lockSaleRow, toSale, type Sale } from './sales.js';

/** Dispute statuses still undecided; `warning_*` inquiries are not chargebacks and never count. */
const OPEN_DISPUTE: readonly string[] = ['needs_response', 'under_review'];

/**
 * Disputes of a sale's charges.
 *
 * `recordDispute` locks the sale's row, then keeps the dispute's newest state by Stripe's time: a
 * repeat, an older event or a concurrent copy never moves it back. Call it inside `transaction`.
 */
export interface SaleDisputeStore {
  /**
   * Records a dispute's latest state (keyed by the dispute; an older event never overwrites a newer
   * one) and returns the sale, whose disputed amount counts disputes open or lost.
   */
  recordDispute(dispute: { id: string; saleId: string; amount: Amount; status: string; at: Date }): Promise<Sale>;
  /** Open and lost disputed amounts of a sale. */
  disputeTotals(saleId: string): Promise<{ open: Amount; lost: Amount }>;
}

/** The dispute store on the library's tables. */
export function saleDisputeStore(db: Db): SaleDisputeStore {
  return {
    async recordDispute(dispute: { id: string; saleId: string; amount: number; status: string; at: Date }): Promise<Sale> {
      await lockSaleRow(db, dispute.saleId);
      await db
        .insertInto('sale_disputes')
        .values({ id: dispute.id, sale_id: dispute.saleId, amount: assertAmount(dispute.amount), status: dispute.status, stripe_updated_at: dispute.at })
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({ status: eb.ref('excluded.status'), amount: eb.ref('excluded.amount'), stripe_updated_at: eb.ref('excluded.stripe_updated_at') }))
            .whereRef('sale_disputes.stripe_updated_at', '<=', 'excluded.stripe_updated_at'),
        )
        .execute();
      const row = await db
        .updateTable('sales')
        .set((eb) => ({
          // Disputes of several charges, each rounded on its own, may add up to a cent over the sale.
          amount_disputed: eb.fn('least', [
            eb
              .selectFrom('sale_disputes')
              .select((inner) => inner.fn.coalesce(inner.fn.sum<number>('amount'), eb.val(0)).as('total'))
              .where('sale_disputes.sale_id', '=', dispute.saleId)
              .where('sale_disputes.status', 'in', [...OPEN_DISPUTE, 'lost']),
            eb.ref('amount'),
          ]) as never,
        }))
        .where('id', '=', dispute.saleId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSale(row);
    },

    async disputeTotals(saleId: string): Promise<{ open: number; lost: number }> {
      const rows = await db.selectFrom('sale_disputes').select(['amount', 'status']).where('sale_id', '=', saleId).execute();
      let open = 0;
      let lost = 0;
      for (const row of rows) {
        if (row.status === 'lost') lost += toAmount(row.amount);
        else if (OPEN_DISPUTE.includes(row.status)) open += toAmount(row.amount);
      }
      return { open, lost };
    },
  };
}
