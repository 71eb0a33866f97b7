import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/** Every table whose rows belong to one program. */
const PROGRAM_TABLES = ['links', 'promotion_codes', 'clicks', 'customers', 'sales', 'commissions', 'milestones', 'payouts'] as const;

/**
 * Several programs side by side. Referral codes, promotion codes and clicks belong to a program,
 * and so does a customer record: a person bought through two programs is one customer in each,
 * so "attributed once, never moves", "terms locked at the first sale" and "already bought
 * unattributed" hold per program. Sales, milestones and commissions carry their customer's program,
 * payouts the program they pay. Everything recorded before is the `'default'` program's (the id of
 * the `program` shorthand), so a single-program database keeps working as it was.
 *
 * A partner's own reward moves to `partner_programs`, one row per partner and program.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  for (const table of PROGRAM_TABLES) {
    await db.schema.alterTable(table).addColumn('program_id', 'text', (c) => c.notNull().defaultTo('default')).execute();
  }
  // Your user id, a Stripe customer and a guest's email now name one customer per program.
  await db.schema.alterTable('customers').dropConstraint(index('customers_external_id')).execute();
  await db.schema.alterTable('customers').addUniqueConstraint(index('customers_external_id'), ['livemode', 'program_id', 'external_id']).execute();
  // Declared inline in 0001, so Postgres named it <table>_stripe_customer_id_key.
  await db.schema.alterTable('customers').dropConstraint(index('customers_stripe_customer_id_key')).execute();
  await db.schema.alterTable('customers').addUniqueConstraint(index('customers_stripe_customer_id'), ['program_id', 'stripe_customer_id']).execute();
  await db.schema.createIndex(index('customers_stripe_customer')).on('customers').column('stripe_customer_id').execute();
  await db.schema.createIndex(index('customers_external')).on('customers').columns(['external_id', 'livemode']).execute();
  await db.schema.dropIndex(index('customers_guest_email')).execute();
  await db.schema
    .createIndex(index('customers_guest_email'))
    .on('customers')
    .columns(['livemode', 'program_id', 'email'])
    .unique()
    .where(sql.ref('external_id'), 'is', null)
    .where(sql.ref('stripe_customer_id'), 'is', null)
    .where(sql.ref('email'), 'is not', null)
    .execute();

  await db.schema
    .createTable('partner_programs')
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('program_id', 'text', (c) => c.notNull())
    .addColumn('reward', 'jsonb')
    .addColumn('created_at', sql`timestamptz`, (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint(index('partner_programs_pkey'), ['partner_id', 'program_id'])
    .execute();
  await db
    .insertInto('partner_programs')
    .columns(['partner_id', 'program_id', 'reward'])
    .expression(db.selectFrom('partners').select(['id', sql.lit('default').as('program_id'), 'reward']).where('reward', 'is not', null))
    .execute();
  await db.schema.alterTable('partners').dropColumn('reward').execute();
}

export async function down(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema.alterTable('partners').addColumn('reward', 'jsonb').execute();
  await db
    .updateTable('partners')
    .set((eb) => ({
      reward: eb
        .selectFrom('partner_programs')
        .select('partner_programs.reward')
        .whereRef('partner_programs.partner_id', '=', 'partners.id')
        .where('partner_programs.program_id', '=', 'default'),
    }))
    .execute();
  await db.schema.dropTable('partner_programs').execute();
  await db.schema.dropIndex(index('customers_guest_email')).execute();
  await db.schema.dropIndex(index('customers_external')).execute();
  await db.schema.dropIndex(index('customers_stripe_customer')).execute();
  await db.schema.alterTable('customers').dropConstraint(index('customers_stripe_customer_id')).execute();
  await db.schema.alterTable('customers').dropConstraint(index('customers_external_id')).execute();
  // Fails, rather than merge them, when one person is a customer in several programs.
  for (const table of ['commissions', 'milestones', 'payouts', 'sales', 'customers', 'clicks', 'promotion_codes', 'links']) {
    await db.schema.alterTable(table).dropColumn('program_id').execute();
  }
  await db.schema.alterTable('customers').addUniqueConstraint(index('customers_external_id'), ['livemode', 'external_id']).execute();
  await db.schema.alterTable('customers').addUniqueConstraint(index('customers_stripe_customer_id_key'), ['stripe_customer_id']).execute();
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
