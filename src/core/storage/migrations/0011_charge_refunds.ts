import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * What each charge of a sale has had refunded, as Stripe's cumulative `amount_refunded`. An invoice
 * paid by several charges (Basil partial payments) is refunded charge by charge: the sale's refunded
 * amount is the sum over its charges, scaled once by what the invoice was paid, so one charge's
 * refund never counts as the whole invoice. Sales refunded earlier keep their refunded amount.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('charge_refunds')
    .addColumn('sale_id', 'text', (c) => c.notNull().references('sales.id').onDelete('cascade'))
    .addColumn('charge_id', 'text', (c) => c.notNull())
    .addColumn('amount_refunded', 'bigint', (c) => c.notNull().check(sql`amount_refunded >= 0`))
    .addColumn('created_at', sql`timestamptz`, (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint(index('charge_refunds_pkey'), ['sale_id', 'charge_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('charge_refunds').execute();
}
