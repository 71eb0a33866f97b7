import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

/**
 * What every bench shares: its own Postgres database (never the tests' one), sizes read from the
 * environment so a quick run and a full run are the same command, and small statistics helpers.
 */
export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_DB = process.env.BENCH_DATABASE ?? 'sa_bench';
export const BENCH_URL = process.env.BENCH_DATABASE_URL ?? ADMIN_URL.replace(/\/[^/]*$/, `/${BENCH_DB}`);

/** An integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
  return parsed;
}

/** Creates the bench database on first use. */
export async function ensureBenchDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [BENCH_DB]);
    if (!rowCount) await admin.query(`create database "${BENCH_DB.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
}

export function benchPool(max = 10): pg.Pool {
  return new pg.Pool({ connectionString: BENCH_URL, max });
}

/**
 * A Kysely instance on the pool. With `BENCH_PROFILE=1` it also counts every statement and its time,
 * printed by `printProfile()`: the round trips per event are what a webhook's cost is made of.
 */
export function kyselyOn(pool: pg.Pool): Kysely<any> {
  const profiling = process.env.BENCH_PROFILE === '1';
  return new Kysely<any>({
    dialect: new PostgresDialect({ pool }),
    ...(profiling
      ? {
          log(event) {
            const key = event.query.sql.replace(/\$\d+/g, '?').slice(0, 160);
            const entry = profile.get(key) ?? { count: 0, ms: 0 };
            entry.count += 1;
            entry.ms += event.queryDurationMillis;
            profile.set(key, entry);
          },
        }
      : {}),
  });
}

const profile = new Map<string, { count: number; ms: number }>();

/** The statements seen since the last call, by total time, then forgets them. */
export function printProfile(label: string, top = 25): void {
  if (profile.size === 0) return;
  const rows = [...profile].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  process.stderr.write(`\nprofile: ${label}\n`);
  for (const [statement, { count, ms }] of rows) process.stderr.write(`${String(count).padStart(7)} ${ms.toFixed(0).padStart(7)} ms  ${statement}\n`);
  profile.clear();
}

/** Drops and recreates a schema, so every run starts from the same empty tables. */
export async function freshSchema(db: Kysely<any>, schema: string): Promise<void> {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}
