import { openStorage, type DatabaseOption } from './storage/database.js';
import type { MigrationReport, Storage } from './storage/types.js';

export interface AttributionOptions {
  /**
   * Where attribution data lives: a Postgres URL, your own `Kysely` instance for Postgres, a
   * custom `Storage`, `memory://`, or a directory for embedded PGlite.
   * Default: embedded PGlite in `./.stripe-attribution`.
   */
  database?: DatabaseOption;
  /** Prefix of every table, index and constraint the library creates. Default `sa_`. */
  tablePrefix?: string;
  /** A Postgres schema of their own for the tables, created by `migrate()`. Default: none (search path). */
  schema?: string;
}

export interface Attribution {
  /** Applies the packaged schema migrations to the database. Idempotent and safe to run concurrently. */
  migrate(): Promise<MigrationReport>;
  /** The storage behind this instance, opened on first use. */
  storage(): Promise<Storage>;
  /** Closes what the library opened itself (its pool, the embedded database); yours stays open. */
  close(): Promise<void>;
}

/**
 * Creates the attribution instance. Nothing connects until the first call that needs the
 * database, so creating it at module load is cheap and never throws for a database that is down.
 */
export function createAttribution(options: AttributionOptions = {}): Attribution {
  let opened: Promise<Storage> | undefined;
  const storage = (): Promise<Storage> => {
    opened ??= openStorage(options).catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  return {
    storage,
    migrate: async () => (await storage()).migrate(),
    close: async () => {
      if (!opened) return;
      const pending = opened;
      opened = undefined;
      await (await pending).close();
    },
  };
}
