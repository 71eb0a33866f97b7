import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createAttribution } from '../../src/core/attribution.js';
import { chromiumExecutable } from './chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A file holding the data directory of a freshly initialised PGlite. */
    pgliteTemplate: string;
    /** A closed PGlite data directory on disk, initialised and empty: copy it, never open it. */
    pgliteDataDir: string;
    /** The same, migrated with the default layout, as `stripe-attribution migrate` leaves it. */
    pgliteMigratedDataDir: string;
    /** What this run's Postgres schemas start with: its teardown drops those and no other run's. */
    schemaPrefix: string;
  }
}

/**
 * Global setup: initialises one PGlite and keeps its data directory, so each test worker's database
 * loads it instead of running initdb again (about half of a PGlite start), and keeps it on disk,
 * empty and migrated, for tests that give a directory to the CLI or `createAttribution`: a copy
 * opens in a fraction of initdb's seconds.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Every temporary file of the run (tests' directories, the CLI's and demo's children, Chromium's
  // profiles) lands under one directory, removed when the run ends however a test left it.
  const scratch = await mkdtemp(join(tmpdir(), 'sa-test-run-'));
  process.env.TMPDIR = scratch;
  // Workers inherit the environment, so the browser tests' Chromium is unpacked once, beside the
  // database's start rather than after it. Where it cannot be, only the browser tests fail (each
  // trying again, and saying why).
  const chromium = chromiumExecutable().then(
    (path) => void (process.env.CHROMIUM_PATH = path),
    (error: Error) => console.warn(`Chromium for the browser tests: ${error.message}`),
  );
  // One initdb, straight into the directory kept on disk, whose dump the workers load: an initdb in
  // memory plus a load onto disk cost some 3 s more before any test could start.
  const directory = await mkdtemp(join(tmpdir(), 'sa-pglite-'));
  const empty = join(directory, 'empty');
  const onDisk = new PGlite(empty);
  // Without it the dump waits on a database that is still starting, and never settles.
  await onDisk.waitReady;
  const dump = await onDisk.dumpDataDir('none');
  await onDisk.close();
  const file = join(directory, 'template.tar');
  await writeFile(file, new Uint8Array(await dump.arrayBuffer()));

  const migrated = join(directory, 'migrated');
  cpSync(empty, migrated, { recursive: true });
  const attribution = createAttribution({ database: migrated });
  await attribution.migrate();
  await attribution.close();

  await chromium;
  project.provide('pgliteTemplate', file);
  project.provide('pgliteDataDir', empty);
  project.provide('pgliteMigratedDataDir', migrated);
  const schemaPrefix = `t_${randomBytes(3).toString('hex')}_`;
  project.provide('schemaPrefix', schemaPrefix);
  return async () => {
    try {
      await rm(scratch, { recursive: true, force: true });
    } finally {
      await dropTestSchemas(schemaPrefix);
    }
  };
}

/**
 * Leaves a developer's Postgres as it was (CI's is fresh per run anyway). Only here, once every
 * file has finished: files run side by side on the same database, so none may drop what it made
 * while another could be reading the catalog.
 */
async function dropTestSchemas(prefix: string): Promise<void> {
  if (!process.env.DATABASE_URL) return;
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('select nspname as name from pg_namespace where starts_with(nspname, $1)', [prefix]);
    for (const { name } of rows) await client.query(`drop schema if exists ${client.escapeIdentifier(name)} cascade`);
  } finally {
    await client.end();
  }
}
