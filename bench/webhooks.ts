import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import Stripe from 'stripe';
import { createAttribution } from '../src/core/attribution.js';
import { T0, charge, checkoutSession, event, invoice } from '../test/support/stripe-fixtures.js';
import { startStripeServer } from '../test/support/stripe-server.js';
import { benchPool, envInt, freshSchema, kyselyOn, log, median, percentile, printProfile, round } from './support.js';

export interface WebhookFigure {
  events: number;
  concurrency: number;
  rounds: number;
  mix: string;
  floorEventsPerSecond: number;
  realEventsPerSecond: number;
  floorP99: number;
  realP99: number;
  /** Median of per-round ratios real / floor. */
  throughputRatio: number;
  p99Ratio: number;
  /** Deliveries answered anything but 200 (must be 0). */
  failures: number;
  /** What the ledger holds after the real runs, to show the work was done. */
  ledger: { sales: number; commissions: number; parked: number };
}

const SCHEMA = 'bench_wh';
const FLOOR_SCHEMA = 'bench_wh_floor';
const SECRET = 'whsec_bench';
const DAY = 86_400;
const signer = new Stripe('sk_test_bench');

/**
 * The real webhook handler (signature, then the whole ledger transaction) against a floor that
 * does the least any handler must: verify the signature and insert the event's row. Same
 * Postgres, same pool size, same concurrency, alternating rounds with fresh event ids.
 */
export async function benchWebhooks(): Promise<WebhookFigure> {
  const total = envInt('BENCH_WH_EVENTS', 2000);
  const concurrency = envInt('BENCH_WH_CONCURRENCY', 8);
  const rounds = envInt('BENCH_WH_ROUNDS', 2);

  const stripeServer = await startStripeServer();
  const pool = benchPool(10);
  const db = kyselyOn(pool);
  await freshSchema(db, SCHEMA);
  await freshSchema(db, FLOOR_SCHEMA);
  await sql`create schema ${sql.id(FLOOR_SCHEMA)}`.execute(db);
  await sql`create table ${sql.id(FLOOR_SCHEMA, 'webhook_events')} (
    id text primary key, type text not null, livemode boolean not null, api_version text, stripe_created_at timestamptz not null,
    processed_at timestamptz not null default now())`.execute(db);

  const attribution = createAttribution({
    database: db,
    schema: SCHEMA,
    webhookSecret: SECRET,
    stripe: stripeServer.client(),
    clicks: { ipSalt: 'bench-salt' },
    program: { holdDays: 30, reward: { type: 'percent', percent: 30, duration: { months: 12 } } },
    clock: () => new Date((T0 - 3600) * 1000),
    onError: (error) => console.error(error),
  });
  await attribution.migrate();
  const partners = [];
  for (let i = 0; i < 20; i += 1) partners.push(await attribution.partners.create({ name: `Partner ${i}`, code: `p${i}` }));
  const clicks: string[] = [];
  for (let i = 0; i < 200; i += 1) {
    const { clickId } = await attribution.captureClick({
      method: 'GET',
      url: `https://shop.example/?via=p${i % partners.length}`,
      headers: { 'user-agent': `Mozilla/5.0 visitor ${i}` },
      remoteAddress: `10.0.${i >> 8}.${i & 255}`,
    });
    clicks.push(clickId!);
  }

  const floor = async (payload: string, signature: string): Promise<number> => {
    const verified = signer.webhooks.constructEvent(payload, signature, SECRET, 300);
    await sql`insert into ${sql.id(FLOOR_SCHEMA, 'webhook_events')} (id, type, livemode, api_version, stripe_created_at)
      values (${verified.id}, ${verified.type}, ${verified.livemode}, ${verified.api_version ?? null}, ${new Date(verified.created * 1000)})
      on conflict (id) do nothing`.execute(db);
    return 200;
  };
  const real = async (payload: string, signature: string): Promise<number> => (await attribution.handleWebhook(payload, signature)).status;

  const runs: Record<'floor' | 'real', Array<{ perSecond: number; p99: number; failures: number }>> = { floor: [], real: [] };
  // Warm-up: JIT and pool connections, not counted.
  for (const handler of [floor, real]) await deliverAll(signed(mix(`warm${handler === real ? 'r' : 'f'}`, 100, clicks)), handler, concurrency);
  for (let index = 0; index < rounds; index += 1) {
    const order = index % 2 === 0 ? (['floor', 'real'] as const) : (['real', 'floor'] as const);
    for (const name of order) {
      const deliveries = signed(mix(`r${index}${name[0]}`, total, clicks));
      const result = await deliverAll(deliveries, name === 'real' ? real : floor, concurrency);
      runs[name].push(result);
      printProfile(`webhooks ${name} round ${index + 1} (${total} events)`);
      log(`webhooks ${name} round ${index + 1}/${rounds}: ${Math.round(result.perSecond)} events/s, p99 ${round(result.p99, 1)} ms`);
    }
  }
  const count = async (table: string) =>
    (await sql<{ n: number }>`select count(*)::int as n from ${sql.id(SCHEMA, `sa_${table}`)}`.execute(db)).rows[0]!.n;
  const ledger = { sales: await count('sales'), commissions: await count('commissions'), parked: await count('parked_events') };
  await attribution.close();
  await db.destroy();
  await stripeServer.close();

  return {
    events: total,
    concurrency,
    rounds,
    mix: MIX_DESCRIPTION,
    floorEventsPerSecond: round(median(runs.floor.map((r) => r.perSecond)), 0),
    realEventsPerSecond: round(median(runs.real.map((r) => r.perSecond)), 0),
    floorP99: round(median(runs.floor.map((r) => r.p99)), 1),
    realP99: round(median(runs.real.map((r) => r.p99)), 1),
    throughputRatio: round(median(runs.real.map((r, i) => r.perSecond / runs.floor[i]!.perSecond)), 3),
    p99Ratio: round(median(runs.real.map((r, i) => r.p99 / runs.floor[i]!.p99)), 2),
    failures: runs.real.reduce((sum, r) => sum + r.failures, 0),
    ledger,
  };
}

const MIX_DESCRIPTION =
  'per 10 events: 3 one-off checkouts (2 of 3 through a partner click), 1 partial refund of one of them, ' +
  '2 first subscription invoices (through a click) and 4 renewals of earlier subscriptions';

/**
 * `count` events in the order Stripe would mostly send them (a refund after its sale, renewals
 * after the first invoice), ids unique to `prefix` so every round does real work.
 */
function mix(prefix: string, count: number, clicks: readonly string[]): Stripe.Event[] {
  const events: Stripe.Event[] = [];
  const subscriptions: Array<{ id: string; customer: string; click: string; renewals: number }> = [];
  for (let n = 0; events.length < count; n += 1) {
    const id = `${prefix}_${n}`;
    const click = clicks[n % clicks.length]!;
    const slot = n % 10;
    if (slot < 3) {
      const viaClick = slot < 2;
      events.push(
        event(
          'checkout.session.completed',
          checkoutSession({
            id: `cs_${id}`,
            payment_intent: `pi_${id}`,
            customer: `cus_${id}`,
            customer_details: null,
            customer_email: `buyer_${id}@example.com`,
            metadata: viaClick ? { sa_click_id: click } : {},
            amount_total: 5000 + (n % 7) * 1000,
            created: T0 + n,
          }),
        ),
      );
      if (slot === 0) {
        events.push(event('charge.refunded', charge({ id: `ch_${id}`, payment_intent: `pi_${id}`, customer: `cus_${id}`, amount: 5000 + (n % 7) * 1000, amount_refunded: 1000 })));
      }
    } else if (slot < 5) {
      subscriptions.push({ id: `sub_${id}`, customer: `cus_${id}`, click, renewals: 0 });
      events.push(subscriptionInvoice(`in_${id}_0`, subscriptions.at(-1)!, 0, n));
    } else if (slot < 9 && subscriptions.length > 0) {
      const subscription = subscriptions[n % subscriptions.length]!;
      subscription.renewals += 1;
      events.push(subscriptionInvoice(`in_${subscription.id}_${subscription.renewals}`, subscription, subscription.renewals, n));
    }
  }
  return events.slice(0, count);
}

function subscriptionInvoice(id: string, subscription: { id: string; customer: string; click: string }, months: number, n: number): Stripe.Event {
  const paidAt = T0 + months * 30 * DAY + n;
  return event(
    'invoice.paid',
    invoice({
      id,
      customer: subscription.customer,
      customer_email: `${subscription.customer}@example.com`,
      created: paidAt,
      billing_reason: months === 0 ? 'subscription_create' : 'subscription_cycle',
      status_transitions: { finalized_at: paidAt, marked_uncollectible_at: null, paid_at: paidAt, voided_at: null },
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: { metadata: { sa_click_id: subscription.click }, subscription: subscription.id },
      },
    }),
  );
}

function signed(events: readonly Stripe.Event[]): Array<{ payload: string; signature: string }> {
  return events.map((stripeEvent) => {
    const payload = JSON.stringify(stripeEvent);
    return { payload, signature: signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }) };
  });
}

/** Delivers in order with `concurrency` in flight, as Stripe does to one endpoint. */
async function deliverAll(
  deliveries: ReadonlyArray<{ payload: string; signature: string }>,
  handler: (payload: string, signature: string) => Promise<number>,
  concurrency: number,
): Promise<{ perSecond: number; p99: number; failures: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++]!;
      const t = performance.now();
      const status = await handler(delivery.payload, delivery.signature);
      latencies.push(performance.now() - t);
      if (status !== 200) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: deliveries.length / seconds, p99: percentile(latencies, 99), failures };
}
