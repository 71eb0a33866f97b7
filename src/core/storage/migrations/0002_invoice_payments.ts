import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * Which payment intent paid which invoice (`invoice_payment.paid`, from API version Basil on,
 * where neither the invoice nor the charge names the other), so a refund or dispute on a renewal
 * charge finds its sale without an API call.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('invoice_payments')
    .addColumn('payment_intent_id', 'text', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('created_at', sql`timestamptz`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex(index('invoice_payments_invoice')).on('invoice_payments').column('invoice_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('invoice_payments').execute();
}
