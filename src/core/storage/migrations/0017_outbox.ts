import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * The transactional outbox: every hook event is a row written in the transaction of the ledger
 * change it reports, delivered after commit by a worker in any instance. `seq` orders delivery;
 * `ordering_key` (the customer) keeps one customer's events in order; a claim is a lease
 * (`claimed_until`), so a crashed instance's rows are taken again once it runs out.
 * `next_attempt_at` null: given up after the last attempt, until replayed.
 *
 * Partners get a portal link version, signed into every portal link: bumping it revokes them all.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  const timestamptz = sql`timestamptz`;
  await db.schema
    .createTable('outbox_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigserial', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('ordering_key', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', timestamptz)
    .addColumn('claimed_until', timestamptz)
    .addColumn('claim_token', 'text')
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', timestamptz)
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex(index('outbox_events_undelivered')).on('outbox_events').column('seq').where(sql.ref('delivered_at'), 'is', null).execute();
  await db.schema
    .createIndex(index('outbox_events_ordering'))
    .on('outbox_events')
    .columns(['ordering_key', 'seq'])
    .where(sql.ref('delivered_at'), 'is', null)
    .execute();
  await db.schema.alterTable('partners').addColumn('portal_link_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('partners').dropColumn('portal_link_version').execute();
  await db.schema.dropTable('outbox_events').execute();
}
