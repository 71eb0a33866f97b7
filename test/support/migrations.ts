import type { Kysely } from 'kysely';
import { scopeDatabase } from '../../src/core/storage/layout.js';
import { Migrator, type KyselyMigration } from '../../src/core/storage/migrations/kysely-migrator.js';
import type { MigrationContext } from '../../src/core/storage/migrations/migration.js';
import { introspectingOnly } from '../../src/core/storage/migrations/own-schema.js';

type PackagedUp = { up(db: Kysely<any>, context: MigrationContext): Promise<void> };

/** A database as an earlier release left it: migrated by exactly that release's migrations, default layout. */
export async function migratedWith(db: Kysely<any>, schema: string, release: Record<string, PackagedUp>): Promise<void> {
  const context = { index: (name: string) => `sa_${name}` };
  const migrations: Record<string, KyselyMigration> = Object.fromEntries(
    Object.entries(release).map(([name, migration]) => [name, { up: (scoped: Kysely<any>) => migration.up(scoped, context) }]),
  );
  const migrator = new Migrator({
    // As migrate() gives it: Kysely's own look-up of its tables reads the whole catalog, seconds on a test worker's.
    db: introspectingOnly(scopeDatabase(db, { tablePrefix: 'sa_', schema }), db, schema),
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'sa_migrations',
    migrationLockTableName: 'sa_migrations_lock',
    migrationTableSchema: schema,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
