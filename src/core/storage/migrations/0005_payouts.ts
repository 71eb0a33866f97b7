import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/** Payouts: approved commissions grouped per partner, currency and mode, paid together. */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  const timestamptz = sql`timestamptz`;
  await db.schema
    .createTable('payouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id'))
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'paid')`))
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('paid_at', timestamptz)
    .execute();
  await db.schema.createIndex(index('payouts_partner')).on('payouts').columns(['partner_id', 'status']).execute();
  await db.schema.createIndex(index('commissions_payout')).on('commissions').column('payout_id').execute();
  // Reports aggregate by partner and time: the indexes that keep them fast.
  await db.schema.createIndex(index('commissions_partner_earned')).on('commissions').columns(['partner_id', 'earned_at']).execute();
  await db.schema.createIndex(index('customers_partner_livemode')).on('customers').columns(['partner_id', 'livemode', 'attributed_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('payouts').execute();
}
