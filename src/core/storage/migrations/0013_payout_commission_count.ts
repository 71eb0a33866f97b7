import type { Kysely } from 'kysely';

/**
 * Payouts remember how many commissions they were made of, so marking one paid can tell (with its
 * amount) that none of them changed since: a refund, dispute or void after the payout was made
 * refuses the payment until the payout is made again. Pending payouts made before count what they
 * hold now.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payouts').addColumn('commission_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db
    .updateTable('payouts')
    .set((eb) => ({
      commission_count: eb.selectFrom('commissions').select((c) => c.fn.countAll<number>().as('n')).whereRef('commissions.payout_id', '=', 'payouts.id'),
    }))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payouts').dropColumn('commission_count').execute();
}
