import { sql, type Kysely } from 'kysely';
import Stripe from 'stripe';
import type { Attribution } from '../../src/core/attribution.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import type { Commission } from '../../src/core/storage/commissions.js';
import type { TableLayout } from '../../src/core/storage/layout.js';
import type { Sale } from '../../src/core/storage/sales.js';
import type { StripeServerFaults } from '../support/stripe-server.js';
import { journeyEvents, mulberry32, PARTNERS, PROMOTION_CODE, type Journey, type PartnerName } from './journeys.js';
import { addCommission, emptyLedger, type ChaosProgram, type ExpectedCommission, type ExpectedSale, type Ledger } from './oracle.js';

/**
 * Delivering journeys the way Stripe does at its worst: at least once (copies), out of order
 * within a window, many at a time, to several app instances, retrying every 5xx — with faults
 * injected inside the database transaction.
 */

export const CHAOS_SECRET = 'whsec_chaos';
export const CHAOS_PROGRAM: ChaosProgram = {
  terms: { ana: { bp: 2000 }, ben: { bp: 3500 }, cy: { flat: 1500 }, dee: { flat: 1200, duration: 'once' }, eli: { bp: 1500, duration: { months: 1 } } },
  leadReward: 300,
};
/**
 * The same program, told to the library: Ana on the default, the others on their own rewards. The
 * app's Stripe client (given apart: it is not plain data) points at the stand-in API (`stripeFaults`):
 * a look-up slower than a second fails the event; attributed customers get their key written back.
 */
export const CHAOS_OPTIONS = {
  program: { currency: 'usd', holdDays: 30, reward: { type: 'percent', percent: 20 }, leadReward: { type: 'flat', amount: 300 } },
  stripeTimeoutMs: 1000,
  backfillCustomerMetadata: true,
  // The oracle is the ledger delivered in order; fraud review is not modelled. The rules that read
  // the partner's other sales and clicks judge them as recorded when the commission is made, so
  // under this replay's reordering their verdict moves with delivery order (a partner at 3 of 6
  // sales refunded reads 3 of 5 while the sixth is still in flight). Left on, they would hold a
  // commission now and then that in-order delivery leaves pending.
  fraud: { rules: { refundRate: false, sharedIdentity: false, clickFlood: false } },
} satisfies Partial<AttributionOptions>;

const signer = new Stripe('sk_test_chaos_signer');

export interface PreparedWorld {
  partnerIds: Record<PartnerName, string>;
  clickIds: Map<number, string>;
}

/** Partners and their rewards, and one click per journey that came through a partner link, before any webhook. */
export async function prepare(attribution: Attribution, journeys: readonly Journey[]): Promise<PreparedWorld> {
  const ana = await attribution.partners.create({ name: 'Ana', code: 'ana' });
  const ben = await attribution.partners.create({ name: 'Ben', code: 'ben', promotionCodes: [PROMOTION_CODE] });
  const cy = await attribution.partners.create({ name: 'Cy', code: 'cy' });
  await attribution.partners.setReward(ben.id, { type: 'percent', percent: 35 });
  await attribution.partners.setReward(cy.id, { type: 'flat', amount: 1500 });
  const dee = await attribution.partners.create({ name: 'Dee', code: 'dee' });
  await attribution.partners.setReward(dee.id, { type: 'flat', amount: 1200, duration: 'once' });
  const eli = await attribution.partners.create({ name: 'Eli', code: 'eli' });
  await attribution.partners.setReward(eli.id, { type: 'percent', percent: 15, duration: { months: 1 } });
  const clickIds = new Map<number, string>();
  for (const journey of journeys) {
    if (journey.via !== 'click') continue;
    const { clickId } = await attribution.captureClick({
      method: 'GET',
      url: `https://shop.example/pricing?via=${journey.partner}`,
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0', 'x-forwarded-for': `203.0.113.${journey.index % 250}` },
    });
    clickIds.set(journey.index, clickId!);
  }
  return { partnerIds: { ana: ana.id, ben: ben.id, cy: cy.id, dee: dee.id, eli: eli.id }, clickIds };
}

/** All journeys' events in Stripe's order of sending. */
export function timeline(journeys: readonly Journey[], world: PreparedWorld): Stripe.Event[] {
  return journeys
    .flatMap((journey) => journeyEvents(journey, { clickId: world.clickIds.get(journey.index) ?? null }))
    .sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
}

export interface ScheduleOptions {
  seed: number;
  /** Share of events delivered more than once. */
  duplicateRate: number;
  /** How far (in deliveries) one may overtake another. */
  window: number;
}

/** Each event once, some twice or three times, shuffled within the window. */
export function schedule(events: readonly Stripe.Event[], options: ScheduleOptions): { deliveries: Stripe.Event[]; duplicates: number } {
  const rng = mulberry32(options.seed);
  const deliveries: Stripe.Event[] = [];
  let duplicates = 0;
  for (const event of events) {
    deliveries.push(event);
    if (rng() < options.duplicateRate) {
      const copies = rng() < 0.2 ? 2 : 1;
      duplicates += copies;
      // A copy comes a little later, possibly after what followed the original.
      for (let copy = 0; copy < copies; copy++) deliveries.splice(deliveries.length - Math.floor(rng() * Math.min(options.window, deliveries.length)), 0, event);
    }
  }
  for (let i = 0; i < deliveries.length; i++) {
    const j = Math.min(deliveries.length - 1, i + Math.floor(rng() * options.window));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  return { deliveries, duplicates };
}

export interface ReplayFigures {
  events: number;
  deliveries: number;
  duplicates: number;
  /** 5xx answers (injected faults, failed look-ups, anything else that failed on our side), each retried. */
  failures: number;
  /** Deliveries that got no answer at all (their process was killed mid-request, or none listened): retried. */
  dropped: number;
  /** Answers that were neither 2xx nor 5xx: a bug for events Stripe really sends. */
  refused: Array<{ eventId: string; status: number; body: string }>;
  durationMs: number;
}

export type DeliveryFigures = Pick<ReplayFigures, 'deliveries' | 'failures' | 'dropped' | 'refused'>;

export interface DeliverOptions {
  seed: number;
  concurrency: number;
  maxAttempts?: number;
  /** Called before each attempt with how many were made so far (this one included): where crashes are scheduled. */
  onAttempt?: (attempts: number) => void;
}

/**
 * Posts every delivery, signed afresh each attempt as Stripe does, to one of `urls` at random (read
 * at each attempt: a pool whose processes come and go behind a load balancer), `concurrency` at a
 * time; a 5xx, or no answer at all, goes back in the queue after a short backoff until it succeeds.
 */
export async function deliver(deliveries: readonly Stripe.Event[], urls: readonly string[], options: DeliverOptions): Promise<DeliveryFigures> {
  const rng = mulberry32(options.seed);
  const maxAttempts = options.maxAttempts ?? 50;
  const queue = deliveries.map((event) => ({ event, attempt: 1 }));
  const figures: DeliveryFigures = { deliveries: 0, failures: 0, dropped: 0, refused: [] };
  let waiting = 0;

  async function post(event: Stripe.Event): Promise<{ status: number; body: string }> {
    const payload = JSON.stringify(event);
    const url = urls[Math.floor(rng() * urls.length)];
    if (!url) return { status: 0, body: 'no app process is listening' };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signer.webhooks.generateTestHeaderString({ payload, secret: CHAOS_SECRET }) },
        body: payload,
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      // The connection was refused or cut: Stripe sees a timeout and sends the event again.
      return { status: 0, body: String((error as Error).cause ?? error) };
    }
  }

  async function worker(): Promise<void> {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        if (waiting === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      figures.deliveries += 1;
      options.onAttempt?.(figures.deliveries);
      const { status, body } = await post(next.event);
      if (status >= 500 || status === 0) {
        if (status === 0) figures.dropped += 1;
        else figures.failures += 1;
        if (next.attempt >= maxAttempts) throw new Error(`${next.event.id} (${next.event.type}) still fails after ${maxAttempts} attempts: ${status} ${body}`);
        waiting += 1;
        setTimeout(() => {
          waiting -= 1;
          queue.push({ event: next.event, attempt: next.attempt + 1 });
        }, Math.min(200, 5 * 2 ** next.attempt));
      } else if (status >= 300) {
        figures.refused.push({ eventId: next.event.id, status, body });
      }
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return figures;
}

/** The figures of two rounds of delivery, added. */
export const addFigures = (a: DeliveryFigures, b: DeliveryFigures): DeliveryFigures => ({
  deliveries: a.deliveries + b.deliveries,
  failures: a.failures + b.failures,
  dropped: a.dropped + b.dropped,
  refused: [...a.refused, ...b.refused],
});

/**
 * The stand-in Stripe API of the replay: every request waits up to 100 ms, 10 % answer 500 and 2 %
 * stall past the app's look-up timeout (`stripeTimeoutMs`), so the events that need one fail and are retried.
 */
export const stripeFaults = (seed: number): StripeServerFaults => ({ random: mulberry32(seed), failureRate: 0.1, maxDelayMs: 100, stallRate: 0.02, stallMs: 1500 });

/**
 * A failure inside the transaction, from Postgres itself: a trigger that raises at random after
 * a sale, commission or customer row is written, so a delivery fails halfway through its work.
 */
export async function injectFaults(db: Kysely<any>, layout: TableLayout, probability: number): Promise<void> {
  const name = (table: string) => (layout.schema ? sql.id(layout.schema, `${layout.tablePrefix}${table}`) : sql.id(`${layout.tablePrefix}${table}`));
  const fn = name('chaos_fault');
  await sql`create or replace function ${fn}() returns trigger language plpgsql as $$
    begin
      if random() < ${sql.lit(probability)} then raise exception 'chaos: injected fault after writing %', tg_table_name; end if;
      return null;
    end $$`.execute(db);
  for (const table of ['sales', 'commissions', 'customers']) {
    await sql`create trigger chaos_fault after insert or update on ${name(table)} for each row execute function ${fn}()`.execute(db);
  }
}

export async function removeFaults(db: Kysely<any>, layout: TableLayout): Promise<void> {
  const fn = layout.schema ? sql.id(layout.schema, `${layout.tablePrefix}chaos_fault`) : sql.id(`${layout.tablePrefix}chaos_fault`);
  await sql`drop function ${fn}() cascade`.execute(db);
}

/** `applyParked()` until nothing is left waiting (or nothing changes): the cron, run to the end. */
export async function drainParked(attribution: Attribution): Promise<number> {
  let left = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round++) {
    const { stillParked } = await attribution.applyParked();
    if (stillParked === 0 || stillParked === left) return stillParked;
    left = stillParked;
  }
  return left;
}

/** A sale's key in the oracle's terms: its invoice or checkout session. */
const saleKeyOf = (sale: Sale) => sale.stripeInvoiceId ?? sale.stripeCheckoutSessionId ?? sale.id;

/** Each sale by its Stripe key (`saleKey`): its partner, amount, refunds and disputes. */
export async function readSales(attribution: Attribution, partnerIds: Record<PartnerName, string>): Promise<Map<string, ExpectedSale | ExpectedSale[]>> {
  const names = new Map(PARTNERS.map((name) => [partnerIds[name], name]));
  const sales = new Map<string, ExpectedSale | ExpectedSale[]>();
  for (const sale of await attribution.sales.list({ livemode: false })) {
    const read: ExpectedSale = { partner: (sale.partnerId && names.get(sale.partnerId)) || 'none', amount: sale.amount, refunded: sale.amountRefunded, disputed: sale.amountDisputed };
    keep(sales, saleKeyOf(sale), read);
  }
  return sales;
}

/**
 * Each commission by what it rewards, in the oracle's terms (`lead:<journey>`, `sale:<saleKey>`):
 * a lead's customer is known by the journey of its sales. Two for one key are both kept, to be reported.
 */
export async function readCommissions(attribution: Attribution, partnerIds: Record<PartnerName, string>): Promise<Map<string, ExpectedCommission | ExpectedCommission[]>> {
  const names = new Map(PARTNERS.map((name) => [partnerIds[name], name]));
  const sales = await attribution.sales.list({ livemode: false });
  const saleKeys = new Map(sales.map((sale) => [sale.id, saleKeyOf(sale)]));
  const journeyOfCustomer = new Map(sales.flatMap((sale) => (sale.customerId ? [[sale.customerId, saleKeyOf(sale).split('_')[2]!] as const] : [])));
  const commissions = new Map<string, ExpectedCommission | ExpectedCommission[]>();
  for (const commission of await attribution.commissions.list()) {
    if (endedByLateFirstSale(commission)) continue;
    const key = commission.saleId ? `sale:${saleKeys.get(commission.saleId) ?? commission.saleId}` : `lead:${(commission.customerId && journeyOfCustomer.get(commission.customerId)) ?? commission.customerId}`;
    const read = { partner: names.get(commission.partnerId) ?? (commission.partnerId as PartnerName), kind: commission.kind, status: commission.status, amount: commission.amount } as ExpectedCommission;
    keep(commissions, key, read);
  }
  return commissions;
}

function keep<T>(map: Map<string, T | T[]>, key: string, value: T): void {
  const before = map.get(key);
  map.set(key, before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value]);
}

/**
 * A commission whose reward a late first sale ended (its exact numerator set to 0; in-order delivery
 * never creates one) and that holds no money: how many there are depends on delivery order, and so
 * does its reason when a refund of the same sale voided it too (whichever void came first stays).
 */
const endedByLateFirstSale = (commission: Commission) => commission.status === 'voided' && commission.amount === 0 && commission.exactNumerator === 0n;

/** What the database holds, in the oracle's terms. */
export async function readLedger(attribution: Attribution, partnerIds: Record<PartnerName, string>): Promise<Ledger> {
  const ledger = emptyLedger();
  const names = new Map(PARTNERS.map((name) => [partnerIds[name], name]));
  const row = (partnerId: string | null) => ledger[(partnerId && names.get(partnerId)) || 'none'];
  for (const sale of await attribution.sales.list({ livemode: false })) {
    const entry = row(sale.partnerId);
    entry.sales += 1;
    entry.revenue += sale.amount;
    entry.refunded += sale.amountRefunded;
    entry.disputed += sale.amountDisputed;
  }
  for (const commission of await attribution.commissions.list()) {
    if (endedByLateFirstSale(commission)) continue;
    addCommission(row(commission.partnerId), `${commission.kind}:${commission.status}`, commission.amount);
  }
  return ledger;
}
