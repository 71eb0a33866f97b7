import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * Custom milestone events (`trackEvent`: a booked demo, an activated trial) and the commissions
 * they earn. An event is one row per idempotency key and mode; its commission is one per event and
 * partner, and a reward paid once per customer meets the earlier one on `once_key`. A customer's
 * `sa_customer_key` written back to Stripe (`backfillCustomerMetadata`) is claimed once, by a
 * conditional update of `stripe_metadata_written_at`.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  const timestamptz = sql`timestamptz`;
  await db.schema
    .createTable('milestones')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
    .addColumn('partner_id', 'text', (c) => c.references('partners.id'))
    .addColumn('click_id', 'text')
    .addColumn('value', 'bigint')
    .addColumn('currency', 'text', (c) => c.check(sql`currency = lower(currency)`))
    .addColumn('occurred_at', timestamptz, (c) => c.notNull())
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(index('milestones_value_has_currency'), sql`value is null or currency is not null`)
    .execute();
  await db.schema.createIndex(index('milestones_idempotency_key')).unique().on('milestones').columns(['livemode', 'idempotency_key']).execute();
  await db.schema.createIndex(index('milestones_partner_occurred')).on('milestones').columns(['partner_id', 'occurred_at']).execute();
  await db.schema.createIndex(index('milestones_customer')).on('milestones').column('customer_id').execute();

  await db.schema.alterTable('customers').addColumn('stripe_metadata_written_at', timestamptz).execute();
  await db.schema
    .alterTable('commissions')
    .addColumn('event_id', 'text', (c) => c.references('milestones.id'))
    .addColumn('once_key', 'text')
    .execute();
  // The kind check was declared inline in 0001, so Postgres named it <table>_kind_check.
  await db.schema.alterTable('commissions').dropConstraint(index('commissions_kind_check')).execute();
  await db.schema.alterTable('commissions').dropConstraint(index('commissions_sale_has_sale')).execute();
  await db.schema.alterTable('commissions').addCheckConstraint(index('commissions_kind_check'), sql`kind in ('sale', 'lead', 'clawback', 'event')`).execute();
  await db.schema.alterTable('commissions').addCheckConstraint(index('commissions_sale_has_sale'), sql`kind in ('lead', 'event') or sale_id is not null`).execute();
  await db.schema.alterTable('commissions').addCheckConstraint(index('commissions_event_has_event'), sql`kind <> 'event' or event_id is not null`).execute();
  await db.schema
    .createIndex(index('commissions_one_per_event'))
    .unique()
    .on('commissions')
    .columns(['event_id', 'partner_id'])
    .where(sql.ref('kind'), '=', sql.lit('event'))
    .execute();
  await db.schema.createIndex(index('commissions_once_key')).unique().on('commissions').column('once_key').execute();
}

export async function down(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.deleteFrom('commissions').where('kind', '=', 'event').execute();
  await db.schema.dropIndex(index('commissions_once_key')).execute();
  await db.schema.dropIndex(index('commissions_one_per_event')).execute();
  await db.schema.alterTable('commissions').dropConstraint(index('commissions_event_has_event')).execute();
  await db.schema.alterTable('commissions').dropConstraint(index('commissions_sale_has_sale')).execute();
  await db.schema.alterTable('commissions').dropConstraint(index('commissions_kind_check')).execute();
  await db.schema.alterTable('commissions').addCheckConstraint(index('commissions_kind_check'), sql`kind in ('sale', 'lead', 'clawback')`).execute();
  await db.schema.alterTable('commissions').addCheckConstraint(index('commissions_sale_has_sale'), sql`kind = 'lead' or sale_id is not null`).execute();
  await db.schema.alterTable('commissions').dropColumn('event_id').dropColumn('once_key').execute();
  await db.schema.alterTable('customers').dropColumn('stripe_metadata_written_at').execute();
  await db.schema.dropTable('milestones').execute();
}
