import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * Stripe Connect: a partner's connected account (one per partner, one partner per account) and
 * whether it can receive transfers; a payout paid by transfer keeps its transfer, the version of
 * its idempotency key (moved on only by a refusal, so a retry of an unknown outcome reuses it),
 * the claim of the run paying it, and the last error. A fully reversed transfer makes a payout
 * `reversed`, its commissions payable again.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  const timestamptz = sql`timestamptz`;
  await db.schema
    .alterTable('partners')
    .addColumn('stripe_account_id', 'text')
    .addColumn('stripe_account_country', 'text')
    .addColumn('transfers_status', 'text')
    .execute();
  await db.schema.createIndex(index('partners_stripe_account')).on('partners').column('stripe_account_id').unique().execute();
  await db.schema
    .alterTable('payouts')
    .addColumn('transfer_id', 'text')
    .addColumn('transfer_version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('transfer_claimed_at', timestamptz)
    .addColumn('transfer_error', 'text')
    .addColumn('reversed_at', timestamptz)
    .execute();
  await db.schema.createIndex(index('payouts_transfer')).on('payouts').column('transfer_id').unique().execute();
  await db.schema.alterTable('payouts').dropConstraint(index('payouts_status_check')).ifExists().execute();
  await db.schema.alterTable('payouts').addCheckConstraint(index('payouts_status_check'), sql`status in ('pending', 'paid', 'reversed')`).execute();
}

export async function down(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  await db.schema.alterTable('payouts').dropConstraint(index('payouts_status_check')).execute();
  await db.schema.alterTable('payouts').addCheckConstraint(index('payouts_status_check'), sql`status in ('pending', 'paid')`).execute();
  await db.schema.alterTable('payouts').dropColumn('transfer_id').dropColumn('transfer_version').dropColumn('transfer_claimed_at').dropColumn('transfer_error').dropColumn('reversed_at').execute();
  await db.schema.alterTable('partners').dropColumn('stripe_account_id').dropColumn('stripe_account_country').dropColumn('transfers_status').execute();
}
