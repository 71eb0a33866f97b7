import type { Hooks } from './hooks.js';
import type { Storage, StorageOperations } from '../storage/types.js';

/**
 * The one way the core opens a transaction, built once per instance by `createAttribution` from
 * its hook registry and handed down: the hook events and after-commit work a transaction raised
 * (`emit`, `enqueue`) are written to the outbox in it, and delivered once it has committed. A
 * write made through `storage.transaction` directly would drop them silently.
 */
export interface TransactionRunner {
  run<T>(storage: Storage, fn: (tx: StorageOperations) => Promise<T>): Promise<T>;
  /** How long a Stripe API look-up between attempts may take (`transactionWithLookups`). */
  readonly stripeTimeoutMs: number;
}

export function transactionRunner(hooks: Hooks, stripeTimeoutMs: number): TransactionRunner {
  return { run: (storage, fn) => hooks.transaction(storage, fn), stripeTimeoutMs };
}
