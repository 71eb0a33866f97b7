import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { EmbeddedDatabaseLockedError } from '../../src/core/errors.js';
import { DATABASE_URL } from '../support/backends.js';
import { checkoutSession, event, invoice, invoiceLine } from '../support/stripe-fixtures.js';
import { startStripeServer } from '../support/stripe-server.js';

const execFileAsync = promisify(execFile);
const cli = resolve(import.meta.dirname, '../../dist/cli.js');

/** Runs the built CLI as `npx stripe-attribution …` would; never rejects, reports the exit code. */
async function stripeAttribution(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cli, ...args], {
      env: { ...process.env, DATABASE_URL: '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npx stripe-attribution migrate (embedded PGlite)', () => {
  it('applies the migrations, then reports nothing pending', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sa-cli-'));
    const first = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(first).toMatchObject({ code: 0, stdout: 'Applied migration 0001_initial\nApplied migration 0002_invoice_payments\nApplied migration 0003_disputes_credits_subscriptions\nApplied migration 0004_rewards\nApplied migration 0005_payouts\nApplied migration 0006_charge_amounts\nApplied migration 0007_guest_customers\nApplied migration 0008_milestones\n' });
    const second = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(second).toMatchObject({ code: 0, stdout: 'No pending migrations: the database is up to date.\n' });
  });

  it('refuses a directory another process has open, and the directory stays usable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sa-lock-'));
    const app = createAttribution({ database: dataDir });
    await app.migrate();
    const storage = await app.storage();
    await storage.insertPartner({ name: 'Before' });

    const refused = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is in use by process ${process.pid}`);
    expect(refused.stderr).toContain('DATABASE_URL');

    // A second instance in the same process (another bundle, a dev reload) shares the database.
    const sibling = createAttribution({ database: dataDir });
    expect(await sibling.migrate()).toEqual({ applied: [] });
    expect((await (await sibling.storage()).insertPartner({ name: 'Sibling' })).name).toBe('Sibling');
    await sibling.close();
    expect((await stripeAttribution(['migrate', '--data-dir', dataDir])).code).toBe(1);

    const partner = await storage.insertPartner({ name: 'After' });
    expect((await storage.getPartner(partner.id))?.name).toBe('After');
    await app.close();

    const afterClose = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(afterClose).toMatchObject({ code: 0, stdout: 'No pending migrations: the database is up to date.\n' });
  });

  it('takes over a lock left by a process that crashed, or by this pid in a previous life of the container', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sa-stale-'));
    await stripeAttribution(['migrate', '--data-dir', dataDir]);
    const lockFile = join(dataDir, 'stripe-attribution.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
    writeFileSync(lockFile, JSON.stringify({ pid: dead.pid, hostname: hostname() }));
    const result = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(result).toMatchObject({ code: 0, stdout: 'No pending migrations: the database is up to date.\n' });

    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, hostname: hostname() }));
    const restarted = createAttribution({ database: dataDir });
    expect(await restarted.migrate()).toEqual({ applied: [] });
    await restarted.close();
  });

  it('never takes the lock of a process on another host sharing the volume', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sa-host-'));
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'stripe-attribution.lock'), JSON.stringify({ pid: 1, hostname: 'other-container' }));
    const refused = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('in use by process 1 on other-container');
    await expect(createAttribution({ database: dataDir }).migrate()).rejects.toBeInstanceOf(EmbeddedDatabaseLockedError);
  });
});

describe('npx stripe-attribution migrate --print', () => {
  it('prints the SQL with the chosen prefix and schema, touching no database', async () => {
    const result = await stripeAttribution(['migrate', '--print', '--table-prefix', 'aff_', '--schema', 'billing_attr'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^begin;\n/);
    expect(result.stdout).toContain('create schema if not exists "billing_attr";');
    expect(result.stdout).toContain('create table "billing_attr"."aff_webhook_events"');
    expect(result.stdout).toContain(`insert into "billing_attr"."aff_migrations" ("name", "timestamp") values ('0001_initial'`);
    expect(result.stdout).not.toContain('"sa_');
    expect(result.stdout).toMatch(/commit;\n$/);
  });

  it('rejects a prefix that is not a plain identifier', async () => {
    const result = await stripeAttribution(['migrate', '--print', '--table-prefix', 'x"; drop table y; --']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('tablePrefix must be lower-case letters, digits and "_"');
  });
});

// Defined only with a server to talk to, so a PGlite-only run reports no skipped test.
if (DATABASE_URL) describe('npx stripe-attribution migrate --database-url (real Postgres)', () => {
  it('creates its tables beside the merchant’s own, and a second run finds nothing pending', async () => {
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    const name = `sa_cli_${process.pid}_${Date.now()}`;
    await admin.query(`create database ${name}`);
    const url = new URL(DATABASE_URL!);
    url.pathname = `/${name}`;
    const merchant = new pg.Client({ connectionString: url.href });
    try {
      await merchant.connect();
      await merchant.query(`create table customers (id serial primary key, email text);
        create table migrations (id serial primary key, name text);
        insert into customers (email) values ('merchant@example.com');`);

      const first = await stripeAttribution(['migrate', '--database-url', url.href]);
      expect(first).toMatchObject({ code: 0, stdout: 'Applied migration 0001_initial\nApplied migration 0002_invoice_payments\nApplied migration 0003_disputes_credits_subscriptions\nApplied migration 0004_rewards\nApplied migration 0005_payouts\nApplied migration 0006_charge_amounts\nApplied migration 0007_guest_customers\nApplied migration 0008_milestones\n' });
      const second = await stripeAttribution(['migrate'], { DATABASE_URL: url.href });
      expect(second).toMatchObject({ code: 0, stdout: 'No pending migrations: the database is up to date.\n' });

      const tables = await merchant.query<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = 'public' order by 1`,
      );
      const names = tables.rows.map((row) => row.table_name);
      expect(names).toEqual(expect.arrayContaining(['customers', 'migrations', 'sa_customers', 'sa_sales', 'sa_migrations']));
      expect((await merchant.query('select email from customers')).rows).toEqual([{ email: 'merchant@example.com' }]);
    } finally {
      await merchant.end();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});

describe('npx stripe-attribution reconcile (embedded PGlite, a local Stripe stand-in)', () => {
  let stripe: Awaited<ReturnType<typeof startStripeServer>>;
  beforeAll(async () => {
    stripe = await startStripeServer();
  });
  afterAll(() => stripe.close());
  const recent = (stripeEvent: ReturnType<typeof event>, secondsAgo: number) => ({ ...stripeEvent, created: Math.floor(Date.now() / 1000) - secondsAgo });

  it('applies the events the webhook missed, prints progress to stderr and a summary to stdout', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sa-reconcile-'));
    expect((await stripeAttribution(['migrate', '--data-dir', dataDir])).code).toBe(0);
    const app = createAttribution({ database: dataDir, clicks: { ipSalt: 'pepper' } });
    await app.partners.create({ name: 'Alice', code: 'alice' });
    const { clickId } = await app.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: {} });
    await app.close();
    const now = Math.floor(Date.now() / 1000);
    stripe.events.length = 0;
    stripe.events.push(
      recent(event('checkout.session.completed', checkoutSession({ created: now - 600, metadata: { sa_click_id: clickId! } })), 500),
      // Beyond --since: not asked for.
      recent(event('checkout.session.completed', checkoutSession({ id: 'cs_old', payment_intent: 'pi_old', customer: 'cus_old', created: now - 4 * 86400 })), 4 * 86400),
    );

    const result = await stripeAttribution(['reconcile', '--since', '3d', '--data-dir', dataDir], {
      STRIPE_SECRET_KEY: 'sk_test_cli',
      STRIPE_API_BASE: stripe.url,
    });

    expect(result.stderr).toContain('Reading Stripe events since');
    expect(result.stderr).toContain('Applied 1 of 1, 0 failed');
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/^Reconciled Stripe events since \S+: 1 seen, 1 applied, 0 already processed, 0 failed; 0 still parked\.\n$/);
    const listing = stripe.requests.find((request) => request.path === '/v1/events')!;
    expect(Number(listing.query['created[gte]'])).toBeCloseTo(now - 3 * 86400, -1);
    expect(listing.headers.authorization).toBe('Bearer sk_test_cli');

    const after = createAttribution({ database: dataDir });
    expect(await after.sales.list({ livemode: false })).toMatchObject([{ stripeCheckoutSessionId: 'cs_test_1', clickId }]);
    await after.close();

    const again = await stripeAttribution(['reconcile', '--since', '2026-01-01', '--data-dir', dataDir, '--stripe-api-base', stripe.url], { STRIPE_SECRET_KEY: 'sk_test_cli' });
    expect(again.stderr).toContain('(clamped: Stripe keeps events for 30 days)');
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('2 seen, 1 applied, 1 already processed, 0 failed');
  });

  it('exits 1 when an event failed, after applying the others', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sa-reconcile-fail-'));
    expect((await stripeAttribution(['migrate', '--data-dir', dataDir])).code).toBe(0);
    stripe.events.length = 0;
    stripe.events.push(
      recent(event('invoice.paid', invoice({ id: 'in_long', lines: { object: 'list', data: [invoiceLine()], has_more: true, url: '/v1/invoices/in_long/lines' } })), 60),
      recent(event('checkout.session.completed', checkoutSession()), 30),
    );
    stripe.answers.set('GET /v1/invoices/in_long/lines', new Error('Stripe is having a bad day'));
    try {
      const result = await stripeAttribution(['reconcile', '--since', '12h', '--data-dir', dataDir, '--stripe-api-base', stripe.url], { STRIPE_SECRET_KEY: 'sk_test_cli' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/reconciling Stripe event evt_\S+ \(invoice\.paid\) failed: Stripe is having a bad day/);
      expect(result.stdout).toContain('2 seen, 1 applied, 0 already processed, 1 failed');
    } finally {
      stripe.answers.clear();
    }
  });

  it('says what is missing: the secret key, or a --since it can read', async () => {
    const noKey = await stripeAttribution(['reconcile', '--since', '3d', '--data-dir', mkdtempSync(join(tmpdir(), 'sa-nokey-'))], { STRIPE_SECRET_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('error: Set STRIPE_SECRET_KEY');
    const badSince = await stripeAttribution(['reconcile', '--since', 'last week'], { STRIPE_SECRET_KEY: 'sk_test_cli' });
    expect(badSince.code).toBe(1);
    expect(badSince.stderr).toContain('--since "last week" is neither a duration (30m, 12h, 3d) nor an ISO date');
  });
});
