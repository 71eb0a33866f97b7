import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { resolveLayout } from '../../src/core/storage/layout.js';
import { T0 } from '../support/stripe-fixtures.js';
import { generateJourneys, isLate, journeyEvents } from './journeys.js';
import { differences, expectedLedger, expectedSalePartners } from './oracle.js';
import { CHAOS_OPTIONS, CHAOS_PROGRAM, CHAOS_SECRET, deliver, drainParked, injectFaults, prepare, readLedger, readSalePartners, removeFaults, schedule, timeline } from './replay.js';

/**
 * The chaos replay at full size (`npm run test:chaos`, in CI after the Postgres run): at least
 * 10 000 events, copies, reordering and in-transaction faults, delivered concurrently to four app
 * processes running the built package against one real Postgres.
 */
const DATABASE_URL = process.env.DATABASE_URL;
const SEED = Number(process.env.CHAOS_SEED ?? 20261203);
const EVENTS = Number(process.env.CHAOS_EVENTS ?? 10_000);
const PROCESSES = 4;
const FAULT_PROBABILITY = 0.04;

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGTERM');
});

/** Starts one app process and resolves with its webhook URL once it listens. */
async function startApp(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./app.mjs', import.meta.url))], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(([code]) => Promise.reject(new Error(`chaos app exited with ${code} before listening`)))])) as [string];
  return `http://127.0.0.1:${JSON.parse(line).port}/webhooks/stripe`;
}

/** Enough journeys for `EVENTS` events (generation is prefix-stable, so more journeys only add). */
function journeysFor(events: number) {
  for (let count = 100; ; count += 100) {
    const journeys = generateJourneys(SEED, count, T0);
    if (journeys.reduce((sum, journey) => sum + journeyEvents(journey, { clickId: null }).length, 0) >= events) return journeys;
  }
}

describe.runIf(DATABASE_URL)('chaos replay, full size, on Postgres', () => {
  it(`${EVENTS}+ events through ${PROCESSES} app processes: the ledger equals the oracle`, async () => {
    const schema = `chaos_${randomBytes(4).toString('hex')}`;
    const options = { webhookSecret: CHAOS_SECRET, clicks: { ipSalt: 'chaos' }, clock: () => new Date(T0 * 1000), onError: () => {}, ...CHAOS_OPTIONS };
    const attribution = createAttribution({ database: DATABASE_URL, schema, ...options });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: DATABASE_URL, max: 2 }) }) });
    try {
      await attribution.migrate();
      const journeys = journeysFor(EVENTS);
      const world = await prepare(attribution, journeys);
      const events = timeline(journeys, world);
      const { deliveries, duplicates } = schedule(events.filter((sent) => !isLate(sent)), { seed: SEED, duplicateRate: 0.3, window: 50 });
      // After the outage: first payments delivered once everything later was processed.
      const late = events.filter(isLate);
      expect(events.length).toBeGreaterThanOrEqual(EVENTS);

      const env = { DATABASE_URL: DATABASE_URL!, CHAOS_SCHEMA: schema, CHAOS_SECRET, CHAOS_NOW: String(T0), CHAOS_OPTIONS: JSON.stringify(CHAOS_OPTIONS) };
      const urls = await Promise.all(Array.from({ length: PROCESSES }, () => startApp(env)));
      const layout = resolveLayout({ schema });
      await injectFaults(db, layout, FAULT_PROBABILITY);
      const started = performance.now();
      let figures;
      try {
        figures = await deliver(deliveries, urls, { seed: SEED, concurrency: 16 });
        const lateFigures = await deliver(late, urls, { seed: SEED + 1, concurrency: 16 });
        figures = { deliveries: figures.deliveries + lateFigures.deliveries, failures: figures.failures + lateFigures.failures, refused: [...figures.refused, ...lateFigures.refused] };
      } finally {
        await removeFaults(db, layout);
      }
      const durationMs = performance.now() - started;
      const sends = new Map<string, number>();
      for (const event of deliveries) sends.set(event.id, (sends.get(event.id) ?? 0) + 1);
      const copied = [...sends.values()].filter((count) => count > 1).length;
      const parked = await drainParked(attribution);
      const expected = expectedLedger(journeys, CHAOS_PROGRAM);
      const mismatches = differences(expected, await readLedger(attribution, world.partnerIds));
      const salePartners = await readSalePartners(attribution, world.partnerIds);
      const misattributed = [...expectedSalePartners(journeys)].filter(([key, partner]) => salePartners.get(key) !== partner);

      console.log(
        [
          'chaos replay, full size:',
          `  journeys     ${journeys.length}`,
          `  events       ${events.length}`,
          `  duplicates   ${duplicates} extra deliveries (${((100 * copied) / events.length).toFixed(1)} % of events delivered more than once)`,
          `  deliveries   ${figures.deliveries} to ${PROCESSES} processes, 16 at a time, reordered within 50`,
          `  faults       ${figures.failures} (${((100 * figures.failures) / figures.deliveries).toFixed(1)} % of deliveries failed inside the transaction and were retried)`,
          `  refused      ${figures.refused.length}`,
          `  parked left  ${parked}`,
          `  mismatches   ${mismatches.length}`,
          `  late firsts  ${late.length} events, delivered after the rest`,
          `  misattributed ${misattributed.length}`,
          `  duration     ${(durationMs / 1000).toFixed(1)} s (${Math.round(figures.deliveries / (durationMs / 1000))} deliveries/s)`,
        ].join('\n'),
      );
      expect(figures.refused).toEqual([]);
      expect(figures.failures).toBeGreaterThan(0);
      expect(parked).toBe(0);
      expect(mismatches).toEqual([]);
      expect(misattributed).toEqual([]);
    } finally {
      await attribution.close();
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
      await db.destroy();
    }
  }, 30 * 60_000);
});
