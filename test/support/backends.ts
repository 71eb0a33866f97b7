import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, inject, onTestFinished } from 'vitest';
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
 * Runs `done` when the current test ends, telling whether it passed, or, called outside a test (a
 * `beforeAll`), when the file does; either way the latest registered runs first, so what uses a
 * schema is closed before the schema is handed back.
 */
export function whenDone(done: (passed: boolean) => Promise<void>): void {
  try {
    onTestFinished(({ task }) => done(task.result?.state === 'pass'));
  } catch {
    // onTestFinished refuses to be called outside a test.
    closeAtFileEnd(() => done(true));
  }
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
    for (const close of closers.splice(0).reverse()) await close();
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
 * A migrated storage in a schema of its own, for the current test (or, made outside one, the
 * current file). A new schema is made from `migrationSql` in one script, a quarter of the Migrator's
 * time (the Migrator itself is tested by the migration tests, and a later `migrate()` here finds
 * nothing pending). When the test passes the schema is handed back, and the next test in this worker
 * gets it emptied to the rows the migrations left: that is a fraction of making one, which grows
 * slower as the database's catalog fills with the schemas a worker has made.
 */
export async function freshStorage(backend: Backend, options: { tablePrefix?: string } = {}): Promise<KyselyStorage> {
  const kind = `${backend.name}:${options.tablePrefix ?? ''}`;
  const spares = spare.get(kind) ?? spare.set(kind, []).get(kind)!;
  const reused = spares.pop();
  const layout = resolveLayout({ schema: reused ?? uniqueSchema(), ...options });
  if (reused) {
    await backend.exec(emptyingScript(layout.schema!, migratedState.get(kind)!));
  } else {
    await backend.exec(await migrationSql(layout));
    // Read before the caller writes anything.
    if (!migratedState.has(kind)) migratedState.set(kind, await stateOf(backend, layout.schema!));
  }
  // A failed test may have left more than rows (a trigger, a body still running past its timeout):
  // its schema is never used again.
  whenDone(async (passed) => {
    if (passed) spares.push(layout.schema!);
  });
  return createKyselyStorage({ db: backend.db, ...layout });
}

/** Schemas made by this worker that no test is using, by backend and table prefix. */
const spare = new Map<string, string[]>();

/** A schema's tables, and the rows the migrations put in some of them (the migration log, the default program). */
interface MigratedState {
  tables: string[];
  rows: Array<{ table: string; json: string }>;
}

/** What a newly migrated schema holds, per backend and table prefix: read once, from the first one made. */
const migratedState = new Map<string, MigratedState>();

async function stateOf(backend: Backend, schema: string): Promise<MigratedState> {
  const tables = await tablesIn(backend.db, schema);
  const rows: MigratedState['rows'] = [];
  for (const table of tables) {
    const { rows: found } = await sql<{ json: string | null }>`select json_agg(t)::text as json from ${sql.table(`${schema}.${table}`)} t`.execute(backend.db);
    if (found[0]?.json) rows.push({ table, json: found[0].json });
  }
  return { tables, rows };
}

function emptyingScript(schema: string, state: MigratedState): string {
  const name = (table: string) => `"${schema}"."${table}"`;
  return [
    `truncate ${state.tables.map(name).join(', ')} restart identity`,
    ...state.rows.map(({ table, json }) => `insert into ${name(table)} select * from json_populate_recordset(null::${name(table)}, '${json.replaceAll("'", "''")}')`),
  ].join(';\n');
}

export async function tablesIn(db: Kysely<any>, schema: string): Promise<string[]> {
  const rows = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(db);
  return rows.rows.map((row) => row.table_name);
}
