import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * Partner groups: a group belongs to one program and may have a sale reward of its own, which
 * its partners earn unless they have their own (partner > group > program). A partner is in at
 * most one group per program, kept on their `partner_programs` row.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('partner_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('program_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('reward', 'jsonb')
    .addColumn('created_at', sql`timestamptz`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex(index('partner_groups_program')).on('partner_groups').columns(['program_id', 'name']).execute();
  await db.schema.alterTable('partner_programs').addColumn('group_id', 'text', (c) => c.references('partner_groups.id').onDelete('set null')).execute();
  await db.schema.createIndex(index('partner_programs_group')).on('partner_programs').column('group_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('partner_programs').dropColumn('group_id').execute();
  await db.schema.dropTable('partner_groups').execute();
}
