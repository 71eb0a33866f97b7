import type { Hooks } from './hooks.js';
import type { Storage, StorageOperations } from '../storage/types.js';

/** What a transaction needs of the instance's options (the resolved options are one). */
export interface TransactionSettings {
  hooks: Hooks;
  /** How long a Stripe API look-up between attempts may take. */
  stripeTimeoutMs: number;
}

/**
 * The one way the core opens a transaction: `fn` runs in `storage.transaction`, and the hook events
 * and after-commit work it raised (`emit`, `afterCommit`) are delivered only once it has committed.
 * A write made through `storage.transaction` directly would drop them silently.
 */
export function runTransaction<T>(storage: Storage, options: TransactionSettings, fn: (tx: StorageOperations) => Promise<T>): Promise<T> {
  return options.hooks.transaction(storage, fn);
}
