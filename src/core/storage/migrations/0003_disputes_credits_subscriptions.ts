import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * What happens to a sale after it is paid: disputes (one row per Stripe dispute, its latest
 * status), credit notes settled outside the card (one row per credit note), and the state of each
 * subscription (for churn). Each is keyed by its Stripe id, so repeats are harmless, and carries
 * the Stripe time of the event that last changed it, so an older event never overwrites a newer.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  const timestamptz = sql`timestamptz`;
  await db.schema
    .alterTable('sales')
    .addColumn('amount_credited', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`amount_credited >= 0`))
    .execute();

  await db.schema
    .createTable('sale_credits')
    .addColumn('credit_note_id', 'text', (c) => c.primaryKey())
    .addColumn('sale_id', 'text', (c) => c.notNull().references('sales.id').onDelete('cascade'))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex(index('sale_credits_sale')).on('sale_credits').column('sale_id').execute();

  await db.schema
    .createTable('sale_disputes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sale_id', 'text', (c) => c.notNull().references('sales.id').onDelete('cascade'))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('stripe_updated_at', timestamptz, (c) => c.notNull())
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex(index('sale_disputes_sale')).on('sale_disputes').column('sale_id').execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.references('customers.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer')
    .addColumn('stripe_price_id', 'text')
    .addColumn('canceled_at', timestamptz)
    .addColumn('ended_at', timestamptz)
    .addColumn('stripe_updated_at', timestamptz, (c) => c.notNull())
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex(index('subscriptions_customer')).on('subscriptions').column('customer_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('subscriptions').execute();
  await db.schema.dropTable('sale_disputes').execute();
  await db.schema.dropTable('sale_credits').execute();
  await db.schema.alterTable('sales').dropColumn('amount_credited').execute();
}
