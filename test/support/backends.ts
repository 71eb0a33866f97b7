import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, inject } from 'vitest';
import { PGliteDialect } from '../../src/core/storage/pglite-dialect.js';
import { createKyselyStorage, type KyselyStorage } from '../../src/core/storage/kysely-storage.js';
import { resolveLayout } from '../../src/core/storage/layout.js';
import { migrationSql } from '../../src/core/storage/migrations/index.js';

/**
 * A database the storage contract runs against: embedded PGlite always, real Postgres whenever
 * DATABASE_URL is set. The embedded one is the test worker's, shared by the files it runs (PGlite
 * takes seconds to start); tests are isolated by giving each its own Postgres schema.
 */
export interface Backend {
  name: 'pglite' | 'postgres';
  /** A Kysely on the shared database. */
  db: Kysely<any>;
  /** A second, independent Kysely on the same database (a second app instance). */
  other(): Kysely<any>;
  /** Runs a script of several statements, as a migration tool would. */
  exec(script: string): Promise<void>;
  /** Whether two connections can truly run at once (PGlite is one session). */
  concurrent: boolean;
}

export const DATABASE_URL = process.env.DATABASE_URL;

const closers: Array<() => Promise<void>> = [];

/** Runs `close` when the current file ends, before its databases close (an instance's outbox worker, say). */
export function closeAtFileEnd(close: () => Promise<void>): void {
  closers.push(close);
}

/**
 * The worker's embedded database: started once (seconds) and shared by the files the worker runs;
 * tests keep apart by schema, as they do on Postgres.
 */
let embedded: Backend | undefined;

/** A new embedded database loaded from the one the global setup initialised: no initdb of its own. */
export function templatePGlite(): PGlite {
  return new PGlite({ loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))]) });
}

/** The worker's embedded database, for tests that need no Postgres run of their own. */
export function embeddedBackend(): Backend {
  if (embedded) return embedded;
  const pglite = templatePGlite();
  const db = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
  embedded = {
    name: 'pglite',
    db,
    other: () => db,
    exec: async (script) => {
      await pglite.exec(script);
    },
    concurrent: false,
  };
  return embedded;
}

export function backends(): Backend[] {
  const list: Backend[] = [embeddedBackend()];
  const toDestroy: Kysely<any>[] = [];
  if (DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    toDestroy.push(db);
    list.push({
      name: 'postgres',
      db,
      other: () => {
        const second = new Kysely<any>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: DATABASE_URL, max: 10 }) }),
        });
        toDestroy.push(second);
        return second;
      },
      exec: async (script) => {
        await pool.query(script);
      },
      concurrent: true,
    });
  }
  afterAll(async () => {
    // Files share the worker: nothing a file started may go on polling into the next one.
    await Promise.all(closers.splice(0).map((close) => close()));
    await Promise.all(toDestroy.map((db) => db.destroy()));
  });
  return list;
}

/**
 * A schema name of the test's own, marked as this run's. The run's teardown drops every schema so
 * marked (`test/support/pglite-template.ts`), once no file can still be using one.
 */
export function uniqueSchema(): string {
  return `${inject('schemaPrefix')}${randomBytes(6).toString('hex')}`;
}

/**
 * A migrated storage in a schema of its own. Created from `migrationSql` in one script, a quarter
 * of the Migrator's time (one transaction instead of one per migration, no lock or introspection);
 * the Migrator itself is tested by the migration tests, and a later `migrate()` here finds nothing
 * pending.
 */
export async function freshStorage(backend: Backend, options: { tablePrefix?: string } = {}): Promise<KyselyStorage> {
  const layout = resolveLayout({ schema: uniqueSchema(), ...options });
  await backend.exec(await migrationSql(layout));
  return createKyselyStorage({ db: backend.db, ...layout });
}

export async function tablesIn(db: Kysely<any>, schema: string): Promise<string[]> {
  const rows = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(db);
  return rows.rows.map((row) => row.table_name);
}
