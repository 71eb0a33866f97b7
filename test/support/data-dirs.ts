import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

// Copies of databases the global setup made once (test/support/pglite-template.ts): a fresh
// directory would cost an initdb, and a migration, of seconds each.

/** A new directory holding an initialised, empty embedded database. */
export function emptyDataDir(prefix = 'sa-db-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(inject('pgliteDataDir'), dir, { recursive: true });
  return dir;
}

/** A new directory holding an embedded database migrated as `stripe-attribution migrate` leaves it. */
export function migratedDataDir(prefix = 'sa-db-'): string {
  return migratedDataDirAt(mkdtempSync(join(tmpdir(), prefix)));
}

/** The same at `dir` (made if missing). */
export function migratedDataDirAt(dir: string): string {
  cpSync(inject('pgliteMigratedDataDir'), dir, { recursive: true });
  return dir;
}
