import express from 'express';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { createKyselyStorage } from '../../src/core/storage/kysely-storage.js';
import { attributionMiddleware } from '../../src/express/index.js';
import { backends, freshStorage, whenDone } from '../support/backends.js';
import { T0 } from '../support/stripe-fixtures.js';
import { startStripeServer } from '../support/stripe-server.js';
import { generateJourneys, isLate, stripeApi } from './journeys.js';
import { differences, entryDifferences, expectedCommissions, expectedLedger, expectedSales } from './oracle.js';
import { addFigures, CHAOS_OPTIONS, CHAOS_PROGRAM, CHAOS_SECRET, deliver, drainParked, injectFaults, prepare, readCommissions, readLedger, readSales, removeFaults, schedule, stripeFaults, timeline } from './replay.js';

/**
 * The chaos replay, small: generated journeys delivered with copies, reordering, concurrency and
 * faults injected inside the transaction, through the real Express adapter, with the Stripe API's
 * look-ups answered by a slow stand-in that sometimes fails; then every sale and every commission
 * must equal the oracle's to the cent. `npm run test:chaos` runs the same at 10 000 events across
 * four app processes on a real Postgres, killing and restarting them.
 */
const SEED = Number(process.env.CHAOS_SEED ?? 20261203);

describe.each(backends())('chaos replay on $name', (backend) => {
  it('copies, reordering, concurrency, faults and a failing Stripe API change nothing: the ledger equals the oracle', async () => {
    const storage = await freshStorage(backend);
    const journeys = generateJourneys(SEED, 30, T0);
    const api = await startStripeServer({ faults: stripeFaults(SEED) });
    for (const [route, answer] of stripeApi(journeys)) api.answers.set(route, answer);
    const options = { webhookSecret: CHAOS_SECRET, stripe: api.client(), clicks: { ipSalt: 'chaos' }, clock: () => new Date(T0 * 1000), onError: () => {}, ...CHAOS_OPTIONS };
    const attribution = createAttribution({ database: storage, ...options });
    const world = await prepare(attribution, journeys);
    const events = timeline(journeys, world);
    const { deliveries, duplicates } = schedule(events.filter((sent) => !isLate(sent)), { seed: SEED, duplicateRate: 0.3, window: 20 });
    // After the outage: first payments delivered once everything later was processed.
    const late = events.filter(isLate);

    // Two app instances where the database allows two sessions at once.
    const instances = [attribution];
    if (backend.concurrent) instances.push(createAttribution({ database: createKyselyStorage({ db: backend.other(), schema: storage.layout.schema! }), ...options }));
    // Their outbox workers must not outlive the test: the schema goes to the worker's next test.
    whenDone(async () => void (await Promise.all(instances.map((instance) => instance.close()))));
    const servers = instances.map((instance) => express().use(attributionMiddleware(instance)).listen(0));
    const urls = servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`);

    await injectFaults(backend.db, storage.layout, 0.03);
    try {
      const first = await deliver(deliveries, urls, { seed: SEED, concurrency: 6 });
      const figures = addFigures(first, await deliver(late, urls, { seed: SEED + 1, concurrency: 6 }));
      expect(figures.refused).toEqual([]);
      // The faults did happen, and every one was retried to success.
      expect(figures.failures).toBeGreaterThan(0);
      expect(figures.dropped).toBe(0);
      expect(figures.deliveries).toBe(deliveries.length + late.length + figures.failures);
      expect(duplicates).toBeGreaterThan(0);
      // Look-ups went to the stand-in, and some of them failed or stalled.
      expect(api.requests.some((request) => request.path.endsWith('/line_items'))).toBe(true);
      expect(api.faulted.failed + api.faulted.stalled).toBeGreaterThan(0);
    } finally {
      await removeFaults(backend.db, storage.layout);
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
      await api.close();
    }

    expect(await drainParked(attribution)).toBe(0);
    const expected = expectedLedger(journeys, CHAOS_PROGRAM);
    // Not a vacuous equality: every partner earned, and money went back through refunds and disputes.
    for (const partner of ['ana', 'ben', 'cy', 'dee', 'eli'] as const) expect(expected[partner].sales).toBeGreaterThan(0);
    // Late first payments happened for partners paid once or for a month.
    expect(journeys.some((journey) => journey.late && (journey.partner === 'dee' || journey.partner === 'eli'))).toBe(true);
    expect(Object.values(expected).some((ledger) => ledger.refunded > 0)).toBe(true);
    expect(Object.values(expected).some((ledger) => ledger.disputed > 0)).toBe(true);
    expect(differences(expected, await readLedger(attribution, world.partnerIds))).toEqual([]);
    // One by one: each sale's partner and amounts, each commission's partner, kind, status and amount
    // (leads and sales, pending and voided by a full refund among them).
    const commissions = expectedCommissions(journeys, CHAOS_PROGRAM);
    expect(new Set([...commissions.values()].map(({ kind, status }) => `${kind}:${status}`))).toEqual(new Set(['lead:pending', 'sale:pending', 'sale:voided']));
    expect(entryDifferences(expectedSales(journeys), await readSales(attribution, world.partnerIds))).toEqual([]);
    expect(entryDifferences(commissions, await readCommissions(attribution, world.partnerIds))).toEqual([]);
  });
});
