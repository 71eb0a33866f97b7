import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * Partner applications: someone applies through the public form and becomes a `pending` partner
 * (their chosen code reserved under the code's unique key, yet attributing nothing, since only
 * `active` partners do) until the merchant approves (`active`) or rejects (`rejected`, the code
 * released). One open application or application-made partner per email, decided by a unique key.
 * Submissions are counted per hashed IP and time window in the database, so every instance shares
 * the rate limit.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('partners')
    .addColumn('applied_at', sql`timestamptz`)
    .addColumn('application', 'jsonb')
    .addColumn('decided_at', sql`timestamptz`)
    .execute();
  // Postgres named the check of 0001 after the (prefixed) table and column.
  await db.schema.alterTable('partners').dropConstraint(index('partners_status_check')).execute();
  await db.schema
    .alterTable('partners')
    .addCheckConstraint(index('partners_status_check'), sql`status in ('active', 'disabled', 'pending', 'rejected')`)
    .execute();
  await db.schema
    .createIndex(index('partners_application_email'))
    .on('partners')
    .column('email')
    .unique()
    .where(sql.ref('applied_at'), 'is not', null)
    .where(sql.ref('status'), '<>', 'rejected')
    .execute();
  await db.schema
    .createTable('application_attempts')
    .addColumn('ip_hash', 'text', (c) => c.notNull())
    .addColumn('window_start', sql`timestamptz`, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint(index('application_attempts_pkey'), ['ip_hash', 'window_start'])
    .execute();
  await db.schema.createIndex(index('application_attempts_window')).on('application_attempts').column('window_start').execute();
}

export async function down(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema.dropTable('application_attempts').execute();
  await db.schema.dropIndex(index('partners_application_email')).execute();
  await db.deleteFrom('partners').where('status', 'in', ['pending', 'rejected']).execute();
  await db.schema.alterTable('partners').dropConstraint(index('partners_status_check')).execute();
  await db.schema.alterTable('partners').addCheckConstraint(index('partners_status_check'), sql`status in ('active', 'disabled')`).execute();
  await db.schema.alterTable('partners').dropColumn('applied_at').dropColumn('application').dropColumn('decided_at').execute();
}
