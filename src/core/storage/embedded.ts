import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Kysely } from 'kysely';
import { EmbeddedDatabaseLockedError } from '../kernel/errors.js';
import { importOptional } from '../kernel/optional-dependency.js';
import { PGliteDialect } from './pglite-dialect.js';

/** The data directory used when `createAttribution` is given no database. */
export const DEFAULT_DATA_DIR = '.stripe-attribution';

export const IN_MEMORY = 'memory://';

export interface EmbeddedDatabase {
  db: Kysely<any>;
  close(): Promise<void>;
}

interface OpenDirectory {
  db: Promise<Kysely<any>>;
  users: number;
  close(): Promise<void>;
}

/**
 * Directories this process has open, shared by every instance in it (through `globalThis`, so
 * that separately bundled copies of the library — Next's proxy and route bundles, a dev server's
 * reloads — share them too instead of locking each other out).
 */
const registry: Map<string, OpenDirectory> = ((globalThis as Record<symbol, unknown>)[Symbol.for('stripe-attribution.embedded')] ??=
  new Map<string, OpenDirectory>()) as Map<string, OpenDirectory>;

/**
 * Opens embedded PGlite in `dataDir` (or in memory for `memory://`). A lock file claims the
 * directory for this process: PGlite has no multi-process protection of its own, and two
 * processes writing one directory would corrupt it. Within one process the directory is shared.
 * A lock left on this host by a process that no longer runs is taken over.
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  // webpackIgnore: see importOptional; a bundler must leave the driver to Node at run time.
  const { PGlite } = await importOptional('@electric-sql/pglite', 'The embedded database', () =>
    import(/* webpackIgnore: true */ '@electric-sql/pglite'));
  if (dataDir === IN_MEMORY) {
    const db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
    return { db, close: () => db.destroy() };
  }
  const directory = resolve(dataDir);
  let open = registry.get(directory);
  if (!open) {
    const releaseLock = claimDirectory(directory);
    const db = (async () => {
      const pglite = new PGlite(directory);
      await pglite.waitReady;
      return new Kysely<any>({ dialect: new PGliteDialect(pglite) });
    })();
    const entry: OpenDirectory = {
      db,
      users: 0,
      close: async () => {
        registry.delete(directory);
        try {
          await (await db).destroy();
        } finally {
          releaseLock();
        }
      },
    };
    open = entry;
    registry.set(directory, entry);
    db.catch(() => {
      registry.delete(directory);
      releaseLock();
    });
  }
  const shared = open;
  shared.users++;
  const db = await shared.db;
  let closed = false;
  return {
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      if (--shared.users === 0) await shared.close();
    },
  };
}

interface LockHolder {
  pid: number;
  hostname: string;
}

function claimDirectory(directory: string): () => void {
  mkdirSync(directory, { recursive: true });
  const lockFile = join(directory, 'stripe-attribution.lock');
  const me: LockHolder = { pid: process.pid, hostname: hostname() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, JSON.stringify(me));
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
      const holder = readHolder(lockFile);
      // Another host (a container sharing the volume) cannot be checked: never take its lock.
      // Our own pid without the directory in the registry is a previous life of this container.
      // An unreadable lock is one a crash cut off mid-write.
      const stale = holder === undefined || (holder.hostname === me.hostname && (holder.pid === me.pid || !isRunning(holder.pid)));
      if (!stale) throw new EmbeddedDatabaseLockedError(directory, holder.pid, holder.hostname === me.hostname ? undefined : holder.hostname);
      rmSync(lockFile, { force: true });
    }
  }
  throw new EmbeddedDatabaseLockedError(directory, Number.NaN);
}

function readHolder(lockFile: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(lockFile, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' ? (parsed as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
