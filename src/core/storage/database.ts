import { Kysely, PostgresDialect } from 'kysely';
import { ConfigurationError } from '../kernel/errors.js';
import { importOptional } from '../kernel/optional-dependency.js';
import { DEFAULT_DATA_DIR, openEmbeddedDatabase } from './embedded.js';
import { createKyselyStorage } from './kysely-storage.js';
import type { Storage } from './types.js';

/**
 * Where attribution data lives:
 * - a Postgres URL (`postgres://…`): a `pg` pool of the library's own, closed by `close()`;
 * - the merchant's own `Kysely` instance for Postgres: used as is, never closed by the library;
 * - a custom `Storage` implementation;
 * - `memory://`: embedded PGlite in memory, gone when the process ends (tests, demos);
 * - any other string: a directory for embedded PGlite;
 * - omitted: embedded PGlite in `./.stripe-attribution`.
 */
export type DatabaseOption = string | Kysely<any> | Storage;

export interface StorageOptions {
  database: DatabaseOption | undefined;
  /** Told about errors that happen outside any call, such as a pooled connection dropping. */
  onError: (error: unknown, during: string) => void;
  /** Table name prefix. Default `sa_`. */
  tablePrefix?: string | undefined;
  /** Postgres schema for the tables. Default: the connection's search path. */
  schema?: string | undefined;
}

export async function openStorage(options: StorageOptions): Promise<Storage> {
  const { database = DEFAULT_DATA_DIR, tablePrefix, schema } = options;
  const layout = { tablePrefix, schema };
  if (isStorage(database)) return database;
  if (database instanceof Kysely || isKyselyLike(database)) {
    return createKyselyStorage({ db: database as Kysely<any>, ...defined(layout) });
  }
  if (typeof database !== 'string' || database === '') {
    throw new ConfigurationError('database must be a Postgres URL, a Kysely instance, a Storage, or a directory for embedded PGlite');
  }
  if (/^postgres(ql)?:\/\//i.test(database)) {
    // webpackIgnore: see importOptional; a bundler must leave the driver to Node at run time.
    const pg = await importOptional('pg', 'A Postgres database URL', () => import(/* webpackIgnore: true */ 'pg'));
    const Pool = pg.Pool ?? (pg as unknown as { default: typeof pg }).default.Pool;
    const pool = new Pool({ connectionString: database });
    // An idle connection dropped by a restart or failover is an 'error' event on the pool; without
    // a listener Node would crash the merchant's process. The pool replaces the connection.
    pool.on('error', (error) => options.onError(error, 'postgres connection'));
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    return createKyselyStorage({ db, ...defined(layout), onClose: () => db.destroy() });
  }
  const embedded = await openEmbeddedDatabase(database);
  return createKyselyStorage({ db: embedded.db, ...defined(layout), onClose: embedded.close });
}

function isStorage(value: unknown): value is Storage {
  return typeof value === 'object' && value !== null && typeof (value as Storage).transaction === 'function' &&
    typeof (value as Storage).recordWebhookEvent === 'function';
}

/** A Kysely from another copy of the package fails `instanceof`; its shape still tells. */
function isKyselyLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Kysely<any>).selectFrom === 'function' &&
    typeof (value as Kysely<any>).withPlugin === 'function';
}

function defined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
