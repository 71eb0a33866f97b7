import * as kysely from 'kysely';
import type { Kysely } from 'kysely';

/**
 * Kysely's Migrator from wherever the merchant's kysely keeps it: the root export up to 0.28,
 * `kysely/migration` from 0.29 on (the root keeps only type-level stubs there, and 0.28 has no
 * such subpath), so neither a static import from the root nor one from the subpath works on both.
 * Loaded when migrations run, the only time it is needed.
 *
 * The types below are the part of Kysely's migration API we use, spelled out here because 0.29's
 * root exports them as error stubs and 0.28 has no `kysely/migration` to take them from.
 */

export interface KyselyMigration {
  up(db: Kysely<any>): Promise<void>;
  down?(db: Kysely<any>): Promise<void>;
}

export interface KyselyMigrationProvider {
  getMigrations(): Promise<Record<string, KyselyMigration>>;
}

export interface MigratorProps {
  readonly db: Kysely<any>;
  readonly provider: KyselyMigrationProvider;
  readonly migrationTableName?: string;
  readonly migrationLockTableName?: string;
  readonly migrationTableSchema?: string;
}

export interface MigrationResultSet {
  readonly error?: unknown;
  readonly results?: ReadonlyArray<{
    readonly migrationName: string;
    readonly direction: 'Up' | 'Down';
    readonly status: 'Success' | 'Error' | 'NotExecuted';
  }>;
}

interface KyselyMigrator {
  migrateToLatest(): Promise<MigrationResultSet>;
}
type MigratorClass = new (props: MigratorProps) => KyselyMigrator;

export class Migrator {
  constructor(private readonly props: MigratorProps) {}

  async migrateToLatest(): Promise<MigrationResultSet> {
    const KyselyMigrator = await loadMigrator();
    return new KyselyMigrator(this.props).migrateToLatest();
  }
}

async function loadMigrator(): Promise<MigratorClass> {
  // Read through the namespace: a named import of an export that 0.29 no longer has fails to link.
  const fromRoot = (kysely as { Migrator?: unknown }).Migrator;
  if (typeof fromRoot === 'function') return fromRoot as MigratorClass;
  // Not a literal: the installed (0.28) types know no such subpath, and a bundler must leave it to
  // Node at run time rather than fail the build of an app on 0.28.
  const subpath = 'kysely/migration';
  const module = (await import(/* webpackIgnore: true */ /* @vite-ignore */ subpath)) as { Migrator: MigratorClass };
  return module.Migrator;
}
