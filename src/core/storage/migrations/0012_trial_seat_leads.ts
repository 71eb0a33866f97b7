import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * Lead rewards per trial seat (`leadReward.perTrialSeat`): the customer's own lead commission stays
 * one per customer and partner, and each further seat of a trial is a lead commission of its own,
 * unique on its `once_key` (customer and seat number), so a redelivered or concurrent trial event
 * pays every seat once.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema.dropIndex(index('commissions_one_per_lead')).execute();
  await db.schema
    .createIndex(index('commissions_one_per_lead'))
    .unique()
    .on('commissions')
    .columns(['customer_id', 'partner_id'])
    .where(sql<boolean>`kind = 'lead' and once_key is null`)
    .execute();
}

export async function down(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.deleteFrom('commissions').where('kind', '=', 'lead').where('once_key', 'is not', null).execute();
  await db.schema.dropIndex(index('commissions_one_per_lead')).execute();
  await db.schema
    .createIndex(index('commissions_one_per_lead'))
    .unique()
    .on('commissions')
    .columns(['customer_id', 'partner_id'])
    .where(sql.ref('kind'), '=', sql.lit('lead'))
    .execute();
}
