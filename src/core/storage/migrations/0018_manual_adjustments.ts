import type { Kysely } from 'kysely';

/**
 * A sale's commission keeps the sum of the merchant's own changes to it (`commissions.adjust`, in
 * place or as a clawback after payout), so that reconciling it after a refund or dispute keeps them
 * instead of undoing them. Changes made before are not told apart from Stripe's, and count as none.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('commissions').addColumn('manual_amount', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('commissions').dropColumn('manual_amount').execute();
}
