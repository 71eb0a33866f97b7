import {
  sql,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';
import { Migrator, type KyselyMigration, type KyselyMigrationProvider } from './kysely-migrator.js';
import { MigrationError } from '../../kernel/errors.js';
import { scopeDatabase, type TableLayout } from '../layout.js';
import { introspectingOnly } from './own-schema.js';
import type { MigrationContext, MigrationReport, PackagedMigration } from './migration.js';
import * as initial from './0001_initial.js';
import * as invoicePayments from './0002_invoice_payments.js';
import * as afterSale from './0003_disputes_credits_subscriptions.js';
import * as rewards from './0004_rewards.js';
import * as payouts from './0005_payouts.js';
import * as chargeAmounts from './0006_charge_amounts.js';
import * as guestCustomers from './0007_guest_customers.js';
import * as milestones from './0008_milestones.js';
import * as programs from './0009_programs.js';
import * as partnerGroups from './0010_partner_groups.js';
import * as chargeRefunds from './0011_charge_refunds.js';
import * as trialSeatLeads from './0012_trial_seat_leads.js';
import * as payoutCommissionCount from './0013_payout_commission_count.js';
import * as partnerApplications from './0014_partner_applications.js';
import * as fraudReview from './0015_fraud_review.js';
import * as connect from './0016_connect.js';
import * as outbox from './0017_outbox.js';
import * as manualAdjustments from './0018_manual_adjustments.js';

/**
 * Every migration, by name, in order. Static imports (not files found at run time) so they survive
 * bundling into a merchant's server build. Names are permanent: they are the rows of the
 * migrations table.
 */
const MIGRATIONS: Record<string, PackagedMigration> = {
  '0001_initial': initial,
  '0002_invoice_payments': invoicePayments,
  '0003_disputes_credits_subscriptions': afterSale,
  '0004_rewards': rewards,
  '0005_payouts': payouts,
  '0006_charge_amounts': chargeAmounts,
  '0007_guest_customers': guestCustomers,
  '0008_milestones': milestones,
  '0009_programs': programs,
  '0010_partner_groups': partnerGroups,
  '0011_charge_refunds': chargeRefunds,
  '0012_trial_seat_leads': trialSeatLeads,
  '0013_payout_commission_count': payoutCommissionCount,
  '0014_partner_applications': partnerApplications,
  '0015_fraud_review': fraudReview,
  '0016_connect': connect,
  '0017_outbox': outbox,
  '0018_manual_adjustments': manualAdjustments,
};

class PackagedMigrationProvider implements KyselyMigrationProvider {
  constructor(private readonly context: MigrationContext) {}

  async getMigrations(): Promise<Record<string, KyselyMigration>> {
    return Object.fromEntries(
      Object.entries(MIGRATIONS).map(([name, migration]) => [
        name,
        {
          up: (db: Kysely<any>) => migration.up(db, this.context),
          down: migration.down && ((db: Kysely<any>) => migration.down!(db, this.context)),
        },
      ]),
    );
  }
}

function migrationContext(layout: TableLayout): MigrationContext {
  return { index: (name) => `${layout.tablePrefix}${name}` };
}

/** The migration bookkeeping tables. Named once; renaming them would re-run every migration. */
export function migrationTables(layout: TableLayout) {
  return {
    migrationTableName: `${layout.tablePrefix}migrations`,
    migrationLockTableName: `${layout.tablePrefix}migrations_lock`,
  };
}

/**
 * Applies every pending migration, each in its own transaction. Kysely's Migrator holds a Postgres
 * advisory lock meanwhile, so processes migrating at once take turns and the later ones find
 * nothing pending.
 */
export async function migrateToLatest(db: Kysely<any>, given: TableLayout): Promise<MigrationReport> {
  // Without a schema of their own the tables land in the connection's current schema: name it, or
  // Kysely would take a migrations table of the same name in any other schema for ours.
  const schema = given.schema ?? (await currentSchema(db));
  const layout = { ...given, schema };
  // During a rolling deploy an older instance meets migrations a newer one applied: with all of
  // its own applied it has nothing to do (Kysely's Migrator would call that history corrupted).
  if (await allApplied(db, layout)) return { applied: [] };
  const migrator = new Migrator({
    db: introspectingOnly(scopeDatabase(db, given), db, schema),
    provider: new PackagedMigrationProvider(migrationContext(layout)),
    ...migrationTables(layout),
    migrationTableSchema: schema,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error');
    throw new MigrationError(failed?.migrationName, { cause: error });
  }
  return { applied: results.filter((result) => result.status === 'Success').map((result) => result.migrationName) };
}

async function currentSchema(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]!.schema;
}

async function allApplied(db: Kysely<any>, layout: TableLayout): Promise<boolean> {
  return (await unapplied(db, layout)).length === 0;
}

/** The packaged migrations the database has not recorded as applied, in order; all of them on an empty database. */
export async function pendingMigrations(db: Kysely<any>, given: TableLayout): Promise<string[]> {
  return unapplied(db, given.schema ? given : { ...given, schema: await currentSchema(db) });
}

async function unapplied(db: Kysely<any>, layout: TableLayout): Promise<string[]> {
  const { migrationTableName } = migrationTables(layout);
  const table = layout.schema ? `${layout.schema}.${migrationTableName}` : migrationTableName;
  const { rows } = await sql<{ present: boolean }>`select to_regclass(${table}) is not null as present`.execute(db);
  if (!rows[0]?.present) return Object.keys(MIGRATIONS);
  const applied = await sql<{ name: string }>`select name from ${sql.table(table)}`.execute(db);
  const names = new Set(applied.rows.map((row) => row.name));
  return Object.keys(MIGRATIONS).filter((name) => !names.has(name));
}

/**
 * The SQL that `migrateToLatest` would run on an empty database, for merchants whose schema is
 * owned by another migration tool. It also records the migrations as applied, so a later
 * `migrate()` finds nothing pending instead of creating the tables twice.
 */
export async function migrationSql(layout: TableLayout): Promise<string> {
  const statements: string[] = [];
  const recorder = new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      statements.push(event.query.sql);
    },
  });
  const db = scopeDatabase(recorder, layout);
  const context = migrationContext(layout);
  const { migrationTableName, migrationLockTableName } = migrationTables(layout);
  const q = (name: string) => `"${name}"`;
  const qualified = (name: string) => (layout.schema ? `${q(layout.schema)}.${q(name)}` : q(name));
  const table = qualified(migrationTableName);
  const lockTable = qualified(migrationLockTableName);

  if (layout.schema) statements.push(`create schema if not exists ${q(layout.schema)}`);
  // Same shape as the table Kysely's Migrator creates, so it adopts this one.
  statements.push(`create table if not exists ${table} ("name" varchar(255) not null primary key, "timestamp" varchar(255) not null)`);
  statements.push(`create table if not exists ${lockTable} ("id" varchar(255) not null primary key, "is_locked" integer default 0 not null)`);
  statements.push(`insert into ${lockTable} ("id", "is_locked") values ('migration_lock', 0) on conflict do nothing`);
  for (const [name, migration] of Object.entries(MIGRATIONS)) {
    statements.push(`-- migration ${name}`);
    await migration.up(db, context);
    statements.push(
      `insert into ${table} ("name", "timestamp") values ('${name}', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`,
    );
  }
  await recorder.destroy();
  const body = statements.map((statement) => (statement.startsWith('--') ? statement : `${statement};`)).join('\n');
  return `begin;\n${body}\ncommit;\n`;
}
