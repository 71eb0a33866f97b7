import { Command } from 'commander';
import type Stripe from 'stripe';
import { createAttribution, type Attribution } from '../core/attribution.js';
import { AttributionError, ConfigurationError } from '../core/errors.js';
import type { AttributionOptions } from '../core/options.js';
import { importOptional } from '../core/optional-dependency.js';
import { DEFAULT_DATA_DIR } from '../core/storage/embedded.js';
import { resolveLayout } from '../core/storage/layout.js';
import { migrationSql } from '../core/storage/migrations/index.js';

const program = new Command('stripe-attribution').description('Partner attribution of Stripe payments, in your own database.');

interface DatabaseFlags {
  databaseUrl?: string;
  dataDir?: string;
  tablePrefix: string;
  schema?: string;
}

/** The flags every command that opens the database takes. */
function databaseCommand(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--database-url <url>', 'Postgres URL (default: $DATABASE_URL, else embedded PGlite)')
    .option('--data-dir <dir>', `directory of the embedded PGlite database (default: ${DEFAULT_DATA_DIR})`)
    .option('--table-prefix <prefix>', 'prefix of the table names', 'sa_')
    .option('--schema <schema>', 'Postgres schema for the tables');
}

/** Runs `fn` with the instance the flags describe, closing it afterwards. */
async function withAttribution(flags: DatabaseFlags, fn: (attribution: Attribution) => Promise<void>, extra: AttributionOptions = {}): Promise<void> {
  const layout = resolveLayout(flags);
  const database = flags.databaseUrl ?? (flags.dataDir ? undefined : process.env.DATABASE_URL) ?? flags.dataDir;
  const attribution = createAttribution({ database, tablePrefix: layout.tablePrefix, schema: layout.schema, ...extra });
  try {
    await fn(attribution);
  } finally {
    await attribution.close();
  }
}

databaseCommand('migrate', 'Create or update the stripe-attribution tables in your database')
  .option('--print', 'print the SQL instead of running it (for schemas owned by another migration tool)')
  .action(async (flags: DatabaseFlags & { print?: boolean }) => {
    if (flags.print) {
      process.stdout.write(await migrationSql(resolveLayout(flags)));
      return;
    }
    await withAttribution(flags, async (attribution) => {
      const { applied } = await attribution.migrate();
      if (applied.length === 0) console.log('No pending migrations: the database is up to date.');
      for (const name of applied) console.log(`Applied migration ${name}`);
    });
  });

databaseCommand('payouts', 'Print pending payouts as CSV; with --create, first group approved commissions into payouts')
  .option('--create', 'create payouts from approved commissions first')
  .option('--minimum <amount>', 'smallest payout, in minor units', '0')
  .option('--currency <currency>', 'only this currency')
  .option('--test', 'test-mode data instead of live')
  .option('--csv', 'CSV output (the default and only format)')
  .action(async (flags: DatabaseFlags & { create?: boolean; minimum: string; currency?: string; test?: boolean }) => {
    const minimumAmount = Number(flags.minimum);
    if (!Number.isSafeInteger(minimumAmount) || minimumAmount < 0) throw new AttributionError('--minimum is a whole number of minor units');
    const livemode = !flags.test;
    await withAttribution(flags, async (attribution) => {
      if (flags.create) await attribution.payouts.create({ minimumAmount, livemode, ...(flags.currency ? { currency: flags.currency } : {}) });
      process.stdout.write(await attribution.payouts.csv({ status: 'pending', livemode }));
    });
  });

databaseCommand('reconcile', 'Re-read Stripe’s event list and apply the events your webhook missed (30 days back at most)')
  .requiredOption('--since <when>', 'how far back: 30m, 12h, 3d, or an ISO date; beyond 30 days it is clamped')
  .option('--stripe-api-base <url>', 'Stripe API base URL, for a proxy or a local stand-in in tests (default: $STRIPE_API_BASE, else api.stripe.com)')
  .action(async (flags: DatabaseFlags & { since: string; stripeApiBase?: string }) => {
    const since = parseSince(flags.since, new Date());
    const stripe = await stripeFromEnv(flags.stripeApiBase ?? process.env.STRIPE_API_BASE);
    await withAttribution(
      flags,
      async (attribution) => {
        const result = await attribution.reconcile({
          since,
          onProgress: (progress) => {
            if (progress.phase === 'started') {
              const clamped = progress.clamped ? ' (clamped: Stripe keeps events for 30 days)' : '';
              console.error(`Reading Stripe events since ${progress.since.toISOString()}${clamped}`);
            } else if (progress.phase === 'listing') {
              console.error(`Listed ${progress.seen} events, ${progress.alreadyProcessed} already processed${progress.done ? '' : '…'}`);
            } else {
              console.error(`Applied ${progress.applied} of ${progress.total}, ${progress.failed} failed${progress.done ? '' : '…'}`);
            }
          },
        });
        console.log(
          `Reconciled Stripe events since ${result.since.toISOString()}: ${result.seen} seen, ${result.applied} applied, ` +
            `${result.alreadyProcessed} already processed, ${result.failed} failed; ${result.parked.stillParked} still parked.`,
        );
        if (result.failed > 0) process.exitCode = 1;
      },
      {
        stripe,
        onError: (error, during) => console.error(`${during} failed: ${error instanceof Error ? error.message : String(error)}`),
      },
    );
  });

const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `12h`, `3d` before `now`, or an ISO date. */
function parseSince(value: string, now: Date): Date {
  const duration = DURATION.exec(value.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new ConfigurationError(`--since "${value}" is neither a duration (30m, 12h, 3d) nor an ISO date (2026-05-01)`);
  return date;
}

/** The merchant's Stripe client, from STRIPE_SECRET_KEY; `apiBase` points it elsewhere (a proxy, a test stand-in). */
async function stripeFromEnv(apiBase: string | undefined): Promise<Stripe> {
  const key = process.env.STRIPE_SECRET_KEY;
  if (!key) throw new ConfigurationError('Set STRIPE_SECRET_KEY to your Stripe secret key (sk_… or a restricted rk_… key with read access to events)');
  const { default: StripeClass } = await importOptional('stripe', 'Reading Stripe events', () => import('stripe'));
  if (!apiBase) return new StripeClass(key);
  const url = new URL(apiBase);
  return new StripeClass(key, {
    host: url.hostname,
    protocol: url.protocol === 'http:' ? 'http' : 'https',
    ...(url.port ? { port: Number(url.port) } : {}),
  });
}

program.parseAsync().catch((error: unknown) => {
  // Only the CLI chooses exit codes; the library reports through errors.
  console.error(error instanceof AttributionError ? `error: ${error.message}` : error);
  process.exitCode = 1;
});
