import type { Kysely, Selectable } from 'kysely';
import type { Database } from './schema.js';

/** What every domain store is written against: the scoped database, or a transaction on it. */
export type Db = Kysely<Database>;

/** A table's row as read back. */
export type Row<T extends keyof Database> = Selectable<Database[T]>;
