import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createKyselyStorage } from '../../src/core/storage/kysely-storage.js';
import * as m1 from '../../src/core/storage/migrations/0001_initial.js';
import * as m2 from '../../src/core/storage/migrations/0002_invoice_payments.js';
import * as m3 from '../../src/core/storage/migrations/0003_disputes_credits_subscriptions.js';
import * as m4 from '../../src/core/storage/migrations/0004_rewards.js';
import * as m5 from '../../src/core/storage/migrations/0005_payouts.js';
import * as m6 from '../../src/core/storage/migrations/0006_charge_amounts.js';
import * as m7 from '../../src/core/storage/migrations/0007_guest_customers.js';
import { backends, uniqueSchema } from '../support/backends.js';
import { migratedWith } from '../support/migrations.js';

const BEFORE = { '0001_initial': m1, '0002_invoice_payments': m2, '0003_disputes_credits_subscriptions': m3, '0004_rewards': m4, '0005_payouts': m5, '0006_charge_amounts': m6, '0007_guest_customers': m7 };

describe.each(backends())('migration 0008_milestones on $name', (backend) => {
  it('migrates a database with commissions forward without losing them, and then takes event commissions', async () => {
    const schema = uniqueSchema();
    await sql`create schema ${sql.id(schema)}`.execute(backend.db);
    await migratedWith(backend.db, schema, BEFORE);
    const t = (name: string) => sql.id(schema, `sa_${name}`);
    await sql`insert into ${t('partners')} (id, name, status, metadata) values ('ptn_1', 'Alice', 'active', '{}')`.execute(backend.db);
    await sql`insert into ${t('customers')} (id, livemode, external_id, partner_id, attributed_by, attributed_at) values ('sac_1', true, 'user_1', 'ptn_1', 'click', now())`.execute(backend.db);
    await sql`insert into ${t('sales')} (id, livemode, customer_id, partner_id, external_invoice_id, amount, currency, occurred_at) values ('sale_1', true, 'sac_1', 'ptn_1', 'ord_1', 10000, 'usd', now())`.execute(backend.db);
    await sql`insert into ${t('commissions')} (id, livemode, partner_id, customer_id, sale_id, kind, status, amount, currency)
      values ('com_sale', true, 'ptn_1', 'sac_1', 'sale_1', 'sale', 'approved', 3000, 'usd'), ('com_lead', true, 'ptn_1', 'sac_1', null, 'lead', 'pending', 200, 'usd')`.execute(backend.db);

    const storage = createKyselyStorage({ db: backend.db, schema });
    expect(await storage.migrate()).toEqual({ applied: ['0008_milestones', '0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads', '0013_payout_commission_count', '0014_partner_applications', '0015_fraud_review', '0016_connect', '0017_outbox', '0018_manual_adjustments'] });
    expect((await storage.listCommissions({ partnerId: 'ptn_1' })).map((c) => [c.id, c.kind, c.status, c.amount, c.eventId])).toEqual([
      ['com_lead', 'lead', 'pending', 200, null],
      ['com_sale', 'sale', 'approved', 3000, null],
    ]);

    const { record: milestone } = await storage.insertMilestone({
      livemode: true, name: 'demo_booked', idempotencyKey: 'k1', customerId: 'sac_1', partnerId: 'ptn_1', clickId: null, value: null, currency: null, occurredAt: new Date(),
    });
    const event = { livemode: true, partnerId: 'ptn_1', customerId: 'sac_1', eventId: milestone.id, kind: 'event' as const, status: 'pending' as const, amount: 2500, currency: 'usd' };
    expect((await storage.insertCommission(event)).created).toBe(true);
    expect((await storage.insertCommission(event)).created).toBe(false);
    // The widened checks still hold: an event commission names its event, a sale commission its sale.
    await expect(sql`insert into ${t('commissions')} (id, livemode, partner_id, kind, status, amount, currency) values ('com_x', true, 'ptn_1', 'event', 'pending', 1, 'usd')`.execute(backend.db)).rejects.toThrow(/commissions_event_has_event/);
    await expect(sql`insert into ${t('commissions')} (id, livemode, partner_id, kind, status, amount, currency) values ('com_y', true, 'ptn_1', 'sale', 'pending', 1, 'usd')`.execute(backend.db)).rejects.toThrow(/commissions_sale_has_sale/);
    await expect(sql`insert into ${t('commissions')} (id, livemode, partner_id, sale_id, kind, status, amount, currency) values ('com_z', true, 'ptn_1', 'sale_1', 'bonus', 'pending', 1, 'usd')`.execute(backend.db)).rejects.toThrow(/commissions_kind_check/);
  });
});
