import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/**
 * A merchant's project outside this repository, as the CLI meets it: `stripe-attribution` (this
 * package, built: dist/) and `stripe` installed in its node_modules.
 */
export function merchantProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sa-project-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'stripe-attribution'), 'dir');
  symlinkSync(join(root, 'node_modules', 'stripe'), join(dir, 'node_modules', 'stripe'), 'dir');
  return dir;
}
