import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * Fraud review. A commission a fraud rule flagged keeps its flags (`[{ rule, reason }]`) and its
 * review state (`pending` until the merchant clears or voids it); every decision is a row of its
 * own (who, when, what, why), the ledger of reviews. Sales keep the card fingerprint their payment
 * showed, and clicks are counted per partner and IP hash, for the rules that compare customers.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('commissions')
    .addColumn('flags', 'jsonb')
    .addColumn('review', 'text', (c) => c.check(sql`review in ('pending', 'cleared', 'voided')`))
    .execute();
  await db.schema
    .createTable('commission_reviews')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('commission_id', 'text', (c) => c.notNull().references('commissions.id').onDelete('cascade'))
    .addColumn('decision', 'text', (c) => c.notNull().check(sql`decision in ('cleared', 'voided')`))
    .addColumn('note', 'text')
    .addColumn('decided_by', 'text')
    .addColumn('created_at', sql`timestamptz`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One decision per commission: two merchants clearing at once record one.
  await db.schema.createIndex(index('commission_reviews_commission')).on('commission_reviews').column('commission_id').unique().execute();
  await db.schema.createIndex(index('commissions_review')).on('commissions').columns(['review', 'created_at']).where(sql.ref('review'), '=', 'pending').execute();
  await db.schema.alterTable('sales').addColumn('card_fingerprint', 'text').execute();
  await db.schema.createIndex(index('sales_partner_card')).on('sales').columns(['partner_id', 'card_fingerprint']).where(sql.ref('card_fingerprint'), 'is not', null).execute();
  await db.schema.createIndex(index('clicks_partner_ip')).on('clicks').columns(['partner_id', 'ip_hash', 'created_at']).execute();
}

export async function down(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema.dropIndex(index('clicks_partner_ip')).execute();
  await db.schema.dropIndex(index('sales_partner_card')).execute();
  await db.schema.alterTable('sales').dropColumn('card_fingerprint').execute();
  await db.schema.dropTable('commission_reviews').execute();
  await db.schema.alterTable('commissions').dropColumn('flags').dropColumn('review').execute();
}
