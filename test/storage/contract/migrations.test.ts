import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createKyselyStorage } from '../../../src/core/storage/kysely-storage.js';
import { migrationSql } from '../../../src/core/storage/migrations/index.js';
import { backends, freshStorage, tablesIn, uniqueSchema } from '../../support/backends.js';

describe.each(backends())('migrations storage contract on $name', (backend) => {
  describe('migrations', () => {
    it('creates every table once; migrating again applies nothing and changes nothing', async () => {
      const schema = uniqueSchema();
      const storage = createKyselyStorage({ db: backend.db, schema });
      expect(await storage.migrate()).toEqual({ applied: ['0001_initial', '0002_invoice_payments', '0003_disputes_credits_subscriptions', '0004_rewards', '0005_payouts', '0006_charge_amounts', '0007_guest_customers', '0008_milestones', '0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads', '0013_payout_commission_count', '0014_partner_applications', '0015_fraud_review', '0016_connect', '0017_outbox', '0018_manual_adjustments'] });
      const tables = await tablesIn(backend.db, schema);
      expect(tables).toContain('sa_webhook_events');
      expect(tables).toContain('sa_sales');
      expect(tables.every((table) => table.startsWith('sa_'))).toBe(true);

      expect(await storage.migrate()).toEqual({ applied: [] });
      expect(await tablesIn(backend.db, schema)).toEqual(tables);
    });

    it('leaves the merchant’s own tables of the same names alone', async () => {
      const schema = uniqueSchema();
      await sql`create schema ${sql.id(schema)}`.execute(backend.db);
      await sql`create table ${sql.id(schema, 'customers')} (id serial primary key, name text)`.execute(backend.db);
      await sql`create table ${sql.id(schema, 'migrations')} (id serial primary key)`.execute(backend.db);
      await sql`insert into ${sql.id(schema, 'customers')} (name) values ('merchant row')`.execute(backend.db);

      const storage = createKyselyStorage({ db: backend.db, schema });
      await storage.migrate();
      await storage.insertCustomer({ livemode: true, externalId: 'user_1' });

      const merchant = await sql<{ name: string }>`select name from ${sql.id(schema, 'customers')}`.execute(backend.db);
      expect(merchant.rows).toEqual([{ name: 'merchant row' }]);
      expect(await tablesIn(backend.db, schema)).toEqual(expect.arrayContaining(['customers', 'migrations', 'sa_customers']));
    });

    it('an older instance meeting a newer instance’s migration has nothing to do (rolling deploy)', async () => {
      const storage = await freshStorage(backend);
      await sql`insert into ${sql.id(storage.layout.schema!, 'sa_migrations')} (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(backend.db);
      expect(await storage.migrate()).toEqual({ applied: [] });
    });

    it('honours a custom table prefix', async () => {
      const schema = uniqueSchema();
      const storage = createKyselyStorage({ db: backend.db, schema, tablePrefix: 'aff_' });
      await storage.migrate();
      const partner = await storage.insertPartner({ name: 'Bob' });
      expect((await storage.getPartner(partner.id))?.name).toBe('Bob');
      const tables = await tablesIn(backend.db, schema);
      expect(tables).toContain('aff_partners');
      expect(tables).toContain('aff_migrations');
      expect(tables.some((table) => table.startsWith('sa_'))).toBe(false);
    });

    it('two instances migrating at once both succeed and apply each migration once', async () => {
      const schema = uniqueSchema();
      const first = createKyselyStorage({ db: backend.db, schema });
      const second = createKyselyStorage({ db: backend.other(), schema });
      const reports = await Promise.all([first.migrate(), second.migrate()]);
      expect(reports.flatMap((report) => report.applied)).toEqual(['0001_initial', '0002_invoice_payments', '0003_disputes_credits_subscriptions', '0004_rewards', '0005_payouts', '0006_charge_amounts', '0007_guest_customers', '0008_milestones', '0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads', '0013_payout_commission_count', '0014_partner_applications', '0015_fraud_review', '0016_connect', '0017_outbox', '0018_manual_adjustments']);
      const recorded = await sql<{ name: string }>`select name from ${sql.id(schema, 'sa_migrations')} order by name`.execute(backend.db);
      expect(recorded.rows).toEqual([{ name: '0001_initial' }, { name: '0002_invoice_payments' }, { name: '0003_disputes_credits_subscriptions' }, { name: '0004_rewards' }, { name: '0005_payouts' }, { name: '0006_charge_amounts' }, { name: '0007_guest_customers' }, { name: '0008_milestones' }, { name: '0009_programs' }, { name: '0010_partner_groups' }, { name: '0011_charge_refunds' }, { name: '0012_trial_seat_leads' }, { name: '0013_payout_commission_count' }, { name: '0014_partner_applications' }, { name: '0015_fraud_review' }, { name: '0016_connect' }, { name: '0017_outbox' }, { name: '0018_manual_adjustments' }]);
    });

    it('the printed SQL builds the same schema, and migrate() then finds nothing pending', async () => {
      const printedSchema = uniqueSchema();
      await backend.exec(await migrationSql({ tablePrefix: 'sa_', schema: printedSchema }));
      const storage = createKyselyStorage({ db: backend.db, schema: printedSchema });
      expect(await storage.migrate()).toEqual({ applied: [] });
      const partner = await storage.insertPartner({ name: 'Printed' });
      expect((await storage.getPartner(partner.id))?.name).toBe('Printed');

      const migratedSchema = uniqueSchema();
      await createKyselyStorage({ db: backend.db, schema: migratedSchema }).migrate();
      const columns = async (schema: string) =>
        (
          await sql<{ c: string }>`
            select table_name || '.' || column_name || ':' || data_type || ':' || is_nullable as c
            from information_schema.columns where table_schema = ${schema} order by 1`.execute(backend.db)
        ).rows.map((row) => row.c);
      expect(await columns(printedSchema)).toEqual(await columns(migratedSchema));
    });
  });
});
