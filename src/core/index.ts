export { createAttribution, type Attribution, type AttributionOptions } from './attribution.js';
export {
  AttributionError,
  ConfigurationError,
  ConflictError,
  EmbeddedDatabaseLockedError,
  MigrationError,
  MissingDependencyError,
  NotImplementedError,
} from './errors.js';
export type { Amount } from './money.js';
export type { DatabaseOption } from './storage/database.js';
export { createKyselyStorage, KyselyStorage, type KyselyStorageOptions } from './storage/kysely-storage.js';
export { migrationSql } from './storage/migrations/index.js';
export { resolveLayout, type TableLayout } from './storage/layout.js';
export { PGliteDialect } from './storage/pglite-dialect.js';
export type * from './storage/types.js';
