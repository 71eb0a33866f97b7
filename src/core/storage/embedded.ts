import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kysely } from 'kysely';
import { EmbeddedDatabaseLockedError } from '../errors.js';
import { importOptional } from '../optional-dependency.js';
import { PGliteDialect } from './pglite-dialect.js';

/** The data directory used when `createAttribution` is given no database. */
export const DEFAULT_DATA_DIR = '.stripe-attribution';

export const IN_MEMORY = 'memory://';

export interface EmbeddedDatabase {
  db: Kysely<any>;
  close(): Promise<void>;
}

/**
 * Opens embedded PGlite in `dataDir` (or in memory for `memory://`). A lock file claims the
 * directory for this process first: PGlite has no multi-process protection of its own, and two
 * processes writing one directory would corrupt it. A lock left by a process that no longer runs
 * is taken over.
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const { PGlite } = await importOptional('@electric-sql/pglite', 'The embedded database', () => import('@electric-sql/pglite'));
  if (dataDir === IN_MEMORY) {
    const db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
    return { db, close: () => db.destroy() };
  }
  const directory = resolve(dataDir);
  const releaseLock = claimDirectory(directory);
  try {
    const pglite = new PGlite(directory);
    await pglite.waitReady;
    const db = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      close: async () => {
        try {
          await db.destroy();
        } finally {
          releaseLock();
        }
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

function claimDirectory(directory: string): () => void {
  mkdirSync(directory, { recursive: true });
  const lockFile = join(directory, 'stripe-attribution.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => {
        process.off('exit', release);
        rmSync(lockFile, { force: true });
      };
      // A lock left behind by a crash is recognised by its dead pid, but a clean exit removes it.
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
      if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) {
        throw new EmbeddedDatabaseLockedError(directory, holder);
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new EmbeddedDatabaseLockedError(directory, Number.NaN);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
