import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { resolveLayout } from '../../src/core/storage/layout.js';
import { T0 } from '../support/stripe-fixtures.js';
import { startStripeServer } from '../support/stripe-server.js';
import { AppPool, crashSchedule } from './app-pool.js';
import { generateJourneys, isLate, journeyEvents, mulberry32, stripeApi } from './journeys.js';
import { differences, entryDifferences, expectedCommissions, expectedLedger, expectedSales } from './oracle.js';
import { addFigures, CHAOS_OPTIONS, CHAOS_PROGRAM, CHAOS_SECRET, deliver, drainParked, injectFaults, prepare, readCommissions, readLedger, readSales, removeFaults, schedule, stripeFaults, timeline } from './replay.js';

/**
 * The chaos replay at full size (`npm run test:chaos`, in CI after the Postgres run): at least
 * 10 000 events, copies, reordering and in-transaction faults, delivered concurrently to four app
 * processes running the built package against one real Postgres; processes killed with SIGKILL
 * mid-replay and restarted; the Stripe API's look-ups answered by a slow stand-in that sometimes
 * fails. `CHAOS_EVENTS=1000` makes it fast (and `CHAOS_KILLS` sets the crashes, default one per
 * 500 events).
 */
const DATABASE_URL = process.env.DATABASE_URL;
const SEED = Number(process.env.CHAOS_SEED ?? 20261203);
const EVENTS = Number(process.env.CHAOS_EVENTS ?? 10_000);
const KILLS = Number(process.env.CHAOS_KILLS ?? Math.max(2, Math.round(EVENTS / 500)));
const PROCESSES = 4;
const FAULT_PROBABILITY = 0.04;

/** Enough journeys for `EVENTS` events (generation is prefix-stable, so more journeys only add). */
function journeysFor(events: number) {
  for (let count = 100; ; count += 100) {
    const journeys = generateJourneys(SEED, count, T0);
    if (journeys.reduce((sum, journey) => sum + journeyEvents(journey, { clickId: null }).length, 0) >= events) return journeys;
  }
}

describe.runIf(DATABASE_URL)('chaos replay, full size, on Postgres', () => {
  it(`${EVENTS}+ events through ${PROCESSES} app processes killed ${KILLS} times: every sale and commission equals the oracle`, async () => {
    const schema = `chaos_${randomBytes(4).toString('hex')}`;
    const journeys = journeysFor(EVENTS);
    const api = await startStripeServer({ faults: stripeFaults(SEED) });
    for (const [route, answer] of stripeApi(journeys)) api.answers.set(route, answer);
    const options = { webhookSecret: CHAOS_SECRET, stripe: api.client(), clicks: { ipSalt: 'chaos' }, clock: () => new Date(T0 * 1000), onError: () => {}, ...CHAOS_OPTIONS };
    const attribution = createAttribution({ database: DATABASE_URL, schema, ...options });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: DATABASE_URL, max: 2 }) }) });
    let pool: AppPool | undefined;
    try {
      await attribution.migrate();
      const world = await prepare(attribution, journeys);
      const events = timeline(journeys, world);
      const { deliveries, duplicates } = schedule(events.filter((sent) => !isLate(sent)), { seed: SEED, duplicateRate: 0.3, window: 50 });
      // After the outage: first payments delivered once everything later was processed.
      const late = events.filter(isLate);
      expect(events.length).toBeGreaterThanOrEqual(EVENTS);

      pool = new AppPool({ DATABASE_URL: DATABASE_URL!, CHAOS_SCHEMA: schema, CHAOS_SECRET, CHAOS_NOW: String(T0), CHAOS_OPTIONS: JSON.stringify(CHAOS_OPTIONS), CHAOS_STRIPE_URL: api.url });
      for (let n = 0; n < PROCESSES; n++) await pool.start();
      const layout = resolveLayout({ schema });
      await injectFaults(db, layout, FAULT_PROBABILITY);
      // Crashes anywhere in both rounds, the late one included.
      const onAttempt = crashSchedule(pool, mulberry32(SEED + 2), KILLS, deliveries.length + late.length);
      const started = performance.now();
      let figures;
      try {
        const first = await deliver(deliveries, pool.urls, { seed: SEED, concurrency: 16, onAttempt });
        figures = addFigures(first, await deliver(late, pool.urls, { seed: SEED + 1, concurrency: 16, onAttempt }));
        await pool.settled();
      } finally {
        await removeFaults(db, layout);
      }
      const durationMs = performance.now() - started;
      const lookups = api.requests.filter((request) => request.method === 'GET').length;
      const writeBacks = api.requests.filter((request) => request.method === 'POST').length;
      const apiFaults = { ...api.faulted };
      // The cron's look-ups on a healthy API: the replay's faults are over.
      api.setFaults(undefined);
      const sends = new Map<string, number>();
      for (const event of deliveries) sends.set(event.id, (sends.get(event.id) ?? 0) + 1);
      const copied = [...sends.values()].filter((count) => count > 1).length;
      const parked = await drainParked(attribution);
      const mismatches = differences(expectedLedger(journeys, CHAOS_PROGRAM), await readLedger(attribution, world.partnerIds));
      const sales = expectedSales(journeys);
      const saleMismatches = entryDifferences(sales, await readSales(attribution, world.partnerIds));
      const commissions = expectedCommissions(journeys, CHAOS_PROGRAM);
      const commissionMismatches = entryDifferences(commissions, await readCommissions(attribution, world.partnerIds));
      const percent = (part: number) => `${((100 * part) / figures.deliveries).toFixed(1)} % of deliveries`;

      console.log(
        [
          'chaos replay, full size:',
          `  journeys     ${journeys.length}`,
          `  events       ${events.length}`,
          `  duplicates   ${duplicates} extra deliveries (${((100 * copied) / events.length).toFixed(1)} % of events delivered more than once)`,
          `  deliveries   ${figures.deliveries} to ${PROCESSES} processes, 16 at a time, reordered within 50`,
          `  failures     ${figures.failures} 5xx (${percent(figures.failures)}: faults inside the transaction, failed look-ups), each retried`,
          `  kills        ${pool.figures.kills} (SIGKILL), ${pool.figures.restarts} restarts; ${figures.dropped} deliveries cut or refused (${percent(figures.dropped)}), each retried`,
          `  Stripe API   ${lookups} look-ups, ${writeBacks} metadata write-backs; ${apiFaults.failed} answered 500, ${apiFaults.stalled} stalled past the timeout, ${apiFaults.delayed} delayed up to 100 ms`,
          `  refused      ${figures.refused.length}`,
          `  parked left  ${parked}`,
          `  late firsts  ${late.length} events, delivered after the rest`,
          `  mismatches   ${mismatches.length} in totals; ${saleMismatches.length} of ${sales.size} sales; ${commissionMismatches.length} of ${commissions.size} commissions`,
          `  duration     ${(durationMs / 1000).toFixed(1)} s (${Math.round(figures.deliveries / (durationMs / 1000))} deliveries/s)`,
        ].join('\n'),
      );
      expect(figures.refused).toEqual([]);
      expect(figures.failures).toBeGreaterThan(0);
      expect(pool.figures.kills).toBe(KILLS);
      expect(pool.figures.restarts).toBe(KILLS);
      expect(figures.dropped).toBeGreaterThan(0);
      expect(apiFaults.failed).toBeGreaterThan(0);
      expect(parked).toBe(0);
      // One assertion, so a failure shows which sales and commissions differ, not just the totals.
      expect({ mismatches, saleMismatches, commissionMismatches }).toEqual({ mismatches: [], saleMismatches: [], commissionMismatches: [] });
    } finally {
      await pool?.stop();
      await attribution.close();
      await api.close();
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
      await db.destroy();
    }
  }, 30 * 60_000);
});
