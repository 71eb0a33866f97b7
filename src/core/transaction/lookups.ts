import type { Storage, StorageOperations } from '../storage/types.js';
import { AttributionError } from '../kernel/errors.js';
import type { TransactionRunner } from './run.js';

/**
 * Asks Stripe's API for something an event needs (a charge's amount, an invoice's expanded
 * discounts). Inside a transaction it never waits on the network: the answer comes from what was
 * fetched before the transaction opened, or the transaction is given up and retried once it has.
 */
export type Lookup = <T>(key: string, fetch: () => Promise<T>) => Promise<T>;

/** Thrown inside a transaction to give it up until `key` has been fetched outside it. */
class LookupNeeded extends Error {
  constructor(
    readonly key: string,
    readonly fetch: () => Promise<unknown>,
  ) {
    super(`Stripe look-up ${key} is needed first`);
  }
}

/** Raised when a Stripe API look-up takes longer than `stripeTimeoutMs`: the event fails (5xx) and Stripe retries it. */
export class LookupTimeoutError extends AttributionError {
  constructor(key: string, ms: number) {
    super(`The Stripe API did not answer ${key} within ${ms} ms; the event will be retried`);
    this.name = 'LookupTimeoutError';
  }
}

/**
 * Each distinct look-up of one event, at most: the transaction re-runs from the start after each new
 * one, so this bounds how often (a handler asking for an endless stream of keys is a bug).
 */
const MAX_LOOKUPS = 16;

/**
 * Runs `fn` in a transaction (hooks delivered after commit) with a `Lookup` that never holds the
 * transaction open on Stripe's API. A row lock or a pooled connection is never kept waiting on a
 * slow or failing API: the look-up runs between attempts, with a timeout, and the transaction is
 * re-run from the start with its answer. Most events need no look-up and run once.
 */
export async function transactionWithLookups<T>(
  storage: Storage,
  transactions: TransactionRunner,
  fn: (tx: StorageOperations, lookup: Lookup) => Promise<T>,
): Promise<T> {
  const answers = new Map<string, unknown>();
  const lookup: Lookup = async <V>(key: string, fetch: () => Promise<V>) => {
    if (answers.has(key)) return answers.get(key) as V;
    throw new LookupNeeded(key, fetch);
  };
  for (;;) {
    try {
      return await transactions.run(storage, (tx) => fn(tx, lookup));
    } catch (error) {
      if (!(error instanceof LookupNeeded) || answers.size >= MAX_LOOKUPS) throw error;
      answers.set(error.key, await withTimeout(error.key, error.fetch(), transactions.stripeTimeoutMs));
    }
  }
}

async function withTimeout<T>(key: string, pending: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LookupTimeoutError(key, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
