import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { createKyselyStorage } from '../../src/core/storage/kysely-storage.js';
import * as m1 from '../../src/core/storage/migrations/0001_initial.js';
import * as m2 from '../../src/core/storage/migrations/0002_invoice_payments.js';
import * as m3 from '../../src/core/storage/migrations/0003_disputes_credits_subscriptions.js';
import * as m4 from '../../src/core/storage/migrations/0004_rewards.js';
import * as m5 from '../../src/core/storage/migrations/0005_payouts.js';
import * as m6 from '../../src/core/storage/migrations/0006_charge_amounts.js';
import * as m7 from '../../src/core/storage/migrations/0007_guest_customers.js';
import * as m8 from '../../src/core/storage/migrations/0008_milestones.js';
import { backends, uniqueSchema } from '../support/backends.js';
import { migratedWith } from '../support/migrations.js';

const BEFORE = {
  '0001_initial': m1,
  '0002_invoice_payments': m2,
  '0003_disputes_credits_subscriptions': m3,
  '0004_rewards': m4,
  '0005_payouts': m5,
  '0006_charge_amounts': m6,
  '0007_guest_customers': m7,
  '0008_milestones': m8,
};

const T = new Date('2026-03-01T12:00:00Z');

describe.each(backends())('migration 0009_programs on $name', (backend) => {
  it('moves a single-program database with partners, customers, sales, commissions and payouts into the default program, intact', async () => {
    const schema = uniqueSchema();
    await sql`create schema ${sql.id(schema)}`.execute(backend.db);
    await migratedWith(backend.db, schema, BEFORE);
    const t = (name: string) => sql.id(schema, `sa_${name}`);
    const run = (query: ReturnType<typeof sql>) => query.execute(backend.db);
    await run(sql`insert into ${t('partners')} (id, name, email, status, metadata, reward) values
      ('ptn_1', 'Alice', 'alice@partners.example', 'active', '{}', '{"type":"percent","percent":50}'), ('ptn_2', 'Bob', null, 'active', '{}', null)`);
    await run(sql`insert into ${t('links')} (code, partner_id) values ('alice', 'ptn_1'), ('bob', 'ptn_2')`);
    await run(sql`insert into ${t('promotion_codes')} (id, partner_id) values ('promo_alice', 'ptn_1')`);
    await run(sql`insert into ${t('clicks')} (id, partner_id, link_code, created_at) values ('clk_aaaaaaaaaaaaaaaaaaaaaa', 'ptn_1', 'alice', ${T})`);
    // Locked at 30 % at the first sale, before Alice got her own 50 %.
    await run(sql`insert into ${t('customers')} (id, livemode, external_id, stripe_customer_id, email, partner_id, click_id, attributed_by, attributed_at, reward_terms, first_sale_id, first_sale_at) values
      ('sac_1', true, 'user_1', 'cus_1', 'one@example.com', 'ptn_1', 'clk_aaaaaaaaaaaaaaaaaaaaaa', 'click', ${T}, '{"rate":{"bp":3000},"duration":"lifetime","products":{}}', 'sale_1', ${T}),
      ('sac_2', true, null, null, 'guest@example.com', null, null, null, null, null, null, null)`);
    await run(sql`insert into ${t('sales')} (id, livemode, customer_id, partner_id, click_id, stripe_checkout_session_id, stripe_payment_intent_id, amount, currency, occurred_at) values
      ('sale_1', true, 'sac_1', 'ptn_1', 'clk_aaaaaaaaaaaaaaaaaaaaaa', 'cs_1', 'pi_1', 10000, 'usd', ${T}),
      ('sale_2', true, 'sac_2', null, null, 'cs_2', 'pi_2', 5000, 'usd', ${T})`);
    await run(sql`insert into ${t('payouts')} (id, partner_id, livemode, currency, amount, status) values ('po_1', 'ptn_1', true, 'usd', 3000, 'pending')`);
    await run(sql`insert into ${t('commissions')} (id, livemode, partner_id, customer_id, sale_id, kind, status, amount, currency, exact_numerator, basis_amount, payout_id, earned_at) values
      ('com_1', true, 'ptn_1', 'sac_1', 'sale_1', 'sale', 'approved', 3000, 'usd', 30000000, 10000, 'po_1', ${T})`);
    await run(sql`insert into ${t('milestones')} (id, livemode, name, idempotency_key, customer_id, partner_id, occurred_at) values ('mls_1', true, 'demo_booked', 'k1', 'sac_1', 'ptn_1', ${T})`);

    const storage = createKyselyStorage({ db: backend.db, schema });
    expect(await storage.migrate()).toEqual({ applied: ['0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads', '0013_payout_commission_count', '0014_partner_applications', '0015_fraud_review', '0016_connect', '0017_outbox', '0018_manual_adjustments'] });

    // Everything is there, as it was, in the default program.
    expect(await storage.listPartnerCodes('ptn_1')).toEqual({ codes: ['alice'], promotionCodes: ['promo_alice'], programs: { default: { codes: ['alice'], promotionCodes: ['promo_alice'] } } });
    expect(await storage.getPartnerReward('ptn_1', 'default')).toEqual({ type: 'percent', percent: 50 });
    expect(await storage.getPartnerReward('ptn_2', 'default')).toBeNull();
    expect(await storage.getClick('clk_aaaaaaaaaaaaaaaaaaaaaa')).toMatchObject({ partnerId: 'ptn_1', programId: 'default' });
    expect(await storage.findCustomer({ stripeCustomerId: 'cus_1' })).toMatchObject({ id: 'sac_1', programId: 'default', externalId: 'user_1', partnerId: 'ptn_1', attributedBy: 'click' });
    expect((await storage.listSales({})).map((s) => [s.id, s.programId, s.partnerId, s.amount])).toEqual([
      ['sale_1', 'default', 'ptn_1', 10000],
      ['sale_2', 'default', null, 5000],
    ]);
    expect((await storage.listCommissions({ programId: 'default' })).map((c) => [c.id, c.status, c.amount, c.payoutId])).toEqual([['com_1', 'approved', 3000, 'po_1']]);
    expect(await storage.listPayouts({ programId: 'default' })).toMatchObject([{ id: 'po_1', programId: 'default', amount: 3000 }]);
    expect(await storage.listMilestones({ programId: 'default' })).toMatchObject([{ id: 'mls_1', programId: 'default' }]);

    // The library picks up where the single-program release left off.
    const attribution = createAttribution({ database: storage, program: { holdDays: 0, reward: { type: 'percent', percent: 10 } }, clicks: { ipSalt: 's' }, clock: () => new Date(T.getTime() + 86_400_000) });
    const renewal = await attribution.trackSale({ customerExternalId: 'user_1', amount: 20000, currency: 'usd', invoiceId: 'ord_2' });
    expect(renewal.sale).toMatchObject({ programId: 'default', partnerId: 'ptn_1', customerId: 'sac_1' });
    const { clickId } = await attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
    const lead = await attribution.trackLead({ customerExternalId: 'user_3', clickId });
    const later = await attribution.trackSale({ customerExternalId: 'user_3', amount: 20000, currency: 'usd', invoiceId: 'ord_3' });
    // The locked 30 % for the old customer; Alice's migrated 50 % for the new one.
    expect((await attribution.commissions.list({ partnerId: 'ptn_1' })).map((c) => [c.saleId, c.amount])).toEqual([
      ['sale_1', 3000],
      [renewal.sale.id, 6000],
      [later.sale.id, 10000],
    ]);
    expect(lead.customer).toMatchObject({ programId: 'default', partnerId: 'ptn_1' });

    // A second program can now hold the same user id and Stripe customer as a customer of its own.
    const inserted = await storage.insertCustomer({ livemode: true, programId: 'resellers', externalId: 'user_1', stripeCustomerId: 'cus_1' });
    expect(inserted).toMatchObject({ created: true, record: { programId: 'resellers' } });
    expect(await storage.insertCustomer({ livemode: true, externalId: 'user_1' })).toMatchObject({ created: false, record: { id: 'sac_1' } });
    // …but not twice in one program.
    await expect(run(sql`insert into ${t('customers')} (id, livemode, external_id, program_id) values ('sac_x', true, 'user_1', 'default')`)).rejects.toThrow(/customers_external_id/);
    await expect(run(sql`insert into ${t('customers')} (id, livemode, stripe_customer_id, program_id) values ('sac_y', true, 'cus_1', 'resellers')`)).rejects.toThrow(/customers_stripe_customer_id/);
    await expect(run(sql`select reward from ${t('partners')}`)).rejects.toThrow(/reward/);
  });
});
