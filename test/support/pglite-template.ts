import { PGlite } from '@electric-sql/pglite';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A file holding the data directory of a freshly initialised PGlite. */
    pgliteTemplate: string;
  }
}

/**
 * Global setup: initialises one PGlite and keeps its data directory, so each test file's database
 * loads it instead of running initdb again (about half of a PGlite start).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pglite = new PGlite();
  // Without it the dump waits on a database that is still starting, and never settles.
  await pglite.waitReady;
  const dump = await pglite.dumpDataDir('none');
  await pglite.close();
  const directory = await mkdtemp(join(tmpdir(), 'sa-pglite-'));
  const file = join(directory, 'template.tar');
  await writeFile(file, new Uint8Array(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', file);
  return () => rm(directory, { recursive: true, force: true });
}
