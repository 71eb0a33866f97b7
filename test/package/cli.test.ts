import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeAttribution } from '../support/cli.js';
import { emptyDataDir, migratedDataDir } from '../support/data-dirs.js';
import { createAttribution } from '../../src/core/attribution.js';
import { EmbeddedDatabaseLockedError } from '../../src/core/kernel/errors.js';
import { DATABASE_URL } from '../support/backends.js';
import { merchantProject } from '../support/project.js';
import { checkoutSession, event, invoice, invoiceLine } from '../support/stripe-fixtures.js';
import { startStripeServer } from '../support/stripe-server.js';

const execFileAsync = promisify(execFile);
const cli = resolve(import.meta.dirname, '../../dist/cli.js');

/**
 * Runs the built bin as `npx stripe-attribution …` would, in a process of its own: for what only a
 * separate process shows (the shebang bin, exit codes, a database locked by another process).
 */
async function spawnedStripeAttribution(args: string[], env: NodeJS.ProcessEnv = {}) {
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

/**
 * A config file beside `dataDir` for the commands that compute money: plain JavaScript (the
 * TypeScript path is cli-config.test.ts's), the built package, and the stand-in Stripe at `port`.
 */
function writeConfig(dataDir: string, options: { stripePort?: number; program?: object } = {}): string {
  const project = merchantProject();
  const path = join(project, 'stripe-attribution.config.mjs');
  const stripe = options.stripePort ? `new Stripe('sk_test_cli', { host: '127.0.0.1', port: ${options.stripePort}, protocol: 'http', maxNetworkRetries: 0 })` : 'undefined';
  writeFileSync(
    path,
    `import Stripe from 'stripe';\nimport { createAttribution } from 'stripe-attribution';\n` +
      `export default createAttribution({ database: ${JSON.stringify(dataDir)}, stripe: ${stripe}, program: ${JSON.stringify(options.program ?? {})}, onError: () => {} });\n`,
  );
  return path;
}

describe('npx stripe-attribution migrate (embedded PGlite)', () => {
  it('applies the migrations, then reports nothing pending', async () => {
    const dataDir = emptyDataDir('sa-cli-');
    const first = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(first).toMatchObject({ code: 0, stdout: 'Applied migration 0001_initial\nApplied migration 0002_invoice_payments\nApplied migration 0003_disputes_credits_subscriptions\nApplied migration 0004_rewards\nApplied migration 0005_payouts\nApplied migration 0006_charge_amounts\nApplied migration 0007_guest_customers\nApplied migration 0008_milestones\nApplied migration 0009_programs\nApplied migration 0010_partner_groups\nApplied migration 0011_charge_refunds\nApplied migration 0012_trial_seat_leads\nApplied migration 0013_payout_commission_count\nApplied migration 0014_partner_applications\nApplied migration 0015_fraud_review\nApplied migration 0016_connect\nApplied migration 0017_outbox\nApplied migration 0018_manual_adjustments\n' });
    const second = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(second).toMatchObject({ code: 0, stdout: 'No pending migrations: the database is up to date.\n' });
  });

  it('refuses a directory another process has open, and the directory stays usable', async () => {
    // Migrated already: migrating is the test above's subject.
    const dataDir = migratedDataDir('sa-lock-');
    const app = createAttribution({ database: dataDir });
    const storage = await app.storage();
    await storage.insertPartner({ name: 'Before' });

    const refused = await spawnedStripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is in use by process ${process.pid}`);
    expect(refused.stderr).toContain('DATABASE_URL');

    // A second instance in the same process (another bundle, a dev reload) shares the database.
    const sibling = createAttribution({ database: dataDir });
    expect(await sibling.migrate()).toEqual({ applied: [] });
    expect((await (await sibling.storage()).insertPartner({ name: 'Sibling' })).name).toBe('Sibling');
    await sibling.close();
    expect((await spawnedStripeAttribution(['migrate', '--data-dir', dataDir])).code).toBe(1);

    const partner = await storage.insertPartner({ name: 'After' });
    expect((await storage.getPartner(partner.id))?.name).toBe('After');
    await app.close();

    const afterClose = await spawnedStripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(afterClose).toMatchObject({ code: 0, stdout: 'No pending migrations: the database is up to date.\n' });
  });

  it('takes over a lock left by a process that crashed, or by this pid in a previous life of the container', async () => {
    const dataDir = migratedDataDir('sa-stale-');
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
    writeFileSync(join(dataDir, 'stripe-attribution.1.lock'), JSON.stringify({ pid: dead.pid, hostname: hostname(), token: 'crashed' }));
    const result = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(result).toMatchObject({ code: 0, stdout: 'No pending migrations: the database is up to date.\n' });

    writeFileSync(join(dataDir, 'stripe-attribution.1.lock'), JSON.stringify({ pid: process.pid, hostname: hostname(), token: 'previous-life' }));
    const restarted = createAttribution({ database: dataDir });
    expect(await restarted.migrate()).toEqual({ applied: [] });
    await restarted.close();
  });

  it('never takes the lock of a process on another host sharing the volume', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sa-host-'));
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'stripe-attribution.1.lock'), JSON.stringify({ pid: 1, hostname: 'other-container', token: 'theirs' }));
    const refused = await stripeAttribution(['migrate', '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('in use by process 1 on other-container');
    await expect(createAttribution({ database: dataDir }).migrate()).rejects.toBeInstanceOf(EmbeddedDatabaseLockedError);
  });
});

describe('npx stripe-attribution migrate --print', () => {
  it('prints the SQL with the chosen prefix and schema, touching no database', async () => {
    const result = await spawnedStripeAttribution(['migrate', '--print', '--table-prefix', 'aff_', '--schema', 'billing_attr'], {
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
    expect(result.code).toBe(2);
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
      expect(first).toMatchObject({ code: 0, stdout: 'Applied migration 0001_initial\nApplied migration 0002_invoice_payments\nApplied migration 0003_disputes_credits_subscriptions\nApplied migration 0004_rewards\nApplied migration 0005_payouts\nApplied migration 0006_charge_amounts\nApplied migration 0007_guest_customers\nApplied migration 0008_milestones\nApplied migration 0009_programs\nApplied migration 0010_partner_groups\nApplied migration 0011_charge_refunds\nApplied migration 0012_trial_seat_leads\nApplied migration 0013_payout_commission_count\nApplied migration 0014_partner_applications\nApplied migration 0015_fraud_review\nApplied migration 0016_connect\nApplied migration 0017_outbox\nApplied migration 0018_manual_adjustments\n' });
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
    const dataDir = migratedDataDir('sa-reconcile-');
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

    const config = writeConfig(dataDir, { stripePort: Number(new URL(stripe.url).port) });
    const result = await stripeAttribution(['reconcile', '--since', '3d', '--config', config]);

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

    const again = await stripeAttribution(['reconcile', '--since', '2026-01-01', '--config', config]);
    expect(again.stderr).toContain('(clamped: Stripe keeps events for 30 days)');
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('2 seen, 1 applied, 1 already processed, 0 failed');
  });

  it('exits 1 when an event failed, after applying the others', async () => {
    const dataDir = migratedDataDir('sa-reconcile-fail-');
    stripe.events.length = 0;
    stripe.events.push(
      recent(event('invoice.paid', invoice({ id: 'in_long', lines: { object: 'list', data: [invoiceLine()], has_more: true, url: '/v1/invoices/in_long/lines' } })), 60),
      recent(event('checkout.session.completed', checkoutSession()), 30),
    );
    stripe.answers.set('GET /v1/invoices/in_long/lines', new Error('Stripe is having a bad day'));
    try {
      const result = await stripeAttribution(['reconcile', '--since', '12h', '--config', writeConfig(dataDir, { stripePort: Number(new URL(stripe.url).port) })]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('The failures went to your instance’s onError');
      expect(result.stdout).toContain('2 seen, 1 applied, 0 already processed, 1 failed');
    } finally {
      stripe.answers.clear();
    }
  });

  it('says what is missing: a Stripe client in the config, or a --since it can read', async () => {
    const dataDir = migratedDataDir('sa-nokey-');
    const config = writeConfig(dataDir);
    const noClient = await stripeAttribution(['reconcile', '--since', '3d', '--config', config]);
    expect(noClient.code).toBe(2);
    expect(noClient.stderr).toContain(`error: reconcile reads Stripe’s events through your Stripe client: ${config} must create the instance with createAttribution({ stripe, … })`);
    const badSince = await stripeAttribution(['reconcile', '--since', 'last week'], { STRIPE_SECRET_KEY: 'sk_test_cli' });
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain('--since "last week" is neither a duration (30m, 12h, 3d) nor an ISO date');
  });
});

// Each command opens PGlite afresh (a second on a busy machine), hence the generous timeout.
describe('npx stripe-attribution partners, report and payouts (embedded PGlite)', { timeout: 180_000 }, () => {
  const dataDir = migratedDataDir('sa-cli-report-');
  const db = ['--data-dir', dataDir];
  // The app's configuration, which payouts create needs: its program's rewards.
  let config = '';
  let alice = '';
  // Open for the whole block: the in-process CLI shares an embedded directory this process has open
  // instead of loading it again for every command (opening it is the tests above's subject).
  const keeper = createAttribution({ database: dataDir });
  afterAll(() => keeper.close());

  beforeAll(async () => {
    await keeper.storage();
    config = writeConfig(dataDir, { program: { reward: { type: 'percent', percent: 30 } } });
    const added = await stripeAttribution(['partners', 'add', 'Alice Martin', '--email', 'alice@partners.example', '--code', 'alice', '--promotion-code', 'promo_alice', '--json', ...db]);
    expect(added.code).toBe(0);
    alice = JSON.parse(added.stdout).id;
    // A sale 40 days ago: its 30-day hold has ended, so `payouts create` approves and pays it out.
    const paidAt = new Date(Date.now() - 40 * 86_400_000);
    const app = createAttribution({ database: dataDir, clicks: { ipSalt: 'pepper' }, clock: () => paidAt, program: { reward: { type: 'percent', percent: 30 } } });
    const { clickId } = await app.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
    await app.trackLead({ customerExternalId: 'user_1', email: 'zoe@example.com', clickId });
    await app.trackSale({ customerExternalId: 'user_1', amount: 4900, currency: 'usd', invoiceId: 'order_1', paidAt });
    await app.close();
  });

  it('partners add refuses a code another partner owns; partners list shows the codes', async () => {
    const taken = await stripeAttribution(['partners', 'add', 'Mallory', '--code', 'alice', ...db]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('alice');
    const list = await stripeAttribution(['partners', 'list', ...db]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${alice}\\s+Alice Martin\\s+alice@partners.example\\s+active\\s+alice\\s+promo_alice`));
    expect(list.stdout).not.toContain('Mallory');
    const csv = await stripeAttribution(['partners', 'list', '--csv', ...db]);
    expect(csv.stdout).toBe(`partner,name,email,status,codes,promotion_codes\n${alice},Alice Martin,alice@partners.example,active,alice,promo_alice\n`);
  });

  it('report prints a table, --json and --csv the same numbers in minor units', async () => {
    const text = await stripeAttribution(['report', ...db]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Alice Martin\s+\d{4}-\d{2}-01\s+1\s+1\s+1\s+49\.00 USD\s+0\.00 USD\s+14\.70 USD\s+0\.00 USD/);
    const rows = JSON.parse((await stripeAttribution(['report', '--json', '--partner', 'alice', '--interval', 'all', ...db])).stdout);
    expect(rows).toEqual([expect.objectContaining({ partnerId: alice, clicks: 1, leads: 1, currency: 'usd', sales: 1, revenue: 4900, refunded: 0, commissions: expect.objectContaining({ pending: 1470 }) })]);
    const csv = (await stripeAttribution(['report', '--csv', '--interval', 'all', ...db])).stdout.split('\n');
    expect(csv[0]).toBe('partner_id,partner_name,period,currency,clicks,leads,sales,revenue,refunded,commissions_pending,commissions_approved,commissions_held,commissions_paid,commissions_voided');
    expect(csv[1]).toBe(`${alice},Alice Martin,all,usd,1,1,1,4900,0,1470,0,0,0,0`);
    const from = (await stripeAttribution(['report', '--csv', '--interval', 'all', '--from', '2020-01-01', ...db])).stdout.split('\n');
    expect(from[1]).toBe(`${alice},Alice Martin,2020-01-01,usd,1,1,1,4900,0,1470,0,0,0,0`);
    // Test mode: the click (a visit has no mode) but no live sale.
    expect((await stripeAttribution(['report', '--test', ...db])).stdout).not.toContain('49.00 USD');
    // Per program: everything recorded so far is the default program's.
    expect(JSON.parse((await stripeAttribution(['report', '--json', '--program', 'default', '--interval', 'all', ...db])).stdout)).toEqual(rows);
    expect(JSON.parse((await stripeAttribution(['report', '--json', '--program', 'resellers', '--interval', 'all', ...db])).stdout)).toEqual([]);
    const unknown = await stripeAttribution(['report', '--partner', 'bob', ...db]);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('No partner with id or code "bob"') });
  });

  it('payouts create approves what is due and groups it; list --csv exports it; mark-paid pays it', async () => {
    // Another program's run approves what is due but pays out only that program's commissions.
    const elsewhere = await stripeAttribution(['payouts', 'create', '--program', 'resellers', '--config', config]);
    expect(elsewhere).toMatchObject({ code: 0, stdout: 'No payouts.\n' });
    expect(elsewhere.stderr).toContain('Approved 1 commission whose hold period ended.');
    expect(elsewhere.stderr).toContain('No payouts: no approved commissions are waiting to be paid.');
    const belowMinimum = await stripeAttribution(['payouts', 'create', '--minimum', '5000', '--config', config]);
    expect(belowMinimum).toMatchObject({ code: 0, stdout: 'No payouts.\n' });
    expect(belowMinimum.stderr).toContain('No payouts: 1 partner total is below the minimum of 50.00 USD (the largest: Alice Martin, 14.70 USD); they are paid once they reach it, or lower --minimum.');
    const created = await stripeAttribution(['payouts', 'create', '--minimum', '1000', '--config', config]);
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('Created 1 payout.');
    expect(created.stdout).toMatch(/po_\S+\s+Alice Martin\s+alice@partners.example\s+14\.70 USD\s+pending/);
    const csv = await stripeAttribution(['payouts', 'list', '--csv', ...db]);
    const [, line] = csv.stdout.split('\n');
    const payoutId = line!.split(',')[0]!;
    expect(line).toContain(`,${alice},Alice Martin,alice@partners.example,default,usd,1470,14.70,true,`);
    const paid = await stripeAttribution(['payouts', 'mark-paid', payoutId, 'po_missing', ...db]);
    expect(paid.code).toBe(1);
    expect(paid.stdout).toBe(`Payout ${payoutId}: paid, 14.70 USD to Alice Martin\n`);
    expect(paid.stderr).toContain('No payout po_missing');
    const again = await stripeAttribution(['payouts', 'mark-paid', payoutId, ...db]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^Payout ${payoutId}: already paid on \\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z, 14\\.70 USD to Alice Martin; nothing changed\n$`));
    expect((await stripeAttribution(['payouts', 'cancel', payoutId, ...db])).stderr).toContain('a paid payout never changes');
    expect((await stripeAttribution(['payouts', 'list', ...db])).stdout).toBe('No payouts.\n');
    expect((await stripeAttribution(['payouts', 'list', '--status', 'paid', ...db])).stdout).toContain(payoutId);
    expect((await stripeAttribution(['report', '--interval', 'all', '--json', ...db])).stdout).toContain('"paid": 1470');
  });

  it('says what to do: tables missing, a URL that is not Postgres, a database it cannot reach, a bad value', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sa-cli-empty-'));
    const missing = await stripeAttribution(['report', '--data-dir', empty]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No stripe-attribution database in ${empty}. Run: npx stripe-attribution migrate --data-dir ${empty}`);

    const notPostgres = await stripeAttribution(['partners', 'list', '--database-url', 'mysql://localhost/shop']);
    expect(notPostgres.code).toBe(2);
    expect(notPostgres.stderr).toContain('is not a Postgres URL');
    expect((await stripeAttribution(['partners', 'list'], { DATABASE_URL: 'not a url' })).stderr).toContain('DATABASE_URL "not a url" is not a Postgres URL');

    const unreachable = await stripeAttribution(['report', '--database-url', 'postgres://nobody@127.0.0.1:1/none']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('Cannot reach the database (ECONNREFUSED)');

    const badValue = await stripeAttribution(['payouts', 'create', '--minimum', '12.5', ...db]);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('a whole number of minor units');
    expect((await stripeAttribution(['report', '--interval', 'year', ...db])).code).toBe(2);
    const unknownCommand = await stripeAttribution(['frobnicate']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'frobnicate'");
    // The bin turns the same outcome into the process's exit code.
    expect((await spawnedStripeAttribution(['frobnicate'])).code).toBe(2);
  });

  it('every command has --help, exiting 0', async () => {
    for (const command of [['migrate'], ['partners', 'add'], ['partners', 'list'], ['report'], ['payouts', 'create'], ['payouts', 'list'], ['payouts', 'mark-paid'], ['payouts', 'cancel'], ['reconcile'], ['apply-parked'], ['doctor']]) {
      const help = await stripeAttribution([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout).toContain(`Usage: stripe-attribution ${command.join(' ')}`);
    }
  });
});
