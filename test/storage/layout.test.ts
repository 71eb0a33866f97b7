import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { ConfigurationError } from '../../src/core/kernel/errors.js';
import pg from 'pg';
import { DATABASE_URL, embeddedBackend, tablesIn, uniqueSchema } from '../support/backends.js';

describe('tables without a schema of their own', () => {
  it('land in the current schema even when another schema has a migrations table of the same name', async () => {
    // The worker's database, with a current schema of this test's own (the session's, put back after).
    const { db } = embeddedBackend();
    const current = uniqueSchema();
    const other = uniqueSchema();
    await sql`create schema ${sql.id(current)}`.execute(db);
    await sql`create schema ${sql.id(other)}`.execute(db);
    await sql`create table ${sql.id(other, 'sa_migrations')} (name varchar(255) primary key, timestamp varchar(255) not null)`.execute(db);
    await sql`insert into ${sql.id(other, 'sa_migrations')} values ('0001_initial', '2026-01-01T00:00:00.000Z')`.execute(db);
    await sql`set search_path to ${sql.id(current)}`.execute(db);
    try {
      const attribution = createAttribution({ database: db });
      expect(await attribution.migrate()).toEqual({ applied: ['0001_initial', '0002_invoice_payments', '0003_disputes_credits_subscriptions', '0004_rewards', '0005_payouts', '0006_charge_amounts', '0007_guest_customers', '0008_milestones', '0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads', '0013_payout_commission_count', '0014_partner_applications', '0015_fraud_review', '0016_connect', '0017_outbox', '0018_manual_adjustments'] });
      expect(await tablesIn(db, current)).toEqual(expect.arrayContaining(['sa_migrations', 'sa_partners', 'sa_sales']));
      expect((await (await attribution.storage()).insertPartner({ name: 'Current' })).name).toBe('Current');
      await attribution.close();
    } finally {
      await sql`reset search_path`.execute(db);
    }
  });
});

describe('options are checked when the instance is created', () => {
  it('a bad table prefix or schema fails at once, not at the first visitor', () => {
    expect(() => createAttribution({ tablePrefix: 'Bad-Prefix' })).toThrow(ConfigurationError);
    expect(() => createAttribution({ schema: 'x; drop' })).toThrow(ConfigurationError);
  });
});

// Defined only with a server to talk to, so a PGlite-only run reports no skipped test.
if (DATABASE_URL) {
  describe('the pool the library opens for a Postgres URL', () => {
    it('survives the server dropping its idle connections: reported, not a crashed process', async () => {
      const appName = `sa_drop_${process.pid}_${Date.now()}`;
      const url = new URL(DATABASE_URL!);
      url.searchParams.set('application_name', appName);
      const errors: string[] = [];
      const attribution = createAttribution({ database: url.href, schema: uniqueSchema(), onError: (_error, during) => errors.push(during) });
      await attribution.migrate();
      const storage = await attribution.storage();
      await storage.insertPartner({ name: 'Before the restart' });

      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      const killed = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
      await admin.end();
      expect(killed.rowCount).toBeGreaterThan(0);

      await expect.poll(() => errors).toContain('postgres connection');
      const partner = await storage.insertPartner({ name: 'After the restart' });
      expect((await storage.getPartner(partner.id))?.name).toBe('After the restart');
      await attribution.close();
    });
  });
}
