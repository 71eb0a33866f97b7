import { assertAmount, toAmount, type Amount } from '../kernel/money.js';
import type { Db } from './rows.js';
import { lockSaleRow, toSale, type Sale } from './sales.js';

/**
 * What a sale has had given back: refunds to the payment method and credit notes.
 *
 * - `raiseSaleRefunded`: one statement that only raises, so concurrent or out-of-order totals leave
 *   the largest.
 * - `recordChargeRefund`, `recordSaleCredit`, `removeSaleCredit`: lock the sale's row first, so
 *   concurrent changes to one sale take turns and each total sees the others; call them inside
 *   `transaction`. A credit note is recorded once: a repeat or concurrent duplicate changes nothing
 *   and gets the sale back.
 */
export interface SaleRefundStore {
  /**
   * Raises the sale's refunded amount to `amount` (never lowers it): refunds arrive as cumulative
   * totals, so a repeated or older event changes nothing.
   */
  raiseSaleRefunded(saleId: string, amount: Amount): Promise<Sale>;
  /**
   * Raises what one charge of the sale has had refunded to `amountRefunded` (Stripe's cumulative
   * total; never lowered) and returns the sum over all the sale's charges — an invoice may be paid
   * by several. Concurrent refunds of one sale's charges take turns on the sale's row, so each sum
   * sees the others.
   */
  recordChargeRefund(refund: { saleId: string; chargeId: string; amountRefunded: Amount }): Promise<Amount>;
  /** Records a credit note's reduction of a sale once (keyed by the credit note) and returns the sale. */
  recordSaleCredit(credit: { creditNoteId: string; saleId: string; amount: Amount }): Promise<Sale>;
  /** Removes a voided credit note's reduction; returns the sale it applied to, if any. */
  removeSaleCredit(creditNoteId: string): Promise<string | undefined>;
}

/** The refund and credit store on the library's tables. */
export function saleRefundStore(db: Db): SaleRefundStore {
  return {
    async raiseSaleRefunded(saleId: string, amount: number): Promise<Sale> {
      const row = await db
        .updateTable('sales')
        .set((eb) => ({ amount_refunded: eb.fn('greatest', ['amount_refunded', eb.val(assertAmount(amount))]) as never }))
        .where('id', '=', saleId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toSale(row);
    },

    async recordChargeRefund(refund: { saleId: string; chargeId: string; amountRefunded: number }): Promise<number> {
      await lockSaleRow(db, refund.saleId);
      await db
        .insertInto('charge_refunds')
        .values({ sale_id: refund.saleId, charge_id: refund.chargeId, amount_refunded: assertAmount(refund.amountRefunded) })
        .onConflict((oc) =>
          oc.columns(['sale_id', 'charge_id']).doUpdateSet((eb) => ({
            amount_refunded: eb.fn('greatest', ['charge_refunds.amount_refunded', 'excluded.amount_refunded']) as never,
          })),
        )
        .execute();
      const { total } = await db
        .selectFrom('charge_refunds')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<string | number>('amount_refunded'), eb.val(0)).as('total'))
        .where('sale_id', '=', refund.saleId)
        .executeTakeFirstOrThrow();
      return toAmount(total);
    },

    async recordSaleCredit(credit: { creditNoteId: string; saleId: string; amount: number }): Promise<Sale> {
      // Concurrent credits to one sale take turns on its row, so each total sees the others.
      await lockSaleRow(db, credit.saleId);
      await db
        .insertInto('sale_credits')
        .values({ credit_note_id: credit.creditNoteId, sale_id: credit.saleId, amount: assertAmount(credit.amount) })
        .onConflict((oc) => oc.column('credit_note_id').doNothing())
        .execute();
      return toSale(await refreshCredited(db, credit.saleId));
    },

    async removeSaleCredit(creditNoteId: string): Promise<string | undefined> {
      const row = await db.selectFrom('sale_credits').select('sale_id').where('credit_note_id', '=', creditNoteId).executeTakeFirst();
      if (!row) return undefined;
      await lockSaleRow(db, row.sale_id);
      await db.deleteFrom('sale_credits').where('credit_note_id', '=', creditNoteId).execute();
      await refreshCredited(db, row.sale_id);
      return row.sale_id;
    },
  };
}

/** Sets the sale's credited amount to the sum of its credit notes. */
function refreshCredited(db: Db, saleId: string) {
  return db
    .updateTable('sales')
    .set((eb) => ({
      amount_credited: eb
        .selectFrom('sale_credits')
        .select((inner) => inner.fn.coalesce(inner.fn.sum<number>('amount'), eb.val(0)).as('total'))
        .where('sale_credits.sale_id', '=', saleId) as never,
    }))
    .where('id', '=', saleId)
    .returningAll()
    .executeTakeFirstOrThrow();
}
