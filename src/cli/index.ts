import { Command } from 'commander';
import { createAttribution, type Attribution } from '../core/attribution.js';
import { AttributionError } from '../core/errors.js';
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
async function withAttribution(flags: DatabaseFlags, fn: (attribution: Attribution) => Promise<void>): Promise<void> {
  const layout = resolveLayout(flags);
  const database = flags.databaseUrl ?? (flags.dataDir ? undefined : process.env.DATABASE_URL) ?? flags.dataDir;
  const attribution = createAttribution({ database, tablePrefix: layout.tablePrefix, schema: layout.schema });
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

program.parseAsync().catch((error: unknown) => {
  // Only the CLI chooses exit codes; the library reports through errors.
  console.error(error instanceof AttributionError ? `error: ${error.message}` : error);
  process.exitCode = 1;
});
