import type { Kysely } from 'kysely';
import { ConfigurationError } from '../kernel/errors.js';
import { TABLES } from './schema.js';
import { TablePrefixPlugin } from './table-prefix-plugin.js';

/** Where the library's tables live in the merchant's database. */
export interface TableLayout {
  /** Put in front of every table, index and constraint name. Default `sa_`. */
  tablePrefix: string;
  /** A Postgres schema of their own (created when missing). Default: the connection's search path. */
  schema?: string | undefined;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Validates a layout and applies its defaults, in the one place they are decided. */
export function resolveLayout(options: { tablePrefix?: string | undefined; schema?: string | undefined } = {}): TableLayout {
  const tablePrefix = options.tablePrefix ?? 'sa_';
  const schema = options.schema || undefined;
  if (tablePrefix !== '' && !IDENTIFIER.test(tablePrefix)) {
    throw new ConfigurationError(`tablePrefix must be lower-case letters, digits and "_", got "${tablePrefix}"`);
  }
  if (schema !== undefined && !IDENTIFIER.test(schema)) {
    throw new ConfigurationError(`schema must be lower-case letters, digits and "_", got "${schema}"`);
  }
  if (tablePrefix === '' && schema === undefined) {
    throw new ConfigurationError(
      'An empty tablePrefix needs a schema of its own, or tables like "customers" would clash with yours: ' +
        'set schema (e.g. "stripe_attribution") or keep a prefix.',
    );
  }
  return { tablePrefix, schema };
}

/** The merchant's Kysely, pointed at the library's tables. */
export function scopeDatabase<DB>(db: Kysely<DB>, layout: TableLayout): Kysely<DB> {
  const prefixed = db.withPlugin(new TablePrefixPlugin(layout.tablePrefix, TABLES));
  return layout.schema ? prefixed.withSchema(layout.schema) : prefixed;
}
