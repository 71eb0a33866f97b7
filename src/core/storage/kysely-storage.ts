import type { Kysely } from 'kysely';
import { forgetCustomer, type ForgetRequest } from './forget-customer.js';
import { resolveLayout, scopeDatabase, type TableLayout } from './layout.js';
import { migrateToLatest, pendingMigrations } from './migrations/index.js';
import type { MigrationReport } from './migrations/migration.js';
import { kyselyOperations } from './operations.js';
import type { Db } from './rows.js';
import type { Storage, StorageOperations } from './types.js';

export interface KyselyStorageOptions {
  /** The merchant's Kysely instance for Postgres (node-postgres or PGlite). */
  db: Kysely<any>;
  /** Table name prefix. Default `sa_`. */
  tablePrefix?: string;
  /** Postgres schema for the tables. Default: the connection's search path (usually `public`). */
  schema?: string;
  /** Called by `close()`: set when the storage opened the connection itself. */
  onClose?: () => Promise<void>;
}

/** The one Storage implementation: Postgres through Kysely, on a server or embedded (PGlite). */
export function createKyselyStorage(options: KyselyStorageOptions): KyselyStorage {
  return new KyselyStorage(options);
}

// The domain operations are the stores' own methods, put on each instance by the constructor; this
// declaration (merged with the class) tells TypeScript they are there.
export interface KyselyStorage extends StorageOperations {}

export class KyselyStorage implements Storage {
  readonly layout: TableLayout;
  protected readonly db: Db;
  readonly #options: KyselyStorageOptions;
  #closed = false;

  constructor(options: KyselyStorageOptions) {
    this.layout = resolveLayout(options);
    this.db = scopeDatabase(options.db as Db, this.layout);
    this.#options = options;
    Object.assign(this, kyselyOperations(this.db));
  }

  migrate(): Promise<MigrationReport> {
    return migrateToLatest(this.#options.db, this.layout);
  }

  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.#options.db, this.layout);
  }

  transaction<T>(fn: (tx: StorageOperations) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(kyselyOperations(trx)));
  }

  forgetCustomer(request: ForgetRequest): Promise<string[]> {
    return forgetCustomer(this.db, request);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#options.onClose?.();
  }
}
