import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type Stripe from 'stripe';
import packageJson from '../../package.json' with { type: 'json' };
import { createAttribution, type Attribution } from '../core/attribution.js';
import { AttributionError } from '../core/kernel/errors.js';
import type { AttributionOptions } from '../core/options/options.js';
import { importOptional } from '../core/kernel/optional-dependency.js';
import { DEFAULT_DATA_DIR } from '../core/storage/embedded.js';
import { resolveLayout } from '../core/storage/layout.js';
import { migrationSql } from '../core/storage/migrations/index.js';
import type { Payout, ReportInterval } from '../core/storage/types.js';
import { payoutsCsv } from '../core/payouts/payouts.js';
import { HOW_TO_ADD_CONFIG, findConfig, loadConfig } from './config.js';
import { runDoctor } from './doctor.js';
import { EXIT, UsageError, explain } from './errors.js';
import { csv, json, maskPasswords, maskUrl, money, table } from './output.js';
import type { CommandKit, DatabaseFlags, OutputFlags } from './kit.js';
import { defineLedgerCommands } from './ledger.js';
import { definePartnerCommands } from './partners.js';
import { whyNoPayouts } from './payouts.js';
import { applicationCommands } from './applications.js';
import { defineReviewCommands } from './review.js';
import { defineOutboxCommands } from './outbox.js';

/**
 * Where a run of the CLI reads and writes: the process's own streams and environment in the bin,
 * buffers and a made-up environment in tests, which call `main` in-process instead of paying for a
 * Node start and a PGlite load per command.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** The directory config files and relative paths are found from. Default: the process's. */
  cwd?: string;
}

/** Runs `stripe-attribution <argv…>` and resolves to its exit code; never rejects. */
export async function main(argv: readonly string[], given: CliIo): Promise<number> {
  // Errors and hints repeat the database URL as typed (and a stack may hold it): never its password.
  const io: CliIo = { ...given, stderr: (text) => given.stderr(maskPasswords(text)) };
  // Built afresh per run: Commander keeps parsed option values on the command objects.
  const program = new Command('stripe-attribution')
    .description('Partner attribution of Stripe payments, in your own database.')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .version(packageJson.version, '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExit codes: 0 done; 1 the work failed (see the message); 2 the command cannot run as given.')
    .exitOverride();
  const state: RunState = { databaseFlagsGiven: '', exitCode: EXIT.ok };
  defineCommands(program, io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.exitCode;
  } catch (error: unknown) {
    // Only the CLI chooses exit codes; the library reports through errors.
    if (error instanceof CommanderError) {
      // Commander printed the message (or the help) already.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, code } = explain(error, state.databaseFlagsGiven);
    io.stderr(`error: ${message}\n`);
    return code;
  }
}

interface RunState {
  /** The database flags as typed, to repeat them in a hint ("run migrate with the same flags"). */
  databaseFlagsGiven: string;
  exitCode: number;
}

/** Declares every command on `program`; their actions write to `io` and record the exit code in `state`. */
function defineCommands(program: Command, io: CliIo, state: RunState): void {
  const out = (line: string) => io.stdout(`${line}\n`);
  const err = (line: string) => io.stderr(`${line}\n`);

  /** The flags every command that opens the database takes. */
  function databaseCommand(name: string, description: string, parent: Command): Command {
    return parent
      .command(name)
      .exitOverride()
      .description(description)
      .option('--config <path>', 'your app’s stripe-attribution.config.ts (default: found in ., src/ or lib/)')
      .option('--database-url <url>', 'Postgres URL (default: $DATABASE_URL, else embedded PGlite)')
      .option('--data-dir <dir>', `directory of the embedded PGlite database (default: ${DEFAULT_DATA_DIR})`)
      .option('--table-prefix <prefix>', 'prefix of the table names', 'sa_')
      .option('--schema <schema>', 'Postgres schema for the tables');
  }

  const cwd = io.cwd ?? process.cwd();

  /**
   * How a command may get its instance. `money`: it records or computes money, so only the app's own
   * configuration will do (exit 2 without one, before anything is opened). `creates`: it may create
   * the embedded database (only `migrate`); every other command refuses a directory holding none,
   * so a mistyped --data-dir is an error rather than a new empty database.
   */
  interface InstanceNeeds {
    money?: string;
    /** Like `money`, for another reason: the sentence saying why the config is needed. */
    config?: string;
    creates?: boolean;
    /** Options of the instance built from the flags when there is no config. */
    fromFlags?: () => Promise<AttributionOptions>;
  }

  /** Runs `fn` with the app's instance from its config file, else the one the flags describe; closes it afterwards. */
  async function withAttribution(flags: DatabaseFlags, fn: (attribution: Attribution, configPath: string | undefined) => Promise<void>, needs: InstanceNeeds = {}): Promise<void> {
    const layout = resolveLayout(flags);
    const configPath = flags.config ? resolve(cwd, flags.config) : findConfig(cwd);
    let attribution: Attribution;
    if (configPath) {
      const given = [flags.databaseUrl && '--database-url', flags.dataDir && '--data-dir', flags.tablePrefix !== 'sa_' && '--table-prefix', flags.schema && '--schema'].filter(Boolean);
      if (given.length > 0) throw new UsageError(`${given.join(', ')} cannot be combined with a config (${configPath}): the database is the one your config sets.`);
      state.databaseFlagsGiven = flags.config ? ` --config ${flags.config}` : '';
      attribution = await loadConfig(configPath);
    } else {
      if (needs.money) throw new UsageError(`${needs.money} needs your app’s configuration, so it computes commissions with your program’s rewards. ${HOW_TO_ADD_CONFIG}`);
      if (needs.config) throw new UsageError(`${needs.config} ${HOW_TO_ADD_CONFIG}`);
      const url = flags.databaseUrl ?? (flags.dataDir ? undefined : io.env.DATABASE_URL || undefined);
      if (url !== undefined) checkPostgresUrl(url, flags.databaseUrl ? '--database-url' : 'DATABASE_URL');
      const database = url ?? resolve(cwd, flags.dataDir ?? DEFAULT_DATA_DIR);
      state.databaseFlagsGiven = [
        flags.databaseUrl ? ` --database-url '${maskUrl(flags.databaseUrl)}'` : '',
        flags.dataDir ? ` --data-dir ${flags.dataDir}` : '',
        flags.tablePrefix !== 'sa_' ? ` --table-prefix ${flags.tablePrefix}` : '',
        flags.schema ? ` --schema ${flags.schema}` : '',
      ].join('');
      if (url === undefined && !needs.creates) checkEmbeddedDatabase(database, flags.dataDir, state.databaseFlagsGiven);
      attribution = createAttribution({ database, tablePrefix: layout.tablePrefix, schema: layout.schema, ...(await needs.fromFlags?.()) });
    }
    try {
      await fn(attribution, configPath);
    } finally {
      await attribution.close();
    }
  }

  databaseCommand('migrate', 'Create or update the stripe-attribution tables in your database', program)
    .option('--print', 'print the SQL instead of running it (for schemas owned by another migration tool)')
    .action(async (flags: DatabaseFlags & { print?: boolean }) => {
      if (flags.print) {
        io.stdout(await migrationSql(resolveLayout(flags)));
        return;
      }
      await withAttribution(
        flags,
        async (attribution) => {
          const { applied } = await attribution.migrate();
          if (applied.length === 0) out('No pending migrations: the database is up to date.');
          for (const name of applied) out(`Applied migration ${name}`);
        },
        { creates: true },
      );
    });

  const payouts = program.command('payouts').description('Pay partners: group approved commissions into payouts, export them, mark them paid').exitOverride();

  const payoutRows = (list: readonly Payout[]) =>
    list.map((p) => [p.id, p.partnerName, p.partnerEmail ?? '', money(p.amount, p.currency), p.status, p.createdAt.toISOString().slice(0, 10)]);
  const PAYOUT_HEADER = ['Payout', 'Partner', 'Email', 'Amount', 'Status', 'Created'];

  function printPayouts(list: readonly Payout[], format: OutputFlags, csvOf: (list: readonly Payout[]) => Promise<string>): Promise<void> | void {
    if (format.json) return void io.stdout(json(list));
    if (format.csv) return csvOf(list).then((text) => void io.stdout(text));
    io.stdout(list.length === 0 ? 'No payouts.\n' : table(PAYOUT_HEADER, payoutRows(list), 3));
  }

  databaseCommand('create', 'Approve commissions whose hold period ended, then group approved ones (clawbacks netted) into one payout per partner, program and currency', payouts)
    .option('--minimum <amount>', 'smallest payout, in minor units (5000 = 50.00)', wholeNumber, 0)
    .option('--currency <currency>', 'only this currency')
    .option('--program <id>', 'only this program’s commissions')
    .option('--test', 'test-mode data instead of live')
    .option('--csv', 'print the new payouts as CSV')
    .option('--json', 'print the new payouts as JSON')
    .action(async (flags: DatabaseFlags & OutputFlags & { minimum: number; currency?: string; program?: string; test?: boolean }) => {
      await withAttribution(
        flags,
        async (attribution) => {
          const { approved } = await attribution.commissions.approveDue();
          err(`Approved ${approved} commission${approved === 1 ? '' : 's'} whose hold period ended.`);
          const request = {
            minimumAmount: flags.minimum,
            livemode: !flags.test,
            ...(flags.currency ? { currency: flags.currency.toLowerCase() } : {}),
            ...(flags.program ? { programId: flags.program } : {}),
          };
          const created = await attribution.payouts.create(request);
          err(`Created ${created.length} payout${created.length === 1 ? '' : 's'}.`);
          if (created.length === 0) err(await whyNoPayouts(attribution, request));
          await printPayouts(created, flags, async () => payoutsCsv(created));
        },
        { money: 'payouts create' },
      );
    });

  databaseCommand('list', 'List payouts (pending by default)', payouts)
    .option('--status <status>', 'pending or paid', oneOf(['pending', 'paid']), 'pending')
    .option('--program <id>', 'only this program’s payouts')
    .option('--test', 'test-mode data instead of live')
    .option('--csv', 'CSV for your bank or payout provider')
    .option('--json', 'JSON')
    .action(async (flags: DatabaseFlags & OutputFlags & { status: 'pending' | 'paid'; program?: string; test?: boolean }) => {
      await withAttribution(flags, async (attribution) => {
        const filter = { status: flags.status, livemode: !flags.test, ...(flags.program ? { programId: flags.program } : {}) };
        await printPayouts(await attribution.payouts.list(filter), flags, () => attribution.payouts.csv(filter));
      });
    });

  databaseCommand('mark-paid', 'Mark payouts and their commissions paid, once you have sent the money', payouts)
    .argument('<payoutIds...>', 'the payout ids (po_…), as listed')
    .option('--paid-at <date>', 'when the money was sent (ISO date; default now)', isoDate)
    .action(async (ids: string[], flags: DatabaseFlags & { paidAt?: Date }) => {
      await withAttribution(flags, async (attribution) => {
        const unknown: string[] = [];
        for (const id of ids) {
          const paid = await attribution.payouts.markPaid(id, flags.paidAt);
          if (!paid) unknown.push(id);
          else if (paid.alreadyPaid) out(`Payout ${id}: already paid on ${paid.paidAt!.toISOString()}, ${money(paid.amount, paid.currency)} to ${paid.partnerName}; nothing changed`);
          else out(`Payout ${id}: paid, ${money(paid.amount, paid.currency)} to ${paid.partnerName}`);
        }
        if (unknown.length > 0) throw new AttributionError(`No payout ${unknown.join(', ')}: list them with \`npx stripe-attribution payouts list\``);
      });
    });

  databaseCommand('cancel', 'Cancel pending payouts: their commissions go back to the next `payouts create`', payouts)
    .argument('<payoutIds...>', 'the payout ids (po_…), as listed')
    .action(async (ids: string[], flags: DatabaseFlags) => {
      await withAttribution(flags, async (attribution) => {
        const unknown: string[] = [];
        for (const id of ids) {
          if (await attribution.payouts.cancel(id)) out(`Payout ${id}: cancelled; its commissions go into the next \`payouts create\``);
          else unknown.push(id);
        }
        if (unknown.length > 0) throw new AttributionError(`No payout ${unknown.join(', ')}: list them with \`npx stripe-attribution payouts list\``);
      });
    });

  defineReviewCommands<DatabaseFlags>(program, { databaseCommand, withAttribution, out });

  const kit: CommandKit = { databaseCommand, withAttribution, out, err, stdout: io.stdout };
  definePartnerCommands(program, kit);
  defineLedgerCommands(program, kit);

  applicationCommands<DatabaseFlags>(program, { databaseCommand, withAttribution, out, stdout: io.stdout });
  defineOutboxCommands(program, databaseCommand, withAttribution, out);

  databaseCommand('report', 'Per partner and period: clicks, leads, sales, revenue, refunds (untaxed) and commissions by status', program)
    .option('--from <date>', 'first day (ISO date, UTC; default: all time)', isoDate)
    .option('--to <date>', 'day after the last (ISO date, exclusive; default: no end)', isoDate)
    .option('--interval <interval>', 'day, week, month or all', oneOf(['day', 'week', 'month', 'all']), 'month')
    .option('--partner <idOrCode>', 'one partner, by id or referral code')
    .option('--program <id>', 'one program')
    .option('--test', 'test-mode data instead of live')
    .option('--csv', 'CSV, amounts in minor units')
    .option('--json', 'JSON, amounts in minor units')
    .action(async (flags: DatabaseFlags & OutputFlags & { from?: Date; to?: Date; interval: ReportInterval; partner?: string; program?: string; test?: boolean }) => {
      await withAttribution(flags, async (attribution) => {
        const list = await attribution.partners.list();
        const partner = flags.partner && list.find((p) => p.id === flags.partner || p.codes.includes(flags.partner!.toLowerCase()));
        if (flags.partner && !partner) throw new AttributionError(`No partner with id or code "${flags.partner}": see \`npx stripe-attribution partners list\``);
        const rows = await attribution.report({
          from: flags.from ?? new Date(Date.UTC(1970, 0, 1)),
          to: flags.to ?? new Date(Date.UTC(9999, 0, 1)),
          interval: flags.interval,
          livemode: !flags.test,
          ...(partner ? { partnerId: partner.id } : {}),
          ...(flags.program ? { programId: flags.program } : {}),
        });
        const name = (id: string) => list.find((p) => p.id === id)?.name ?? id;
        const STATUSES = ['pending', 'approved', 'held', 'paid', 'voided'] as const;
        const lines = rows.flatMap((row): ReportLine[] => {
          const currencies = Object.entries(row.currencies);
          // One row for the whole range: without --from its start is no date worth printing.
          const period = flags.interval === 'all' && !flags.from ? 'all' : row.period.toISOString().slice(0, 10);
          const base = { partnerId: row.partnerId, partnerName: name(row.partnerId), period, clicks: row.clicks, leads: row.leads };
          if (currencies.length === 0) return [{ ...base, currency: null, sales: 0, revenue: 0, refunded: 0, commissions: null }];
          return currencies.map(([currency, totals]) => ({ ...base, currency, sales: totals.sales, revenue: totals.revenue, refunded: totals.refunded, commissions: totals.commissions }));
        });
        if (flags.json) return void io.stdout(json(lines));
        if (flags.csv) {
          const header = ['partner_id', 'partner_name', 'period', 'currency', 'clicks', 'leads', 'sales', 'revenue', 'refunded', ...STATUSES.map((s) => `commissions_${s}`)];
          const data = lines.map((l) => [l.partnerId, l.partnerName, l.period, l.currency ?? '', l.clicks, l.leads, l.sales, l.revenue, l.refunded, ...STATUSES.map((s) => l.commissions?.[s] ?? 0)].map(String));
          return void io.stdout(csv(header, data));
        }
        if (lines.length === 0) return void io.stdout(`Nothing to report${flags.test ? '' : ' in live mode (add --test for Stripe test-mode data)'}.\n`);
        const amount = (value: number, currency: string | null) => (currency ? money(value, currency) : '');
        const header = ['Partner', 'Period', 'Clicks', 'Leads', 'Sales', 'Revenue', 'Refunded', ...STATUSES.map((s) => s[0]!.toUpperCase() + s.slice(1))];
        const data = lines.map((l) => [l.partnerName, l.period, String(l.clicks), String(l.leads), String(l.sales), amount(l.revenue, l.currency), amount(l.refunded, l.currency), ...STATUSES.map((s) => amount(l.commissions?.[s] ?? 0, l.currency))]);
        io.stdout(table(header, data, 2));
      });
    });

  databaseCommand('reconcile', 'Re-read Stripe’s event list and apply the events your webhook missed (30 days back at most)', program)
    .requiredOption('--since <when>', 'how far back: 30m, 12h, 3d, or an ISO date; beyond 30 days it is clamped')
    .action(async (flags: DatabaseFlags & { since: string }) => {
      const since = parseSince(flags.since, new Date());
      await withAttribution(
        flags,
        async (attribution, configPath) => {
          if (!attribution.options.stripe) throw new UsageError(`reconcile reads Stripe’s events through your Stripe client: ${configPath} must create the instance with createAttribution({ stripe, … })`);
          const result = await attribution.reconcile({
            since,
            onProgress: (progress) => {
              if (progress.phase === 'started') {
                const clamped = progress.clamped ? ' (clamped: Stripe keeps events for 30 days)' : '';
                err(`Reading Stripe events since ${progress.since.toISOString()}${clamped}`);
              } else if (progress.phase === 'listing') {
                err(`Listed ${progress.seen} events, ${progress.alreadyProcessed} already processed${progress.done ? '' : '…'}`);
              } else {
                err(`Applied ${progress.applied} of ${progress.total}, ${progress.failed} failed${progress.done ? '' : '…'}`);
              }
            },
          });
          out(
            `Reconciled Stripe events since ${result.since.toISOString()}: ${result.seen} seen, ${result.applied} applied, ` +
              `${result.alreadyProcessed} already processed, ${result.failed} failed; ${result.parked.stillParked} still parked.`,
          );
          if (result.failed > 0) {
            err('The failures went to your instance’s onError (its logger); nothing of a failed event was kept, so the next run retries it.');
            state.exitCode = EXIT.failed;
          }
        },
        { money: 'reconcile' },
      );
    });

  databaseCommand('apply-parked', 'Apply events parked until their counterpart arrived (an invoice before its checkout, a refund before its sale)', program).action(
    async (flags: DatabaseFlags) => {
      await withAttribution(
        flags,
        async (attribution) => {
          const { retried, stillParked } = await attribution.applyParked();
          out(`Retried ${retried} parked event${retried === 1 ? '' : 's'}; ${stillParked} still parked.`);
        },
        { money: 'apply-parked' },
      );
    },
  );

  databaseCommand('doctor', 'Check the setup: database, webhook secret, IP salt, Stripe endpoint and key mode, parked events, hook events, pending payouts', program).action(
    async (flags: DatabaseFlags) => {
      await withAttribution(
        flags,
        async (attribution, configPath) => {
          const checks = await runDoctor(attribution, { configPath, nodeEnv: io.env.NODE_ENV, databaseFlags: state.databaseFlagsGiven });
          const width = Math.max(...checks.map((check) => check.name.length));
          for (const check of checks) out(`${check.status.padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}`);
          if (checks.some((check) => check.status === 'fail')) state.exitCode = EXIT.failed;
        },
        {
          // Without a config, the settings the one-line install reads from the environment.
          fromFlags: async () => ({
            ...(io.env.STRIPE_WEBHOOK_SECRET ? { webhookSecret: io.env.STRIPE_WEBHOOK_SECRET.split(',').map((secret) => secret.trim()) } : {}),
            ...(io.env.STRIPE_ATTRIBUTION_IP_SALT ? { clicks: { ipSalt: io.env.STRIPE_ATTRIBUTION_IP_SALT } } : {}),
            ...(io.env.STRIPE_SECRET_KEY ? { stripe: await stripeFromEnv(io.env.STRIPE_SECRET_KEY, io.env.STRIPE_API_BASE) } : {}),
          }),
        },
      );
    },
  );
}

/** One line of `report`: a partner, a period, a currency (none when the period had no sales). */
interface ReportLine {
  partnerId: string;
  partnerName: string;
  period: string;
  clicks: number;
  leads: number;
  currency: string | null;
  sales: number;
  revenue: number;
  refunded: number;
  commissions: Record<'pending' | 'approved' | 'held' | 'paid' | 'voided', number> | null;
}

function wholeNumber(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) throw new InvalidArgumentError('a whole number of minor units, such as 5000 for 50.00');
  return number;
}

function isoDate(value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('an ISO date, such as 2026-05-01');
  return date;
}

function oneOf<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) throw new InvalidArgumentError(`one of ${values.join(', ')}`);
    return value as T;
  };
}

/** `--database-url` must be a Postgres URL: any other string would silently become a PGlite directory. */
function checkPostgresUrl(value: string, from: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || !/^postgres(ql)?:$/.test(url.protocol) || !url.hostname) {
    throw new UsageError(`${from} "${maskUrl(value)}" is not a Postgres URL (postgres://user:password@host:5432/database). For the embedded database use --data-dir <dir>.`);
  }
}

const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `12h`, `3d` before `now`, or an ISO date. */
function parseSince(value: string, now: Date): Date {
  const duration = DURATION.exec(value.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--since "${value}" is neither a duration (30m, 12h, 3d) nor an ISO date (2026-05-01)`);
  return date;
}

/**
 * The embedded database a command other than `migrate` opens must be there: PGlite would create an
 * empty one in any directory, and a mistyped --data-dir would then report "nothing" instead of failing.
 */
function checkEmbeddedDatabase(directory: string, given: string | undefined, databaseFlags: string): void {
  if (existsSync(join(directory, 'PG_VERSION'))) return;
  if (given && !existsSync(directory)) throw new UsageError(`--data-dir ${given}: no such directory (${directory}). Check the path, or create the database there with: npx stripe-attribution migrate${databaseFlags}`);
  throw new AttributionError(`No stripe-attribution database in ${directory}. Run: npx stripe-attribution migrate${databaseFlags}`);
}

/** The merchant's Stripe client for `doctor` without a config, from STRIPE_SECRET_KEY; `apiBase` points it elsewhere (a proxy, a test stand-in). */
async function stripeFromEnv(key: string, apiBase: string | undefined): Promise<Stripe> {
  const { default: StripeClass } = await importOptional('stripe', 'Reading Stripe events', () => import('stripe'));
  if (!apiBase) return new StripeClass(key);
  const url = new URL(apiBase);
  return new StripeClass(key, {
    host: url.hostname,
    protocol: url.protocol === 'http:' ? 'http' : 'https',
    ...(url.port ? { port: Number(url.port) } : {}),
  });
}
