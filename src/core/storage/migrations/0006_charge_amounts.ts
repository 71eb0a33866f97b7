import type { Kysely } from 'kysely';

/**
 * Each sale keeps what its payment charged, so a dispute (which names only its charge) is scaled
 * without a Stripe look-up. Earlier sales keep null and are looked up as before.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sales').addColumn('charge_amount', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sales').dropColumn('charge_amount').execute();
}
