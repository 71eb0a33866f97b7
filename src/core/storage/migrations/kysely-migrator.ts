import * as kysely from 'kysely';
import type { MigrationResultSet, MigratorProps } from 'kysely';

/**
 * Kysely's Migrator from wherever the merchant's kysely keeps it: the root export up to 0.28,
 * `kysely/migration` from 0.29 on (the root keeps only a type-level stub there, and 0.28 has no
 * such subpath), so neither a static import from the root nor one from the subpath works on both.
 * Loaded when migrations run, the only time it is needed.
 */
export class Migrator {
  constructor(private readonly props: MigratorProps) {}

  async migrateToLatest(): Promise<MigrationResultSet> {
    const KyselyMigrator = await loadMigrator();
    return new KyselyMigrator(this.props).migrateToLatest();
  }
}

type MigratorClass = typeof kysely.Migrator;

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
