import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './migration.js';

/**
 * The first schema. Every idempotency promise of DESIGN.md §6 is a unique key here, so that
 * repeats and concurrent copies are decided by the database, in any number of app instances:
 * a Stripe event id, a sale's payment intent / invoice / checkout session, one sale commission
 * per sale and partner, one lead commission per customer and partner.
 */
export async function up(db: Kysely<any>, { index }: MigrationContext): Promise<void> {
  const timestamptz = sql`timestamptz`;
  const now = sql`now()`;

  await db.schema
    .createTable('partners')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'disabled')`))
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('links')
    .addColumn('code', 'text', (c) => c.primaryKey().check(sql`code = lower(code)`))
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .addColumn('disabled_at', timestamptz)
    .execute();
  await db.schema.createIndex(index('links_partner')).on('links').column('partner_id').execute();

  await db.schema
    .createTable('promotion_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('clicks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('link_code', 'text', (c) => c.notNull())
    .addColumn('landing_url', 'text')
    .addColumn('referrer', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('ip_hash', 'text')
    .addColumn('country', 'text')
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex(index('clicks_partner_created')).on('clicks').columns(['partner_id', 'created_at']).execute();

  await db.schema
    .createTable('customers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('stripe_customer_id', 'text', (c) => c.unique())
    .addColumn('email', 'text', (c) => c.check(sql`email = lower(email)`))
    .addColumn('name', 'text')
    .addColumn('partner_id', 'text', (c) => c.references('partners.id'))
    .addColumn('click_id', 'text', (c) => c.references('clicks.id').onDelete('set null'))
    .addColumn('attributed_by', 'text', (c) => c.check(sql`attributed_by in ('click', 'promotion_code')`))
    .addColumn('attributed_at', timestamptz)
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .addCheckConstraint(index('customers_attribution_complete'), sql`(partner_id is null) = (attributed_at is null)`)
    // Your user id names one customer per mode: Stripe test-mode data never touches live customers.
    .addUniqueConstraint(index('customers_external_id'), ['livemode', 'external_id'])
    .execute();
  await db.schema.createIndex(index('customers_email')).on('customers').column('email').execute();
  await db.schema.createIndex(index('customers_partner')).on('customers').columns(['partner_id', 'attributed_at']).execute();

  await db.schema
    .createTable('sales')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.references('customers.id'))
    .addColumn('partner_id', 'text', (c) => c.references('partners.id'))
    .addColumn('click_id', 'text', (c) => c.references('clicks.id').onDelete('set null'))
    .addColumn('stripe_payment_intent_id', 'text', (c) => c.unique())
    .addColumn('stripe_invoice_id', 'text', (c) => c.unique())
    .addColumn('stripe_checkout_session_id', 'text', (c) => c.unique())
    .addColumn('stripe_subscription_id', 'text')
    .addColumn('external_invoice_id', 'text', (c) => c.unique())
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency = lower(currency)`))
    .addColumn('amount_refunded', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`amount_refunded >= 0`))
    .addColumn('amount_disputed', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`amount_disputed >= 0`))
    .addColumn('billing_reason', 'text')
    .addColumn('occurred_at', timestamptz, (c) => c.notNull())
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .addCheckConstraint(
      index('sales_identified'),
      sql`coalesce(stripe_payment_intent_id, stripe_invoice_id, stripe_checkout_session_id, external_invoice_id) is not null`,
    )
    .execute();
  await db.schema.createIndex(index('sales_partner_occurred')).on('sales').columns(['partner_id', 'occurred_at']).execute();
  await db.schema.createIndex(index('sales_customer')).on('sales').column('customer_id').execute();
  await db.schema.createIndex(index('sales_subscription')).on('sales').column('stripe_subscription_id').execute();

  await db.schema
    .createTable('sale_lines')
    .addColumn('sale_id', 'text', (c) => c.notNull().references('sales.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('stripe_product_id', 'text')
    .addColumn('stripe_price_id', 'text')
    .addColumn('description', 'text')
    .addColumn('quantity', 'integer')
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint(index('sale_lines_pkey'), ['sale_id', 'position'])
    .execute();

  await db.schema
    .createTable('commissions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id'))
    .addColumn('customer_id', 'text', (c) => c.references('customers.id'))
    .addColumn('sale_id', 'text', (c) => c.references('sales.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('sale', 'lead', 'clawback')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'approved', 'held', 'paid', 'voided')`),
    )
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency = lower(currency)`))
    .addColumn('reason', 'text')
    .addColumn('hold_until', timestamptz)
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .addCheckConstraint(index('commissions_sale_has_sale'), sql`kind = 'lead' or sale_id is not null`)
    .addCheckConstraint(index('commissions_lead_has_customer'), sql`kind <> 'lead' or customer_id is not null`)
    .execute();
  // One sale commission per sale and partner, one lead commission per customer and partner;
  // clawbacks may be several per sale (one per refund after a payout).
  await db.schema
    .createIndex(index('commissions_one_per_sale'))
    .unique()
    .on('commissions')
    .columns(['sale_id', 'partner_id'])
    .where(sql.ref('kind'), '=', sql.lit('sale'))
    .execute();
  await db.schema
    .createIndex(index('commissions_one_per_lead'))
    .unique()
    .on('commissions')
    .columns(['customer_id', 'partner_id'])
    .where(sql.ref('kind'), '=', sql.lit('lead'))
    .execute();
  await db.schema.createIndex(index('commissions_partner_status')).on('commissions').columns(['partner_id', 'status']).execute();
  await db.schema.createIndex(index('commissions_status_hold')).on('commissions').columns(['status', 'hold_until']).execute();

  await db.schema
    .createTable('commission_adjustments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('commission_id', 'text', (c) => c.notNull().references('commissions.id'))
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex(index('commission_adjustments_commission')).on('commission_adjustments').column('commission_id').execute();

  await db.schema
    .createTable('webhook_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('api_version', 'text')
    .addColumn('stripe_created_at', timestamptz, (c) => c.notNull())
    .addColumn('processed_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('parked_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('waiting_for', 'text', (c) => c.notNull())
    .addColumn('event', 'jsonb', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('parked_at', timestamptz, (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex(index('parked_events_waiting_for')).on('parked_events').column('waiting_for').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'parked_events',
    'webhook_events',
    'commission_adjustments',
    'commissions',
    'sale_lines',
    'sales',
    'customers',
    'clicks',
    'promotion_codes',
    'links',
    'partners',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
