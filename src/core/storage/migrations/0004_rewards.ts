import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * Commission bookkeeping: the reward terms each customer's commissions follow (locked at their
 * first attributed sale), partner-specific rewards, a customer block (self-referral, fraud), and
 * on each commission the exact amount it was computed from, so every later change is a
 * difference of rounded totals.
 */
export async function up(db: Kysely<any>, _context: MigrationContext): Promise<void> {
  const timestamptz = sql`timestamptz`;
  await db.schema
    .alterTable('customers')
    .addColumn('reward_terms', 'jsonb')
    .addColumn('first_sale_id', 'text')
    .addColumn('first_sale_at', timestamptz)
    .addColumn('blocked_reason', 'text')
    .execute();
  await db.schema.alterTable('partners').addColumn('reward', 'jsonb').execute();
  await db.schema
    .alterTable('commissions')
    .addColumn('exact_numerator', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('basis_amount', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('status_before_hold', 'text')
    .addColumn('approved_at', timestamptz)
    .addColumn('paid_at', timestamptz)
    .addColumn('payout_id', 'text')
    // With currency conversion: the full commission in the sale's currency and converted, the fixed
    // rate every later change is scaled by.
    .addColumn('source_amount', 'bigint')
    .addColumn('converted_amount', 'bigint')
    // When it was earned (the sale's or lead's time; a clawback's own): what reports group by.
    .addColumn('earned_at', timestamptz, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('commissions')
    .dropColumn('exact_numerator')
    .dropColumn('basis_amount')
    .dropColumn('status_before_hold')
    .dropColumn('approved_at')
    .dropColumn('paid_at')
    .dropColumn('payout_id')
    .dropColumn('earned_at')
    .dropColumn('source_amount')
    .dropColumn('converted_amount')
    .execute();
  await db.schema.alterTable('partners').dropColumn('reward').execute();
  await db.schema.alterTable('customers').dropColumn('reward_terms').dropColumn('first_sale_id').dropColumn('first_sale_at').dropColumn('blocked_reason').execute();
}
