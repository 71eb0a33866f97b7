import { sql } from 'kysely';
import Stripe from 'stripe';
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import { TABLES } from '../../src/core/storage/schema.js';
import type { Storage, StorageOperations } from '../../src/core/storage/types.js';
import { freshStorage, whenDone, type Backend } from './backends.js';
import { startStripeServer } from './stripe-server.js';
import { T0 } from './stripe-fixtures.js';

/**
 * A merchant's world for webhook tests: a migrated storage in a schema of its own, partners Alice
 * (code and promotion code) and Bob, a live click of Alice's, a Stripe API stand-in, and a way to
 * deliver signed events as Stripe does.
 */
export const SECRET = 'whsec_sales_suite';
export const signer = new Stripe('sk_test_signer');

/**
 * One Stripe stand-in per test worker, shared by the files it runs (they share loaded modules) and
 * made clean again before each file by the suite's setup (`test/support/each-file.ts`).
 */
export const stripeServer = await startStripeServer({ keepProcessAlive: false });

export interface World {
  attribution: Attribution;
  storage: Storage;
  alice: string;
  bob: string;
  /** A live click of Alice's, made just before the purchases. */
  aliceClick: string;
  deliver(stripeEvent: Stripe.Event): Promise<{ status: number; body: any }>;
  count(table: string): Promise<number>;
  /** Every table's row count, in one statement: what a refused delivery must leave as it was. */
  counts(): Promise<Record<string, number>>;
  /** The Postgres schema holding this world's tables. */
  schema: string;
}

export async function world(backend: Backend, wrap?: (storage: Storage) => Storage, extra: Partial<AttributionOptions> = {}): Promise<World> {
  const real = await freshStorage(backend);
  const storage = wrap ? wrap(real) : real;
  const attribution = createAttribution({
    database: storage,
    webhookSecret: SECRET,
    stripe: stripeServer.client(),
    // The client's key is a test key, which would make tracked leads test data; these worlds were
    // written with live ones (test mode from the key: test/core/test-mode.test.ts).
    livemode: true,
    clicks: { ipSalt: 'pepper' },
    clock: () => new Date((T0 - 3600) * 1000),
    onError: () => {},
    ...extra,
  });
  // close() stops the outbox worker first; a test's wrapped storage need not forward its own close.
  // Registered after the storage's own, so it runs before the schema is handed back for reuse.
  whenDone(() => attribution.close().catch(() => {}));
  const alice = await attribution.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice', promotionCodes: ['promo_alice'] });
  const bob = await attribution.partners.create({ name: 'Bob', code: 'bob' });
  const { clickId } = await attribution.captureClick({
    method: 'GET',
    url: 'https://shop.example/?via=alice',
    headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605.1.15' },
  });
  const schema = real.layout.schema!;
  return {
    attribution,
    storage: real,
    alice: alice.id,
    bob: bob.id,
    aliceClick: clickId!,
    schema,
    async deliver(stripeEvent) {
      const payload = JSON.stringify(stripeEvent);
      return attribution.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }));
    },
    async count(table) {
      const rows = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, table)}`.execute(backend.db);
      return rows.rows[0]!.n;
    },
    async counts() {
      const counts = TABLES.map((table) => sql`(select count(*)::int from ${sql.id(schema, `sa_${table}`)}) as ${sql.id(table)}`);
      const { rows } = await sql<Record<string, number>>`select ${sql.join(counts)}`.execute(backend.db);
      return rows[0]!;
    },
  };
}

/**
 * The storage, with some operations of every transaction it runs replaced: `override(tx)` returns
 * the replacements (which may call `tx`'s own), to fail or interleave a write mid-transaction.
 */
export function overrideInTransactions(real: Storage, override: (tx: StorageOperations) => Partial<StorageOperations>): Storage {
  return { ...bind(real), transaction: (fn) => real.transaction((tx) => fn({ ...bind(tx), ...override(tx) })) };
}

/** The object's methods bound to it, so a copy can replace a few and keep the rest. */
function bind<T extends object>(target: T): T {
  const bound: Record<string, unknown> = {};
  let proto: object | null = target;
  while (proto && proto !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const value = (target as Record<string, unknown>)[key];
      if (typeof value === 'function' && key !== 'constructor' && !(key in bound)) bound[key] = (value as Function).bind(target);
    }
    proto = Object.getPrototypeOf(proto);
  }
  return bound as T;
}
