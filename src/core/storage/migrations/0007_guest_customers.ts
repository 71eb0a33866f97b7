import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * A guest (no Stripe customer, no merchant id) is known only by email, so two checkouts of one
 * guest processed at once must meet on a unique key, or each creates a customer and a lead reward.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema
    .createIndex(index('customers_guest_email'))
    .on('customers')
    .columns(['livemode', 'email'])
    .unique()
    .where(sql.ref('external_id'), 'is', null)
    .where(sql.ref('stripe_customer_id'), 'is', null)
    .where(sql.ref('email'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema.dropIndex(index('customers_guest_email')).execute();
}
