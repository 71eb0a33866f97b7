import { Command } from 'commander';
import { createAttribution } from '../core/attribution.js';
import { AttributionError } from '../core/errors.js';
import { DEFAULT_DATA_DIR } from '../core/storage/embedded.js';
import { resolveLayout } from '../core/storage/layout.js';
import { migrationSql } from '../core/storage/migrations/index.js';

const program = new Command('stripe-attribution').description('Partner attribution of Stripe payments, in your own database.');

program
  .command('migrate')
  .description('Create or update the stripe-attribution tables in your database')
  .option('--database-url <url>', 'Postgres URL (default: $DATABASE_URL, else embedded PGlite)')
  .option('--data-dir <dir>', `directory of the embedded PGlite database (default: ${DEFAULT_DATA_DIR})`)
  .option('--table-prefix <prefix>', 'prefix of the table names', 'sa_')
  .option('--schema <schema>', 'Postgres schema for the tables')
  .option('--print', 'print the SQL instead of running it (for schemas owned by another migration tool)')
  .action(async (options: { databaseUrl?: string; dataDir?: string; tablePrefix: string; schema?: string; print?: boolean }) => {
    const layout = resolveLayout(options);
    if (options.print) {
      process.stdout.write(await migrationSql(layout));
      return;
    }
    const database = options.databaseUrl ?? (options.dataDir ? undefined : process.env.DATABASE_URL) ?? options.dataDir;
    const attribution = createAttribution({ database, tablePrefix: layout.tablePrefix, schema: layout.schema });
    try {
      const { applied } = await attribution.migrate();
      if (applied.length === 0) console.log('No pending migrations: the database is up to date.');
      for (const name of applied) console.log(`Applied migration ${name}`);
    } finally {
      await attribution.close();
    }
  });

program
  .command('payouts')
  .description('Print payouts as CSV; with --create, first group approved commissions into payouts')
  .option('--database-url <url>', 'Postgres URL (default: $DATABASE_URL, else embedded PGlite)')
  .option('--data-dir <dir>', `directory of the embedded PGlite database (default: ${DEFAULT_DATA_DIR})`)
  .option('--table-prefix <prefix>', 'prefix of the table names', 'sa_')
  .option('--schema <schema>', 'Postgres schema for the tables')
  .option('--create', 'create payouts from approved commissions first')
  .option('--minimum <amount>', 'smallest payout, in minor units', '0')
  .option('--currency <currency>', 'only this currency')
  .option('--test', 'test-mode data instead of live')
  .option('--csv', 'CSV output (the default and only format)')
  .action(async (options: { databaseUrl?: string; dataDir?: string; tablePrefix: string; schema?: string; create?: boolean; minimum: string; currency?: string; test?: boolean }) => {
    const layout = resolveLayout(options);
    const database = options.databaseUrl ?? (options.dataDir ? undefined : process.env.DATABASE_URL) ?? options.dataDir;
    const attribution = createAttribution({ database, tablePrefix: layout.tablePrefix, schema: layout.schema });
    try {
      const livemode = !options.test;
      const minimumAmount = Number(options.minimum);
      if (!Number.isSafeInteger(minimumAmount) || minimumAmount < 0) throw new AttributionError('--minimum is a whole number of minor units');
      if (options.create) await attribution.payouts.create({ minimumAmount, livemode, ...(options.currency ? { currency: options.currency } : {}) });
      process.stdout.write(await attribution.payouts.csv({ status: 'pending', livemode }));
    } finally {
      await attribution.close();
    }
  });

program.parseAsync().catch((error: unknown) => {
  // Only the CLI chooses exit codes; the library reports through errors.
  console.error(error instanceof AttributionError ? `error: ${error.message}` : error);
  process.exitCode = 1;
});
