import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import { HANDLED_EVENT_TYPES } from '../../src/core/webhooks/event-handlers.js';
import type { ProgramOptions } from '../../src/core/options/options.js';
import { stripeAttribution } from '../support/cli.js';
import { migratedDataDirAt } from '../support/data-dirs.js';
import { merchantProject } from '../support/project.js';
import { charge, checkoutSession, event, webhookEndpoint } from '../support/stripe-fixtures.js';
import { startStripeServer } from '../support/stripe-server.js';

// The config loads the built package (dist/) from the merchant's node_modules: run `npm run build` first.
const PROGRAM: ProgramOptions = { currency: 'usd', reward: { type: 'percent', percent: 30 }, leadReward: { type: 'flat', amount: 200 } };

let stripe: Awaited<ReturnType<typeof startStripeServer>>;
beforeAll(async () => {
  stripe = await startStripeServer();
});
afterAll(() => stripe.close());

/** A TypeScript config, as a merchant writes it: their Stripe client, their program, a function returning the instance. */
function typescriptConfig(dataDir: string, extra = ''): string {
  return `import Stripe from 'stripe';
import { createAttribution, type AttributionOptions } from 'stripe-attribution';

const stripe = new Stripe('sk_test_cli', { host: '127.0.0.1', port: ${new URL(stripe.url).port}, protocol: 'http', maxNetworkRetries: 0 });
const options: AttributionOptions = { database: ${JSON.stringify(dataDir)}, stripe, program: ${JSON.stringify(PROGRAM)}, clicks: { ipSalt: 'pepper' }${extra} };
export default () => createAttribution(options);
`;
}

/**
 * A migrated embedded database with partner Alice and one click of hers; `more` adds to it while
 * it is open (each opening costs a PGlite start).
 */
async function seeded(dataDir: string, more?: (app: Attribution, clickId: string) => Promise<void>): Promise<string> {
  const app = createAttribution({ database: migratedDataDirAt(dataDir), clicks: { ipSalt: 'pepper' }, program: PROGRAM });
  try {
    await app.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice' });
    const { clickId } = await app.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
    if (!clickId) throw new Error('the visit recorded no click');
    await more?.(app, clickId);
    return clickId;
  } finally {
    await app.close();
  }
}

const ledger = async (app: Attribution) => (await app.commissions.list()).map(({ kind, amount, currency, status }) => ({ kind, amount, currency, status })).sort((a, b) => a.kind.localeCompare(b.kind));

describe('the CLI on the app’s own configuration', { timeout: 180_000 }, () => {
  it('reconcile with a config earns exactly the commission the app would have', async () => {
    const now = Math.floor(Date.now() / 1000);
    // Bought a moment after the click (a click counts for objects created after it).
    const purchase = (clickId: string) => ({ ...event('checkout.session.completed', checkoutSession({ created: now + 5, metadata: { sa_click_id: clickId } })), created: now + 6 });

    // The app received the webhook; the CLI's database is a copy of the app's from before it did.
    const appDir = mkdtempSync(join(tmpdir(), 'sa-app-'));
    const click = await seeded(appDir);
    const project = merchantProject();
    const dataDir = join(project, '.data');
    cpSync(appDir, dataDir, { recursive: true });
    const app = createAttribution({ database: appDir, clicks: { ipSalt: 'pepper' }, program: PROGRAM });
    await app.handleEvent(purchase(click));
    const earned = await ledger(app);
    await app.close();
    expect(earned).toEqual([
      { kind: 'lead', amount: 200, currency: 'usd', status: 'pending' },
      { kind: 'sale', amount: 3000, currency: 'usd', status: 'pending' },
    ]);

    // The same purchase missed by the webhook, applied by the CLI from the app's config.
    const config = merchantProjectConfig(project, typescriptConfig(dataDir));
    stripe.events.length = 0;
    stripe.events.push(purchase(click));
    const result = await stripeAttribution(['reconcile', '--since', '3d'], {}, project);
    expect(result.stderr).toContain('Applied 1 of 1, 0 failed');
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('1 seen, 1 applied') });
    expect(stripe.requests.at(-1)!.headers.authorization).toBe('Bearer sk_test_cli');
    const after = createAttribution({ database: dataDir });
    expect(await ledger(after)).toEqual(earned);
    await after.close();
    expect(config).toBe(join(project, 'src', 'stripe-attribution.config.ts'));
  });

  it('without a config, reconcile, payouts create and apply-parked refuse (exit 2) and write nothing', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'sa-noconfig-'));
    const dataDir = join(elsewhere, 'data');
    const click = await seeded(dataDir);
    stripe.events.length = 0;
    stripe.events.push({ ...event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: click } })), created: Math.floor(Date.now() / 1000) - 60 });
    const requestsBefore = stripe.requests.length;

    for (const command of [['reconcile', '--since', '3d'], ['payouts', 'create'], ['apply-parked']]) {
      const refused = await stripeAttribution([...command, '--data-dir', dataDir], { STRIPE_SECRET_KEY: 'sk_test_cli', STRIPE_API_BASE: stripe.url }, elsewhere);
      expect(refused.code, command.join(' ')).toBe(2);
      expect(refused.stderr).toContain(`${command.slice(0, command[0] === 'payouts' ? 2 : 1).join(' ')} needs your app’s configuration`);
      expect(refused.stderr).toContain('stripe-attribution.config.ts');
      expect(refused.stderr).toContain('--config <path>');
    }
    expect(stripe.requests.length).toBe(requestsBefore);
    const app = createAttribution({ database: dataDir });
    expect(await app.sales.list({ livemode: false })).toEqual([]);
    expect(await (await app.storage()).countParkedEvents()).toBe(0);
    await app.close();
  });

  it('--config names a .mjs exporting the instance; database flags beside it, or a config exporting something else, exit 2', async () => {
    const project = merchantProject();
    const dataDir = join(project, '.data');
    await seeded(dataDir);
    merchantProjectConfig(project, `import { createAttribution } from 'stripe-attribution';\nexport default createAttribution({ database: ${JSON.stringify(dataDir)} });\n`, 'config/attribution.mjs');
    merchantProjectConfig(project, `export default { database: 'forgot createAttribution' };\n`, 'stripe-attribution.config.js');

    const listed = await stripeAttribution(['partners', 'list', '--config', 'config/attribution.mjs'], {}, project);
    expect(listed).toMatchObject({ code: 0, stdout: expect.stringMatching(/Alice\s+alice@partners\.example\s+active\s+alice/) });

    const both = await stripeAttribution(['partners', 'list', '--config', 'config/attribution.mjs', '--data-dir', dataDir], {}, project);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--data-dir cannot be combined with a config');

    // Found in the project root, where it shadows nothing: the wrong export is named.
    const wrong = await stripeAttribution(['partners', 'list'], {}, project);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`${join(project, 'stripe-attribution.config.js')} must export the instance as its default export`);
    expect(wrong.stderr).toContain('an object with database');

    const missing = await stripeAttribution(['report', '--config', 'nope.config.ts'], {}, project);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining(`No config file at ${join(project, 'nope.config.ts')}`) });
  });

  it('a read command never creates a database: a mistyped --data-dir, or no database where it looks', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'sa-read-'));
    const typo = join(elsewhere, 'stripe-atribution');
    const mistyped = await stripeAttribution(['report', '--data-dir', typo], {}, elsewhere);
    expect(mistyped.code).toBe(2);
    expect(mistyped.stderr).toContain(`--data-dir ${typo}: no such directory`);
    expect(existsSync(typo)).toBe(false);

    const defaultDir = await stripeAttribution(['partners', 'list'], {}, elsewhere);
    expect(defaultDir.code).toBe(1);
    expect(defaultDir.stderr).toContain(`No stripe-attribution database in ${join(elsewhere, '.stripe-attribution')}. Run: npx stripe-attribution migrate`);
    expect(existsSync(join(elsewhere, '.stripe-attribution'))).toBe(false);
  });
});

describe('npx stripe-attribution doctor', { timeout: 180_000 }, () => {
  it('reports each check; a Stripe endpoint missing event types, a key of the other mode and no salt in production fail (exit 1)', async () => {
    const project = merchantProject();
    const dataDir = join(project, '.data');
    await seeded(dataDir, async (app, click) => {
      // A refund whose sale has not arrived waits, parked; a paid-out sale leaves a pending payout.
      await app.handleEvent(event('charge.refunded', charge({ id: 'ch_orphan', payment_intent: 'pi_orphan', amount: 10000, amount_refunded: 10000, refunded: true })));
      await app.handleEvent(event('checkout.session.completed', checkoutSession({ created: Math.floor(Date.now() / 1000) + 5, metadata: { sa_click_id: click } })));
      await app.commissions.approveDue(new Date(Date.now() + 60 * 86_400_000));
      expect(await app.payouts.create({ livemode: false })).toHaveLength(1);
    });

    merchantProjectConfig(project, typescriptConfig(dataDir, ", webhookSecret: 'whsec_doctor'"), 'stripe-attribution.config.ts');
    stripe.answers.set('GET /v1/webhook_endpoints', {
      object: 'list',
      url: '/v1/webhook_endpoints',
      has_more: false,
      data: [
        webhookEndpoint({ id: 'we_old', status: 'disabled' }),
        webhookEndpoint({ enabled_events: HANDLED_EVENT_TYPES.filter((type) => type !== 'charge.refunded' && type !== 'invoice.paid') }),
      ],
    });
    try {
      const healthy = await stripeAttribution(['doctor'], {}, project);
      const lines = healthy.stdout.trimEnd().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(/^ok {4}config +\S+stripe-attribution\.config\.ts$/),
        expect.stringMatching(/^ok {4}database +reachable, migrations up to date$/),
        expect.stringMatching(/^warn {2}parked events +1 waiting for a counterpart/),
        expect.stringMatching(/^ok {4}hook events +all delivered$/),
        expect.stringMatching(/^warn {2}payouts +0 live and 1 test pending/),
        expect.stringMatching(/^ok {4}webhook secret +1 signing secret set$/),
        expect.stringMatching(/^warn {2}ip salt +NODE_ENV is not production/),
        expect.stringMatching(/^ok {4}stripe mode +test key, test data$/),
        expect.stringMatching(/^fail {2}webhook endpoint +https:\/\/shop\.example\/webhooks\/stripe does not receive invoice\.paid, charge\.refunded: enable them/),
      ]);
      expect(healthy.code).toBe(1);
      const listing = stripe.requests.filter((request) => request.path === '/v1/webhook_endpoints').at(-1)!;
      expect(listing.headers.authorization).toBe('Bearer sk_test_cli');

      stripe.answers.set('GET /v1/webhook_endpoints', { object: 'list', url: '/v1/webhook_endpoints', has_more: false, data: [webhookEndpoint()] });
      const covered = await stripeAttribution(['doctor'], {}, project);
      expect(covered.stdout).toMatch(/^ok {4}webhook endpoint +https:\/\/shop\.example\/webhooks\/stripe receives every event type the library handles$/m);
      expect(covered.code).toBe(0);

      // The production environment, with a config that forces live mode on a test key and sets no salt.
      // A file of its own: a config is loaded once per process, like any module.
      merchantProjectConfig(project, typescriptConfig(dataDir, ", webhookSecret: 'whsec_doctor', livemode: true").replace("clicks: { ipSalt: 'pepper' }", 'clicks: {}'), 'production.config.ts');
      vi.stubEnv('NODE_ENV', 'production');
      vi.stubEnv('STRIPE_ATTRIBUTION_IP_SALT', '');
      const production = await stripeAttribution(['doctor', '--config', 'production.config.ts'], { NODE_ENV: 'production' }, project);
      vi.unstubAllEnvs();
      expect(production.stdout).toMatch(/^fail {2}ip salt +not set in production/m);
      expect(production.stdout).toMatch(/^fail {2}stripe mode +the Stripe key is a test key but livemode is true/m);
      expect(production.code).toBe(1);
    } finally {
      vi.unstubAllEnvs();
      stripe.answers.clear();
    }
  });

  it('runs without a config from the flags and the environment, and says the config is missing', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'sa-doctor-env-'));
    const dataDir = join(elsewhere, 'data');
    await seeded(dataDir);
    const result = await stripeAttribution(['doctor', '--data-dir', dataDir], { STRIPE_WEBHOOK_SECRET: '', STRIPE_SECRET_KEY: 'rk_live_doctor', STRIPE_API_BASE: stripe.url }, elsewhere);
    expect(result.stdout).toMatch(/^warn {2}config +none found: reconcile, payouts create and apply-parked refuse/m);
    expect(result.stdout).toMatch(/^fail {2}webhook secret +not set/m);
    expect(result.stdout).toMatch(/^ok {4}stripe mode +live key, live data$/m);
    expect(result.stdout).toMatch(/^fail {2}webhook endpoint +no enabled webhook endpoint/m);
    expect(result.code).toBe(1);
  });
});

describe('npx stripe-attribution --version', { timeout: 120_000 }, () => {
  it('prints the package version', async () => {
    expect(await stripeAttribution(['--version'])).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
  });

  it('runs inside this repository, where npx finds no installed bin, as the demo prints it: npm run cli -- …', () => {
    const run = spawnSync('npm', ['run', '--silent', 'cli', '--', '--version'], { cwd: join(import.meta.dirname, '../../examples/express-store'), encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: `${packageJson.version}\n` });
    expect(readFileSync(join(import.meta.dirname, '../../examples/express-store/demo.ts'), 'utf8')).toContain('npm run cli -- report --data-dir');
  });
});

/** Writes the project's config (default: src/stripe-attribution.config.ts, found from the root) and returns its path. */
function merchantProjectConfig(project: string, text: string, path = 'src/stripe-attribution.config.ts'): string {
  const full = join(project, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, text);
  return full;
}
