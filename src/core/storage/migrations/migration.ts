import type { Kysely } from 'kysely';

/**
 * What a packaged migration is, what it is given and what running them reports. Below both the
 * migrations and the runner (`index.ts`), so neither imports the other's file for a type.
 */

export interface MigrationContext {
  /** The name of an index or constraint, prefixed like the tables so it never clashes. */
  index(name: string): string;
}

export interface PackagedMigration {
  up(db: Kysely<any>, context: MigrationContext): Promise<void>;
  down?(db: Kysely<any>, context: MigrationContext): Promise<void>;
}

export interface MigrationReport {
  /** Names of the migrations this call applied, in order; empty when nothing was pending. */
  applied: string[];
}
