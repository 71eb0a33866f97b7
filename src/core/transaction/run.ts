import type { ResolvedOptions } from '../options.js';
import type { Storage, StorageOperations } from '../storage/types.js';

/**
 * The one way the core opens a transaction: `fn` runs in `storage.transaction`, and the hook events
 * and after-commit work it raised (`emit`, `afterCommit`) are delivered only once it has committed.
 * A write made through `storage.transaction` directly would drop them silently.
 */
export function runTransaction<T>(storage: Storage, options: ResolvedOptions, fn: (tx: StorageOperations) => Promise<T>): Promise<T> {
  return options.hooks.transaction(storage, fn);
}
