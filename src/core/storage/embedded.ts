import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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
 * The first `memory://` database's cluster as initdb left it. Later ones in the process load this
 * image (about a second) instead of running initdb again (several): a test suite that makes an
 * instance per test pays initdb once. Kept for the life of the process (some 40 MB), on
 * `globalThis` like the registry below so that every copy of the library in the process shares it;
 * a test harness that already holds such an image may put it there first.
 */
const FRESH_CLUSTER = Symbol.for('stripe-attribution.fresh-cluster');
const processWide = globalThis as Record<symbol, Promise<Blob> | undefined>;

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
 * A lock left on this host by a process that no longer runs, or anywhere by a holder silent for
 * longer than `staleAfterMs`, is taken over (see `claimDirectory`).
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  // webpackIgnore: see importOptional; a bundler must leave the driver to Node at run time.
  const { PGlite } = await importOptional('@electric-sql/pglite', 'The embedded database', () =>
    import(/* webpackIgnore: true */ '@electric-sql/pglite'));
  if (dataDir === IN_MEMORY) {
    // A first start that failed leaves no image: this one then runs initdb itself.
    const image = await processWide[FRESH_CLUSTER]?.catch(() => undefined);
    const pglite = image ? new PGlite({ loadDataDir: image }) : new PGlite();
    if (!image) {
      const dumped = pglite.waitReady.then(() => pglite.dumpDataDir('none'));
      processWide[FRESH_CLUSTER] = dumped;
      try {
        await dumped;
      } catch (error) {
        if (processWide[FRESH_CLUSTER] === dumped) processWide[FRESH_CLUSTER] = undefined;
        await pglite.close().catch(() => {});
        throw error;
      }
    }
    const db = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
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

/** Who holds a lock: written complete before the lock file exists, never changed after. */
interface LockHolder {
  pid: number;
  hostname: string;
  /** Tells this claim from an earlier one by the same pid (a container's pid 1 after a restart). */
  token: string;
}

export interface LockOptions {
  /**
   * How long a lock may go without its holder's heartbeat before it counts as abandoned. The only
   * test possible for a holder on another host (a container sharing the volume); on this host a
   * dead pid frees it at once. Default 60 s; the holder refreshes it every sixth of that.
   */
  staleAfterMs?: number;
}

const LOCK_NAME = /^stripe-attribution\.(\d+)\.lock$/;
const lockName = (generation: number) => `stripe-attribution.${generation}.lock`;

/**
 * Claims `directory` for this process and returns the release. Locks are generations
 * (`stripe-attribution.<n>.lock`), each created exclusively and complete (written to a temporary
 * file, then hard-linked into place: `link` fails if the name exists), so no one ever reads a
 * half-written lock. The holder is the highest generation. A claimant that finds it stale creates
 * the next generation instead of deleting it, so of two processes racing for the same stale lock,
 * or for an empty directory, exactly one creation succeeds; and no process ever removes a lock it
 * does not hold (superseded generations are only cleared by the one that superseded them).
 */
export function claimDirectory(directory: string, { staleAfterMs = 60_000 }: LockOptions = {}): () => void {
  mkdirSync(directory, { recursive: true });
  const me: LockHolder = { pid: process.pid, hostname: hostname(), token: randomUUID() };
  const temporary = join(directory, `.stripe-attribution.${me.token}.tmp`);
  writeFileSync(temporary, JSON.stringify(me));
  try {
    // Each turn either creates the lock, or meets a newer generation than it saw (or one that
    // vanished on release): only a lock seen held and live ends the loop with an error.
    for (;;) {
      const current = currentLock(directory);
      if (current === 'changed') continue;
      if (current && !isStale(current, me, staleAfterMs)) {
        const holder = current.holder;
        throw new EmbeddedDatabaseLockedError(directory, holder?.pid ?? Number.NaN, holder && holder.hostname !== me.hostname ? holder.hostname : undefined);
      }
      const generation = (current?.generation ?? 0) + 1;
      const lockFile = join(directory, lockName(generation));
      try {
        linkSync(temporary, lockFile);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      for (let older = 1; older < generation; older++) rmSync(join(directory, lockName(older)), { force: true });
      return holdLock(lockFile, me, staleAfterMs);
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}

interface ExistingLock {
  generation: number;
  /** undefined when the file does not read as a holder (corrupted on disk): judged by age alone. */
  holder: LockHolder | undefined;
  ageMs: number;
}

/** The highest generation, `null` with none, `'changed'` when it vanished while being read. */
function currentLock(directory: string): ExistingLock | null | 'changed' {
  const generations = readdirSync(directory)
    .map((name) => LOCK_NAME.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);
  if (generations.length === 0) return null;
  const generation = Math.max(...generations);
  const file = join(directory, lockName(generation));
  try {
    const ageMs = Date.now() - statSync(file).mtimeMs;
    return { generation, holder: parseHolder(readFileSync(file, 'utf8')), ageMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'changed';
    throw error;
  }
}

function isStale(lock: ExistingLock, me: LockHolder, staleAfterMs: number): boolean {
  if (lock.ageMs > staleAfterMs) return true;
  const holder = lock.holder;
  if (!holder || holder.hostname !== me.hostname) return false;
  // Our own pid without the directory in the registry is a previous life of this container.
  return holder.pid === me.pid || !isRunning(holder.pid);
}

/** Keeps the lock fresh while held; the release removes it only while it is still this claim's. */
function holdLock(lockFile: string, me: LockHolder, staleAfterMs: number): () => void {
  const ours = () => {
    try {
      return parseHolder(readFileSync(lockFile, 'utf8'))?.token === me.token;
    } catch {
      return false;
    }
  };
  const heartbeat = setInterval(() => {
    // Never keep alive a lock that is no longer this claim's.
    if (!ours()) return;
    const now = new Date();
    try {
      utimesSync(lockFile, now, now);
    } catch {
      // Removed between the check and the refresh: nothing left to keep fresh.
    }
  }, Math.max(1, Math.floor(staleAfterMs / 6)));
  heartbeat.unref();
  const release = () => {
    clearInterval(heartbeat);
    process.off('exit', release);
    if (ours()) rmSync(lockFile, { force: true });
  };
  // A lock left behind by a crash is recognised by its dead pid or its age, but a clean exit removes it.
  process.on('exit', release);
  return release;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' ? { pid: parsed.pid, hostname: parsed.hostname, token: String(parsed.token ?? '') } : undefined;
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
